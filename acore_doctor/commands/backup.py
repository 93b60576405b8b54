"""``acore-doctor backup``: a consistent snapshot of the deployment's state."""

from __future__ import annotations

import argparse

from acore_doctor.commands.options import (
    add_deployment_options,
    deployment_from,
    human_size,
    printer,
    recovery_config_from,
)
from acore_doctor.progress import ProgressLine
from acore_doctor.recovery.backup import (
    BackupError,
    create_backup,
    list_backups,
    prune_backups,
    state_bytes,
)
from acore_doctor.recovery.common import space_problem
from acore_doctor.recovery.restore import RestoreError, finish_interrupted_restores, recovery_lock


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "backup",
        description="Write a consistent snapshot of data/ (SQLite through the online backup "
        "API), prompts/ and .env into <backup-dir>/<id>.tar.gz with a sha256 manifest, then "
        "remove backups older than RECOVERY_STATE_RETENTION days (the newest is always kept). "
        "Exit 0: done; 1: a file did not parse (kept as it was); 2: a file could not be read "
        "(the backup lacks it, listed) or no backup could be written (disk full, read-only).",
    )
    add_deployment_options(parser, report_dir=False, backup_dir=True)
    parser.add_argument(
        "--if-enabled",
        action="store_true",
        help="do nothing unless STATE_BACKUP_ENABLED=true (for cron / systemd timers)",
    )
    parser.add_argument("--no-prune", action="store_true", help="keep expired backups")
    parser.add_argument("--list", action="store_true", help="list backups and exit")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace, extra: list[str]) -> int:
    deployment = deployment_from(args)
    config = recovery_config_from(args, deployment)
    say = printer(deployment)
    if args.list:
        backups = list_backups(config.backup_dir)
        if not backups:
            say(f"no backups in {config.backup_dir}")
        for backup in backups:
            trailer = backup.trailer()
            say(
                f"{backup.id}  {backup.label:<11} {human_size(trailer.get('archive_size', 0)):>10}"
                f"  {trailer.get('files', '?')} files  {backup.age.total_seconds() / 3600:.1f} h old"
            )
        return 0
    if args.if_enabled and not config.backup_enabled:
        say("STATE_BACKUP_ENABLED is not true: no backup taken")
        return 0
    try:
        with recovery_lock(config):
            for line in finish_interrupted_restores(config):
                say(line)
            say(f"backing up {deployment.bot_dir} into {config.backup_dir}")
            progress = ProgressLine("backing up")
            if progress.enabled:  # the share done needs the total: one stat per file
                progress.total_bytes = state_bytes(config)
            try:
                backup = create_backup(config, label="manual", progress=progress)
            finally:
                progress.done()
            trailer = backup.trailer()
            say(
                f"backup {backup.id}: {trailer['files']} files, "
                f"{human_size(trailer['bytes'])} -> {human_size(trailer['archive_size'])} "
                f"({backup.archive})"
            )
            for link in trailer.get("links_outside") or []:
                say(
                    f"note: symlink {link} points outside the deployment: stored as a link, "
                    "the files it points to are not in this backup"
                )
            for line in trailer.get("not_saved") or []:
                say(f"note: {line} (never opened)")
            invalid = trailer.get("invalid") or []
            if invalid:
                say(
                    f"warning: {len(invalid)} file(s) did not parse or check at backup time and "
                    "are kept as they were: " + ", ".join(invalid[:5])
                )
            not_read = trailer.get("not_read") or []
            if not_read:
                count = trailer.get("not_read_count", len(not_read))
                say(
                    f"error: {count} file(s) or directories could not be read and are NOT in "
                    "this backup (listed in its manifest): " + "; ".join(not_read[:10])
                )
                say(
                    "fix their permissions (or run the backup as a user that can read them) "
                    "and back up again"
                )
            if not args.no_prune:
                for old in prune_backups(config):
                    say(
                        f"removed expired backup {old.id} (RECOVERY_STATE_RETENTION="
                        f"{config.retention_days} days)"
                    )
    except (BackupError, RestoreError) as exc:
        say(f"backup failed, nothing written: {exc}")
        return 2
    except OSError as exc:
        where = config.backup_dir
        say(f"backup failed: {space_problem(exc, where) or exc}")
        return 2
    if not_read:
        return 2
    return 1 if invalid else 0
