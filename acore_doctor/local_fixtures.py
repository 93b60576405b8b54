"""pytest plugin module for local diagnostics: options and session fixtures (see
ARCHITECTURE.md). Fixtures gather facts through :mod:`acore_doctor.probes`; checks judge."""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from acore_doctor.check_timeout import check_timeout_of
from acore_doctor.deployment import Deployment
from acore_doctor.logs.sources import find_log_files, read_journal, read_journal_file
from acore_doctor.logs.window import oldest_record_time, read_file_span, read_journal_window
from acore_doctor.options import THRESHOLDS, option
from acore_doctor.probes import auth_file as auth_probe
from acore_doctor.probes import readiness as readiness_probe
from acore_doctor.probes.bot_process import ENTRY_SCRIPTS, BotProcess, find_bot_processes
from acore_doctor.probes.databases import DbFacts, check_database, db_targets
from acore_doctor.probes.declared import Declared, read_declared
from acore_doctor.probes.entrypoint import (
    Entrypoint,
    Unit,
    detect_entrypoint,
    find_units,
    load_unit,
    normalize_entrypoint,
)
from acore_doctor.probes.files import BotUser, unit_user, user_of
from acore_doctor.probes.interpreter import (
    BotPython,
    Interpreter,
    PythonProbe,
    find_bot_interpreter,
)
from acore_doctor.probes.personas import (
    Catalog,
    PersonaLoad,
    legacy_active_personas,
    legacy_load,
    read_catalog,
    runtime_load,
)
from acore_doctor.probes.rehearsal import (
    Rehearsal,
    RehearsalFacts,
    identity_for,
    unit_environment,
)
from acore_doctor.probes.resources import CpuSampler, HostMemory
from acore_doctor.probes.resources import host_memory as probe_host_memory
from acore_doctor.probes.state_files import StateReport, scan_state_files, state_kinds
from acore_doctor.rules.log_thresholds import LOG_THRESHOLDS
from acore_doctor.run_state import (
    is_xdist_controller,
    is_xdist_worker,
    state_of,
    whole_suite_selected,
)
from acore_doctor.thresholds import (
    THRESHOLD_VARIABLES,
    read_thresholds,
    threshold_class,
    undeclared_uses,
)

CPU_SAMPLER = pytest.StashKey[CpuSampler]()
BOT_PROCESSES = pytest.StashKey[list[BotProcess]]()
BOT_PYTHON = pytest.StashKey[PythonProbe]()
REHEARSAL = pytest.StashKey["Rehearsal | str"]()  # the child, or why there is none
SYSTEMD_UNITS = pytest.StashKey[list[Unit]]()
#: legacy -> main.py, runtime -> launcher.py: the file each entrypoint starts from.
ENTRY_FILES = {kind: name for name, kind in ENTRY_SCRIPTS.items()}
#: Facts that come in while other checks run (the bot's interpreter answering in a child, the
#: import rehearsal in another, CPU sampled over the run): the checks that need them run last.
BACKGROUND_FIXTURES = frozenset({"bot_python", "cpu_sampler", "import_rehearsal"})


def pytest_configure(config: pytest.Config) -> None:
    value = option(config, "entrypoint", None)
    if value and normalize_entrypoint(value) is None:
        raise pytest.UsageError(
            f"--entrypoint={value}: expected legacy (main.py) or runtime (launcher.py)"
        )
    # CPU is measured over the whole run (its check runs last) instead of blocking for a sample;
    # under pytest-xdist the suite is the controller (a worker's parent) and all its workers.
    config.stash[CPU_SAMPLER] = CpuSampler(os.getppid() if is_xdist_worker(config) else None)
    # A whole-suite run rehearses the bot's imports from now on, while the checks are collected
    # (the bot's heavy imports take seconds); collection_finish stops it if no check needs it.
    xdist = is_xdist_worker(config) or is_xdist_controller(config)
    if whole_suite_selected(config) and not xdist:
        _start_rehearsal(config)


@pytest.hookimpl(wrapper=True)  # after every plugin's own reordering (network checks last)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> Any:
    result = yield
    _refuse_undeclared_thresholds(items)
    # A stable sort: each group keeps its order.
    items.sort(key=lambda item: not BACKGROUND_FIXTURES.isdisjoint(_fixtures_of(item)))
    return result


def _fixtures_of(item: pytest.Item) -> tuple[str, ...]:
    return tuple(getattr(item, "fixturenames", ()))


