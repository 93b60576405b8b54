"""Issue 18 (startup), done when: green means the bot will start, judged as the bot's own user.

Each test builds a throw-away deployment from the demo, breaks it the way operators do, and
runs the real suite on it in a child process (we run as root here, so files owned by root and
a unit with ``User=nobody`` are real).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from acore_doctor.demo import copy_sample, stop_standin_bot
from tests.support.builder import DeploymentBuilder
from tests.support.loggen import LogGen
from tests.support.runs import clean_env

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to own files as root")


@pytest.fixture
def open_bot() -> Iterator[DeploymentBuilder]:
    """A deployment under a directory every user may enter (pytest's tmp_path is 0700 root,
    which no other user could run a bot from)."""
    root = Path(tempfile.mkdtemp(prefix="acore-startup-", dir="/tmp"))
    root.chmod(0o755)
    try:
        yield DeploymentBuilder(root / "acore_bot")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _by_name(report: dict) -> dict[str, dict]:
    return {c["nodeid"].split("::")[-1]: c for c in report["checks"]}


def _unit_with_drop_in(directory: Path, bot_dir: Path, user: str) -> Path:
    """The installer's unit (User= the operator) and a drop-in that changes the user: systemd
    applies the drop-in last, so the bot runs as ``user``."""
    unit = directory / "discordbot.service"
    directory.mkdir(parents=True, exist_ok=True)
    unit.write_text(
        "[Service]\nType=simple\nUser=root\n"
        f"WorkingDirectory={bot_dir}\nExecStart=/usr/bin/python3 main.py\nRestart=on-failure\n"
        "StartLimitBurst=5\n"
    )
    drop_in = directory / "discordbot.service.d"
    drop_in.mkdir()
    (drop_in / "10-user.conf").write_text(f"[Service]\nUser={user}\n")
    return unit


def test_env_readable_only_by_root_with_the_unit_running_the_bot_as_nobody_is_critical(
    open_bot: DeploymentBuilder, run_suite, tmp_path: Path
) -> None:
    open_bot.env_path.chmod(0o600)  # root-owned 0600: python-dotenv as nobody gets EACCES
    unit = _unit_with_drop_in(tmp_path / "units", open_bot.root, "nobody")
    run = run_suite(
        open_bot.root, "--offline", "-m", "critical", "--allow-stopped", f"--systemd-unit={unit}"
    )
    assert run.code == 2, run.stdout[-3000:]
    finding = run.finding("test_start_files_usable_by_bot_user")
    assert finding["outcome"] == "failed"
    message = finding["message"]
    assert ".env (the settings python-dotenv loads at start) cannot be read by nobody" in message
    assert "mode 0600, owner root:root" in message
    assert "User=nobody" in finding["details"] and "1 drop-in" in finding["details"]
    assert "chown" in finding["recommendation"] and "create" not in finding["recommendation"]
    # The suite itself (root) reads .env fine: its own check is no finding.
    assert run.finding("test_env_file_present")["outcome"] == "passed"


def test_the_same_deployment_run_as_root_by_its_unit_has_no_access_finding(
    open_bot: DeploymentBuilder, run_suite, tmp_path: Path
) -> None:
    open_bot.env_path.chmod(0o600)
    unit = _unit_with_drop_in(tmp_path / "units", open_bot.root, "root")
    run = run_suite(
        open_bot.root, "--offline", "-m", "critical", "--allow-stopped", f"--systemd-unit={unit}"
    )
    finding = run.finding("test_start_files_usable_by_bot_user")
    assert finding["outcome"] == "passed", finding["message"]


def test_a_log_path_that_is_a_directory_is_one_critical_finding(
    bot: DeploymentBuilder, run_suite
) -> None:
    for old in (bot.root / "logs").glob("bot.log*"):
        old.unlink()
    (bot.root / "logs" / "bot.log").mkdir()
    run = run_suite(bot.root, "--offline", "-m", "critical", "--allow-stopped")
    assert run.code == 2
    finding = run.finding("test_start_files_usable_by_bot_user")
    assert finding["outcome"] == "failed"
    assert "logs/bot.log (the log file it appends to) is a directory" in finding["message"]


def test_a_syntax_error_in_config_voice_is_critical_and_its_keys_stay_live(
    bot: DeploymentBuilder, run_suite
) -> None:
    voice = bot.root / "config" / "voice.py"
    lines = voice.read_text().splitlines()
    lines.insert(9, "    BROKEN = (")  # a half-done edit
    voice.write_text("\n".join(lines) + "\n")
    bot.set_env(KOKORO_VOICE="af_bella", TTS_ENGINE="kokoro_api")
    run = run_suite(bot.root, "--offline", "--allow-stopped")
    assert run.code == 2
    loads = run.finding("test_config_code_loads")
    assert loads["outcome"] == "failed" and loads["severity"] == "critical"
    assert "config/voice.py:" in loads["message"] and "SyntaxError" in loads["message"]
    dead = run.finding("test_no_dead_keys")
    for key in ("KOKORO_VOICE", "TTS_ENGINE", "KOKORO_API_URL", "DISCORD_VOICE_ENABLED"):
        assert f"{key}:" not in dead["message"], dead["message"]
    # No longer a warning of the catalog check: the critical check owns it.
    assert run.finding("test_catalog_matches_bot_source")["outcome"] == "passed"


def test_the_dashboard_with_password_admin_on_all_interfaces_is_critical(
    bot: DeploymentBuilder, run_suite
) -> None:
    bot.set_env(ANALYTICS_DASHBOARD_ENABLED="true", ANALYTICS_PASSWORD="admin")
    run = run_suite(bot.root, "--offline", "-m", "critical", "--allow-stopped")
    assert run.code == 2
    finding = run.finding("test_dashboard_not_exposed")
    assert finding["outcome"] == "failed"
    assert "ANALYTICS_PASSWORD is the default 'admin'" in finding["message"]
    assert "0.0.0.0:8080" in finding["message"]
    # A real password: no finding.
    bot.set_env(ANALYTICS_PASSWORD="Zq8vN2kLr5TgW1xyQ7mB")
    run = run_suite(bot.root, "--offline", "-m", "critical", "--allow-stopped")
    assert run.finding("test_dashboard_not_exposed")["outcome"] == "passed"


def test_a_directory_that_is_no_deployment_is_one_finding_and_exit_3(
    tmp_path: Path, run_suite
) -> None:
    somewhere = tmp_path / "downloads"
    somewhere.mkdir()
    (somewhere / "notes.txt").write_text("not a bot\n")
    run = run_suite(somewhere)
    assert run.code == 3, run.stdout[-3000:]
    report = run.report
    assert len(report["checks"]) == 1
    (only,) = report["checks"]
    assert only["nodeid"].endswith("test_is_an_acore_bot_deployment")
    assert "not an acore_bot deployment" in only["message"]
    assert report["summary"]["exit_code"] == 3
    assert "not an acore_bot deployment" in report["summary"]["reason"]


def test_the_sample_deployment_is_an_acore_bot_deployment(
    bot: DeploymentBuilder, run_suite
) -> None:
    run = run_suite(bot.root, "--offline", "-m", "critical", "--allow-stopped")
    assert run.finding("test_is_an_acore_bot_deployment")["outcome"] == "passed"


# -- ready, not merely running --------------------------------------------------------------
def _start_launcher(bot_dir: Path, stderr_file: Path) -> subprocess.Popen[bytes]:
    """A stand-in launcher.py (the demo's sleeping main.py) whose stderr goes to a file, as
    'nohup python launcher.py 2>>launcher.err &' leaves it: no ready line is ever written by
    it and it opens no connection."""
    shutil.copy(bot_dir / "main.py", bot_dir / "launcher.py")
    (bot_dir / "main.py").unlink()
    with open(stderr_file, "ab") as err:
        proc = subprocess.Popen(
            [sys.executable, "launcher.py"],
            cwd=bot_dir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "ACORE_DEMO_BOT_SECONDS": "120"},
        )
    time.sleep(0.5)  # its command line is visible, and its start is in the past
    return proc


def _ready_checks(run_suite, bot_dir: Path):
    """The two readiness checks, with no grace: the stand-in is past the timeout at once."""
    return run_suite(
        bot_dir,
        "--offline",
        "--log-ready-grace-minutes=0",
        "health_tests/test_logs.py::test_ready_since_start",
        "health_tests/test_logs.py::test_ready_could_be_verified",
        env=clean_env(),
    )


def test_a_launcher_running_past_the_timeout_without_ready_line_or_gateway_is_critical(
    bot: DeploymentBuilder, run_suite
) -> None:
    proc = _start_launcher(bot.root, bot.root / "launcher.err")
    try:
        run = _ready_checks(run_suite, bot.root)
    finally:
        stop_standin_bot(proc)
    finding = run.finding("test_ready_since_start")
    assert finding["outcome"] == "failed" and finding["severity"] == "critical"
    assert "running but not connected" in finding["message"]
    assert f"pid {proc.pid} (runtime)" in finding["message"]
    assert "none to port 443" in finding["message"]
    assert run.code == 2


def test_a_launcher_that_logged_its_ready_line_to_its_stderr_file_passes(
    bot: DeploymentBuilder, run_suite
) -> None:
    err = bot.root / "launcher.err"
    proc = _start_launcher(bot.root, err)
    try:
        gen = LogGen(start=time.time(), millis=True).start(runtime=True)
        with open(err, "ab") as handle:
            handle.write(b"".join(line + b"\n" for line in gen.lines))
        run = _ready_checks(run_suite, bot.root)
    finally:
        stop_standin_bot(proc)
    finding = run.finding("test_ready_since_start")
    assert finding["outcome"] == "passed", finding["message"]
    assert "ready line at" in finding["details"]
    assert run.finding("test_ready_could_be_verified")["outcome"] == "passed"


# -- advice that fits -----------------------------------------------------------------------
def test_dead_key_advice_fits_the_bot(bot: DeploymentBuilder, run_suite) -> None:
    bot.set_env(DATA_DIR="/srv/data", ANALYTICS_PASSWORD="Zq8vN2kLr5TgW1xyQ7mB")
    run = run_suite(bot.root, "--offline", "--allow-stopped", "health_tests/test_config.py")
    dead = run.finding("test_no_dead_keys")["message"]
    assert "DATA_DIR: the bot hard-codes its data directory" in dead
    assert "RL_DATA_DIR" not in dead
    # The password is set here: no "(default 'admin')".
    assert "ANALYTICS_API_KEY: the dashboard reads ANALYTICS_PASSWORD (set here)" in dead
    assert "default 'admin'" not in dead


def test_a_port_answered_by_another_program_is_one_root_finding(
    bot: DeploymentBuilder, run_suite, sim
) -> None:
    sim.set_fault("ollama", "404")
    run = run_suite(
        bot.root,
        "--allow-stopped",
        "health_tests/test_llm.py",
        "health_tests/test_system.py",
        env=clean_env(**sim.env()),
    )
    root = run.finding("test_ollama_answers")
    assert root["outcome"] == "failed"
    assert "answers, but not as Ollama" in root["message"]
    for name in ("test_model_pulled", "test_loaded_models"):
        assert run.finding(name)["outcome"] == "blocked", run.finding(name)
    issues = [i["check"].split("::")[-1] for i in run.report["issues"]]
    assert [i for i in issues if "ollama" in i or "model" in i or "canary" in i] == [
        "test_ollama_answers"
    ]
    (entry,) = [i for i in run.report["issues"] if i["check"].endswith("::test_ollama_answers")]
    assert len(entry.get("symptoms", [])) >= 2, entry


def test_the_ollama_cli_is_not_asked_for_when_the_api_answers(
    bot: DeploymentBuilder, run_suite, sim
) -> None:
    bot.set_env(LLM_PROVIDER="ollama")
    run = run_suite(
        bot.root,
        "--allow-stopped",
        "health_tests/test_system.py::test_ollama_cli",
        env=clean_env(**sim.env(), PATH="/usr/bin:/bin"),
    )
    finding = run.finding("test_ollama_cli")
    assert finding["outcome"] == "passed", finding
    assert "answers at" in finding["details"]


def test_copy_sample_is_a_deployment() -> None:
    # Guards the fixtures above: the demo copy has an entrypoint and config code.
    with tempfile.TemporaryDirectory() as tmp:
        root = copy_sample(Path(tmp) / "bot")
        assert (root / "main.py").is_file() and (root / "config").is_dir()


OLD_LAYOUT_CONFIG = """import os
from pathlib import Path


class Config:
    DISCORD_TOKEN: str = os.getenv("DISCORD_TOKEN", "")
    OLLAMA_TEMPERATURE: float = float(os.getenv("OLLAMA_TEMPERATURE", "1.17"))
    DATA_DIR: Path = Path("data")

    @classmethod
    def validate(cls) -> bool:
        if not cls.DISCORD_TOKEN:
            raise ValueError("DISCORD_TOKEN is required")
        if not (0.0 <= cls.OLLAMA_TEMPERATURE <= 2.0):
            raise ValueError(f"OLLAMA_TEMPERATURE must be between 0.0 and 2.0, got {cls.X}")
        cls.DATA_DIR.mkdir(parents=True, exist_ok=True)
        return True


Config.validate()
"""


def test_a_config_py_only_bot_whose_validate_raises_is_critical(
    bot: DeploymentBuilder, run_suite
) -> None:
    shutil.rmtree(bot.root / "config")
    (bot.root / "config.py").write_text(OLD_LAYOUT_CONFIG)
    bot.set_env(OLLAMA_TEMPERATURE="2.5")
    run = run_suite(bot.root, "--offline", "--allow-stopped", "health_tests/test_config.py")
    finding = run.finding("test_config_validate_accepts")
    assert finding["outcome"] == "failed" and finding["severity"] == "critical"
    assert "OLLAMA_TEMPERATURE must be between 0.0 and 2.0" in finding["message"]
    assert "config.py:" in finding["message"] and "OLLAMA_TEMPERATURE=2.5" in finding["message"]
    # Not repeated as the range warning, which no longer says "the old validator is shadowed".
    ranges = run.finding("test_ranges")
    assert "OLLAMA_TEMPERATURE" not in ranges["message"]
    assert "shadowed" not in ranges["recommendation"]
    bot.set_env(OLLAMA_TEMPERATURE="1.0")
    run = run_suite(bot.root, "--offline", "--allow-stopped", "health_tests/test_config.py")
    assert run.finding("test_config_validate_accepts")["outcome"] == "passed"
