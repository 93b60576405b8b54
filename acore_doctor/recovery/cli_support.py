"""What the recovery subcommands share: deployment options and redacted output."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from acore_doctor.deployment import Deployment, load_deployment, resolve_bot_dir
from acore_doctor.recovery.common import RecoveryConfig, recovery_config


def add_deployment_args(parser: argparse.ArgumentParser, backups: bool = True) -> None:
    parser.add_argument(
        "--bot-dir", type=Path, help="the deployment (default: $ACORE_BOT_DIR, else cwd)"
    )
    parser.add_argument("--env-file", type=Path, help="the bot's .env (default: <bot-dir>/.env)")
    if backups:
        parser.add_argument(
            "--backup-dir",
            type=Path,
            help="where backups live (default: $STATE_BACKUP_DIR, else <bot-dir>/backups)",
        )


def deployment_from(args: argparse.Namespace) -> tuple[Deployment, RecoveryConfig]:
    bot_dir = resolve_bot_dir(str(args.bot_dir) if args.bot_dir else None, None, Path.cwd())
    env_file = args.env_file.resolve() if getattr(args, "env_file", None) else None
    deployment = load_deployment(bot_dir, env_file)
    backup_dir = getattr(args, "backup_dir", None)
    return deployment, recovery_config(deployment, backup_dir.resolve() if backup_dir else None)


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


def add_force_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--force",
        action="store_true",
        help="act even though the bot is running (it keeps the old files open and may "
        "overwrite what was restored or repaired)",
    )


def running_bot_refusal(deployment: Deployment, force: bool) -> str | None:
    """Why not to act now (the bot runs from this deployment), or None."""
    if force:
        return None
    from acore_doctor.probes.bot_process import find_bot_processes

    running = find_bot_processes(deployment.bot_dir)
    if not running:
        return None
    pids = ", ".join(str(p.pid) for p in running)
    return (
        f"the bot is running from {deployment.bot_dir} (pid {pids}): stop it first "
        "('systemctl stop discordbot'), or pass --force"
    )