def _refuse_undeclared_thresholds(items: list[pytest.Item]) -> None:
    """A threshold read by a check, a fixture or a rule but declared in no table stops the run
    at collection, naming it, instead of crashing checks and judging the deployment."""
    users = {item.path for item in items if THRESHOLD_VARIABLES & set(_fixtures_of(item))}
    if not users:
        return
    package = Path(__file__).parent
    readers = {*users, *package.glob("*_fixtures.py"), *(package / "rules").glob("*.py")}
    undeclared = undeclared_uses(sorted(readers), THRESHOLDS, LOG_THRESHOLDS)
    if undeclared:
        raise pytest.UsageError(
            "threshold(s) read but declared in no table (acore_doctor/options.py THRESHOLDS, "
            "acore_doctor/rules/log_thresholds.py LOG_THRESHOLDS): " + "; ".join(undeclared)
        )


#: The host thresholds, one float field per row of ``options.THRESHOLDS`` (declared there only).
Thresholds = threshold_class("Thresholds", THRESHOLDS, __name__)


@pytest.fixture(scope="session")
def thresholds(request: pytest.FixtureRequest) -> Thresholds:
    return Thresholds(**read_thresholds(request.config, THRESHOLDS))


@pytest.fixture(scope="session")
def cpu_sampler(request: pytest.FixtureRequest) -> CpuSampler:
    return request.config.stash.get(CPU_SAMPLER, None) or CpuSampler()


@pytest.fixture(scope="session")
def bot_processes(request: pytest.FixtureRequest, bot_dir: Path) -> list[BotProcess]:
    return _processes(request.config, bot_dir)


@pytest.fixture(scope="session")
def systemd_units(request: pytest.FixtureRequest, bot_dir: Path) -> list[Unit]:
    return _units(request.config, bot_dir)


def _units(config: pytest.Config, bot_dir: Path) -> list[Unit]:
    """The bot's systemd units, read once per run."""
    if SYSTEMD_UNITS not in config.stash:
        explicit = option(config, "systemd_unit")
        if explicit:
            unit = load_unit(Path(explicit))
            config.stash[SYSTEMD_UNITS] = [unit] if unit else []
        else:
            config.stash[SYSTEMD_UNITS] = find_units(bot_dir)
    return config.stash[SYSTEMD_UNITS]


@pytest.fixture(scope="session")
def entrypoint(
    request: pytest.FixtureRequest,
    bot_dir: Path,
    systemd_units: list[Unit],
    bot_processes: list[BotProcess],
) -> Entrypoint:
    override = option(request.config, "entrypoint")
    return detect_entrypoint(bot_dir, override, systemd_units, bot_processes)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Asking the bot's interpreter what imports takes a while (it imports discord.py): when
    a selected check needs it, its child starts now and answers while the other checks run
    (those that need it run last). Not earlier: until now the spare core is the network probe
    child's (see service_fixtures)."""
    config = session.config
    if config.option.collectonly:
        return
    if BOT_PYTHON not in config.stash and any(
        "bot_python" in _fixtures_of(item) for item in session.items
    ):
        _start_bot_python(config)
    wanted = any("import_rehearsal" in _fixtures_of(item) for item in session.items)
    if wanted and not is_xdist_worker(config):  # a worker starts it when a check asks
        _start_rehearsal(config)
    elif not wanted and isinstance(config.stash.get(REHEARSAL, None), Rehearsal):
        config.stash[REHEARSAL].cancel()  # started for a whole suite whose checks are elsewhere


def _start_bot_python(config: pytest.Config) -> None:
    """Start asking the bot's interpreter, the running bot's own when there is one: its child
    imports the bot's packages on another core while the checks run."""
    config.stash[BOT_PYTHON] = PythonProbe(_bot_interpreter(config))


def _bot_interpreter(config: pytest.Config) -> Interpreter:
    bot_dir = state_of(config).deployment.bot_dir
    processes = _processes(config, bot_dir)
    return find_bot_interpreter(
        bot_dir,
        option(config, "bot_python"),
        processes[0].interpreter if processes else None,
    )


