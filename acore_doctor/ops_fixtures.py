"""pytest plugin module for operations: monitoring outputs, recorded metrics, profiles.

Options: ``--nagios`` (one plugin line instead of pytest's output; exit code 0/1/2/3),
``--prometheus FILE`` (node-exporter textfile), ``--profile-sample SECONDS`` and
``--leak-mb-per-hour`` for the leak check. The Nagios and Prometheus outputs are plugins of
their own (:mod:`acore_doctor.report.nagios_plugin`, :mod:`acore_doctor.report.prometheus_plugin`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil
import pytest

from acore_doctor.ops.history import bot_samples, read_trend
from acore_doctor.ops.metrics import metric_name, recorded_metrics
from acore_doctor.ops.process import oldest_live
from acore_doctor.ops.profile import (
    LEAK_MB_PER_HOUR,
    read_latest_profile,
    sample_process,
    take_sample,
    trend,
)
from acore_doctor.options import option
from acore_doctor.probes.bot_process import BotProcess
from acore_doctor.run_state import report_dir_of

#: A saved profile older than this says nothing about the bot now.
PROFILE_MAX_AGE_S = 24 * 3600


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
    return report_dir_of(request.config)


@pytest.fixture(scope="session")
def ops_bot_process(bot_processes: list[BotProcess]) -> psutil.Process | None:
    return oldest_live(bot_processes)


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


#: Runs of the same process that make a trend from the run history, and their least span.
HISTORY_MIN_RUNS = 5
HISTORY_MIN_SPAN_S = 1800


@pytest.fixture(scope="session")
def memory_trend(
    request: pytest.FixtureRequest,
    last_profile: dict[str, Any] | None,
    ops_bot_process: psutil.Process | None,
    ops_report_dir: Path,
) -> dict[str, Any] | None:
    """The bot's resource trend, from the best source at hand.

    A profile from the last day (``acore-doctor profile``) first; else the bot's RSS as the
    previous runs recorded it (each run records ``bot_rss_mb`` for the next), when at least
    five runs over half an hour saw the same process; else a short sample now.
    """
    threshold = option(request.config, "leak_mb_per_hour")
    if threshold is None:
        threshold = LEAK_MB_PER_HOUR
    if last_profile is not None:
        result = trend(last_profile["samples"], leak_mb_per_hour=threshold)
        result["source"] = (
            f"profile of pid {last_profile.get('pid')} taken {last_profile.get('started')}"
        )
        return result
    if ops_bot_process is None:
        return None
    pid = ops_bot_process.pid
    try:
        now = take_sample(ops_bot_process, 0.0)
    except psutil.Error:
        return None
    metrics = recorded_metrics(request.config)
    metrics.update(bot_pid=pid, bot_rss_mb=now.rss_mb)
    if now.fds is not None:
        metrics["bot_fds"] = now.fds
    samples = bot_samples(read_trend(ops_report_dir), pid)
    if samples:
        samples.append(
            {
                "t": time.time() - _run_epoch(ops_report_dir, pid),
                "rss_mb": now.rss_mb,
                "fds": now.fds,
            }
        )
    if len(samples) >= HISTORY_MIN_RUNS and samples[-1]["t"] >= HISTORY_MIN_SPAN_S:
        result = trend(samples, leak_mb_per_hour=threshold)
        hours = samples[-1]["t"] / 3600
        result["source"] = f"last {len(samples)} runs over {hours:.1f} h for pid {pid}"
        return result
    seconds = option(request.config, "profile_sample")
    try:
        profile = sample_process(pid, seconds, max(0.1, seconds / 10))
    except psutil.Error:
        return None
    result = trend(profile.samples, leak_mb_per_hour=threshold)
    result["source"] = f"{seconds:g} s sample of pid {pid}"
    return result


def _run_epoch(report_dir: Path, pid: int) -> float:
    """When the first kept run saw ``pid`` (Unix time)."""
    for run in read_trend(report_dir):
        if (run.get("metrics") or {}).get("bot_pid") == pid:
            try:
                return datetime.fromisoformat(str(run.get("t"))).timestamp()
            except ValueError:
                continue
    return time.time()
