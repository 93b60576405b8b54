"""docs/severity.md, rule by rule: data directories the bot creates, systemd sandboxes, NaN."""

from __future__ import annotations

import os
from pathlib import Path

from acore_doctor.probes.entrypoint import parse_unit
from acore_doctor.probes.files import BotUser, dir_state, unit_forbids_write
from acore_doctor.recovery.common import settings_problems
from acore_doctor.rules import config as config_rules
from acore_doctor.settings import load_settings

#: Someone other than the suite's user, so the verdict comes from mode bits (no probe).
OTHER = BotUser(
    uid=os.geteuid() + 4242, gids=(os.getegid() + 4242,), name="discordbot", source="test"
)


def _unit(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "acore-bot.service"
    path.write_text("[Unit]\nDescription=bot\n\n[Service]\n" + body)
    return path


def test_a_missing_directory_the_bot_creates_is_not_a_finding(tmp_path: Path) -> None:
    bot = tmp_path / "bot"
    bot.mkdir(mode=0o777)
    bot.chmod(0o777)
    state = dir_state(bot / "data" / "chat_history", "chat history", OTHER)
    assert not state.exists and state.creatable and state.ancestor == bot


def test_a_missing_directory_that_cannot_be_created_is_reported(tmp_path: Path) -> None:
    bot = tmp_path / "bot"
    bot.mkdir()
    bot.chmod(0o755)  # owned by the suite's user, not by OTHER
    state = dir_state(bot / "data", "the bot's state root", OTHER)
    assert not state.exists and not state.creatable
    assert "mode 0755" in state.how


def test_the_bots_unit_sandbox_is_judged_not_the_suites(tmp_path: Path) -> None:
    data = Path("/opt/acore_bot/data")
    strict = parse_unit(_unit(tmp_path, "ProtectSystem=strict\nExecStart=python main.py\n"))
    assert "ProtectSystem=strict" in (unit_forbids_write(strict, data) or "")
    allowed = parse_unit(
        _unit(tmp_path, "ProtectSystem=strict\nReadWritePaths=/opt/acore_bot/data /var/log\n")
    )
    assert unit_forbids_write(allowed, data) is None
    assert unit_forbids_write(allowed, data / "chat_history") is None
    read_only = parse_unit(_unit(tmp_path, "ReadOnlyPaths=-/opt/acore_bot\n"))
    assert "ReadOnlyPaths=/opt/acore_bot" in (unit_forbids_write(read_only, data) or "")
    assert unit_forbids_write(parse_unit(_unit(tmp_path, "ProtectSystem=full\n")), data) is None
    assert unit_forbids_write(None, data) is None


def test_a_unit_that_forbids_the_write_makes_an_existing_directory_unwritable(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "data"
    directory.mkdir()
    unit = parse_unit(_unit(tmp_path, f"ReadOnlyPaths={tmp_path}\n"))
    me = BotUser(os.geteuid(), (os.getegid(),), "me", "test")
    assert dir_state(directory, "state", me).writable
    state = dir_state(directory, "state", me, unit)
    assert not state.writable and "ReadOnlyPaths=" in state.how
    assert list(directory.iterdir()) == []  # no probe file was left (none was made)


def test_nan_and_infinities_are_out_of_range_for_every_float(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("OLLAMA_TEMPERATURE=nan\nRL_LEARNING_RATE=inf\nKOKORO_SPEED=-Infinity\n")
    problems = config_rules.range_violations(load_settings(env, environ={}))
    assert len(problems) == 3, problems
    assert all("not a finite number" in p for p in problems)
    assert not any("should be in [0, 2]" in p for p in problems)  # reported once, as NaN


def test_nan_is_out_of_range_for_the_suites_own_float_settings(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("RECOVERY_COOLDOWN=nan\nMAX_RECOVERY_ATTEMPTS=3\n")
    problems = settings_problems(load_settings(env, environ={}))
    assert problems == ["RECOVERY_COOLDOWN='nan' must be a finite number greater than 0"]
