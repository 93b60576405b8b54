"""Numbers a run records besides check outcomes: service latencies, disk use.

Checks record them with the ``doctor_metric`` fixture (``acore_doctor.ops_fixtures``); this
module, an enrichment plugin of a health run, puts them into the report's ``metrics`` and the
run history keeps their trend.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from acore_doctor import clock

METRICS = pytest.StashKey[dict[str, float]]()

_NAME = re.compile(r"[^a-zA-Z0-9_]+")


def metric_name(name: str) -> str:
    """A name safe as a JSON key and as a Prometheus metric suffix."""
    return _NAME.sub("_", name).strip("_").lower() or "unnamed"


def recorded_metrics(config: pytest.Config) -> dict[str, float]:
    return config.stash.setdefault(METRICS, {})


def disk_usage(path: Path) -> dict[str, float] | None:
    """Used percentage and free GiB of the filesystem holding ``path``, or None."""
    try:
        usage = clock.disk_usage(path)
    except OSError:
        return None
    if usage.total == 0:
        return None
    return {
        "used_pct": round(100.0 * usage.used / usage.total, 2),
        "free_gib": round(usage.free / 2**30, 3),
    }


def run_metrics(config: pytest.Config, bot_dir: Path) -> dict[str, Any]:
    """The metrics block of one report: recorded values plus the bot dir's disk use."""
    metrics: dict[str, Any] = {k: v for k, v in sorted(recorded_metrics(config).items())}
    disk = disk_usage(bot_dir)
    if disk is not None:
        metrics["disk_used_pct"] = disk["used_pct"]
        metrics["disk_free_gib"] = disk["free_gib"]
    return metrics


def pytest_doctor_enrich_report(report: dict[str, Any], config: pytest.Config) -> None:
    report["metrics"] = run_metrics(config, Path(report["environment"]["bot_dir"]))


#: pytest-xdist: the key of a worker's recorded metrics in its ``workeroutput``.
WORKER_METRICS = "acore_doctor_metrics"


def pytest_sessionfinish(session: pytest.Session) -> None:
    """In a pytest-xdist worker: hand the recorded metrics to the controller."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[WORKER_METRICS] = dict(recorded_metrics(session.config))


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any) -> None:
    """In the pytest-xdist controller: a worker's metrics join the run's."""
    output = getattr(node, "workeroutput", None) or {}
    recorded_metrics(node.config).update(output.get(WORKER_METRICS, {}))
