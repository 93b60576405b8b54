"""AutoRecovery: strategy by class hierarchy, guards, backoff, and a log that survives restarts."""

from __future__ import annotations

import subprocess
import sys

from acore_doctor.recovery.common import read_jsonl
from tests.support.builder import DeploymentBuilder
from tests.support.runs import SUITE_ROOT, clean_env

CHILD = """
import asyncio, sys
from pathlib import Path
from acore_doctor.recovery import AutoRecovery

async def main():
    recovery = AutoRecovery(Path(sys.argv[1]), sleep=lambda s: asyncio.sleep(0))
    result = await recovery.attempt_recovery(ConnectionRefusedError(111, "refused"))
    print(result.outcome)

asyncio.run(main())
"""


def test_a_crash_loop_across_restarts_opens_the_circuit(bot: DeploymentBuilder) -> None:
    bot.set_env(MAX_RECOVERY_ATTEMPTS="2", RECOVERY_COOLDOWN="600")
    outcomes = []
    for _ in range(4):  # four "restarts" of the bot, each trying once
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, str(bot.root)],
            cwd=SUITE_ROOT,
            env=clean_env(),
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stderr
        outcomes.append(proc.stdout.strip())
    assert outcomes == ["backed_off", "backed_off", "circuit_open", "circuit_open"]
    records = read_jsonl(bot.root / ".acore-doctor" / "recovery-attempts.jsonl")
    assert len({r["pid"] for r in records}) == 4
