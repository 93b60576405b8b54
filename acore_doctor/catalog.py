"""What acore_bot reads from its environment: names, types and defaults (deployment §2.4).

Checks use it to interpret `.env` exactly as the bot would. Extend it as checks need more.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    key: str
    kind: str  # "bool" | "int" | "float" | "str" | "list" | "path"
    default: object


SETTINGS: dict[str, Setting] = {
    s.key: s
    for s in (
        Setting("DISCORD_TOKEN", "str", ""),
        Setting("COMMAND_PREFIX", "str", "!"),
        Setting("LLM_PROVIDER", "str", "ollama"),
        Setting("OLLAMA_HOST", "str", "http://localhost:11434"),
        Setting("OLLAMA_MODEL", "str", "llama3.2"),
        Setting("OLLAMA_TEMPERATURE", "float", 1.17),
        Setting("OLLAMA_MAX_TOKENS", "int", 500),
        Setting("CHAT_HISTORY_ENABLED", "bool", True),
        Setting("CHAT_HISTORY_MAX_MESSAGES", "int", 20),
        Setting("USE_STREAMING_FOR_LONG_RESPONSES", "bool", True),
        Setting("STREAMING_TOKEN_THRESHOLD", "int", 300),
        Setting("DISCORD_VOICE_ENABLED", "bool", False),
        Setting("VISION_ENABLED", "bool", True),
        Setting("RL_ENABLED", "bool", False),
        Setting("LOG_TO_FILE", "bool", True),
        Setting("LOG_MAX_BYTES", "int", 10485760),
        Setting("LOG_BACKUP_COUNT", "int", 5),
        Setting("ANALYTICS_DASHBOARD_ENABLED", "bool", False),
        Setting("ANALYTICS_DASHBOARD_PORT", "int", 8080),
    )
}