def _start_rehearsal(config: pytest.Config) -> None:
    """Start the import rehearsal (probes/rehearsal.py) in the bot's interpreter, as the bot's
    user: it imports while the other checks run (those that need it run last)."""
    if REHEARSAL in config.stash:
        return
    if option(config, "no_rehearsal", False):
        config.stash[REHEARSAL] = "not applicable: --no-rehearsal"
        return
    bot_dir = state_of(config).deployment.bot_dir
    processes = _processes(config, bot_dir)
    units = _units(config, bot_dir)
    entry = detect_entrypoint(bot_dir, option(config, "entrypoint"), units, processes)
    script = ENTRY_FILES.get(entry.kind or "")
    if script is None or not (bot_dir / script).is_file():
        config.stash[REHEARSAL] = (
            f"not applicable: no entrypoint to rehearse ({script or entry.detail})"
            if script is None
            else f"not applicable: {script} is not a file in {bot_dir}"
        )
        return
    unit = units[0] if units else None
    proc = processes[0] if processes else None
    identity = identity_for(  # the one place that says who the rehearsal runs as
        proc.uid if proc else None,
        proc.gids if proc else (),
        unit.user if unit else None,
        getattr(unit, "group", None),
    )
    # The unit's Environment= wins over .env in the bot: the rehearsal gets it too.
    unit_env = getattr(unit, "environment", None)
    if not isinstance(unit_env, dict):
        unit_env = unit_environment(unit.path if unit else None)
    config.stash[REHEARSAL] = Rehearsal(
        _bot_interpreter(config), bot_dir, bot_dir / script, identity, extra_env=unit_env
    )


def _processes(config: pytest.Config, bot_dir: Path) -> list[BotProcess]:
    """The bot's processes, scanned once per run."""
    if BOT_PROCESSES not in config.stash:
        config.stash[BOT_PROCESSES] = find_bot_processes(bot_dir)
    return config.stash[BOT_PROCESSES]


def pytest_unconfigure(config: pytest.Config) -> None:
    started = config.stash.get(BOT_PYTHON, None)
    if started is not None:  # a run stopped before the check that reads it
        started.cancel()
    rehearsal = config.stash.get(REHEARSAL, None)
    if isinstance(rehearsal, Rehearsal):
        rehearsal.cancel()


@pytest.fixture(scope="session")
def bot_python(request: pytest.FixtureRequest, bot_dir: Path) -> BotPython:
    if BOT_PYTHON not in request.config.stash:
        _start_bot_python(request.config)
    return request.config.stash[BOT_PYTHON].result()


@pytest.fixture(scope="session")
def import_rehearsal(request: pytest.FixtureRequest, bot_dir: Path) -> RehearsalFacts:
    """The import rehearsal's answer (skipped when it is off or has nothing to rehearse); waits
    for it less than a check may take, so a slow import is "not finished", never a timeout."""
    config = request.config
    if REHEARSAL not in config.stash:
        _start_rehearsal(config)
    started = config.stash[REHEARSAL]
    if isinstance(started, str):
        pytest.skip(started)
    limit = check_timeout_of(config)
    return started.result(wait=max(1.0, limit - 5.0) if limit else None)


@pytest.fixture(scope="session")
def declared(bot_dir: Path) -> Declared:
    """What the bot declares it needs (pyproject.toml, uv.lock, requirements.txt)."""
    return read_declared(bot_dir)


@pytest.fixture(scope="session")
def bot_user(bot_dir: Path, bot_processes: list[BotProcess], systemd_units: list[Unit]) -> BotUser:
    """Who the bot runs as: its process's user, else its unit's User=, else the owner of its
    directory."""
    if bot_processes and bot_processes[0].uid is not None:
        proc = bot_processes[0]
        return user_of(proc.uid, f"process {proc.pid}", proc.gids)  # type: ignore[arg-type]
    unit = next((u for u in systemd_units if u.user), None)
    if unit is not None:
        with contextlib.suppress(KeyError):
            return unit_user(unit)
    try:
        return user_of(bot_dir.stat().st_uid, f"owner of {bot_dir}")
    except OSError:
        return user_of(os.geteuid(), "the suite's user")


@pytest.fixture(scope="session")
def persona_catalog(deployment: Deployment) -> Catalog:
    return read_catalog(deployment.path(deployment.settings.get("CHARACTERS_DIR")))


@pytest.fixture(scope="session")
def persona_load(
    deployment: Deployment, persona_catalog: Catalog, entrypoint: Entrypoint
) -> PersonaLoad:
    """The cards as the detected entrypoint's loader loads them (legacy when unknown: the
    systemd installer runs main.py)."""
    settings = deployment.settings
    character = settings.get("CHARACTER").strip()
    if entrypoint.kind == "runtime":
        return runtime_load(persona_catalog, character)
    return legacy_load(
        persona_catalog,
        legacy_active_personas(deployment.bot_dir),
        character,
        settings.get("USE_PERSONA_SYSTEM"),
        deployment.bot_dir,
    )


@pytest.fixture(scope="session")
def state_report(deployment: Deployment, entrypoint: Entrypoint) -> StateReport:
    return scan_state_files(state_kinds(deployment, entrypoint.kind), deployment.path("data"))


