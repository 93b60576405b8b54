"""The demo shows local checks failing for realistic reasons, with a real bot process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psutil

from tests.support.runs import SUITE_ROOT, clean_env


def standins() -> list[int]:
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmdline = proc.info["cmdline"] or []
        try:
            if cmdline[1:2] == ["main.py"] and "acore-doctor-demo-" in proc.cwd():
                found.append(proc.info["pid"])
        except (psutil.Error, OSError):
            continue
    return found


def test_demo_local_findings(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "acore_doctor.cli", "demo", f"--report-dir={tmp_path}"],
        cwd=SUITE_ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode in (1, 2), done.stdout[-3000:] + done.stderr[-2000:]
    report = json.loads((tmp_path / "latest.json").read_text())
    checks = {c["nodeid"].split("::")[-1]: c for c in report["checks"]}
    assert checks["test_bot_process_running"]["outcome"] == "passed"
    assert "from process" in checks["test_entrypoint_detected"]["details"]
    # The bot's interpreter is the sample deployment's own venv, never the one running us.
    python = checks["test_python_version"]["details"]
    assert "acore-doctor-demo-" in python and "/acore_bot/.venv/bin/python" in python, python
    assert sys.prefix not in python
    for name in ("test_declared_dependencies_installed", "test_virtual_environment"):
        assert checks[name]["outcome"] == "passed", checks[name]
    # Nor is the host judged: its tools and load are not the sample's faults.
    host = (
        "test_ffmpeg_present",
        "test_ffmpeg_for_voice",
        "test_ollama_cli",
        "test_cpu",
        "test_memory",
    )
    for name in host:
        assert checks[name]["outcome"] != "failed", checks[name]
    expected = {
        "test_state_files_parse": "data/chat_history/1431878519016915045.json",
        "test_no_stray_tmp": "data/rl/rl_policies.json.tmp",
        "test_persona_extensions": "'Dark Poetry'",
        "test_no_dead_keys": "ANALYTICS_API_KEY",
        "test_values_bot_understands": "CHAT_HISTORY_MAX_MESSAGES='twenty'",
    }
    for name, text in expected.items():
        assert checks[name]["outcome"] == "failed", checks[name]
        assert text in checks[name]["message"], checks[name]["message"]
    assert standins() == [], "the demo left its stand-in bot running"
