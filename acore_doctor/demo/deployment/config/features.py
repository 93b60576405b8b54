"""Memory cleanup, naturalness, timing and smaller features (demo copy of acore_bot's config/features.py)."""

from __future__ import annotations

from pathlib import Path

from .base import BaseConfig


class FeaturesConfig(BaseConfig):
    """Memory cleanup, naturalness, timing and smaller features."""

    MEMORY_CLEANUP_ENABLED: bool = BaseConfig._get_env_bool("MEMORY_CLEANUP_ENABLED", True)
    MEMORY_CLEANUP_INTERVAL_HOURS: int = BaseConfig._get_env_int("MEMORY_CLEANUP_INTERVAL_HOURS", 6)
    MAX_TEMP_FILE_AGE_HOURS: int = BaseConfig._get_env_int("MAX_TEMP_FILE_AGE_HOURS", 24)
    MAX_HISTORY_AGE_DAYS: int = BaseConfig._get_env_int("MAX_HISTORY_AGE_DAYS", 30)
    CONVERSATION_SUMMARIZATION_ENABLED: bool = BaseConfig._get_env_bool(
        "CONVERSATION_SUMMARIZATION_ENABLED", True
    )
    AUTO_SUMMARIZE_THRESHOLD: int = BaseConfig._get_env_int("AUTO_SUMMARIZE_THRESHOLD", 30)
    STORE_SUMMARIES_IN_RAG: bool = BaseConfig._get_env_bool("STORE_SUMMARIES_IN_RAG", True)
    BOTCONV_RL_TRAINING_ENABLED: bool = BaseConfig._get_env_bool(
        "BOTCONV_RL_TRAINING_ENABLED", False
    )
    NATURALNESS_ENABLED: bool = BaseConfig._get_env_bool("NATURALNESS_ENABLED", True)
    REACTIONS_ENABLED: bool = BaseConfig._get_env_bool("REACTIONS_ENABLED", True)
    REACTIONS_CHANCE_MULTIPLIER: float = BaseConfig._get_env_float(
        "REACTIONS_CHANCE_MULTIPLIER", 1.0
    )
    ACTIVITY_AWARENESS_ENABLED: bool = BaseConfig._get_env_bool("ACTIVITY_AWARENESS_ENABLED", True)
    ACTIVITY_COMMENT_CHANCE: float = BaseConfig._get_env_float("ACTIVITY_COMMENT_CHANCE", 0.1)
    ACTIVITY_COOLDOWN_SECONDS: int = BaseConfig._get_env_int("ACTIVITY_COOLDOWN_SECONDS", 300)
    PROACTIVE_ENGAGEMENT_ENABLED: bool = BaseConfig._get_env_bool(
        "PROACTIVE_ENGAGEMENT_ENABLED", False
    )
    PROACTIVE_MIN_MESSAGES: int = BaseConfig._get_env_int("PROACTIVE_MIN_MESSAGES", 3)
    PROACTIVE_COOLDOWN: int = BaseConfig._get_env_int("PROACTIVE_COOLDOWN", 180)
    REACTION_PROBABILITY: float = BaseConfig._get_env_float("REACTION_PROBABILITY", 0.5)
    PROACTIVE_PROBABILITY: float = BaseConfig._get_env_float("PROACTIVE_PROBABILITY", 0.6)
    COOLDOWN_SECONDS: int = BaseConfig._get_env_int("COOLDOWN_SECONDS", 150)
    MOOD_SHIFT_MAX: float = BaseConfig._get_env_float("MOOD_SHIFT_MAX", 0.2)
    TIMING_MODE: str = BaseConfig._get_env("TIMING_MODE", "natural")
    NATURAL_TIMING_ENABLED: bool = BaseConfig._get_env_bool("NATURAL_TIMING_ENABLED", True)
    NATURAL_TIMING_MIN_DELAY: float = BaseConfig._get_env_float("NATURAL_TIMING_MIN_DELAY", 0.5)
    NATURAL_TIMING_MAX_DELAY: float = BaseConfig._get_env_float("NATURAL_TIMING_MAX_DELAY", 2.0)
    TYPING_INDICATOR_MIN_DELAY: float = BaseConfig._get_env_float("TYPING_INDICATOR_MIN_DELAY", 0.5)
    TYPING_INDICATOR_MAX_DELAY: float = BaseConfig._get_env_float("TYPING_INDICATOR_MAX_DELAY", 2.0)
    ADAPTIVE_TIMING_ENABLED: bool = BaseConfig._get_env_bool("ADAPTIVE_TIMING_ENABLED", True)
    ADAPTIVE_TIMING_LEARNING_WINDOW_DAYS: int = BaseConfig._get_env_int(
        "ADAPTIVE_TIMING_LEARNING_WINDOW_DAYS", 7
    )
    CHANNEL_ACTIVITY_PROFILE_PATH: Path = BaseConfig._get_env_path(
        "CHANNEL_ACTIVITY_PROFILE_PATH", "./data/channel_activity_profiles.json"
    )
    VISION_ENABLED: bool = BaseConfig._get_env_bool("VISION_ENABLED", True)
    VISION_MODEL: str = BaseConfig._get_env("VISION_MODEL", "llava")
    WEB_SEARCH_ENABLED: bool = BaseConfig._get_env_bool("WEB_SEARCH_ENABLED", True)
    WEB_SEARCH_ENGINE: str = BaseConfig._get_env("WEB_SEARCH_ENGINE", "duckduckgo")
    WEB_SEARCH_MAX_RESULTS: int = BaseConfig._get_env_int("WEB_SEARCH_MAX_RESULTS", 3)
    WEB_SEARCH_RATE_LIMIT_DELAY: float = BaseConfig._get_env_float(
        "WEB_SEARCH_RATE_LIMIT_DELAY", 2.0
    )
    TRIVIA_ENABLED: bool = BaseConfig._get_env_bool("TRIVIA_ENABLED", True)
    NOTES_ENABLED: bool = BaseConfig._get_env_bool("NOTES_ENABLED", True)
    REMINDERS_ENABLED: bool = BaseConfig._get_env_bool("REMINDERS_ENABLED", True)
    MAX_REMINDERS_PER_USER: int = BaseConfig._get_env_int("MAX_REMINDERS_PER_USER", 10)
    USE_STREAMING_FOR_LONG_RESPONSES: bool = BaseConfig._get_env_bool(
        "USE_STREAMING_FOR_LONG_RESPONSES", True
    )
    STREAMING_TOKEN_THRESHOLD: int = BaseConfig._get_env_int("STREAMING_TOKEN_THRESHOLD", 300)
    DYNAMIC_MAX_TOKENS: bool = BaseConfig._get_env_bool("DYNAMIC_MAX_TOKENS", False)
    SERVICE_CLEANUP_TIMEOUT: float = BaseConfig._get_env_float("SERVICE_CLEANUP_TIMEOUT", 2.0)
