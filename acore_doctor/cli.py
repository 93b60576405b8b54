"""``acore-doctor``: the health suite and its tools on one command line.

Each subcommand lives in its own module under :mod:`acore_doctor.commands` and exposes
``register(subparsers)``; :data:`COMMANDS` below is the only place that names them. Only the
module of the command being run is imported, so ``acore-doctor --help`` starts in a blink
instead of loading pytest, aiohttp and the probes for thirteen commands it does not run.

Exit codes: a verdict command exits 0 healthy, 1 warning, 2 critical, 3 unknown, 130
interrupted; a usage error (argparse's included) or an internal error is 3, never 2.
The tools that are not verdicts (backup, restore, repair...) document their own codes in
the README's table.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from typing import NoReturn

from acore_doctor import __version__

UNKNOWN = 3
INTERRUPTED = 130

#: name -> (module, one line for the command list). The list line lives here so that
#: listing the commands imports none of them.
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("acore_doctor.commands.run", "run the health suite on a deployment"),
    "demo": ("acore_doctor.commands.demo", "run the suite on a bundled sample deployment"),
    "backup": (
        "acore_doctor.commands.backup",
        "back up the bot's state (data/, prompts/, .env) into one verified archive",
    ),
    "restore": (
        "acore_doctor.commands.restore",
        "restore the bot's state from a backup (verified, staged, swapped in atomically)",
    ),
    "repair": (
        "acore_doctor.commands.repair",
        "repair corrupt JSON, damaged SQLite, stray .tmp files, missing dirs (dry run)",
    ),
    "recover": (
        "acore_doctor.commands.recover",
        "run the suite and fix what a registered remediation can fix (plan unless --apply)",
    ),
    "profile": (
        "acore_doctor.commands.profile",
        "sample the bot's CPU, memory, threads, files and connections; leak verdict",
    ),
    "console": (
        "acore_doctor.commands.console",
        "debug REPL: settings (masked), read-only databases, probes, one check, logs",
    ),
    "changes": (
        "acore_doctor.commands.changes",
        "what changed in the deployment between two runs (settings, code, packages, services)",
    ),
    "memory": (
        "acore_doctor.commands.memory",
        "memory breakdown of the bot process (heap, libraries, models, children)",
    ),
    "serve": (
        "acore_doctor.commands.serve",
        "HTTP /healthz (200 healthy or warning, 503 critical) and /metrics",
    ),
    "watch": (
        "acore_doctor.commands.watch",
        "run the suite every HEALTH_CHECK_INTERVAL seconds; Discord alerts on changes",
    ),
    "simulate": (
        "acore_doctor.commands.simulate",
        "run simulated Discord/Ollama/OpenRouter/TTS services to try the suite on",
    ),
    "logs": (
        "acore_doctor.commands.logs",
        "analyze the bot's logs (levels, error floods, crash loops, known signatures)",
    ),
}


class DoctorArgumentParser(argparse.ArgumentParser):
    """argparse exits 2 on a usage error, which means CRITICAL here: exit 3 instead."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(UNKNOWN, f"{self.prog}: error: {message}\n")


def build_parser(selected: Iterable[str] | None = None) -> DoctorArgumentParser:
    """The command line; only the commands in ``selected`` (default: all) import their
    module and get their full options, the others are listed by name and help line."""
    chosen = set(COMMANDS if selected is None else selected)
    parser = DoctorArgumentParser(
        prog="acore-doctor",
        description="Health checks and troubleshooting tools for acore_bot deployments. "
        "Exit codes of verdicts: 0 healthy, 1 warning, 2 critical, 3 unknown (usage or "
        "internal error), 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"acore-doctor {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    import importlib

    for name, (module, help_line) in COMMANDS.items():
        if name in chosen:
            importlib.import_module(module).register(subparsers)
            # register() adds the parser without a help line: list it with this one.
            subparsers._choices_actions.append(subparsers._ChoicesPseudoAction(name, (), help_line))
        else:
            subparsers.add_parser(name, help=help_line)
    return parser


def command_parser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    """The subparser of command ``name`` (``parser`` itself if there is none)."""
    for action in parser._subparsers._group_actions if parser._subparsers else ():
        choices = getattr(action, "choices", None) or {}
        if name in choices:
            return choices[name]
    return parser


def command_in(argv: Sequence[str]) -> str | None:
    """The subcommand named in ``argv`` (the first word that is not an option), if known."""
    for arg in argv:
        if arg == "--":
            return None
        if not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = command_in(argv)
    try:
        parser = build_parser([command] if command else [])
        args, extra = parser.parse_known_args(argv)
        if args.command is None:
            parser.print_help()
            return UNKNOWN
        if extra and not getattr(args, "accepts_extra", False):
            # The subcommand's own usage, not the top-level one.
            command_parser(parser, args.command).error(f"unrecognized arguments: {' '.join(extra)}")
        from acore_doctor.commands.debug import configure_debug

        configure_debug(args)
        return int(args.handler(args, extra) or 0)
    except KeyboardInterrupt:
        return INTERRUPTED
    except SystemExit as exc:
        # argparse's --help/--version exit 0; a string message is a usage problem.
        if exc.code is None or isinstance(exc.code, int):
            return int(exc.code or 0)
        print(exc.code, file=sys.stderr)
        return UNKNOWN
    except Exception as exc:
        from acore_doctor.commands.debug import report_internal_error

        return report_internal_error(command, exc)


if __name__ == "__main__":
    sys.exit(main())
