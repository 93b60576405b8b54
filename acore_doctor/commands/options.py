"""What the subcommands share: deployment options, redacted output, the running-bot guard.

Every subcommand that works on a deployment takes the same ``--bot-dir``/``--env-file`` (and,
as it needs them, ``--report-dir``, ``--backup-dir``, ``--force``) and resolves them the way
the pytest plugin does: ``--bot-dir``, else ``$ACORE_BOT_DIR``, else ``bot_dir`` in the
suite's ``pytest.ini``, else the current directory.
"""

from __future__ import annotations

import argparse
import configparser
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from acore_doctor.suite import REPORTS_ENV

if TYPE_CHECKING:  # the deployment modules load only when a command runs
    from acore_doctor.deployment import Deployment
    from acore_doctor.recovery.common import RecoveryConfig


log = logging.getLogger("acore_doctor.commands")


class UsageError(Exception):
    """A command was given something it cannot work with: exit 3, one line, no traceback."""


def add_deployment_options(
    parser: argparse.ArgumentParser, *, report_dir: bool = True, backup_dir: bool = False
) -> None:
    parser.add_argument(
        "--bot-dir",
        type=Path,
        help="the deployment (default: $ACORE_BOT_DIR, else bot_dir in pytest.ini, else cwd)",
    )
    parser.add_argument("--env-file", type=Path, help="the bot's .env (default: <bot-dir>/.env)")
    if report_dir:
        parser.add_argument(
            "--report-dir",
            type=Path,
            help=f"reports directory (default: ${REPORTS_ENV}, else reports/ in the suite)",
        )
    if backup_dir:
        parser.add_argument(
            "--backup-dir",
            type=Path,
            help="where backups live (default: $STATE_BACKUP_DIR, else <bot-dir>/backups)",
        )


def add_force_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--force",
        action="store_true",
        help="act even though the bot is running (it keeps the old files open and may "
        "overwrite what was restored or repaired)",
    )


def ini_bot_dir() -> str | None:
    """``bot_dir`` from the suite's ``pytest.ini``, as plain pytest reads it."""
    from acore_doctor.suite import suite_root

    try:
        ini = suite_root() / "pytest.ini"
    except FileNotFoundError:
        return None
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(ini, encoding="utf-8")
    except (OSError, configparser.Error):
        return None
    return parser.get("pytest", "bot_dir", fallback="").strip() or None


def bot_dir_from(args: argparse.Namespace) -> Path:
    """The deployment directory exactly as the pytest plugin resolves it."""
    from acore_doctor.deployment import resolve_bot_dir

    option = getattr(args, "bot_dir", None)
    return resolve_bot_dir(str(option) if option else None, ini_bot_dir(), Path.cwd())


def deployment_from(args: argparse.Namespace) -> Deployment:
    """The command's deployment; its redactor becomes the run's (audit log, log templates)."""
    from acore_doctor.deployment import load_deployment
    from acore_doctor.redact import set_run_redactor

    env_file = getattr(args, "env_file", None)
    deployment = load_deployment(bot_dir_from(args), env_file.resolve() if env_file else None)
    log.debug(
        "deployment %s, settings from %s (%d keys in the file)",
        deployment.bot_dir,
        deployment.env_file,
        len(deployment.settings.file_values),
    )
    set_run_redactor(deployment.redactor())
    return deployment


def recovery_config_from(args: argparse.Namespace, deployment: Deployment) -> RecoveryConfig:
    from acore_doctor.recovery.common import recovery_config

    backup_dir = getattr(args, "backup_dir", None)
    return recovery_config(deployment, backup_dir.resolve() if backup_dir else None)


def report_dir_from(args: argparse.Namespace) -> Path:
    """The directory the suite writes to: ``--report-dir``, else ``$DIAGNOSTIC_REPORTS_PATH``
    (the environment, then the bot's ``.env``), else the suite's ``reports/``."""
    from acore_doctor.deployment import load_deployment
    from acore_doctor.suite import resolve_report_dir

    given = getattr(args, "report_dir", None)
    if given or os.environ.get(REPORTS_ENV):
        return resolve_report_dir(given).resolve()
    env_file = getattr(args, "env_file", None)
    try:
        deployment = load_deployment(bot_dir_from(args), env_file.resolve() if env_file else None)
        in_env_file = deployment.settings.file_values.get(REPORTS_ENV)
    except (OSError, ValueError):
        return resolve_report_dir(None).resolve()
    return resolve_report_dir(
        None, env_file_value=in_env_file, bot_dir=deployment.bot_dir
    ).resolve()


def printer(deployment: Deployment) -> Callable[[str], None]:
    """print(), with the deployment's secrets masked."""
    redact = deployment.redactor()

    def say(line: str) -> None:
        print(redact(line), flush=True)

    return say


def human_size(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


def running_bot_refusal(deployment: Deployment, force: bool) -> str | None:
    """Why not to write now (the bot may be running from this deployment), or None.

    With ``force`` nothing is refused, but the override is loud: a warning naming what runs
    goes to stderr, so it shows in the terminal and in any log of the command."""
    from acore_doctor.probes.bot_process import writers_blocked_by

    running = writers_blocked_by(deployment.bot_dir)
    if not running:
        return None
    redact = deployment.redactor()
    what = "; ".join(running)
    if force:
        print(
            redact(
                f"WARNING: --force: the bot is running from {deployment.bot_dir} ({what}). "
                "Writing anyway: the bot keeps the old files open and may overwrite what is "
                "written now, or crash on it."
            ),
            file=sys.stderr,
            flush=True,
        )
        return None
    return redact(
        f"the bot is running from {deployment.bot_dir} ({what}): stop it first "
        "('systemctl stop discordbot', or end its tmux/screen session), or pass --force"
    )
