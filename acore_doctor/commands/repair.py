"""``acore-doctor repair``: fix damaged state files (dry run unless --apply)."""

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
from acore_doctor.progress import ProgressLine
from acore_doctor.recovery.repair import apply_repair, os_failure, plan_repair
from acore_doctor.recovery.restore import RestoreError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "repair",
        description="Show what is damaged and what repair would do. With --apply: corrupt "
        "JSON is restored from the newest backup holding a valid copy (else what still parses "
        "is kept), a damaged SQLite database is rebuilt from the newest verified backup plus "
        "every row salvaged from its pages, stray *.tmp files are quarantined, missing "
        "directories created. Nothing is deleted: originals go to "
        "data/.quarantine/<timestamp>/, every action to .acore-doctor/audit.jsonl. Exit 0: "
        "repaired, nothing known lost; 1: repaired but records may be lost (or dry run); "
        "2: a repair failed (that file is left as it was).",
    )
    add_deployment_options(parser, report_dir=False, backup_dir=True)
    parser.add_argument("--apply", action="store_true", help="make the repairs")
    parser.add_argument(
        "--no-sqlite-cli",
        action="store_true",
        help="salvage SQLite by row-by-row copy even if the sqlite3 CLI is installed",
    )
    add_force_option(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace, extra: list[str]) -> int:
    deployment = deployment_from(args)
    config = recovery_config_from(args, deployment)
    say = printer(deployment)
    actions = plan_repair(deployment, config)
    if not actions:
        say(f"nothing to repair in {deployment.bot_dir}")
        return 0
    say(f"{len(actions)} repair(s) {'to make' if args.apply else 'needed'}:")
    for action in actions:
        say(f"  - {action.describe(deployment.bot_dir)}")
    if not args.apply:
        say("dry run: nothing changed. Run again with --apply to repair.")
        return 1
    refusal = running_bot_refusal(deployment, args.force)
    if refusal:
        say(f"repair refused: {refusal}")
        return 3
    try:
        report = apply_repair(
            deployment,
            config,
            say=say,
            use_sqlite_cli=False if args.no_sqlite_cli else None,
            progress=ProgressLine,
        )
    except RestoreError as exc:
        say(f"repair refused: {exc}")
        return 3
    except OSError as exc:  # a full disk or a read-only file system: a failure, not a bug
        say(f"repair failed: {os_failure(exc, config.audit_log)}")
        return 2
    say(f"quarantine: {report.quarantine}; audit log: {config.audit_log}")
    if report.failed:
        say(f"{len(report.failed)} repair(s) failed; see above")
        return 2
    if report.incomplete:
        say(
            f"repaired, but {report.maybe_lost} record(s) may be lost (estimate; the damaged "
            f"originals are kept in {report.quarantine})"
        )
        return 1
    return 0
