"""The bot's .env: present, readable, and holding a usable Discord token."""

import pytest

from acore_doctor import check
from acore_doctor.catalog import SETTINGS
from acore_doctor.deployment import Deployment
from acore_doctor.probes.token import token_shape
from acore_doctor.settings import BotSettings


@pytest.mark.critical
@check(
    ".env file is present and readable",
    "Create .env in the bot's directory (copy .env.example) and fill in DISCORD_TOKEN; "
    "or point the suite at it with --env-file.",
    guide="guides/deployment_issues.md#env-file-missing",
)
def test_env_file_present(deployment: Deployment) -> None:
    state = deployment.settings.env_file
    assert state.exists, f"expected a .env file at {state.path}, found none"
    assert state.readable and state.error is None, (
        f"expected {state.path} to be a readable KEY=VALUE text file, found: {state.error}"
    )


@pytest.mark.critical
@check(
    "DISCORD_TOKEN is set and shaped like a bot token",
    "Copy the bot token again from the Discord Developer Portal (Bot > Reset Token) into "
    "DISCORD_TOKEN=, without quotes, spaces or a 'Bot ' prefix.",
    guide="guides/common_issues.md#bot-not-responding",
)
def test_discord_token_shape(settings: BotSettings) -> None:
    shape = token_shape(settings.raw("DISCORD_TOKEN"))
    assert shape.ok, (
        "expected DISCORD_TOKEN to be three dot-separated base64 parts starting with the "
        f"bot's id, found a value that {'; '.join(shape.problems)} "
        f"(from {settings.source('DISCORD_TOKEN') or 'nowhere'})"
    )


@pytest.mark.warning
@check(
    "Settings are values the bot understands",
    "Fix each listed value: booleans must be 'true' or 'false', numbers plain digits. "
    "The bot silently uses its default instead of a value it cannot parse.",
    guide="guides/deployment_issues.md#setting-silently-ignored",
)
def test_values_bot_understands(settings: BotSettings) -> None:
    for setting in SETTINGS.values():
        if setting.kind in ("bool", "int", "float"):
            getattr(settings, setting.kind)(setting.key, setting.default)
    assert not settings.problems, "expected every typed setting to parse, found: " + "; ".join(
        p.describe() for p in settings.problems
    )
