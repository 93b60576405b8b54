"""Failed checks -> what ``acore-doctor recover`` can do about them.

A remediation names the checks it answers (fnmatch patterns over report node ids, so
parametrized ids match too), says what it would do without changing anything (``plan``)
and does it (``apply``). Several checks may share one remediation (all of repair's); it
runs once. To add one::

    register(Remediation(
        key="chmod-env",
        checks=("health_tests/test_config.py::test_env_file_private*",),
        title="make .env readable by its owner only",
        plan=lambda deployment, config: [f"chmod 600 {deployment.env_file}"],
        apply=lambda deployment, config, say: ...,  # returns what it did
    ))

Every apply function here backs up or quarantines before it changes anything and writes the
audit log, like the tools it calls.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from acore_doctor.deployment import Deployment
from acore_doctor.recovery.backup import create_backup, expired_backups, prune_backups
from acore_doctor.recovery.common import AuditLog, RecoveryConfig
from acore_doctor.recovery.repair import apply_repair, plan_repair
from acore_doctor.recovery.restore import (
    finish_interrupted_restores,
    pending_restores,
    recovery_lock,
)

Say = Callable[[str], None]


@dataclass(frozen=True)
class Remediation:
    key: str
    checks: tuple[str, ...]
    title: str
    plan: Callable[[Deployment, RecoveryConfig], list[str]]
    apply: Callable[[Deployment, RecoveryConfig, Say], str]

    def answers(self, nodeid: str) -> bool:
        return any(fnmatch.fnmatchcase(nodeid, pattern) for pattern in self.checks)


REGISTRY: list[Remediation] = []


def register(remediation: Remediation) -> Remediation:
    REGISTRY[:] = [r for r in REGISTRY if r.key != remediation.key] + [remediation]
    return remediation


def match(nodeids: Iterable[str]) -> tuple[list[tuple[Remediation, list[str]]], list[str]]:
    """(remediation, the failed checks it answers) in registry order, and the unanswered."""
    chosen: dict[str, tuple[Remediation, list[str]]] = {}
    unanswered = []
    for nodeid in nodeids:
        found = [r for r in REGISTRY if r.answers(nodeid)]
        if not found:
            unanswered.append(nodeid)
        for remediation in found:
            chosen.setdefault(remediation.key, (remediation, []))[1].append(nodeid)
    ordered = [chosen[r.key] for r in REGISTRY if r.key in chosen]
    return ordered, unanswered


# -- the built-in remediations --------------------------------------------------------------------
def _plan_repair(deployment: Deployment, config: RecoveryConfig) -> list[str]:
    return [a.describe(deployment.bot_dir) for a in plan_repair(deployment, config)]


class Applied(str):
    """What a remediation did, and how many records it may have lost (0: none known)."""

    maybe_lost: int = 0


def _apply_repair(deployment: Deployment, config: RecoveryConfig, say: Say) -> str:
    report = apply_repair(deployment, config, say=say)
    if report.failed:
        return f"{len(report.failed)} of {len(report.actions)} repair(s) failed"
    done = Applied(
        f"{len(report.actions)} repair(s) made; originals in {report.quarantine}"
        + (f"; {report.maybe_lost} record(s) may be lost" if report.incomplete else "")
    )
    done.maybe_lost = report.maybe_lost if report.incomplete else 0
    return done


def _plan_backup(deployment: Deployment, config: RecoveryConfig) -> list[str]:
    return [f"take a backup of {deployment.bot_dir} into {config.backup_dir}"]


def _apply_backup(deployment: Deployment, config: RecoveryConfig, say: Say) -> str:
    with recovery_lock(config):
        for line in finish_interrupted_restores(config):
            say(line)
        backup = create_backup(config, label="recover")
    not_read = backup.trailer().get("not_read") or []
    if not_read:
        # A backup that lacks files is not the fix the check asked for: say so as a failure.
        raise OSError(
            f"backup {backup.id} written to {backup.archive}, but {len(not_read)} path(s) could "
            "not be read and are not in it: " + "; ".join(not_read[:5])
        )
    return f"backup {backup.id} written to {backup.archive}"


def _plan_prune(deployment: Deployment, config: RecoveryConfig) -> list[str]:
    return [
        f"remove backup {b.id} (older than {config.retention_days} days)"
        for b in expired_backups(config)
    ]


def _apply_prune(deployment: Deployment, config: RecoveryConfig, say: Say) -> str:
    removed = prune_backups(config)
    return f"removed {len(removed)} expired backup(s)"


def _plan_finish_restore(deployment: Deployment, config: RecoveryConfig) -> list[str]:
    return [
        f"finish the interrupted restore of backup {j['backup_id']} ({j['work']})"
        for j in pending_restores(config)
    ]


def _apply_finish_restore(deployment: Deployment, config: RecoveryConfig, say: Say) -> str:
    with recovery_lock(config):
        done = finish_interrupted_restores(config)
    return "; ".join(done) or "no interrupted restore"


def _plan_env_private(deployment: Deployment, config: RecoveryConfig) -> list[str]:
    try:
        mode = stat.S_IMODE(deployment.env_file.stat().st_mode)
    except OSError:
        return []
    return [f"chmod 600 {deployment.env_file} (now {mode:04o})"] if mode & 0o077 else []


def _apply_env_private(deployment: Deployment, config: RecoveryConfig, say: Say) -> str:
    path = deployment.env_file
    before = stat.S_IMODE(path.stat().st_mode)
    os.chmod(path, 0o600)
    AuditLog(config.audit_log).append(
        tool="recover",
        action="chmod",
        what=str(path),
        outcome="done",
        detail=f"mode {before:04o} -> 0600",
    )
    return f"{path} mode {before:04o} -> 0600"


register(
    Remediation(
        key="repair",
        checks=(
            "health_tests/test_data.py::test_state_files_parse*",
            "health_tests/test_data.py::test_no_stray_tmp*",
            "health_tests/test_databases.py::test_databases_undamaged*",
            "health_tests/test_files.py::test_bot_dirs_writable*",
            "recovery_tests/test_repair.py::test_repair_dry_run_clean*",
        ),
        title="repair damaged state (acore-doctor repair --apply)",
        plan=_plan_repair,
        apply=_apply_repair,
    )
)
register(
    Remediation(
        key="finish-restore",
        checks=("recovery_tests/test_backups.py::test_no_interrupted_restore*",),
        title="finish an interrupted restore (acore-doctor restore --resume)",
        plan=_plan_finish_restore,
        apply=_apply_finish_restore,
    )
)
register(
    Remediation(
        key="backup",
        checks=(
            "recovery_tests/test_backups.py::test_backup_recent*",
            "recovery_tests/test_backups.py::test_restore_drill*",
        ),
        title="take a fresh backup (acore-doctor backup)",
        plan=_plan_backup,
        apply=_apply_backup,
    )
)
register(
    Remediation(
        key="prune",
        checks=("recovery_tests/test_backups.py::test_retention_respected*",),
        title="remove backups past RECOVERY_STATE_RETENTION",
        plan=_plan_prune,
        apply=_apply_prune,
    )
)
register(
    Remediation(
        key="env-private",
        checks=("health_tests/test_config.py::test_env_file_private*",),
        title="make .env readable by its owner only",
        plan=_plan_env_private,
        apply=_apply_env_private,
    )
)
