"""The health suite's pytest options and ini keys, by area.

Registered by the entry point (:mod:`acore_doctor.plugin`) in every pytest session, so that the
documented spellings work and ``pytest --help`` lists them, while the fixture modules that read
them load only in a health run. Keep this module light: the standard library and pytest only.
An area adds its options in its function here and reads them in its fixture module.
"""

from __future__ import annotations

import argparse
import weakref
from typing import Any

import pytest

from acore_doctor.check_timeout import DEFAULT_TIMEOUT_S
from acore_doctor.rules.log_thresholds import LOG_THRESHOLDS
from acore_doctor.suite import REPORTS_ENV
from acore_doctor.thresholds import add_threshold_options

#: Every option of ours is ``--doctor-<name>`` (dest ``doctor_<name>``): no other plugin can
#: claim it. The documented short spelling ``--<name>`` is an alias, added when pytest parses
#: the command line (every plugin and initial conftest has registered its options by then)
#: and only when no one else has registered that name (see :func:`add_free_aliases`).
PREFIX = "doctor-"


def pytest_addoption(parser: pytest.Parser) -> None:
    for add in (core, local, services, logs, recovery, ops):
        add(parser)


def dest_of(name: str) -> str:
    """The dest our option ``name`` (``bot_dir``, ``--bot-dir``) is stored under."""
    plain = name.lstrip("-").replace("-", "_")
    return plain if plain.startswith("doctor") else "doctor_" + plain


def option(config: pytest.Config, name: str, default: Any = None) -> Any:
    """Our option ``name`` (``"bot_dir"``) as given on the command line: read by its
    collision-proof dest, never by the short name another plugin may own."""
    return config.getoption(dest_of(name), default)


class DoctorGroup:
    """A pytest option group whose ``addoption("--bot-dir", ...)`` registers
    ``--doctor-bot-dir`` now and remembers ``--bot-dir`` as an alias for later."""

    def __init__(self, parser: pytest.Parser, group: pytest.OptionGroup) -> None:
        self.parser = parser
        self.group = group

    def addoption(self, *names: str, **attrs: Any) -> None:
        (name,) = names
        plain = name.lstrip("-")
        if plain.startswith(("doctor", "no-doctor")):  # already ours: --doctor, --no-doctor
            self.group.addoption(name, **attrs)
            return
        attrs["dest"] = dest_of(plain)
        if attrs.get("action", "store") in ("store", "append"):
            attrs.setdefault("metavar", plain.upper().replace("-", "_"))
        self.group.addoption(f"--{PREFIX}{plain}", **attrs)
        _pending(self.parser).append((self.group, f"--{plain}", attrs))


_PENDING: weakref.WeakKeyDictionary[pytest.Parser, list[tuple[Any, str, dict[str, Any]]]] = (
    weakref.WeakKeyDictionary()
)


def _pending(parser: pytest.Parser) -> list[tuple[Any, str, dict[str, Any]]]:
    return _PENDING.setdefault(parser, [])


def doctor_group(parser: pytest.Parser, name: str, description: str = "") -> DoctorGroup:
    return DoctorGroup(parser, parser.getgroup(name, description))


def add_free_aliases(parser: pytest.Parser) -> list[str]:
    """Add each short spelling (``--bot-dir``) no other plugin or conftest registered; return
    the ones left out because someone else owns them. Called once, just before pytest's final
    parse of the command line."""
    claimed = []
    for group, alias, attrs in _pending(parser):
        if alias in parser._opt2dest:
            claimed.append(alias)
            continue
        group.addoption(alias, **{**attrs, "help": argparse.SUPPRESS})
        canonical = f"--{PREFIX}{alias[2:]}"
        for opt in group.options:  # --help shows one entry: the canonical name, with its alias
            if canonical in opt.names() and opt.attrs().get("help"):
                opt.attrs()["help"] += f" (also {alias})"
    _pending(parser).clear()
    return claimed


