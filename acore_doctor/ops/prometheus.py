"""Prometheus text exposition of a run: node-exporter textfile and ``serve``'s /metrics."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

from acore_doctor.fsio import write_atomic
from acore_doctor.ops.metrics import metric_name

PREFIX = "acore_doctor"
TEXTFILE_MODE = 0o644
#: Gauge value per finding kind: Nagios-like, so alert rules read ``> 0`` or ``== 2``.
STATUS_VALUE = {"info": 0, "warning": 1, "issue": 2}


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(**labels: str) -> str:
    return "{" + ",".join(f'{k}="{_escape(str(v))}"' for k, v in labels.items()) + "}"


def _number(value: float) -> str:
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def check_status(check: dict[str, Any]) -> int:
    outcome = check.get("outcome")
    if outcome in ("failed", "crashed"):
        return 2 if check.get("severity") == "critical" else 1
    return 0


def _timestamp(report: dict[str, Any]) -> float | None:
    try:
        return datetime.fromisoformat(report["timestamp"]).timestamp()
    except (KeyError, TypeError, ValueError):
        return None


def deployment_label(report: dict[str, Any]) -> str:
    """The ``deployment`` label of every series: ``--prometheus-deployment``, else the name of
    the bot's directory (``/opt/acore_bot`` -> ``acore_bot``: bots on one host live in
    directories of their own, so their textfiles merge without clashing series; never the
    whole path, which /metrics must not tell a network)."""
    env = report.get("environment") or {}
    given = env.get("prometheus_deployment")
    if given:
        return str(given)
    bot_dir = str(env.get("bot_dir") or "").rstrip("/")
    return bot_dir.rsplit("/", 1)[-1] or "unknown"


def series_labels(report: dict[str, Any]) -> str:
    """``{deployment="..."}`` for a series added beside :func:`render`'s."""
    return _labels(deployment=deployment_label(report))


def render(report: dict[str, Any], deployment: str | None = None, now: float | None = None) -> str:
    """The exposition text for one report (a fixed family order, HELP and TYPE once each);
    ages are counted to ``now`` (the scrape, for ``serve``; else the time of writing).

    Every series carries ``deployment``; each family's label set is fixed, and values that
    change from run to run (the verdict, a check's outcome) are values, never labels, so a
    run never starts new series. What a check is (its title) is in ``check_info``."""
    now = time.time() if now is None else now
    summary = report.get("summary", {})
    checks = report.get("checks", [])
    name = deployment or deployment_label(report)
    out: list[str] = []

    def family(
        family_name: str, help_text: str, samples: list[tuple[dict[str, str], float]]
    ) -> None:
        full = f"{PREFIX}_{family_name}"
        out.append(f"# HELP {full} {help_text}")
        out.append(f"# TYPE {full} gauge")
        out.extend(
            f"{full}{_labels(deployment=name, **labels)} {_number(value)}"
            for labels, value in samples
        )

    family(
        "status",
        "Overall verdict: 0 healthy, 1 warning, 2 critical, 3 unknown, 130 interrupted.",
        [({}, summary.get("exit_code", 3))],
    )
    family(
        "check_status",
        "Per check: 0 passed or not applicable, 1 failed warning, 2 failed critical.",
        [
            ({"check": c["nodeid"], "severity": c.get("severity", "")}, check_status(c))
            for c in checks
        ],
    )
    family(
        "check_info",
        "What each check is: its title (always 1).",
        [({"check": c["nodeid"], "title": c.get("title", "")}, 1) for c in checks],
    )
    family(
        "check_duration_seconds",
        "Time each check took.",
        [({"check": c["nodeid"]}, round(c.get("duration_s", 0.0), 4)) for c in checks],
    )
    family(
        "findings",
        "Failed checks by kind in the last run.",
        [
            ({"kind": "critical"}, summary.get("total_issues", 0)),
            ({"kind": "warning"}, summary.get("total_warnings", 0)),
        ],
    )
    history = report.get("history") or {}
    if history.get("previous") and not history.get("note"):
        family(
            "findings_changed",
            "Findings new and resolved since the previous run.",
            [
                ({"change": "new"}, len(history.get("new", []))),
                ({"change": "resolved"}, len(history.get("resolved", []))),
            ],
        )
    for metric, value in sorted((report.get("metrics") or {}).items()):
        if (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and not metric.endswith("_pid")
        ):
            family(
                f"metric_{metric_name(metric)}", f"Recorded by the run: {metric}.", [({}, value)]
            )
    stamp = _timestamp(report)
    if stamp is not None:
        family(
            "last_run_timestamp_seconds", "When the last run started (Unix time).", [({}, stamp)]
        )
    if stamp is not None:
        family(
            "seconds_since_last_run",
            "Seconds from the start of the last full run to now.",
            [({}, round(max(0.0, now - stamp), 3))],
        )
    recovery_families(report.get("recovery") or {}, now, family)
    family(
        "run_duration_seconds",
        "Sum of check durations in the last run.",
        [({}, round(sum(c.get("duration_s", 0.0) for c in checks), 4))],
    )
    return "\n".join(out) + "\n"


def recovery_families(recovery: dict[str, Any], now: float, family: Any) -> None:
    """AutoRecovery's state (the report's ``recovery`` block, or one read live by serve)."""
    if not recovery or "error" in recovery:
        return
    family(
        "recovery_attempts",
        "AutoRecovery attempts in its kept log, by strategy and outcome.",
        [
            ({"strategy": a["strategy"], "outcome": a["outcome"]}, a["count"])
            for a in recovery.get("attempts", [])
        ],
    )
    family(
        "recovery_open_circuits",
        "AutoRecovery circuits open now (MAX_RECOVERY_ATTEMPTS used up within RECOVERY_COOLDOWN).",
        [({}, len(recovery.get("open_circuits", [])))],
    )
    family(
        "recovery_paused",
        "1 while an operator has paused AutoRecovery (acore-doctor recover --pause).",
        [({}, 1 if recovery.get("paused") else 0)],
    )
    last_backup = recovery.get("last_backup_timestamp")
    if isinstance(last_backup, int | float):
        family(
            "recovery_backup_age_seconds",
            "Seconds since the newest finished backup was taken.",
            [({}, round(max(0.0, now - last_backup), 3))],
        )


#: The Content-Type of the text exposition format (what Prometheus asks for).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def write_textfile(report: dict[str, Any], path: Path, deployment: str | None = None) -> Path:
    """Write atomically: node-exporter must never read a half-written file.

    World-readable (0644), unlike every other output: node-exporter runs as another user, and
    the file holds verdicts, counts and durations only (docs/operations.md).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, render(report, deployment), mode=TEXTFILE_MODE)
    return path
