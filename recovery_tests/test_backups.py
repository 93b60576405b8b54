"""Backups exist, are fresh, restore cleanly (drill into a temp dir), and are pruned."""

import pytest

from acore_doctor import Blocked, check, roots
from acore_doctor.recovery.backup import BackupInfo, Counts, expired_backups
from acore_doctor.recovery.common import RecoveryConfig, settings_problems
from acore_doctor.recovery.restore import compare_counts, pending_restores
from acore_doctor.recovery_fixtures import Drill
from acore_doctor.settings import BotSettings

GUIDE = "guides/deployment_issues.md"
MAX_AGE_H = 24.0


@pytest.mark.critical
@check(
    "The newest state backup is younger than 24 hours",
    "Schedule 'acore-doctor backup --if-enabled --bot-dir DIR' daily (cron or a systemd "
    "timer), or run it now.",
    guide=f"{GUIDE}#backups-missing-or-stale",
    root=roots.BACKUPS,
)
def test_backup_recent(recovery: RecoveryConfig, newest_backup: BackupInfo | None) -> None:
    if not recovery.backup_enabled:
        pytest.skip("not applicable: STATE_BACKUP_ENABLED is not true")
    assert newest_backup is not None, f"expected a backup in {recovery.backup_dir}, found none"
    age_h = newest_backup.age.total_seconds() / 3600
    assert age_h < MAX_AGE_H, (
        f"expected the newest backup to be younger than {MAX_AGE_H:.0f} h, found "
        f"{newest_backup.id} taken {age_h:.1f} h ago"
    )


@pytest.mark.critical
@check(
    "The newest backup restores cleanly (restore drill)",
    "Take a fresh backup ('acore-doctor backup') and find out what damaged the old one: "
    "the listed files or the archive itself. Keep backups on a disk that is not full.",
    guide=f"{GUIDE}#restore-drill-failed",
)
def test_restore_drill(
    recovery: RecoveryConfig,
    restore_drill: Drill | None,
    live_record_counts: Counts,
    drill_tolerance: float,
) -> None:
    if restore_drill is None:
        if recovery.backup_enabled:
            raise Blocked(roots.BACKUPS, f"no backup in {recovery.backup_dir} to drill")
        pytest.skip("not applicable: no backup and STATE_BACKUP_ENABLED is not true")
    stage = restore_drill.stage
    assert stage.ok, (
        f"expected backup {restore_drill.backup.id} to match its manifest, parse and pass "
        f"quick_check, found: {'; '.join(stage.problems[:5])}"
    )
    shortfall = compare_counts(restore_drill.restored, live_record_counts, drill_tolerance)
    assert not shortfall, (
        f"expected backup {restore_drill.backup.id} to hold records comparable to live "
        f"(at least {1 - drill_tolerance:.0%}), found: {'; '.join(shortfall[:5])}"
    )


@pytest.mark.warning
@check(
    "Backups older than RECOVERY_STATE_RETENTION are pruned",
    "Run 'acore-doctor backup' (it prunes after each backup) or remove the listed archives; "
    "old backups fill the disk the bot needs.",
    guide=f"{GUIDE}#old-backups-not-pruned",
)
def test_retention_respected(recovery: RecoveryConfig, backups: list[BackupInfo]) -> None:
    if not backups:
        pytest.skip("not applicable: no backups")
    expired = expired_backups(recovery)
    assert not expired, (
        f"expected no backup older than {recovery.retention_days} days besides the newest, "
        f"found {len(expired)}: {', '.join(b.id for b in expired[:5])}"
    )


@pytest.mark.warning
@check(
    "Recovery settings are valid",
    "Fix the listed values in .env: booleans 'true'/'false', counts and days whole numbers "
    "above 0, and STATE_BACKUP_DIR outside data/ and prompts/.",
    guide=f"{GUIDE}#recovery-settings-invalid",
)
def test_recovery_settings_valid(settings: BotSettings, recovery: RecoveryConfig) -> None:
    problems = settings_problems(settings)
    for inside in ("data", "prompts"):
        root = recovery.bot_dir / inside
        if recovery.backup_dir == root or root in recovery.backup_dir.parents:
            problems.append(
                f"STATE_BACKUP_DIR {recovery.backup_dir} is inside {inside}/: every backup "
                "would contain the ones before it"
            )
    if recovery.backup_dir.exists() and not recovery.backup_dir.is_dir():
        problems.append(f"STATE_BACKUP_DIR {recovery.backup_dir} exists but is not a directory")
    assert not problems, "expected valid recovery settings, found: " + "; ".join(problems)


@pytest.mark.critical
@check(
    "No restore was interrupted half-way",
    "Run 'acore-doctor restore --resume' before starting the bot: it finishes the restore "
    "so data/, prompts/ and .env all come from the same backup.",
    guide=f"{GUIDE}#interrupted-restore",
)
def test_no_interrupted_restore(recovery: RecoveryConfig) -> None:
    pending = pending_restores(recovery)
    assert not pending, "expected no pending restore journal, found: " + "; ".join(
        f"restore of backup {j['backup_id']} ({j['work']})" for j in pending
    )
