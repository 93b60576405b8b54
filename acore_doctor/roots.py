"""Root-cause keys: the one list of names a root check declares and ``Blocked`` refers to.

A root check declares ``@check(..., root=roots.OLLAMA)``; a check whose fact is missing
because that dependency failed raises ``Blocked(roots.OLLAMA, reason)`` and is filed under the
root as a symptom. A key is a plain string (it appears in reports), but checks use these
names, never literals, so that a typo is an import error instead of a lost symptom.
"""

from __future__ import annotations

# Discord: the first REST call, GET /users/@me, decides which of these failed.
DISCORD = "discord"
DISCORD_BAN = "discord-ban"
DISCORD_RATE_LIMIT = "discord-rate-limit"
DISCORD_TOKEN = "discord-token"
#: the opt-in reply probe's own test identity and channel (not the bot)
REPLY_PROBE = "reply-probe"

# LLM services
OLLAMA = "ollama"
OPENROUTER = "openrouter"
OPENAI_COMPAT = "openai-compat"

# Voice services
KOKORO = "kokoro"
SUPERTONIC = "supertonic"
LUXTTS = "luxtts"
QWEN3TTS = "qwen3tts"

# Recovery
BACKUPS = "backups"

ALL = (
    DISCORD,
    DISCORD_BAN,
    DISCORD_RATE_LIMIT,
    DISCORD_TOKEN,
    REPLY_PROBE,
    OLLAMA,
    OPENROUTER,
    OPENAI_COMPAT,
    KOKORO,
    SUPERTONIC,
    LUXTTS,
    QWEN3TTS,
    BACKUPS,
)
