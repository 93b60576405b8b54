"""pytest plugin module for recovery checks (recovery_tests/): options and fixtures.

Everything here reads the deployment and its backups; nothing writes to either. The
restore drill extracts the newest backup into a pytest temp directory.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from acore_doctor.deployment import Deployment
from acore_doctor.options import option
from acore_doctor.probes.databases import DbFacts
from acore_doctor.recovery.backup import BackupInfo, Counts, list_backups, live_counts
from acore_doctor.recovery.common import RecoveryConfig, read_jsonl, recovery_config
from acore_doctor.recovery.control import CONTROL_FILE, RecoveryControl, recovery_status
from acore_doctor.recovery.repair import RepairAction, plan_repair
from acore_doctor.recovery.restore import StageReport, stage_backup, staged_counts
from acore_doctor.run_state import state_of

#: A .tmp file younger than this may be a save in progress by the running bot.
TMP_GRACE_S = 60.0


@pytest.fixture(scope="session")
def recovery(deployment: Deployment, request: pytest.FixtureRequest) -> RecoveryConfig:
    given = option(request.config, "backup_dir")
    return recovery_config(deployment, Path(given) if given else None)


@pytest.fixture(scope="session")
def backups(recovery: RecoveryConfig) -> list[BackupInfo]:
    return list_backups(recovery.backup_dir)


@pytest.fixture(scope="session")
def newest_backup(backups: list[BackupInfo]) -> BackupInfo | None:
    return backups[-1] if backups else None


@dataclass
class Drill:
    backup: BackupInfo
    stage: StageReport
    restored: Counts
    seconds: float


@pytest.fixture(scope="session")
def restore_drill(
    newest_backup: BackupInfo | None, tmp_path_factory: pytest.TempPathFactory
) -> Drill | None:
    """The newest backup restored into a temp directory, verified, and counted."""
    if newest_backup is None:
        return None
    started = time.perf_counter()
    target = tmp_path_factory.mktemp("restore-drill")
    try:
        stage = stage_backup(newest_backup, target / "staged")
    except OSError as exc:  # the drill's own disk is full: said so, not the backup's fault
        stage = StageReport(newest_backup, target / "staged")
        stage.problems.append(f"the drill could not extract it into {target}: {exc}")
    restored = staged_counts(target / "staged") if stage.ok else Counts()
    return Drill(newest_backup, stage, restored, time.perf_counter() - started)


@pytest.fixture(scope="session")
def live_record_counts(recovery: RecoveryConfig) -> Counts:
    return live_counts(recovery)


@pytest.fixture(scope="session")
def drill_tolerance(request: pytest.FixtureRequest) -> float:
    return float(option(request.config, "drill_tolerance"))


@pytest.fixture(scope="session")
def recovery_attempts(recovery: RecoveryConfig) -> list[dict[str, Any]] | None:
    """AutoRecovery's persisted attempts, or None when the bot never wrote any."""
    if not recovery.attempts_log.exists():
        return None
    return read_jsonl(recovery.attempts_log)


@pytest.fixture(scope="session")
def recovery_control(recovery: RecoveryConfig) -> RecoveryControl:
    """The operator's pause and circuit resets (``acore-doctor recover --pause/--reset``)."""
    return RecoveryControl.load(recovery.home / CONTROL_FILE)


@pytest.fixture(scope="session")
def repair_plan(
    deployment: Deployment, recovery: RecoveryConfig, databases: list[DbFacts]
) -> list[RepairAction]:
    """What ``acore-doctor repair`` would do (a dry run: read-only), with the databases as
    this run found them."""
    return plan_repair(deployment, recovery, min_tmp_age_s=TMP_GRACE_S, checked=databases)


def pytest_doctor_enrich_report(report: dict[str, Any], config: pytest.Config) -> None:
    """The report's ``recovery`` block (Prometheus shows it): pause, attempts, open circuits,
    the newest backup's time."""
    deployment = state_of(config).deployment
    if deployment is None:
        return
    given = option(config, "backup_dir")
    try:
        recovery_settings = recovery_config(deployment, Path(given) if given else None)
        report["recovery"] = recovery_status(recovery_settings, time.time())
    except (OSError, ValueError) as exc:  # a report without the block, never a crashed run
        report["recovery"] = {"error": f"{type(exc).__name__}: {exc}"}
