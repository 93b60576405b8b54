"""Common operator mistakes, each answered by one sentence that says what to do.

Every row makes one mistake the way an operator does (a child process, a real deployment
copy) and looks for the sentence in what the operator sees (stdout and stderr).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.builder import DeploymentBuilder
from tests.support.runs import SUITE_ROOT, clean_env

ENV_CHECK = "health_tests/test_config.py::test_env_file_present"


@dataclass
class Mistake:
    name: str
    #: the command line after ``python -m``; {bot} and {tmp} are filled in
    argv: tuple[str, ...]
    #: a regular expression for the sentence that says what to do
    says: str
    codes: tuple[int, ...] = (3,)
    setup: Callable[[DeploymentBuilder, Path], None] = lambda bot, tmp: None
    env: dict[str, str] = field(default_factory=dict)
    #: run from this directory ("tmp": the test's scratch directory) instead of the checkout
    cwd: str = "checkout"


def pytest_args(*args: str) -> tuple[str, ...]:
    return ("pytest", "-p", "no:cacheprovider", *args)


def no_env_file(bot: DeploymentBuilder, tmp: Path) -> None:
    bot.remove(".env")


def a_file(bot: DeploymentBuilder, tmp: Path) -> None:
    (tmp / "a_file").write_text("not a directory\n")


MISTAKES = [
    Mistake(
        "bot-dir-does-not-exist",
        pytest_args("--bot-dir={tmp}/no_such_bot"),
        r"give the bot's directory with --bot-dir=PATH",
    ),
    Mistake(
        "bot-dir-is-a-file",
        pytest_args("--bot-dir={tmp}/a_file"),
        r"is not a directory: give the bot's directory",
        setup=a_file,
    ),
    Mistake(
        "bot-dir-without-equals",
        pytest_args("--bot-dir", "{bot}"),
        r"write --bot-dir=PATH with '='",
        cwd="tmp",
    ),
    Mistake(
        "no-bot-dir-in-the-checkout",
        pytest_args(),
        r"Give the bot's directory: pytest --bot-dir=/path/to/acore_bot",
    ),
    Mistake(
        "acore-bot-dir-points-nowhere",
        pytest_args(ENV_CHECK),
        r"give the bot's directory with --bot-dir=PATH or ACORE_BOT_DIR",
        env={"ACORE_BOT_DIR": "/nonexistent/acore_bot"},
    ),
    Mistake(
        "env-file-missing",
        pytest_args("--bot-dir={bot}", ENV_CHECK),
        r"If \.env is missing: create it in the bot's directory \(copy \.env\.example\)",
        codes=(2,),
        setup=no_env_file,
    ),
    Mistake(
        "env-file-option-points-nowhere",
        pytest_args("--bot-dir={bot}", "--env-file={tmp}/nope.env", ENV_CHECK),
        r"point the suite at it with --env-file",
        codes=(2,),
    ),
    Mistake(
        "marker-typo",
        pytest_args("--bot-dir={bot}", "-m", "critcal"),
        r"Use 'pytest --markers' to see available markers",
    ),
    Mistake(
        "keyword-typo",
        pytest_args("--bot-dir={bot}", "--offline", "-k", "tokn_shape"),
        r"no check matches -k 'tokn_shape'; list the checks with",
    ),
    Mistake(
        "node-id-typo",
        pytest_args("--bot-dir={bot}", "health_tests/test_config.py::test_env_file_presnt"),
        r"list the checks and their node ids with 'pytest --bot-dir=PATH --collect-only -q'",
    ),
    Mistake(
        "report-dir-is-a-file",
        pytest_args("--bot-dir={bot}", "--report-dir={tmp}/a_file", ENV_CHECK),
        r"give --report-dir \(or DIAGNOSTIC_REPORTS_PATH\) a directory this user can write",
        codes=(0,),
        setup=a_file,
    ),
    Mistake(
        "serve-on-all-interfaces-without-a-token",
        ("acore_doctor.cli", "serve", "--bot-dir={bot}", "--host=0.0.0.0"),
        r"Give --token-file FILE",
    ),
    Mistake(
        "serve-with-a-weak-token",
        (
            "acore_doctor.cli",
            "serve",
            "--bot-dir={bot}",
            "--host=0.0.0.0",
            "--token-file={tmp}/a_file",
        ),
        r"must hold one token of at least 16 characters \(e\.g\. from 'openssl rand -hex 32'\)",
        setup=a_file,
    ),
    Mistake(
        "demo-with-an-unknown-fault",
        ("acore_doctor.cli", "demo", "--fault", "ollama=exploded"),
        r"see 'acore-doctor simulate --list-modes'",
    ),
    Mistake(
        "unknown-subcommand",
        ("acore_doctor.cli", "rn"),
        r"invalid choice: 'rn' \(choose from",
    ),
    Mistake(
        "subcommand-option-typo",
        ("acore_doctor.cli", "backup", "--bot-dir={bot}", "--backupdir=/x"),
        r"usage: acore-doctor backup",
    ),
    Mistake(
        "bot-not-started-yet",
        pytest_args("--bot-dir={bot}", "health_tests/test_resources.py::test_bot_process_running"),
        r"Start the bot \('systemctl start discordbot'.*Use --allow-stopped to check a "
        r"deployment before its first start",
        codes=(2,),
    ),
    Mistake(
        "debug-logging-left-on",
        pytest_args("--bot-dir={bot}", "--offline", "-k", "debug"),
        r"LOG_LEVEL=INFO",
        codes=(1, 2),
    ),
    Mistake(
        "yes-for-a-boolean",
        pytest_args("--bot-dir={bot}", "health_tests/test_config.py::test_values_bot_understands"),
        r"\btrue\b",
        codes=(1,),
    ),
    Mistake(
        "nagios-with-a-bad-option",
        pytest_args("--bot-dir={bot}", "--nagios", "--no-such-option"),
        r"^ACORE-DOCTOR UNKNOWN - usage error: unrecognized arguments: --no-such-option",
    ),
]


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.name)
def test_each_mistake_gets_one_sentence_saying_what_to_do(mistake, tmp_path):
    bot = DeploymentBuilder(tmp_path / "acore_bot")
    mistake.setup(bot, tmp_path)
    argv = [a.format(bot=bot.root, tmp=tmp_path) for a in mistake.argv]
    cwd = tmp_path if mistake.cwd == "tmp" else SUITE_ROOT
    done = subprocess.run(
        [sys.executable, "-m", *argv],
        cwd=cwd,
        env=clean_env(**mistake.env),
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    seen = done.stdout + "\n" + done.stderr
    assert done.returncode in mistake.codes, (done.returncode, seen[-3000:])
    assert re.search(mistake.says, seen, re.M), seen[-3000:]
    assert "Traceback" not in seen, seen[-3000:]


def test_there_are_twenty_mistakes():
    assert len({m.name for m in MISTAKES}) == len(MISTAKES) >= 20
