"""``acore-doctor watch``: run the suite every HEALTH_CHECK_INTERVAL seconds and alert."""

from __future__ import annotations

import argparse
import signal
from types import FrameType

from acore_doctor.commands.options import (
    add_deployment_options,
    deployment_from,
    report_dir_from,
)
from acore_doctor.deployment import Deployment
from acore_doctor.logs.sources import DEFAULT_UNIT, journalctl_available, log_file_path
from acore_doctor.ops.alerts import STATE_FILE, AlertConfig, Alerter
from acore_doctor.ops.follow import Follower, JournalFollower, LogFollower
from acore_doctor.ops.switches import read_switches
from acore_doctor.ops.watch import DEFAULT_ERROR_COOLDOWN_S, DEFAULT_INTERVAL_S, Watcher


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "watch",
        description="Run the health suite repeatedly, each run in its own process and never "
        "two at once, and post a Discord webhook alert (ERROR_REPORT_WEBHOOK) when a critical "
        "issue is confirmed and when the deployment recovers. Extra arguments go to pytest "
        "(e.g. -m critical). Read before every run from the bot's settings: "
        "DIAGNOSTIC_ENABLED=false idles (no run; --once exits 3), "
        "RESOURCE_MONITORING_ENABLED=false leaves out the resource checks, "
        "PERFORMANCE_ALERTS=true alerts on their warnings too. Between runs it follows the "
        "bot's log: a new ERROR or CRITICAL record runs the checks of its area at once "
        "(Discord, LLM, voice, data...), at most once per area per --error-cooldown.",
    )
    add_deployment_options(parser)
    parser.add_argument(
        "--interval",
        type=float,
        help=f"seconds between runs (default: HEALTH_CHECK_INTERVAL, else {DEFAULT_INTERVAL_S:g})",
    )
    parser.add_argument("--once", action="store_true", help="one run (for a systemd timer)")
    parser.add_argument("--count", type=int, help="stop after this many runs")
    parser.add_argument("--run-timeout", type=float, default=600.0, help="seconds per run")
    parser.add_argument("--no-alerts", action="store_true", help="never post to the webhook")
    parser.add_argument(
        "--alert-after", type=int, default=2, help="consecutive critical runs before alerting"
    )
    parser.add_argument(
        "--recover-after", type=int, default=1, help="consecutive clear runs before 'recovered'"
    )
    parser.add_argument(
        "--alert-min-interval", type=float, default=60.0, help="seconds between two alerts"
    )
    parser.add_argument("--alert-max-per-hour", type=int, default=10, help="alerts per hour")
    parser.add_argument(
        "--no-follow",
        action="store_true",
        help="do not follow the bot's log between runs (errors wait for the next full run)",
    )
    parser.add_argument(
        "--journal",
        metavar="UNIT",
        help="follow this unit's journal instead of the log file (default: the log file when "
        f"the bot writes one, else journalctl -u {DEFAULT_UNIT} when journalctl exists)",
    )
    parser.add_argument(
        "--error-cooldown",
        type=float,
        default=DEFAULT_ERROR_COOLDOWN_S,
        help="seconds before an error of the same area triggers checks again "
        f"(default {DEFAULT_ERROR_COOLDOWN_S:g})",
    )
    parser.add_argument(
        "--diagnose",
        action="store_true",
        help="save a diagnostic bundle when a run turns critical "
        "(default: AUTO_DIAGNOSTIC_ON_ERROR from the bot's settings)",
    )
    parser.set_defaults(handler=handle, accepts_extra=True)


def follower_for(args: argparse.Namespace, deployment: Deployment) -> Follower | None:
    """What ``watch`` follows between runs: the log file the bot writes, else its journal."""
    from acore_doctor.probes.entrypoint import RUNTIME, files_entrypoint

    if args.once or args.no_follow:
        return None
    if args.journal:
        return JournalFollower(args.journal)
    runtime = files_entrypoint(deployment.bot_dir).kind == RUNTIME
    if deployment.settings.get("LOG_TO_FILE") and not runtime:
        return LogFollower(log_file_path(deployment))
    return JournalFollower(DEFAULT_UNIT) if journalctl_available() else None


def handle(args: argparse.Namespace, extra: list[str]) -> int:
    deployment = deployment_from(args)
    settings = deployment.settings
    if args.interval is not None:
        interval = max(0.0, args.interval)  # 0: back to back, still one at a time
    else:
        interval = settings.get("HEALTH_CHECK_INTERVAL")
        interval = interval if interval > 0 else DEFAULT_INTERVAL_S
    report_dir = report_dir_from(args)
    config = AlertConfig.from_settings(
        settings,
        alert_after=max(1, args.alert_after),
        recover_after=max(1, args.recover_after),
        min_interval_s=args.alert_min_interval,
        max_per_hour=args.alert_max_per_hour,
    )
    redact = deployment.redactor(config.webhook_url or "")
    alerter = None
    if args.no_alerts:
        print("acore-doctor watch: alerts off (--no-alerts)")
    elif not config.enabled:
        print(f"acore-doctor watch: alerts off ({config.why_disabled})")
    else:
        alerter = Alerter(config, report_dir / STATE_FILE, redact)
    env_args = [f"--env-file={deployment.env_file}"] if args.env_file else []
    watcher = Watcher(
        deployment.bot_dir,
        report_dir,
        interval,
        alerter,
        [*env_args, *extra],
        args.run_timeout,
        log=lambda line: print(redact(line), flush=True),
        auto_diagnostic=args.diagnose or settings.get("AUTO_DIAGNOSTIC_ON_ERROR"),
        redact=redact,
        switches=lambda: read_switches(deployment.bot_dir, deployment.env_file),
        follower=follower_for(args, deployment),
        error_cooldown=max(0.0, args.error_cooldown),
    )

    def stop(signum: int, frame: FrameType | None) -> None:
        watcher.stop.set()

    signal.signal(signal.SIGTERM, stop)
    if args.once:
        result = watcher.one()
        return 3 if result is None else result.code
    print(
        f"acore-doctor watch: checking {deployment.bot_dir} every {interval:g} s; "
        f"reports in {report_dir}"
        + (f"; following {watcher.follower.describe()} for errors" if watcher.follower else ""),
        flush=True,
    )
    try:
        watcher.loop(args.count)
    except KeyboardInterrupt:
        return 130
    return 0
