"""Discord connection and reply behaviour (demo copy of acore_bot's config/discord.py)."""

from __future__ import annotations

from .base import BaseConfig


class DiscordConfig(BaseConfig):
    """Discord connection and reply behaviour."""

    DISCORD_TOKEN: str = BaseConfig._get_env("DISCORD_TOKEN", "")
    COMMAND_PREFIX: str = BaseConfig._get_env("COMMAND_PREFIX", "!")
    AUTO_REPLY_ENABLED: bool = BaseConfig._get_env_bool("AUTO_REPLY_ENABLED", False)
    AUTO_REPLY_CHANNELS: list[int] = BaseConfig._get_env_int_list("AUTO_REPLY_CHANNELS")
    NAME_TRIGGER_CHANNELS: list[int] = BaseConfig._get_env_int_list("NAME_TRIGGER_CHANNELS")
    IGNORED_USERS: list[int] = BaseConfig._get_env_int_list("IGNORED_USERS")
    AUTO_REPLY_WITH_VOICE: bool = BaseConfig._get_env_bool("AUTO_REPLY_WITH_VOICE", True)
    CONVERSATION_TIMEOUT: int = BaseConfig._get_env_int("CONVERSATION_TIMEOUT", 300)
    BOT_MODE: str = BaseConfig._get_env("BOT_MODE", "hybrid")
    DISCORD_LEGACY_OPERATOR_ENABLED: bool = BaseConfig._get_env_bool(
        "DISCORD_LEGACY_OPERATOR_ENABLED", False
    )
    DISCORD_LEGACY_PERSONA_ADMIN_ENABLED: bool = BaseConfig._get_env_bool(
        "DISCORD_LEGACY_PERSONA_ADMIN_ENABLED", False
    )
    DISCORD_LEGACY_CHAT_AMBIENT_ENABLED: bool = BaseConfig._get_env_bool(
        "DISCORD_LEGACY_CHAT_AMBIENT_ENABLED", False
    )
    DISCORD_LEGACY_CHAT_SESSION_ENABLED: bool = BaseConfig._get_env_bool(
        "DISCORD_LEGACY_CHAT_SESSION_ENABLED", False
    )
    DISCORD_LEGACY_CHAT_FALLBACK_ENABLED: bool = BaseConfig._get_env_bool(
        "DISCORD_LEGACY_CHAT_FALLBACK_ENABLED", False
    )
    DISCORD_LEGACY_SOCIAL_MODE_FOOTER_ENABLED: bool = BaseConfig._get_env_bool(
        "DISCORD_LEGACY_SOCIAL_MODE_FOOTER_ENABLED", False
    )
    DISCORD_LEGACY_SOCIAL_INSIGHTS_ENABLED: bool = BaseConfig._get_env_bool(
        "DISCORD_LEGACY_SOCIAL_INSIGHTS_ENABLED", False
    )
    DISCORD_VOICE_ENABLED: bool = BaseConfig._get_env_bool("DISCORD_VOICE_ENABLED", False)
