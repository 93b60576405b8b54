"""``acore-doctor profile``: sample the bot process and judge its resource trend."""

from __future__ import annotations

import argparse
import json
import sys

import psutil

from acore_doctor.commands.options import (
    add_deployment_options,
    deployment_from,
    report_dir_from,
)
from acore_doctor.ops.cprofile import SORT_KEYS, run_cprofile
from acore_doctor.ops.process import find_bot_process
from acore_doctor.ops.profile import format_trend, sample_process, write_outputs
from acore_doctor.progress import ProgressLine


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "profile",
        description="Sample a process (default: the detected bot process) and report its trend "
        "(RSS MB/h, descriptor growth) with a leak verdict; writes JSON, CSV and a PNG chart "
        "under <report-dir>/profiles/. With --cprofile -- CMD, run a Python command under "
        "cProfile and print its top functions instead. Exit code: 0 stable, 1 leak suspected, "
        "3 nothing to profile.",
    )
    add_deployment_options(parser)
    parser.add_argument("--pid", type=int, help="process to sample (default: the bot)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds (default 60)")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds (default 1)")
    parser.add_argument("--json", action="store_true", help="print the profile as JSON")
    parser.add_argument("--leak-mb-per-hour", type=float, default=None, help="leak threshold")
    parser.add_argument("--cprofile", action="store_true", help="profile '-- CMD ...' instead")
    parser.add_argument("--top", type=int, default=25, help="functions listed by --cprofile")
    parser.add_argument("--sort", choices=SORT_KEYS, default="cumulative")
    parser.set_defaults(handler=handle, accepts_extra=True)


def handle(args: argparse.Namespace, extra: list[str]) -> int:
    if args.cprofile:
        cmd = extra[1:] if extra[:1] == ["--"] else extra
        try:
            code, table = run_cprofile(cmd, top=args.top, sort=args.sort)
        except (ValueError, OSError) as exc:
            print(f"acore-doctor profile: {exc}", file=sys.stderr)
            return 3
        print(table)
        return code
    if extra:
        print(f"acore-doctor profile: unexpected arguments {extra}", file=sys.stderr)
        return 3
    if args.interval <= 0 or args.duration < 0:
        print("acore-doctor profile: --interval must be > 0, --duration >= 0", file=sys.stderr)
        return 3
    deployment = deployment_from(args)
    redact = deployment.redactor()
    pid = args.pid
    if pid is None:
        proc = find_bot_process(deployment.bot_dir)
        if proc is None:
            print(
                f"acore-doctor profile: no bot process found for {deployment.bot_dir} "
                "(looked for python running its main.py or launcher.py); pass --pid",
                file=sys.stderr,
            )
            return 3
        pid = proc.pid
    # On a terminal: how far the sampling is, and how long it still takes.
    line = ProgressLine("sampling", enabled=None if not args.json else False)
    try:
        profile = sample_process(
            pid,
            args.duration,
            args.interval,
            redact,
            on_sample=lambda sample: line.advance(sample.t, args.duration, "s"),
        )
    except psutil.NoSuchProcess:
        print(f"acore-doctor profile: no process with pid {pid}", file=sys.stderr)
        return 3
    except psutil.AccessDenied:
        print(
            f"acore-doctor profile: not allowed to read pid {pid} (run as its user)",
            file=sys.stderr,
        )
        return 3
    finally:
        line.done()
    if args.leak_mb_per_hour is not None:
        profile.leak_mb_per_hour = args.leak_mb_per_hour
    result = profile.trend()
    paths = write_outputs(profile, report_dir_from(args))
    if args.json:
        print(
            json.dumps(
                {
                    **profile.to_dict(),
                    "trend": result,
                    "files": {k: str(v) for k, v in paths.items()},
                },
                indent=2,
            )
        )
    else:
        print(redact(f"Profile of pid {pid} ({profile.name}): {profile.stopped}"))
        print(format_trend(result))
        for kind, path in paths.items():
            print(f"{kind.upper()}: {path}")
    return 1 if result["verdict"] == "leak" else 0
