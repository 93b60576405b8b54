"""The bot's debug switches applied to acore-doctor itself.

``DEBUG_MODE=true`` or ``VERBOSE_LOGGING=true`` (in the process environment or the
deployment's ``.env``; the environment wins, as in the bot) turn on the tool's own debug log
on stderr (logger ``acore_doctor``, secrets masked) and full tracebacks for internal errors
and crashed checks. Off, an internal error is one line and exit 3.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Callable

UNKNOWN = 3
DEBUG_SWITCHES = ("DEBUG_MODE", "VERBOSE_LOGGING")
LOG_FORMAT = "%(asctime)s acore-doctor %(levelname)s %(name)s: %(message)s"

log = logging.getLogger("acore_doctor")

_debug = False
_args: argparse.Namespace | None = None


def is_true(value: str | None) -> bool:
    """The bot's rule: a boolean is true only for ``true`` (any case)."""
    return (value or "").strip().lower() == "true"


def debug_enabled() -> bool:
    """Whether this process runs with the debug switches on (see :func:`configure_debug`)."""
    return _debug


def switch_values(args: argparse.Namespace) -> dict[str, bool]:
    """The debug switches as the bot would read them for the deployment in ``args``
    (without one, from the process environment)."""
    if hasattr(args, "bot_dir"):
        try:
            from acore_doctor.commands.options import deployment_from

            settings = deployment_from(args).settings
            return {key: settings.get(key) for key in DEBUG_SWITCHES}
        except Exception:  # a broken deployment is the command's finding, not ours
            pass
    return {key: is_true(os.environ.get(key)) for key in DEBUG_SWITCHES}


def configure_debug(args: argparse.Namespace) -> bool:
    """Turn on the debug log when a debug switch is true; True when it is on."""
    global _debug, _args
    _args = args
    values = switch_values(args)
    _debug = any(values.values())
    if not _debug:
        return False
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    redact = redactor_for(args)

    def mask(record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), ()
        return True

    handler.addFilter(mask)
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    on = ", ".join(f"{k}=true" for k, v in values.items() if v)
    log.debug("debug log on (%s); command %s", on, getattr(args, "command", None))
    return True


def redactor_for(args: argparse.Namespace | None) -> Callable[[str], str]:
    """The deployment's redactor if there is one, else the process environment's."""
    try:
        from acore_doctor.commands.options import deployment_from

        if args is not None and hasattr(args, "bot_dir"):
            return deployment_from(args).redactor()
    except Exception:  # a broken deployment must not hide the error being reported
        pass
    from acore_doctor.redact import Redactor, secret_values

    return Redactor(secret_values(dict(os.environ)))


def report_internal_error(command: str | None, exc: Exception) -> int:
    """One line (a traceback in debug mode) on stderr; exit 3: the tool could not decide."""
    from acore_doctor.commands.options import UsageError

    prog = f"acore-doctor {command}" if command else "acore-doctor"
    if isinstance(exc, UsageError):
        print(f"{prog}: {exc}", file=sys.stderr)
        return UNKNOWN
    redact = redactor_for(_args)
    if _debug:
        print(redact("".join(traceback.format_exc())), file=sys.stderr, end="")
    print(
        redact(f"{prog}: internal error: {type(exc).__name__}: {exc}")
        + ("" if _debug else " (DEBUG_MODE=true shows the traceback)"),
        file=sys.stderr,
    )
    return UNKNOWN
