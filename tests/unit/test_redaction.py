"""Secrets from the deployment's settings never leave the process in clear."""

from __future__ import annotations

from acore_doctor.redact import MASK, Redactor, secret_values
from tests.support.builder import make_token
from tests.support.secrets import SECRETS, TOKEN


def _fragments(secret: str) -> list[str]:
    if "://" in secret:
        return [secret, secret[-10:]]
    return [secret, secret[:10], secret[-10:]]


def test_redactor_masks_values_fragments_and_shapes():
    redact = Redactor(secret_values(SECRETS))
    text = " | ".join(SECRETS.values()) + " | " + TOKEN[:15] + "..." + TOKEN[-12:]
    clean = redact(text)
    for secret in SECRETS.values():
        for fragment in _fragments(secret):
            assert fragment not in clean
    assert MASK in clean
    # Shapes are masked even when the value was never configured.
    assert make_token("987654321098765432") not in redact(
        "token " + make_token("987654321098765432")
    )
    assert "hooks/1/abc" not in redact("https://discordapp.com/api/webhooks/1/abcdef")


def test_short_and_plain_values_are_not_treated_as_secrets():
    redact = Redactor(secret_values({"LOG_LEVEL": "DEBUG", "ANALYTICS_PASSWORD": "admin"}))
    assert redact("LOG_LEVEL=DEBUG password admin") == "LOG_LEVEL=DEBUG password admin"


def test_settings_repr_shows_no_values(bot):
    from acore_doctor.settings import load_settings

    settings = load_settings(bot.env_path)
    assert bot.env()["DISCORD_TOKEN"] not in repr(settings)
