"""``acore-doctor``: the health suite and its tools on one command line.

Each subcommand lives in its own module under :mod:`acore_doctor.commands` and exposes
``register(subparsers)``; the module list below is the only place that names them.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from acore_doctor import __version__

COMMAND_MODULES = (
    "acore_doctor.commands.run",
    "acore_doctor.commands.demo",
    "acore_doctor.commands.backup",
    "acore_doctor.commands.restore",
    "acore_doctor.commands.repair",
    "acore_doctor.commands.recover",
    "acore_doctor.commands.profile",
    "acore_doctor.commands.console",
    "acore_doctor.commands.memory",
    "acore_doctor.commands.serve",
    "acore_doctor.commands.watch",
    "acore_doctor.commands.simulate",
    "acore_doctor.commands.logs",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="acore-doctor",
        description="Health checks and troubleshooting tools for acore_bot deployments.",
    )
    parser.add_argument("--version", action="version", version=f"acore-doctor {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command is None:
        parser.print_help()
        return 3
    if extra and not getattr(args, "accepts_extra", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return int(args.handler(args, extra) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
