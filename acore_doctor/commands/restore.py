"""``acore-doctor restore``: verify a backup, stage it, and swap it in atomically."""

from __future__ import annotations

import argparse

from acore_doctor.commands.options import (
    add_deployment_options,
    add_force_option,
    deployment_from,
    printer,
    recovery_config_from,
    running_bot_refusal,
)
from acore_doctor.progress import Phases
from acore_doctor.recovery.backup import backup_warnings
from acore_doctor.recovery.common import parse_when, space_problem
from acore_doctor.recovery.restore import (
    RestoreError,
    compare_counts,
    finish_interrupted_restores,
    recovery_lock,
    restore,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "restore",
        description="Restore the newest backup (or the newest taken at or before --at): the "
        "archive and every file are checked against the manifest, JSON must parse and SQLite "
        "pass quick_check before anything changes; the live state is first saved as a "
        "'pre-restore' backup (never picked by a later restore without --at, so restoring "
        "twice does not undo the first). A backup that marks a database invalid or lacks "
        "files it could not read is refused unless --force. Nothing of the replaced state is "
        "deleted unless it is byte-for-byte in the pre-restore backup; the rest goes to "
        "data/.quarantine/. Exit 0 restored (or dry run fine), 2 refused or failed (nothing "
        "changed: the cause is printed, e.g. no space left on device). Stop the bot before "
        "restoring.",
    )
    add_deployment_options(parser, report_dir=False, backup_dir=True)
    parser.add_argument(
        "--at", metavar="TIMESTAMP", help="ISO 8601 time (UTC if no zone) or a backup id"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="verify and compare only; change nothing"
    )
    parser.add_argument(
        "--resume", action="store_true", help="only finish or roll back an interrupted restore"
    )
    add_force_option(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace, extra: list[str]) -> int:
    deployment = deployment_from(args)
    config = recovery_config_from(args, deployment)
    say = printer(deployment)
    try:
        if args.resume:
            with recovery_lock(config):
                done = finish_interrupted_restores(config)
            for line in done or ["no interrupted restore"]:
                say(line)
            return 0
        at = parse_when(args.at) if args.at else None
        refusal = None if args.dry_run else running_bot_refusal(deployment, args.force)
        if refusal:
            raise RestoreError(refusal)
        phases = Phases()
        try:
            result = restore(
                config, at=at, dry_run=args.dry_run, say=say, force=args.force, progress=phases
            )
        finally:
            phases.done()
    except (RestoreError, ValueError) as exc:
        say(f"restore failed: {exc}")
        return 2
    except OSError as exc:  # before the restore could start: .acore-doctor/ not writable...
        say(f"restore failed, nothing changed: {space_problem(exc, config.home) or exc}")
        return 2
    unsafe = backup_warnings(result.backup)
    say(
        f"backup {result.backup.id} verified: {result.stage.files} files match the manifest, "
        + (
            "JSON parses, SQLite passes quick_check"
            if not unsafe
            else f"but {len(unsafe)} path(s) were invalid or unreadable when backed up "
            "(restored anyway: --force)"
        )
    )
    if result.live is not None and result.restored is not None:
        shortfall = compare_counts(result.restored, result.live, tolerance=0.0)
        for line in shortfall:
            say(f"  live has more than the backup: {line}")
    if args.dry_run:
        say("dry run: nothing changed")
    return 0
