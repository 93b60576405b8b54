"""``--offline``: the pre-deploy gate in a CI job that cannot reach any service."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from acore_doctor.demo import make_bot_venv
from tests.support.local_suite import RELAXED, env_with_path, make_healthy, make_tools
from tests.support.runs import SUITE_ROOT, clean_env, everything_on, run_suite_process


def test_offline_gate_passes_a_healthy_candidate_and_sends_no_probe(bot, sim, tmp_path):
    make_healthy(bot)
    make_bot_venv(bot.root / ".venv")
    # Every service selected and pointed at the simulator, which records each request; the
    # system tools voice needs are on PATH, as on the host the candidate is deployed to.
    tools = make_tools(tmp_path / "tools", ("ffmpeg", "ollama"))
    env = {**env_with_path(tools, Path("/usr/bin"), Path("/bin")), **everything_on(sim)}
    run = run_suite_process(
        bot.root,
        tmp_path / "reports",
        "--allow-stopped",
        "--offline",
        "-m",
        "critical",
        *RELAXED,
        env=env,
    )
    assert run.code in (0, 1), run.stdout[-3000:] + run.stderr[-2000:]
    sent = {name: len(service.requests) for name, service in sim.sims.items()}
    assert sum(sent.values()) == 0, f"probes were sent while offline: {sent}"
    report = run.report
    assert report["environment"]["offline"] is True
    service_checks = [
        c
        for c in report["checks"]
        if c["nodeid"].split("::")[0].endswith(("test_discord.py", "test_llm.py"))
    ]
    assert service_checks, "no service check was selected"
    for found in service_checks:
        assert found["outcome"] == "skipped", found
        assert "not applicable: offline" in (found.get("message") or ""), found


def test_online_run_says_it_was_not_offline_and_probes(bot, sim, tmp_path):
    env = clean_env(**everything_on(sim))
    run = run_suite_process(
        bot.root, tmp_path / "reports", "health_tests/test_llm.py", "-m", "critical", env=env
    )
    assert run.code in (0, 1, 2), run.stdout[-3000:]
    assert run.report["environment"]["offline"] is False
    assert sim.sims["ollama"].requests, "the online run sent no probe"


def test_the_shipped_workflow_gate_passes_a_healthy_candidate(bot, sim, tmp_path):
    """deploy/github/acore-doctor.yml's gate step, run as the CI job runs it."""
    yaml = pytest.importorskip("yaml")
    workflow = yaml.safe_load((SUITE_ROOT / "deploy/github/acore-doctor.yml").read_text())
    steps = workflow["jobs"]["health"]["steps"]
    gate = next(s["run"] for s in steps if s.get("id") == "doctor")
    verdict = steps[-1]["run"]
    workspace = bot.root.parent  # the job checks the bot out into $GITHUB_WORKSPACE/acore_bot
    make_healthy(bot)
    make_bot_venv(bot.root / ".venv")
    doctor = workspace / "doctor-venv" / "bin" / "acore-doctor"
    doctor.parent.mkdir(parents=True)
    doctor.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m acore_doctor.cli "$@"\n')
    doctor.chmod(0o755)
    tools = make_tools(tmp_path / "tools", ("ffmpeg", "ollama"))
    output = workspace / "github_output"
    env = {
        **env_with_path(tools, Path("/usr/bin"), Path("/bin")),
        **everything_on(sim),
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_OUTPUT": str(output),
    }
    # The thresholds a CI runner's disk and memory might trip are not the candidate's.
    gate = gate.replace("-m critical", "-m critical " + " ".join(RELAXED))
    done = subprocess.run(
        ["bash", "-e", "-c", gate], cwd=workspace, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    code = output.read_text().strip().removeprefix("code=")
    assert code in ("0", "1"), done.stdout[-3000:]
    check = subprocess.run(
        ["bash", "-e", "-c", verdict.replace("${{ steps.doctor.outputs.code }}", code)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert check.returncode == 0, check.stdout
    assert json.loads((workspace / "reports" / "latest.json").read_text())["environment"]["offline"]
    assert sum(len(s.requests) for s in sim.sims.values()) == 0
    assert (workspace / "reports" / "junit.xml").is_file()
