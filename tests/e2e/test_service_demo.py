"""`acore-doctor demo` points the sample deployment at the simulator: live service results."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support.runs import SUITE_ROOT, clean_env


def test_demo_shows_simulated_service_results(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "acore_doctor.cli",
            "demo",
            f"--report-dir={tmp_path}",
            "--fault",
            "ollama=down",
        ],
        cwd=SUITE_ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "Simulated services: discord (" in proc.stdout
    report = json.loads((tmp_path / "latest.json").read_text())
    checks = {c["nodeid"].split("::")[-1]: c for c in report["checks"]}
    assert checks["test_discord_token_valid"]["outcome"] == "passed"
    assert "logged in as llmbot#4821" in checks["test_discord_token_valid"]["details"]
    assert checks["test_privileged_intents_enabled"]["outcome"] == "passed"
    # the demo's default Discord fault, and the --fault given here
    assert checks["test_feature_permissions"]["outcome"] == "failed"
    assert checks["test_model_pulled"]["outcome"] == "blocked"
    ollama = next(i for i in report["issues"] if i["check"].endswith("::test_ollama_answers"))
    assert "connection refused" in ollama["message"]
    assert any(s.startswith("The Ollama model is pulled") for s in ollama["symptoms"])
    assert checks["test_kokoro_answers"]["message"].startswith("not applicable: voice is disabled")
