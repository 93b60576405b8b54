"""The command line: one exit-code contract, lazy command imports, options as pytest reads them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from acore_doctor import cli
from tests.support.runs import SUITE_ROOT, clean_env


def acore_doctor(*args: str, cwd: Path = SUITE_ROOT, timeout: float = 300, **env: str):
    return subprocess.run(
        [sys.executable, "-m", "acore_doctor.cli", *args],
        cwd=cwd,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_help_lists_every_command_without_importing_any():
    code = (
        "import sys; from acore_doctor.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('pytest', 'aiohttp', 'psutil', 'acore_doctor.commands.run',"
        " 'acore_doctor.settings') if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=clean_env(), timeout=60
    )
    assert "HEAVY []" in done.stdout, done.stdout + done.stderr
    for name in cli.COMMANDS:
        assert f"\n    {name} " in done.stdout


def test_run_honours_acore_bot_dir(bot, tmp_path):
    reports = tmp_path / "reports"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = acore_doctor(
        "run",
        f"--report-dir={reports}",
        "health_tests/test_config.py",
        "-q",
        cwd=elsewhere,
        ACORE_BOT_DIR=str(bot.root),
    )
    assert done.returncode in (0, 1, 2), done.stdout[-2000:] + done.stderr[-2000:]
    report = json.loads((reports / "latest.json").read_text())
    assert report["environment"]["bot_dir"] == str(bot.root.resolve())


def test_run_maps_pytest_usage_error_to_unknown(bot, tmp_path):
    done = acore_doctor("run", f"--bot-dir={bot.root}", "--no-such-pytest-option")
    assert done.returncode == 3, done.stdout[-2000:] + done.stderr[-2000:]


def test_run_interrupted_writes_its_report_as_plain_pytest_does(bot, tmp_path):
    """Ctrl-C at a terminal signals the whole foreground process group: the CLI and its
    pytest child. The child writes its (interrupted) report; the CLI passes its 130 on."""
    import os
    import signal
    import time

    from acore_doctor.simulate import Simulator

    with Simulator(["ollama"], faults={"ollama": "hang"}) as sim:
        env = clean_env(OLLAMA_HOST=sim.url("ollama"), LLM_PROVIDER="ollama")
        proc = subprocess.Popen(
            [sys.executable, "-m", "acore_doctor.cli", "run", f"--bot-dir={bot.root}",
             f"--report-dir={tmp_path}", "health_tests/test_llm.py", "--probe-timeout=60",
             "--probe-budget=120"],
            cwd=SUITE_ROOT, env=env, start_new_session=True, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while not sim.sims["ollama"].requests and time.monotonic() < deadline:
                time.sleep(0.05)  # the run is waiting for its (hanging) probes now
            assert sim.sims["ollama"].requests, "the run never probed"
            os.killpg(proc.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
            output, _ = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    assert proc.returncode == 130, output[-2000:]
    summary = json.loads((tmp_path / "latest.json").read_text())["summary"]
    assert (summary["exit_code"], summary["overall_status"]) == (130, "interrupted")


def test_debug_mode_gives_run_the_tracebacks(bot, tmp_path):
    bot.set_env(DISCORD_TOKEN="nope")
    check = "health_tests/test_config.py::test_discord_token_shape"
    quiet = acore_doctor("run", f"--bot-dir={bot.root}", f"--report-dir={tmp_path}", check)
    loud = acore_doctor(
        "run", f"--bot-dir={bot.root}", f"--report-dir={tmp_path}", check, DEBUG_MODE="true"
    )
    assert quiet.returncode == loud.returncode == 2
    assert "= FAILURES =" not in quiet.stdout  # the doctor summary explains it once
    assert "= FAILURES =" in loud.stdout, loud.stdout[-2000:]  # pytest's own section too
    assert "acore-doctor DEBUG" in loud.stderr and "running " in loud.stderr
