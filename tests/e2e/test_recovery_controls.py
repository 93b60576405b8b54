"""AutoRecovery seen and steered by an operator (issue 23): ``recover --status/--pause/
--resume/--reset`` against a bot process that logs real attempts, the pause in every report,
recovery state in the Prometheus textfile, and the restart command run for real."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from acore_doctor.recovery.common import read_jsonl
from tests.support.builder import DeploymentBuilder, tree_digest
from tests.support.recovery import healthy
from tests.support.runs import SUITE_ROOT, clean_env

ATTEMPT = """
import asyncio, sys
from pathlib import Path
from acore_doctor.recovery import AutoRecovery

async def main():
    recovery = AutoRecovery(Path(sys.argv[1]), sleep=lambda s: asyncio.sleep(0))
    recovery.register_reconnect("ollama", lambda: None)
    result = await recovery.attempt_recovery(ConnectionResetError(104, "reset"), {"service": "ollama"})
    print(result.outcome)

asyncio.run(main())
"""

MEMORY = """
import asyncio, sys
from pathlib import Path
from acore_doctor.recovery import AutoRecovery

async def main():
    recovery = AutoRecovery(Path(sys.argv[1]), sleep=lambda s: asyncio.sleep(0))
    for _ in range(2):
        result = await recovery.attempt_recovery(MemoryError())
        print(result.outcome, result.detail)

asyncio.run(main())
"""


def bot_attempt(bot: DeploymentBuilder, script: str = ATTEMPT) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", script, str(bot.root)],
        cwd=SUITE_ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def doctor(bot: DeploymentBuilder, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "acore_doctor.cli", "recover", f"--bot-dir={bot.root}", *args],
        cwd=SUITE_ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_status_pause_reset_and_resume_steer_the_bots_recovery(bot, run_suite) -> None:
    healthy(bot).set_env(MAX_RECOVERY_ATTEMPTS="2", RECOVERY_COOLDOWN="600")
    assert [bot_attempt(bot) for _ in range(3)] == ["recovered", "recovered", "circuit_open"]

    status = doctor(bot, "--status")
    assert status.returncode == 1, status.stdout + status.stderr
    assert "reconnect:ollama: OPEN" in status.stdout

    reset = doctor(bot, "--reset", "ollama")
    assert reset.returncode == 0, reset.stdout + reset.stderr
    assert "reconnect:ollama: closed (0/2" in reset.stdout
    assert bot_attempt(bot) == "recovered"

    paused = doctor(bot, "--pause", "--reason", "moving the database")
    assert paused.returncode == 1 and "PAUSED since" in paused.stdout
    assert bot_attempt(bot) == "paused"
    assert read_jsonl(bot.root / ".acore-doctor/recovery-attempts.jsonl")[-1]["outcome"] == "paused"

    before = tree_digest(bot.root)
    textfile = bot.root.parent / "metrics" / "acore.prom"
    run = run_suite(bot.root, "recovery_tests", f"--prometheus={textfile}")
    assert tree_digest(bot.root) == before
    finding = run.finding("test_recovery_not_paused")
    assert finding["outcome"] == "failed" and "moving the database" in finding["message"]
    assert run.report["recovery"]["paused"] is True
    metrics = textfile.read_text()
    deployment = f'deployment="{bot.root.name}"'  # every series names its deployment
    assert f"acore_doctor_recovery_paused{{{deployment}}} 1" in metrics
    assert (
        f'acore_doctor_recovery_attempts{{{deployment},strategy="reconnect",outcome="recovered"}} 3'
        in metrics
    )
    assert f"acore_doctor_recovery_open_circuits{{{deployment}}} 0" in metrics

    resumed = doctor(bot, "--resume")
    assert resumed.returncode == 0 and "AutoRecovery resumed" in resumed.stdout
    assert bot_attempt(bot) == "recovered"
    again = run_suite(bot.root, "recovery_tests")
    assert again.finding("test_recovery_not_paused")["outcome"] == "passed"


def test_the_restart_command_runs_when_memory_pressure_returns(bot: DeploymentBuilder) -> None:
    marker = bot.root.parent / "restarted"
    healthy(bot).set_env(RECOVERY_RESTART_COMMAND=f"touch {marker}")
    first, second = bot_attempt(bot, MEMORY).splitlines()
    assert first.startswith("recovered cleared") and not first.endswith(str(marker))
    assert second.startswith("recovered") and "restarted 'touch" in second
    assert marker.exists()


def test_a_failing_restart_command_is_a_failed_attempt(bot: DeploymentBuilder) -> None:
    healthy(bot).set_env(RECOVERY_RESTART_COMMAND="false")
    _, second = bot_attempt(bot, MEMORY).splitlines()
    assert second.startswith("failed") and "restart command exited 1" in second
    assert not Path(bot.root / "false").exists()


MISSING_DIR = """
import asyncio, sys
from pathlib import Path
from acore_doctor.recovery import AutoRecovery

async def main():
    bot = Path(sys.argv[1])
    recovery = AutoRecovery(bot, sleep=lambda s: asyncio.sleep(0))
    missing = bot / "data" / "chat_history" / "42.json"
    result = await recovery.attempt_recovery(FileNotFoundError(2, "No such file", str(missing)))
    print(result.outcome, missing.parent.is_dir(), missing.exists())

asyncio.run(main())
"""


def test_a_deleted_directory_the_bot_needs_is_recreated_never_its_data(
    bot: DeploymentBuilder,
) -> None:
    import shutil

    healthy(bot)
    shutil.rmtree(bot.root / "data" / "chat_history")
    assert bot_attempt(bot, MISSING_DIR) == "recovered True False"


def test_recovery_attempts_reach_the_error_webhook(bot: DeploymentBuilder) -> None:
    from acore_doctor.simulate import Simulator

    with Simulator(["discord"]) as sim:
        hook = sim.discord.add_webhook()
        healthy(bot).set_env(
            ERROR_REPORT_WEBHOOK=sim.discord.webhook_url(hook.id), MAX_RECOVERY_ATTEMPTS="1"
        )
        assert [bot_attempt(bot) for _ in range(2)] == ["recovered", "circuit_open"]
        titles = [m["embeds"][0]["title"] for m in sim.discord.webhook_messages(hook.id)]
        assert titles == ["AUTO-RECOVERY: recovered", "AUTO-RECOVERY: a human is needed"]
        bot.set_env(CRITICAL_ERROR_NOTIFICATIONS="false", RECOVERY_COOLDOWN="0")
        bot_attempt(bot)
        assert len(sim.discord.webhook_messages(hook.id)) == 3  # the attempt, not an escalation
        bot.set_env(ERROR_REPORTING_ENABLED="false")
        bot_attempt(bot)
        assert len(sim.discord.webhook_messages(hook.id)) == 3
