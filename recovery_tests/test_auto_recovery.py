"""The bot's auto-recovery did not loop."""

import time
from typing import Any

import pytest

from acore_doctor import check
from acore_doctor.recovery.auto import find_loops
from acore_doctor.recovery.common import RecoveryConfig
from acore_doctor.recovery.control import RecoveryControl

WINDOW_S = 24 * 3600


@pytest.mark.critical
@check(
    "Auto-recovery shows no loop in the last 24 hours",
    "Find the error that keeps coming back in .acore-doctor/recovery-attempts.jsonl and fix "
    "its cause; check that MAX_RECOVERY_ATTEMPTS and RECOVERY_COOLDOWN are set and that only "
    "one bot process runs.",
    guide="guides/deployment_issues.md#recovery-loop",
)
def test_recovery_log_no_loop(
    recovery: RecoveryConfig, recovery_attempts: list[dict[str, Any]] | None
) -> None:
    if recovery_attempts is None:
        pytest.skip(f"not applicable: no auto-recovery log at {recovery.attempts_log}")
    loops = find_loops(
        recovery_attempts, recovery.max_attempts, recovery.cooldown_s, time.time() - WINDOW_S
    )
    assert not loops, (
        f"expected at most {recovery.max_attempts} attempts per circuit (strategy:service) within "
        f"{recovery.cooldown_s:g}s, found: "
        + "; ".join(
            f"{loop['attempts']} '{loop['strategy']}' attempts from "
            f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(loop['window_start']))} UTC"
            for loop in loops
        )
    )


@pytest.mark.warning
@check(
    "Auto-recovery is not paused",
    "Resume it with 'acore-doctor recover --resume' once the reason for the pause is gone.",
    guide="guides/deployment_issues.md#recovery-paused",
)
def test_recovery_not_paused(recovery_control: RecoveryControl) -> None:
    paused_at = recovery_control.paused_at or 0
    assert not recovery_control.paused, (
        "expected AutoRecovery to act on the bot's errors, found it paused by an operator since "
        f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(paused_at))} UTC"
        + (f" ({recovery_control.reason})" if recovery_control.reason else "")
    )
