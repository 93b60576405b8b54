"""Logging (demo copy of acore_bot's config/logging.py)."""

from __future__ import annotations

from .base import BaseConfig


class LoggingConfig(BaseConfig):
    """Logging."""

    LOG_LEVEL: str = BaseConfig._get_env("LOG_LEVEL", "INFO")
    LOG_TO_FILE: bool = BaseConfig._get_env_bool("LOG_TO_FILE", True)
    LOG_FILE_PATH: str = BaseConfig._get_env("LOG_FILE_PATH", "logs/bot.log")
    LOG_MAX_BYTES: int = BaseConfig._get_env_int("LOG_MAX_BYTES", 10485760)
    LOG_BACKUP_COUNT: int = BaseConfig._get_env_int("LOG_BACKUP_COUNT", 5)
    LOG_FORMAT: str = BaseConfig._get_env("LOG_FORMAT", "text")
    LOG_COMPRESS: bool = BaseConfig._get_env_bool("LOG_COMPRESS", True)
    LOG_PERFORMANCE: bool = BaseConfig._get_env_bool("LOG_PERFORMANCE", True)
    LOG_LLM_REQUESTS: bool = BaseConfig._get_env_bool("LOG_LLM_REQUESTS", True)
    LOG_TTS_REQUESTS: bool = BaseConfig._get_env_bool("LOG_TTS_REQUESTS", True)