@pytest.fixture(scope="session")
def databases(request: pytest.FixtureRequest, deployment: Deployment) -> list[DbFacts]:
    deep = bool(option(request.config, "deep"))
    return [check_database(t, deep=deep) for t in db_targets(deployment)]


@pytest.fixture(scope="session")
def auth_file(deployment: Deployment) -> auth_probe.AuthFile:
    return auth_probe.read_auth_json(auth_probe.auth_json_path(deployment.settings))


#: Clock and flush slack: a log's first lines can precede psutil's create_time a little.
START_SLACK_S = 60.0
#: Log levels at which main.py's INFO ready line is not written.
QUIET_LEVELS = frozenset({"WARNING", "ERROR", "CRITICAL"})


@pytest.fixture(scope="session")
def bot_readiness(
    request: pytest.FixtureRequest,
    deployment: Deployment,
    bot_processes: list[BotProcess],
    log_source: Any,
    log_files: Any,
) -> readiness_probe.ReadyEvidence | None:
    """Evidence that the newest bot process reached Discord: ready lines since its start in
    every log it writes (its log file or journal, and the files its stdout/stderr go to),
    else its gateway connection. None when no bot process runs."""
    if not bot_processes:
        return None
    process = bot_processes[-1]
    since = process.create_time - START_SLACK_S
    logs = [_configured_log_evidence(log_source, log_files, since)]
    configured = getattr(log_files, "live", None) if log_source.kind == "file" else None
    for path in readiness_probe.output_files(process.pid):
        if path != configured:
            output = _file_evidence(
                find_log_files(path), since, f"pid {process.pid}'s output {path}"
            )
            if output.problem is None and not output.records:
                # stdout/stderr may carry no log at all (print-only): no records prove nothing
                output = replace(output, problem="nothing logged there since the start")
            logs.append(output)
    logs = [log for log in logs if log is not None]
    level = deployment.settings.get("LOG_LEVEL").strip().upper()
    if process.entrypoint == "legacy" and level in QUIET_LEVELS:
        # main.py logs its ready line at INFO: a quieter log cannot show it.
        quiet = f"LOG_LEVEL={level} hides the INFO ready line"
        logs = [log if log.ready_at else replace(log, problem=quiet) for log in logs]
    evidence = readiness_probe.ReadyEvidence(
        process.pid, process.create_time, process.entrypoint, logs
    )
    if evidence.ready_at is not None:
        return evidence
    gateway = readiness_probe.gateway_evidence(process.pid, None)
    if gateway.state == readiness_probe.UNKNOWN and not option(request.config, "offline", False):
        addresses = readiness_probe.gateway_addresses()
        if addresses is not None:
            gateway = readiness_probe.gateway_evidence(process.pid, addresses)
    return replace(evidence, gateway=gateway)


def _configured_log_evidence(
    log_source: Any, log_files: Any, since: float
) -> readiness_probe.LogEvidence | None:
    if log_source.kind == "file":
        if not log_files.live_exists and not log_files.segments:
            return readiness_probe.LogEvidence(
                str(log_files.live), problem=log_files.live_error or "no log file"
            )
        return _file_evidence(log_files, since, str(log_files.live))
    if log_source.kind == "journal":
        if log_source.journal_file is not None:
            try:
                lines, error = read_journal_file(log_source.journal_file), None
            except OSError as exc:
                lines, error = [], f"cannot read {log_source.journal_file}: {exc.strerror or exc}"
        else:
            result = read_journal(log_source.unit, since)
            lines, error = result.lines, result.error
        span = read_journal_window(lines, (time.time() - since) / 60, log_source.description)
        analysis = span.analysis
        problem = error or span.problem
        if problem is None and not analysis.records:
            problem = "no journal entry since the start (the bot may not run under this unit)"
        return readiness_probe.LogEvidence(
            log_source.description, analysis.first_ready, problem, analysis.records
        )
    return readiness_probe.LogEvidence(
        log_source.description, problem=log_source.no_file_reason or "no log source"
    )


def _file_evidence(files: Any, since: float, source: str) -> readiness_probe.LogEvidence:
    span = read_file_span(files, since, None)
    analysis = span.analysis
    problem = span.problem
    oldest = oldest_record_time(files) if problem is None else None
    if problem is None and oldest is not None and oldest > since + 2 * START_SLACK_S:
        problem = "the log does not reach back to the process start (rotated away since)"
    return readiness_probe.LogEvidence(source, analysis.first_ready, problem, analysis.records)


@pytest.fixture(scope="session")
def host_memory() -> HostMemory:
    """RAM and GPU memory a local service (Ollama) can load a model into."""
    return probe_host_memory()
