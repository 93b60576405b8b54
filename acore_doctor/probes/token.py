"""Facts about a Discord bot token's shape (service-apis.md section 1.2), offline."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

#: Values people leave in .env from examples and docs.
PLACEHOLDERS = frozenset(
    {
        "your_token_here",
        "your_discord_token",
        "your_discord_bot_token",
        "your_bot_token",
        "your_bot_token_here",
        "your_discord_token_here",
        "change_me",
        "change_me_in_production",
        "changeme",
        "token",
        "xxx",
        "none",
        "null",
        "todo",
        "<token>",
        "insert_token_here",
    }
)
_PLACEHOLDER_SHAPE = re.compile(
    r"^(your|my|insert|put|enter|replace)[_\- ].*|^<.*>$|^x{3,}$"
    r"|^change[_\- ]?me"  # change_me, change_me_in_production, changeme
    r"|^sk-[a-z0-9-]*?(x{3,}|\.{3}|\u2026|\*{3,})$",  # sk-..., sk-or-v1-xxxx: documentation keys
    re.I,
)
_PART = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class TokenShape:
    problems: tuple[str, ...]
    bot_id: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def is_placeholder(value: str) -> bool:
    stripped = value.strip().strip("'\"")
    return stripped.lower() in PLACEHOLDERS or bool(_PLACEHOLDER_SHAPE.match(stripped))


def snowflake_from_segment(segment: str) -> str | None:
    """The bot's user id, if ``segment`` is base64 of a numeric snowflake."""
    padded = segment + "=" * (-len(segment) % 4)
    try:
        decoded = base64.urlsafe_b64decode(padded).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return decoded if decoded.isdigit() and 15 <= len(decoded) <= 20 else None


def token_shape(token: str | None) -> TokenShape:
    """What is wrong with ``token`` as a Discord bot token, without asking Discord."""
    if token is None or token == "":
        return TokenShape(("not set",))
    if is_placeholder(token):
        return TokenShape(("a placeholder, not a real token",))
    problems = []
    if token != token.strip() or any(c.isspace() for c in token):
        problems.append("contains spaces or line breaks")
    if token[:1] in "'\"" or token[-1:] in "'\"":
        problems.append("wrapped in quotes that the bot would send as part of the token")
    if token.lower().startswith("bot "):
        problems.append("starts with 'Bot ': the bot adds that prefix itself")
    core = token.strip().strip("'\"")
    if core.lower().startswith("bot "):
        core = core[4:]
    parts = core.split(".")
    if len(parts) != 3:
        problems.append(f"has {len(parts)} dot-separated part(s), a bot token has 3")
        return TokenShape(tuple(problems))
    if not all(_PART.match(p) for p in parts):
        problems.append("has characters outside the URL-safe base64 alphabet")
    bot_id = snowflake_from_segment(parts[0])
    if bot_id is None:
        problems.append("first part is not base64 of a numeric Discord id")
    return TokenShape(tuple(problems), bot_id)
