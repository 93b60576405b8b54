"""``acore-doctor memory``: where the bot process's memory sits."""

from __future__ import annotations

import argparse
import json
import sys

import psutil

from acore_doctor.commands.options import add_deployment_options, deployment_from
from acore_doctor.ops.memory import breakdown, format_breakdown
from acore_doctor.ops.process import find_bot_process
from acore_doctor.redact import run_redactor


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "memory",
        description="Show the bot process's resident memory by kind of mapping (heap, "
        "anonymous, shared libraries, mapped model files), its largest mappings and its "
        "child processes. Exit code 3 when there is no process to read.",
    )
    add_deployment_options(parser, report_dir=False)
    parser.add_argument("--pid", type=int, help="process to read (default: the bot)")
    parser.add_argument("--top", type=int, default=10, help="largest mappings listed")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace, extra: list[str]) -> int:
    pid = args.pid
    if pid is None:
        deployment = deployment_from(args)
        proc = find_bot_process(deployment.bot_dir)
        if proc is None:
            print(
                f"acore-doctor memory: no bot process found for {deployment.bot_dir}; pass --pid",
                file=sys.stderr,
            )
            return 3
        pid = proc.pid
    try:
        result = breakdown(pid, top=args.top)
    except psutil.NoSuchProcess:
        print(f"acore-doctor memory: no process with pid {pid}", file=sys.stderr)
        return 3
    except psutil.AccessDenied:
        print(f"acore-doctor memory: not allowed to read pid {pid}", file=sys.stderr)
        return 3
    # mapped file names and process names come from the deployment: print them safely
    text = json.dumps(result.to_dict(), indent=2) if args.json else format_breakdown(result)
    print(run_redactor()(text))
    return 0
