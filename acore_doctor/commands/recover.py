"""``acore-doctor recover``: run the suite, map failed checks to remediations, apply, re-check."""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from acore_doctor.commands.options import (
    add_deployment_options,
    add_force_option,
    deployment_from,
    printer,
    recovery_config_from,
    running_bot_refusal,
)
from acore_doctor.recovery.remediations import match
from acore_doctor.saferead import OWN_FILE_MAX, read_text_bounded
from acore_doctor.suite import run_suite

FAILED = ("failed", "crashed")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "recover",
        description="Run the health suite, map each failed check to a registered remediation, "
        "print the plan; with --apply carry it out and re-run the failed checks to confirm. "
        "Extra arguments go to pytest for the first run (e.g. health_tests/test_data.py).",
    )
    add_deployment_options(parser, report_dir=False, backup_dir=True)
    parser.add_argument("--apply", action="store_true", help="carry out the plan")
    parser.add_argument(
        "--report-dir", type=Path, help="where the suite's reports go (default: a temporary one)"
    )
    add_force_option(parser)
    controls = parser.add_argument_group(
        "AutoRecovery's controls (the bot's in-process recovery; no suite run)"
    )
    controls.add_argument(
        "--status", action="store_true", help="circuits, cooldowns, last attempts, pause"
    )
    controls.add_argument(
        "--reset",
        metavar="SERVICE",
        help="close a circuit: a service ('ollama'), a circuit ('reconnect:ollama') or 'all'",
    )
    controls.add_argument("--pause", action="store_true", help="stop AutoRecovery from acting")
    controls.add_argument("--resume", action="store_true", help="let AutoRecovery act again")
    controls.add_argument("--reason", default="", help="why (kept with --pause)")
    parser.set_defaults(handler=handle, accepts_extra=True)


def handle_controls(args: argparse.Namespace, config: Any, say: Any) -> int:
    """--status, --reset, --pause, --resume: read the attempts log, write the control file."""
    import time

    from acore_doctor.recovery.common import read_jsonl
    from acore_doctor.recovery.control import CONTROL_FILE, RecoveryControl, circuits

    path = config.home / CONTROL_FILE
    control = RecoveryControl.load(path)
    now = time.time()
    changed = []
    if args.pause and args.resume:
        say("--pause and --resume together: choose one")
        return 3
    if args.pause:
        control.paused, control.paused_at, control.reason = True, now, args.reason
        changed.append("AutoRecovery paused")
    if args.resume:
        control.paused, control.paused_at, control.reason = False, None, ""
        changed.append("AutoRecovery resumed")
    if args.reset:
        key = "*" if args.reset == "all" else args.reset.strip()
        control.resets[key] = now
        changed.append(f"circuit(s) {args.reset} reset: earlier attempts no longer count")
    if changed:
        try:
            control.save(path, owner_of=config.bot_dir)
        except OSError as exc:
            say(f"not changed: cannot write {path}: {exc}")
            return 2
        for line in changed:
            say(f"{line} ({path})")
    records = read_jsonl(config.attempts_log)
    status = circuits(records, config.max_attempts, config.cooldown_s, control, now)
    if args.status or changed:
        enabled = "on" if config.auto_enabled else "off (AUTO_RECOVERY_ENABLED is not true)"
        say(
            f"AutoRecovery: {enabled}; MAX_RECOVERY_ATTEMPTS={config.max_attempts}, "
            f"RECOVERY_COOLDOWN={config.cooldown_s:g}s"
        )
        if control.paused:
            since = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(control.paused_at or now))
            say(f"PAUSED since {since} UTC" + (f": {control.reason}" if control.reason else ""))
        if not status:
            say(f"no attempts logged in {config.attempts_log}")
        for circuit in status:
            say("  " + circuit.describe(config.max_attempts))
    return 1 if control.paused or any(c.open for c in status) else 0


def failed_checks(report_dir: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    report = json.loads(read_text_bounded(report_dir / "latest.json", OWN_FILE_MAX, "strict"))
    return [c for c in report["checks"] if c["outcome"] in FAILED], report


def handle(args: argparse.Namespace, extra: list[str]) -> int:
    deployment = deployment_from(args)
    config = recovery_config_from(args, deployment)
    say = printer(deployment)
    bot_dir = deployment.bot_dir
    if args.status or args.reset or args.pause or args.resume:
        return handle_controls(args, config, say)
    if args.apply:
        # Before the suite runs: a refusal should not cost a whole health run first.
        refusal = running_bot_refusal(deployment, args.force)
        if refusal:
            say(f"not applying: {refusal}")
            return 3
    with tempfile.TemporaryDirectory(prefix="acore-doctor-recover-") as tmp:
        report_dir = (args.report_dir or Path(tmp)).resolve()
        env_args = [f"--env-file={args.env_file.resolve()}"] if args.env_file else []
        say(f"running the health suite on {bot_dir} ...")
        first = run_suite(
            bot_dir, [*env_args, "-q", *extra], report_dir=report_dir / "before", capture=True
        )
        try:
            failed, report = failed_checks(report_dir / "before")
        except (OSError, ValueError, KeyError):
            say(f"the suite wrote no report (exit {first.returncode}):")
            say((first.stdout + first.stderr)[-2000:])
            return 3
        if not failed:
            say(f"no failed checks ({report['summary']['overall_status']}): nothing to recover")
            return first.returncode
        plan, unanswered = match(c["nodeid"] for c in failed)
        by_id = {c["nodeid"]: c for c in failed}
        say(f"{len(failed)} failed check(s).")
        actionable = []
        for remediation, nodeids in plan:
            steps = remediation.plan(deployment, config)
            say(f"\n* {remediation.title}")
            for nodeid in nodeids:
                say(f"    for {nodeid} ({by_id[nodeid]['severity']}): {by_id[nodeid]['title']}")
            if not steps:
                say("    nothing it can do here (the check failed for another reason)")
                continue
            for step in steps:
                say(f"    - {step}")
            actionable.append((remediation, nodeids))
        if unanswered:
            say("\nNo automatic remediation for:")
            for nodeid in unanswered:
                say(f"  - {nodeid}: {by_id[nodeid]['recommendation']}")
        if not args.apply:
            say("\nplan only: nothing changed. Run again with --apply to carry it out.")
            return first.returncode
        if not actionable:
            return first.returncode
        say("")
        maybe_lost = 0
        for remediation, _ in actionable:
            say(f"applying: {remediation.title}")
            try:
                done = remediation.apply(deployment, config, say)
                maybe_lost += getattr(done, "maybe_lost", 0)
                say(f"  -> {done}")
            except Exception as exc:  # one remediation failing must not stop the others
                say(f"  -> failed: {type(exc).__name__}: {exc}")
        recheck = sorted({n for _, nodeids in actionable for n in nodeids})
        say(f"\nre-running {len(recheck)} check(s) to confirm ...")
        second = run_suite(
            bot_dir, [*env_args, "-q", *recheck], report_dir=report_dir / "after", capture=True
        )
        try:
            after, _ = failed_checks(report_dir / "after")
        except (OSError, ValueError, KeyError):
            say(f"the re-run wrote no report (exit {second.returncode})")
            return 3
        still = {c["nodeid"] for c in after}
        for nodeid in recheck:
            say(f"  {'still failing' if nodeid in still else 'fixed'}: {nodeid}")
        if maybe_lost:
            # The checks pass on the rebuilt files; that is not the same as nothing lost.
            say(f"not fully recovered: {maybe_lost} record(s) may be lost (see above)")
            return max(second.returncode, 1)
        return second.returncode