def mirror_short_dests(parser: pytest.Parser, namespace: argparse.Namespace) -> None:
    """``config.getoption("bot_dir")`` keeps working (tests, tools written against the short
    names) wherever no other plugin owns the dest ``bot_dir``: our values are copied there
    after parsing. Our own code reads :func:`option`."""
    taken = {opt.dest for group in parser._groups for opt in group.options}
    for group in parser._groups:
        for opt in group.options:
            dest = opt.dest
            if not dest.startswith("doctor_"):
                continue
            short = dest.removeprefix("doctor_")
            if short not in taken and hasattr(namespace, dest):
                setattr(namespace, short, getattr(namespace, dest))


def core(parser: pytest.Parser) -> None:
    """The run: which deployment, where reports go, health mode on or off."""
    group = doctor_group(parser, "acore-doctor", "acore_bot deployment health checks")
    group.addoption("--bot-dir", help="the acore_bot deployment to check (default: cwd)")
    group.addoption("--env-file", help="the bot's .env file (default: <bot-dir>/.env)")
    group.addoption(
        "--report-dir",
        help=f"where JSON reports go (default: ${REPORTS_ENV}, else reports/)",
    )
    group.addoption(
        "--doctor",
        action="store_true",
        default=None,
        help="force health mode (exit codes 0/1/2/3, reports) whatever is collected",
    )
    group.addoption(
        "--no-doctor",
        action="store_false",
        dest="doctor",
        help="never switch to health mode",
    )
    parser.addini("bot_dir", "the acore_bot deployment to check", default="")
    group.addoption(
        "--check-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="a check (with its fixtures) running longer is reported as 'check timed out' "
        "at its severity and the run goes on; 0: no limit "
        f"(default {DEFAULT_TIMEOUT_S:g}; ini: check_timeout)",
    )
    parser.addini(
        "check_timeout",
        "seconds a check may take (see --check-timeout)",
        default=str(DEFAULT_TIMEOUT_S),
    )


#: option/ini name -> (default, help)
THRESHOLDS = {
    "disk_critical_free_gib": (1.0, "critical when a data/log filesystem has less free (GiB)"),
    "disk_critical_percent": (90.0, "critical when a data/log filesystem is fuller (%)"),
    "disk_warning_percent": (80.0, "warning when a data/log filesystem is fuller (%)"),
    "memory_warning_percent": (85.0, "warning when host memory use is higher (%)"),
    "cpu_warning_percent": (80.0, "warning when host CPU use is higher (%)"),
}


def local(parser: pytest.Parser) -> None:
    """Local diagnostics (``acore_doctor.local_fixtures``)."""
    group = doctor_group(parser, "acore-doctor-local", "acore-doctor local diagnostics")
    group.addoption(
        "--entrypoint",
        help="which bot the deployment runs: legacy (main.py) or runtime (launcher.py); "
        "default: detected from the systemd unit, the running process, then the files",
    )
    group.addoption("--bot-python", help="the bot's Python interpreter (default: detected)")
    group.addoption(
        "--systemd-unit", help="the bot's systemd unit file (default: searched by WorkingDirectory)"
    )
    group.addoption(
        "--no-rehearsal",
        action="store_true",
        default=False,
        help="do not run the import rehearsal (the bot's start-up imports tried in its own "
        "interpreter, with writes to the deployment and the network refused)",
    )
    group.addoption(
        "--allow-stopped",
        action="store_true",
        default=False,
        help="do not report a missing bot process (checking before the first start)",
    )
    group.addoption(
        "--deep",
        action="store_true",
        default=False,
        help="run SQLite's full integrity_check instead of quick_check",
    )
    add_threshold_options(parser, group, THRESHOLDS)


