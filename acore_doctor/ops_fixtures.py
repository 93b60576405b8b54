"""pytest plugin module for operations: monitoring outputs, recorded metrics, profiles.

Options: ``--nagios`` (one plugin line instead of pytest's output; exit code 0/1/2/3),
``--prometheus FILE`` (node-exporter textfile), ``--profile-sample SECONDS`` and
``--leak-mb-per-hour`` for the leak check. The hooks only hand the finished report to the
renderers in :mod:`acore_doctor.ops`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil
import pytest

from acore_doctor.ops import nagios, prometheus
from acore_doctor.ops.metrics import metric_name, recorded_metrics
from acore_doctor.ops.process import find_bot_process
from acore_doctor.ops.profile import LEAK_MB_PER_HOUR, read_latest_profile, sample_process, trend

#: A saved profile older than this says nothing about the bot now.
PROFILE_MAX_AGE_S = 24 * 3600


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("acore-doctor-ops", "acore-doctor monitoring outputs")
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
        "--profile-sample",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="sample the bot this long for the leak check when no recent profile exists",
    )
    group.addoption(
        "--leak-mb-per-hour",
        type=float,
        default=LEAK_MB_PER_HOUR,
        help=f"RSS growth the leak check warns about (default {LEAK_MB_PER_HOUR:g} MB/h)",
    )


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("nagios"):
        # Nagios reads the first stdout line: pytest's own output must not come first.
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            config.pluginmanager.unregister(reporter)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    from acore_doctor.plugin import STATE

    config = session.config
    state = config.stash.get(STATE, None)
    if state is None or not state.health_mode:
        if config.getoption("nagios"):
            print(nagios.nagios_line(None, 3, "no health checks were collected"))
            session.exitstatus = 3
        return
    report = state.report
    target = config.getoption("prometheus")
    if target and report is not None:
        path = Path(os.path.expanduser(target))
        path = path if path.is_absolute() else config.invocation_params.dir / path
        try:
            prometheus.write_textfile(report, path)
        except OSError as exc:
            sys.stderr.write(f"acore-doctor: Prometheus textfile not written: {exc}\n")
    if config.getoption("nagios"):
        code = int(session.exitstatus)
        reason = state.verdict.reason if state.verdict else ""
        print(nagios.nagios_line(report, code, reason), flush=True)
        session.exitstatus = nagios.nagios_code(code)


@pytest.fixture
def doctor_metric(request: pytest.FixtureRequest) -> Callable[[str, float], None]:
    """Record a number for the run's report and trend: ``doctor_metric("ollama_latency_ms", 42)``."""
    metrics = recorded_metrics(request.config)

    def record(name: str, value: float) -> None:
        if isinstance(value, int | float) and not isinstance(value, bool):
            metrics[metric_name(name)] = float(value)

    return record


@pytest.fixture(scope="session")
def ops_report_dir(request: pytest.FixtureRequest) -> Path:
    from acore_doctor.plugin import resolve_report_dir, state_of

    return resolve_report_dir(request.config, state_of(request.config).deployment)


@pytest.fixture(scope="session")
def ops_bot_process(request: pytest.FixtureRequest) -> psutil.Process | None:
    from acore_doctor.plugin import state_of

    return find_bot_process(state_of(request.config).deployment.bot_dir)


@pytest.fixture(scope="session")
def last_profile(ops_report_dir: Path) -> dict[str, Any] | None:
    """The newest saved profile (``acore-doctor profile``) if it is less than a day old."""
    profile = read_latest_profile(ops_report_dir)
    if profile is None:
        return None
    try:
        age = (datetime.now() - datetime.fromisoformat(profile["started"])).total_seconds()
    except (KeyError, TypeError, ValueError):
        return None
    profile["age_s"] = age
    return profile if 0 <= age <= PROFILE_MAX_AGE_S else None


@pytest.fixture(scope="session")
def memory_trend(
    request: pytest.FixtureRequest,
    last_profile: dict[str, Any] | None,
    ops_bot_process: psutil.Process | None,
) -> dict[str, Any] | None:
    """The bot's resource trend: from the last profile, else from a short sample now."""
    threshold = request.config.getoption("leak_mb_per_hour")
    if last_profile is not None:
        result = trend(last_profile["samples"], leak_mb_per_hour=threshold)
        result["source"] = (
            f"profile of pid {last_profile.get('pid')} taken {last_profile.get('started')}"
        )
        return result
    if ops_bot_process is None:
        return None
    seconds = request.config.getoption("profile_sample")
    interval = max(0.1, seconds / 10)
    try:
        profile = sample_process(ops_bot_process.pid, seconds, interval)
    except psutil.Error:
        return None
    result = trend(profile.samples, leak_mb_per_hour=threshold)
    result["source"] = f"{seconds:g} s sample of pid {ops_bot_process.pid}"
    return result
