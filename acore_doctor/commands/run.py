"""``acore-doctor run``: the health suite on a deployment (extra arguments go to pytest)."""

from __future__ import annotations

import argparse
from pathlib import Path

from acore_doctor.commands.options import bot_dir_from


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run",
        description="Run the health suite. Arguments it does not know go to pytest, "
        "e.g. 'acore-doctor run --bot-dir /srv/acore_bot -m critical'. The deployment is "
        "--bot-dir, else $ACORE_BOT_DIR, else bot_dir in pytest.ini, else the current "
        "directory, as for plain pytest.",
    )
    parser.add_argument("--bot-dir", type=Path, help="deployment to check (default: as pytest)")
    parser.add_argument("--report-dir", type=Path, help="where reports go")
    parser.add_argument("--html", type=Path, help="also write a self-contained HTML report")
    parser.set_defaults(handler=handle, accepts_extra=True)


def handle(args: argparse.Namespace, extra: list[str]) -> int:
    from acore_doctor.commands.debug import debug_enabled
    from acore_doctor.suite import run_suite, verdict_code

    if debug_enabled() and not any(arg.startswith("--tb") for arg in extra):
        extra = ["--tb=long", *extra]  # DEBUG_MODE: the tracebacks of failed and crashed checks
    report_dir = args.report_dir.resolve() if args.report_dir else None
    html = args.html.resolve() if args.html else None
    done = run_suite(bot_dir_from(args), extra, report_dir=report_dir, html=html)
    return verdict_code(done.returncode)
