"""One set of planted secrets, one per kind the redactor keys on by setting name."""

from __future__ import annotations

from tests.support.builder import make_token

TOKEN = make_token(secret="S3cr3tT0kenPartNoOneMayEverSeeXYZ12345")
SECRETS = {
    "DISCORD_TOKEN": TOKEN,
    "OPENROUTER_API_KEY": "sk-or-v1-0123456789abcdef0123456789abcdef0123456789abcdef",
    "ANALYTICS_PASSWORD": "correct-horse-battery-staple",
    "GESTALT_API_TOKEN": "gst_9f8e7d6c5b4a39281706",
    "CLIENT_SECRET": "zz-top-secret-value-42",
    "ERROR_REPORT_WEBHOOK": "https://discord.com/api/webhooks/123456789012345678/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-AbCdEfGhIjKlMnOpQrStUvWxYz",
}
