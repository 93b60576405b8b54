"""``acore-doctor console``: a Python REPL for debugging a live deployment."""

from __future__ import annotations

import argparse

from acore_doctor.commands.options import add_deployment_options, deployment_from


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "console",
        description="An asyncio-aware Python REPL with the deployment loaded: its settings "
        "(secrets masked when shown), read-only database connections, network probes, a call "
        "that runs one named check, and the log analyzer. All output is redacted. "
        "--command runs one statement and exits (1 if it raised).",
    )
    add_deployment_options(parser, report_dir=False)
    parser.add_argument(
        "-c", "--command", dest="statement", help="run one statement non-interactively"
    )
    parser.add_argument("--no-banner", action="store_true", help="skip the help banner")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace, extra: list[str]) -> int:
    from acore_doctor.ops.console import start

    deployment = deployment_from(args)
    return start(deployment, deployment.redactor(), args.statement, banner=not args.no_banner)
