"""Discord webhook alerts, delivered over loopback to the simulator's webhook receiver."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from tests.support import webhooks
from tests.support.runs import SUITE_ROOT, clean_env

# The Discord-only simulator and a fresh webhook per test (tests/support/webhooks.py).
sim, hook = webhooks.sim, webhooks.hook

TOKEN_CHECK = "health_tests/test_config.py::test_discord_token_shape"


def messages(sim, hook) -> list[dict[str, Any]]:
    return sim.discord.webhook_messages(hook[0])


def test_watch_alerts_through_the_real_suite(sim, hook, bot, tmp_path):
    bot.set_env(DISCORD_TOKEN="not-a-token", ERROR_REPORT_WEBHOOK=hook[1])
    proc = subprocess.run(
        [
            sys.executable, "-m", "acore_doctor.cli", "watch", f"--bot-dir={bot.root}",
            f"--report-dir={tmp_path / 'reports'}", "--interval=0", "--count=3",
            "--alert-min-interval=0", TOKEN_CHECK,
        ],
        cwd=SUITE_ROOT, env=clean_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("CRITICAL (exit 2)") == 3
    assert proc.stdout.count("alert sent") == 1
    assert hook[1] not in proc.stdout + proc.stderr
    [message] = messages(sim, hook)
    assert message["embeds"][0]["fields"][0]["name"].startswith("DISCORD_TOKEN")
