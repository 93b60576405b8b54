"""Which bot runs here (systemd unit, process, files, override), the bot's interpreter, and
the runtime (launcher.py) path's own checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from acore_doctor.demo import make_bot_venv, start_standin_bot, stop_standin_bot
from acore_doctor.probes.bot_process import find_bot_processes
from acore_doctor.probes.entrypoint import detect_entrypoint, find_units
from acore_doctor.probes.interpreter import Interpreter, find_bot_interpreter, probe_python
from tests.support.builder import DeploymentBuilder
from tests.support.local_suite import RELAXED, make_healthy, run_checks

#: Asked to import discord (the probe imports nothing unless asked).
DISCORD = (("discord", "discord.py"),)
PYENV = Path(os.path.expanduser("~/.pyenv/versions"))


def other_python(major_minor: str) -> str | None:
    for candidate in (
        f"/usr/bin/python{major_minor}",
        f"/usr/local/bin/python{major_minor}",
        *map(str, sorted(PYENV.glob(f"{major_minor}.*/bin/python{major_minor}"))),
    ):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def unit_file(directory: Path, bot_dir: Path, exec_start: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "discordbot.service"
    path.write_text(
        "[Unit]\nDescription=acore bot\n\n[Service]\nType=simple\n"
        f"WorkingDirectory={bot_dir}\nExecStart={exec_start}\nRestart=always\n"
    )
    return path


def test_systemd_unit_wins_over_process_and_files(tmp_path: Path, bot: DeploymentBuilder) -> None:
    units_dir = tmp_path / "units"
    unit_file(units_dir, bot.root, "/usr/local/bin/uv run python launcher.py --profile discord")
    (units_dir / "other.service").write_text(
        "[Service]\nWorkingDirectory=/srv/else\nExecStart=x main.py\n"
    )
    units = find_units(bot.root, (units_dir, tmp_path / "absent"))
    assert [u.path.name for u in units] == ["discordbot.service"]
    standin = start_standin_bot(bot.root)
    try:
        processes = find_bot_processes(bot.root)
        found = detect_entrypoint(bot.root, None, units, processes)
        assert (found.kind, found.source) == ("runtime", "systemd")
        by_process = detect_entrypoint(bot.root, None, [], processes)
        assert (by_process.kind, by_process.source) == ("legacy", "process")
        assert by_process.detail.startswith(f"pid {standin.pid}")
    finally:
        stop_standin_bot(standin)


def test_process_of_another_deployment_is_not_this_bot(
    tmp_path: Path, bot: DeploymentBuilder
) -> None:
    other = DeploymentBuilder(tmp_path / "other_bot")
    standin = start_standin_bot(other.root)
    try:
        assert find_bot_processes(bot.root) == []
        assert [p.pid for p in find_bot_processes(other.root)] == [standin.pid]
    finally:
        stop_standin_bot(standin)


def test_interpreter_prefers_the_bots_venv(bot: DeploymentBuilder) -> None:
    python = make_bot_venv(bot.root / ".venv")
    found = find_bot_interpreter(bot.root)
    assert (found.path, found.source) == (str(python), ".venv")
    facts = probe_python(found, DISCORD)
    assert facts.in_venv and facts.packages["discord"].importable
    assert not list(bot.root.rglob("__pycache__")), "the probe wrote bytecode into the deployment"


def test_bot_venv_sees_only_its_own_packages(tmp_path: Path) -> None:
    """Built from any interpreter (a venv's included), it imports its stand-ins and nothing
    from the environment that built it."""
    python = make_bot_venv(tmp_path / ".venv")
    code = (
        "import sys, importlib.metadata as m, discord, dotenv\n"
        "try:\n    import pytest\nexcept ImportError:\n    pytest = None\n"
        "print(sys.prefix, m.version('python-dotenv'), pytest is None)"
    )
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)
    prefix, version, isolated = done.stdout.split()
    assert Path(prefix) == tmp_path / ".venv" and version == "1.0.1" and isolated == "True"


def test_suite_python_is_not_the_bots(bot: DeploymentBuilder) -> None:
    """The suite's own interpreter has no discord.py: the check must see the bot's instead."""
    python = make_bot_venv(bot.root / ".venv")
    facts = probe_python(find_bot_interpreter(bot.root), DISCORD)
    suite = subprocess.run([sys.executable, "-c", "import discord"], capture_output=True)
    assert facts.interpreter.path == str(python)
    assert facts.packages["discord"].importable and suite.returncode != 0


def test_broken_interpreters_give_a_fact_not_a_crash(tmp_path: Path) -> None:
    garbage = tmp_path / "python"
    garbage.write_text("#!/bin/sh\necho 'not python'\nexit 3\n")
    garbage.chmod(0o755)
    facts = probe_python(Interpreter(str(garbage), "option"))
    assert facts.error and "exited with 3" in facts.error
    missing = probe_python(Interpreter(str(tmp_path / "nope"), "option"))
    assert missing.error and "cannot run" in missing.error


def test_old_python_fails_the_version_check(bot: DeploymentBuilder, tmp_path: Path) -> None:
    old = other_python("3.10")
    if old is None:
        pytest.skip("needs a Python 3.10 interpreter on this host")
    run = run_checks(
        bot.root,
        tmp_path / "r",
        *RELAXED,
        f"--bot-python={old}",
        files=("health_tests/test_environment.py",),
    )
    finding = run.finding("test_python_version")
    assert finding["outcome"] == "failed"
    assert "expected Python >= 3.11, found 3.10" in finding["message"]


def test_audioop_warning_on_python_313(bot: DeploymentBuilder, tmp_path: Path) -> None:
    new = other_python("3.13")
    if new is None:
        pytest.skip("needs a Python 3.13 interpreter on this host")
    venv = tmp_path / "venv313"
    subprocess.run([new, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "discord").mkdir()
    (site / "discord" / "__init__.py").write_text("")
    (site / "discord" / "player.py").write_text("import audioop\n")
    run = run_checks(
        bot.root,
        tmp_path / "r",
        *RELAXED,
        f"--bot-python={venv}/bin/python",
        files=("health_tests/test_environment.py",),
    )
    finding = run.finding("test_audioop_on_new_python")
    assert finding["outcome"] == "failed", finding
    assert "imports audioop" in finding["message"]


def test_runtime_path_checks(bot: DeploymentBuilder, tmp_path: Path) -> None:
    make_healthy(bot)
    bot.remove("main.py")
    (bot.root / "data/chat_history").rename(bot.root / "data/old_history")
    bot.write_json(
        "data/gestalt_memory/dagoth_ur/1431878519016915044.json",
        {"short_term": [{"role": "user", "content": "hi"}], "long_term_summary": "", "state": {}},
    )
    bot.write("data/gestalt_memory/dagoth_ur/1431878519016915045.json", '{"short_term": [')
    bot.write_json("data/gestalt_memory/hal_9000/1.json", {"short_term": {}, "state": {}})
    config_home = tmp_path / "config"
    (config_home / "gestalt").mkdir(parents=True)
    auth = config_home / "gestalt" / "auth.json"
    auth.write_text(
        json.dumps({"providers": {"ollama": {"api_key": "sk-stale-000000000000000000"}}})
    )
    auth.chmod(0o644)
    bot.set_env(CHARACTER="goth_mommy", XDG_CONFIG_HOME=str(config_home))
    run = run_checks(bot.root, tmp_path / "r", *RELAXED, "--allow-stopped")
    assert "only launcher.py present" in run.finding("test_entrypoint_detected")["details"]
    assert run.finding("test_character_resolves")["outcome"] == "passed"
    assert run.finding("test_framework_file")["outcome"] == "skipped"
    assert run.finding("test_bot_process_running")["outcome"] == "skipped"
    parse = run.finding("test_state_files_parse")
    assert (
        parse["outcome"] == "failed"
        and "gestalt_memory/dagoth_ur/1431878519016915045.json" in parse["message"]
    )
    assert "'short_term' is not a list" in run.finding("test_state_files_shape")["message"]
    credentials = run.finding("test_runtime_credentials")
    assert credentials["outcome"] == "failed"
    assert "holds a secret for ollama" in credentials["message"]
    assert "mode 0644" in credentials["message"]
    assert "sk-stale" not in json.dumps(run.report)
    # data/chat_history is the legacy path's; the runtime one needs data/gestalt_memory
    assert run.finding("test_bot_dirs_writable")["outcome"] == "passed"


def test_legacy_character_is_a_file_stem(bot: DeploymentBuilder, tmp_path: Path) -> None:
    make_healthy(bot)
    bot.set_env(CHARACTER="goth_mommy")  # the runtime id; legacy needs the stem 'gothmommy'
    run = run_checks(
        bot.root,
        tmp_path / "r",
        *RELAXED,
        "--entrypoint=legacy",
        files=("health_tests/test_personas.py",),
    )
    finding = run.finding("test_character_resolves")
    assert finding["outcome"] == "failed"
    assert "file stem" in finding["message"] and "gothmommy" in finding["message"]


def test_service_unit_sanity(bot: DeploymentBuilder, tmp_path: Path) -> None:
    make_healthy(bot)
    loose = unit_file(tmp_path / "loose", bot.root, "/usr/bin/python3 launcher.py")
    tight = unit_file(
        tmp_path / "tight", bot.root, "/usr/bin/python3 launcher.py --profile discord"
    )
    tight.write_text(tight.read_text().replace("[Service]", "StartLimitBurst=5\n\n[Service]"))
    runs = {
        name: run_checks(
            bot.root,
            tmp_path / f"r-{name}",
            *RELAXED,
            f"--systemd-unit={unit}",
            files=("health_tests/test_environment.py",),
        )
        for name, unit in (("loose", loose), ("tight", tight))
    }
    finding = runs["loose"].finding("test_service_unit_sane")
    assert finding["outcome"] == "failed"
    assert "Restart=always with no StartLimitBurst" in finding["message"]
    assert "launcher.py without --profile discord" in finding["message"]
    assert runs["tight"].finding("test_service_unit_sane")["outcome"] == "passed"
    assert "from systemd" in runs["tight"].finding("test_entrypoint_detected")["details"]


def test_two_bots_and_a_wrapper(bot: DeploymentBuilder, tmp_path: Path) -> None:
    wrapper = subprocess.Popen(["/bin/sh", "-c", "sleep 30", "main.py"], cwd=bot.root)
    first = start_standin_bot(bot.root)
    try:
        assert [p.pid for p in find_bot_processes(bot.root)] == [first.pid]
        second = start_standin_bot(bot.root)
        try:
            run = run_checks(
                bot.root, tmp_path / "r", *RELAXED, files=("health_tests/test_resources.py",)
            )
        finally:
            stop_standin_bot(second)
    finally:
        stop_standin_bot(first)
        wrapper.kill()
        wrapper.wait()
    finding = run.finding("test_single_bot_process")
    assert finding["outcome"] == "failed"
    assert f"pid {first.pid}" in finding["message"] and f"pid {second.pid}" in finding["message"]
    assert str(wrapper.pid) not in finding["message"]
