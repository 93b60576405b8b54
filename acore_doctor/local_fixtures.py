"""pytest plugin module for local diagnostics: options and session fixtures (see
ARCHITECTURE.md). Fixtures gather facts through :mod:`acore_doctor.probes`; checks judge."""

from __future__ import annotations

import contextlib
import os
import pwd
from dataclasses import dataclass
from pathlib import Path

import pytest

from acore_doctor.deployment import Deployment
from acore_doctor.options import THRESHOLDS
from acore_doctor.probes import auth_file as auth_probe
from acore_doctor.probes.bot_process import BotProcess, find_bot_processes
from acore_doctor.probes.databases import DbFacts, check_database, db_targets
from acore_doctor.probes.entrypoint import (
    Entrypoint,
    Unit,
    detect_entrypoint,
    find_units,
    normalize_entrypoint,
    parse_unit,
)
from acore_doctor.probes.files import BotUser, user_of
from acore_doctor.probes.interpreter import BotPython, find_bot_interpreter, probe_python
from acore_doctor.probes.personas import Catalog, read_catalog
from acore_doctor.probes.resources import CpuSampler
from acore_doctor.probes.state_files import StateReport, scan_state_files, state_kinds
from acore_doctor.thresholds import read_thresholds

CPU_SAMPLER = pytest.StashKey[CpuSampler]()


def pytest_configure(config: pytest.Config) -> None:
    value = config.getoption("entrypoint", None)
    if value and normalize_entrypoint(value) is None:
        raise pytest.UsageError(
            f"--entrypoint={value}: expected legacy (main.py) or runtime (launcher.py)"
        )


def pytest_sessionstart(session: pytest.Session) -> None:
    # CPU is measured over the whole run instead of blocking a check for a sample.
    session.config.stash[CPU_SAMPLER] = CpuSampler()


@dataclass(frozen=True)
class Thresholds:
    disk_critical_free_gib: float
    disk_critical_percent: float
    disk_warning_percent: float
    memory_warning_percent: float
    cpu_warning_percent: float


@pytest.fixture(scope="session")
def thresholds(request: pytest.FixtureRequest) -> Thresholds:
    return Thresholds(**read_thresholds(request.config, THRESHOLDS))


@pytest.fixture(scope="session")
def cpu_sampler(request: pytest.FixtureRequest) -> CpuSampler:
    return request.config.stash.get(CPU_SAMPLER, None) or CpuSampler()


@pytest.fixture(scope="session")
def bot_processes(bot_dir: Path) -> list[BotProcess]:
    return find_bot_processes(bot_dir)


@pytest.fixture(scope="session")
def systemd_units(request: pytest.FixtureRequest, bot_dir: Path) -> list[Unit]:
    explicit = request.config.getoption("systemd_unit")
    if explicit:
        unit = parse_unit(Path(explicit))
        return [unit] if unit else []
    return find_units(bot_dir)


@pytest.fixture(scope="session")
def entrypoint(
    request: pytest.FixtureRequest,
    bot_dir: Path,
    systemd_units: list[Unit],
    bot_processes: list[BotProcess],
) -> Entrypoint:
    override = request.config.getoption("entrypoint")
    return detect_entrypoint(bot_dir, override, systemd_units, bot_processes)


@pytest.fixture(scope="session")
def bot_python(
    request: pytest.FixtureRequest, bot_dir: Path, bot_processes: list[BotProcess]
) -> BotPython:
    process_exe = bot_processes[0].interpreter if bot_processes else None
    interpreter = find_bot_interpreter(bot_dir, request.config.getoption("bot_python"), process_exe)
    return probe_python(interpreter)


@pytest.fixture(scope="session")
def bot_user(bot_dir: Path, bot_processes: list[BotProcess], systemd_units: list[Unit]) -> BotUser:
    """Who the bot runs as: its process's user, else its unit's User=, else the owner of its
    directory."""
    if bot_processes and bot_processes[0].uid is not None:
        proc = bot_processes[0]
        return user_of(proc.uid, f"process {proc.pid}", proc.gids)  # type: ignore[arg-type]
    unit_user = next((u.user for u in systemd_units if u.user), None)
    if unit_user:
        with contextlib.suppress(KeyError):
            return user_of(pwd.getpwnam(unit_user).pw_uid, f"User= of {systemd_units[0].path}")
    try:
        return user_of(bot_dir.stat().st_uid, f"owner of {bot_dir}")
    except OSError:
        return user_of(os.geteuid(), "the suite's user")


@pytest.fixture(scope="session")
def persona_catalog(deployment: Deployment) -> Catalog:
    return read_catalog(deployment.path(deployment.settings.get("CHARACTERS_DIR")))


@pytest.fixture(scope="session")
def state_report(deployment: Deployment, entrypoint: Entrypoint) -> StateReport:
    return scan_state_files(state_kinds(deployment, entrypoint.kind), deployment.path("data"))


@pytest.fixture(scope="session")
def databases(request: pytest.FixtureRequest, deployment: Deployment) -> list[DbFacts]:
    deep = bool(request.config.getoption("deep"))
    return [check_database(t, deep=deep) for t in db_targets(deployment)]


@pytest.fixture(scope="session")
def auth_file(deployment: Deployment) -> auth_probe.AuthFile:
    return auth_probe.read_auth_json(auth_probe.auth_json_path(deployment.settings))