def services(parser: pytest.Parser) -> None:
    """Network probes (``acore_doctor.service_fixtures``)."""
    group = doctor_group(parser, "acore-doctor services", "network probes of external services")
    group.addoption(
        "--probe-timeout",
        type=float,
        default=5.0,
        metavar="S",
        help="total seconds per request (default 5)",
    )
    group.addoption(
        "--probe-connect-timeout",
        type=float,
        default=3.0,
        metavar="S",
        help="seconds to connect (default 3)",
    )
    group.addoption(
        "--probe-budget",
        type=float,
        default=30.0,
        metavar="S",
        help="seconds for all network probes of the run together (default 30)",
    )
    group.addoption(
        "--service-timeout",
        action="append",
        default=[],
        metavar="SERVICE=S",
        help="total seconds per request for one service, e.g. ollama=10 (repeatable)",
    )
    group.addoption(
        "--offline",
        action="store_true",
        default=False,
        help="send no network probe: every service check is skipped as 'not applicable: "
        "offline' (CI jobs that cannot reach Discord, the LLM or the TTS hosts)",
    )
    group.addoption(
        "--canary",
        action="store_true",
        default=False,
        help="also send a tiny generation to the LLM and time it (opt-in)",
    )
    group.addoption(
        "--canary-timeout",
        type=float,
        default=60.0,
        metavar="S",
        help="seconds the canary generation may take (default 60)",
    )
    group.addoption(
        "--canary-max-latency",
        type=float,
        default=8.0,
        metavar="S",
        help="warn when the canary takes longer (default 8 s, the p95 band)",
    )
    group.addoption(
        "--canary-min-tps",
        type=float,
        default=5.0,
        metavar="TPS",
        help="warn when the canary generates fewer tokens/s (default 5)",
    )


def logs(parser: pytest.Parser) -> None:
    """Log health (``acore_doctor.log_fixtures``)."""
    group = doctor_group(parser, "acore-doctor-logs", "acore-doctor log health")
    group.addoption(
        "--log-journal-file",
        help="read the bot's log from a 'journalctl -u discordbot -o json' export instead",
    )
    group.addoption(
        "--log-journal-unit",
        default=None,
        help="systemd unit whose journal holds the log on the runtime path (default discordbot)",
    )
    add_threshold_options(parser, group, LOG_THRESHOLDS)


def recovery(parser: pytest.Parser) -> None:
    """Recovery checks (``acore_doctor.recovery_fixtures``)."""
    group = doctor_group(parser, "acore-doctor recovery")
    group.addoption(
        "--backup-dir",
        help="where the deployment's backups live (default: $STATE_BACKUP_DIR, else "
        "<bot-dir>/backups)",
    )
    group.addoption(
        "--drill-tolerance",
        type=float,
        default=0.5,
        help="restore drill: fail when the backup holds fewer than (1 - this) of the live "
        "records of a directory or table (default 0.5)",
    )


def ops(parser: pytest.Parser) -> None:
    """Monitoring outputs and the leak check (``acore_doctor.ops_fixtures``)."""
    group = doctor_group(parser, "acore-doctor-ops", "acore-doctor monitoring outputs")
    group.addoption(
        "--nagios",
        action="store_true",
        default=False,
        help="print one Nagios/Icinga plugin line with perfdata instead of pytest's output",
    )
    group.addoption(
        "--prometheus",
        metavar="FILE",
        help="write a node-exporter textfile (e.g. /var/lib/node_exporter/acore_doctor.prom)",
    )
    group.addoption(
        "--prometheus-deployment",
        metavar="NAME",
        help="the deployment label of every Prometheus series (default: the bot directory's name)",
    )
    group.addoption(
        "--profile-sample",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="sample the bot this long for the leak check when no recent profile exists",
    )
    group.addoption(
        "--leak-mb-per-hour",
        type=float,
        default=None,
        metavar="MB",
        help="RSS growth per hour the leak check warns about (default: the profiler's "
        "threshold, acore_doctor.ops.profile.LEAK_MB_PER_HOUR)",
    )
