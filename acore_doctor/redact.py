"""Keep the deployment's secrets out of every output.

One :class:`Redactor` per run knows the secret values found in the bot's settings (and in
the process environment under the same names) and replaces them, plus anything shaped like
a Discord token or webhook URL, with a fixed mask. Fragments are masked too: pytest's
``saferepr`` truncates long strings in the middle, which would otherwise leak their ends.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

MASK = "***REDACTED***"

_SECRET_NAME = re.compile(r"(TOKEN|_API_KEY$|^API_KEY$|PASSWORD|SECRET|WEBHOOK)", re.IGNORECASE)

#: Discord webhook URLs carry their own credential in the path.
WEBHOOK_URL = re.compile(
    r"https?://(?:[a-z0-9-]+\.)?(?:discord(?:app)?\.com)/api(?:/v\d+)?/webhooks/\d+/[\w-]+",
    re.IGNORECASE,
)
#: Bot tokens: base64 snowflake, a timestamp part, an HMAC part.
DISCORD_TOKEN = re.compile(
    r"\b[MNO][A-Za-z0-9_-]{20,30}\.[A-Za-z0-9_-]{5,8}\.[A-Za-z0-9_-]{25,45}\b"
)
#: Generic API keys with well-known prefixes (OpenRouter, OpenAI).
API_KEY = re.compile(r"\bsk-(?:or-v1-)?[A-Za-z0-9_-]{16,}\b")

#: Values shorter than this are not treated as secrets: masking "1" or "true" everywhere
#: would destroy the report without protecting anything.
MIN_SECRET_LEN = 6
#: Length of the leading and trailing fragments masked for long secrets (URLs excepted:
#: their leading fragment is just the scheme and host, and their pattern covers them).
FRAGMENT_LEN = 10


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name))


def secret_values(settings: Mapping[str, str | None]) -> list[str]:
    """Values of every secret-named key, and every value that is a webhook URL."""
    found = []
    for key, value in settings.items():
        if not value:
            continue
        if is_secret_name(key) or WEBHOOK_URL.search(value):
            found.append(value)
    return found


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        for secret in secrets:
            secret = secret.strip()
            if len(secret) < MIN_SECRET_LEN:
                continue
            self._secrets.add(secret)
            if len(secret) >= 2 * FRAGMENT_LEN and "://" not in secret:
                self._secrets.add(secret[:FRAGMENT_LEN])
                self._secrets.add(secret[-FRAGMENT_LEN:])
        ordered = sorted(self._secrets, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(s) for s in ordered)) if ordered else None

    def __call__(self, text: str) -> str:
        if not text:
            return text
        # Shapes first: a masked fragment inside a URL would hide the URL from its pattern.
        text = WEBHOOK_URL.sub(MASK, text)
        text = DISCORD_TOKEN.sub(MASK, text)
        text = API_KEY.sub(MASK, text)
        if self._pattern is not None:
            text = self._pattern.sub(MASK, text)
        return text

    def __repr__(self) -> str:
        return f"<Redactor {len(self._secrets)} values>"
