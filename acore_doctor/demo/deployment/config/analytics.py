"""Metrics and the analytics dashboard (demo copy of acore_bot's config/analytics.py)."""

from __future__ import annotations

from .base import BaseConfig


class AnalyticsConfig(BaseConfig):
    """Metrics and the analytics dashboard."""

    METRICS_ENABLED: bool = BaseConfig._get_env_bool("METRICS_ENABLED", True)
    METRICS_SAVE_INTERVAL_MINUTES: int = BaseConfig._get_env_int(
        "METRICS_SAVE_INTERVAL_MINUTES", 60
    )
    METRICS_RETENTION_DAYS: int = BaseConfig._get_env_int("METRICS_RETENTION_DAYS", 30)
    ANALYTICS_WEBSOCKET_UPDATE_INTERVAL: float = BaseConfig._get_env_float(
        "ANALYTICS_WEBSOCKET_UPDATE_INTERVAL", 2.0
    )
    ERROR_SPIKE_WINDOW_SECONDS: int = BaseConfig._get_env_int("ERROR_SPIKE_WINDOW_SECONDS", 300)
    ANALYTICS_DASHBOARD_ENABLED: bool = BaseConfig._get_env_bool(
        "ANALYTICS_DASHBOARD_ENABLED", False
    )
    ANALYTICS_DASHBOARD_PORT: int = BaseConfig._get_env_int("ANALYTICS_DASHBOARD_PORT", 8080)
    ANALYTICS_PASSWORD: str = BaseConfig._get_env("ANALYTICS_PASSWORD", "admin")
