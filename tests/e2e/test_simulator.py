"""The simulated services, over real loopback HTTP: wire shapes, limits and fault modes."""

from __future__ import annotations

import subprocess
import sys


def test_simulate_command_prints_env_and_runs(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "acore_doctor.cli",
            "simulate",
            "--service",
            "ollama",
            "--service",
            "discord",
            "--fault",
            "ollama=missing_model",
            "--for",
            "0.2",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "export OLLAMA_HOST=http://127.0.0.1:" in proc.stdout
    assert "export DISCORD_API_BASE=http://127.0.0.1:" in proc.stdout
    assert "ollama: fault mode missing_model" in proc.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "acore_doctor.cli", "simulate", "--fault", "ollama=nope"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode != 0 and "no fault mode 'nope'" in bad.stderr
