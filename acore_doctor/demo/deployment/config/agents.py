"""Agent routing (demo copy of acore_bot's config/agents.py)."""

from __future__ import annotations

from .base import BaseConfig


class AgentsConfig(BaseConfig):
    """Agent routing."""

    AGENT_ROUTING_ENABLED: bool = BaseConfig._get_env_bool("AGENT_ROUTING_ENABLED", True)
    AGENT_ROUTING_STRATEGY: str = BaseConfig._get_env(
        "AGENT_ROUTING_STRATEGY", "highest_confidence"
    )
    AGENT_MIN_CONFIDENCE: float = BaseConfig._get_env_float("AGENT_MIN_CONFIDENCE", 0.3)
    AGENT_CHAINING_ENABLED: bool = BaseConfig._get_env_bool("AGENT_CHAINING_ENABLED", True)
    AGENT_MAX_CHAIN_LENGTH: int = BaseConfig._get_env_int("AGENT_MAX_CHAIN_LENGTH", 3)
    AGENT_HEALTH_CHECK_INTERVAL: float = BaseConfig._get_env_float(
        "AGENT_HEALTH_CHECK_INTERVAL", 60.0
    )
    AGENT_TIMEOUT_SECONDS: float = BaseConfig._get_env_float("AGENT_TIMEOUT_SECONDS", 30.0)
