"""The debug console, driven with --command as an operator's one-liner would be."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

from acore_doctor.simulate import Simulator
from tests.support.builder import make_token
from tests.support.runs import SUITE_ROOT, clean_env

TOKEN = make_token()
API_KEY = "sk-or-v1-0123456789abcdefghijklmnopqrstuv"


def console(bot, command: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "acore_doctor.cli", "console", f"--bot-dir={bot.root}",
         "--command", command],
        cwd=SUITE_ROOT, env=clean_env(**env), capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.fixture
def deployment(bot):
    bot.set_env(DISCORD_TOKEN=TOKEN, OPENROUTER_API_KEY=API_KEY)
    return bot


def leaked(output: str) -> bool:
    return any(s in output for s in (TOKEN, TOKEN[:10], TOKEN[-10:], API_KEY, API_KEY[-10:]))


@pytest.mark.parametrize(
    "command",
    [
        "settings['DISCORD_TOKEN']",
        "print(settings['DISCORD_TOKEN'], settings.get('OPENROUTER_API_KEY'))",
        "settings.show()",
        "import os; print([settings[k] for k in settings.keys()])",
        "raise RuntimeError(settings['OPENROUTER_API_KEY'])",
    ],
)
def test_secrets_are_masked_whatever_shows_them(deployment, command):
    result = console(deployment, command)
    assert not leaked(result.stdout + result.stderr), result.stdout + result.stderr
    assert "***REDACTED***" in result.stdout + result.stderr


def test_settings_show_masks_secrets_but_not_counts(deployment):
    result = console(deployment, "settings.show('TOKEN|OLLAMA_HOST')")
    assert result.returncode == 0
    assert "DISCORD_TOKEN=***REDACTED***" in result.stdout
    assert "OLLAMA_MAX_TOKENS=500" in result.stdout
    assert "OLLAMA_HOST=http://127.0.0.1:11434" in result.stdout


def test_top_level_await(deployment):
    result = console(deployment, "await asyncio.sleep(0.01); print('awaited', 6 * 7)")
    assert result.returncode == 0 and result.stdout.strip() == "awaited 42"


def test_exceptions_exit_1_with_a_short_traceback(deployment):
    result = console(deployment, "1/0")
    assert result.returncode == 1
    assert "ZeroDivisionError" in result.stderr
    assert console(deployment, "def broken(:").returncode == 1


def test_databases_open_read_only_and_are_never_created(deployment):
    path = deployment.root / "data" / "bot.db"
    with sqlite3.connect(path) as conn:
        conn.execute("create table notes (body text)")
        conn.execute("insert into notes values ('hello')")
    result = console(
        deployment, "print(db('bot.db').execute('select body from notes').fetchall()[0][0])"
    )
    assert result.stdout.strip() == "hello", result.stderr
    result = console(deployment, "db('bot.db').execute(\"insert into notes values ('x')\")")
    assert result.returncode == 1 and "readonly" in result.stderr
    result = console(deployment, "db('missing.db')")
    assert result.returncode == 1 and "no SQLite file" in result.stderr
    assert not (deployment.root / "data" / "missing.db").exists()
    assert not (deployment.root / "missing.db").exists()
    assert "bot.db" in console(deployment, "print(databases())").stdout


def test_one_named_check_shows_its_finding(deployment):
    deployment.set_env(DISCORD_TOKEN="Bot abc")
    result = console(deployment, "found = check('discord_token_shape')")
    assert result.returncode == 0, result.stderr
    assert "DISCORD_TOKEN is set and shaped like a bot token" in result.stdout
    assert "severity critical, outcome FAILED" in result.stdout
    assert "fix: Copy the bot token again" in result.stdout


def test_unknown_check_name(deployment):
    result = console(deployment, "check('no_such_check_anywhere')")
    assert "no check" in result.stdout


def test_probe_against_the_simulator(deployment):
    with Simulator(["ollama"]) as sim:
        result = console(deployment, "r = probe('ollama.version')['ollama.version']; print(r.status, r.url)",
                         OLLAMA_HOST=sim.url("ollama"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    status, url = result.stdout.split()
    assert status == "200" and url == sim.url("ollama") + "/api/version"


def test_await_an_async_probe(deployment):
    with Simulator(["ollama"]) as sim:
        result = console(deployment, "r = await aprobe('ollama.tags'); print(r['ollama.tags'].status)",
                         OLLAMA_HOST=sim.url("ollama"))  # fmt: skip
    assert result.stdout.strip() == "200", result.stderr


def test_log_analyzer_is_reachable(deployment):
    result = console(deployment, "code = logs('--all')")
    assert result.returncode == 0, result.stderr
    assert not leaked(result.stdout)
    assert "logs/bot.log" in result.stdout, result.stdout


def test_llm_shortcut_probes_the_configured_provider(deployment):
    with Simulator(["ollama"]) as sim:
        result = console(deployment, "print(sorted((n, r.status) for n, r in llm().items() if hasattr(r, 'status')))",
                         OLLAMA_HOST=sim.url("ollama"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "('ollama.tags', 200)" in result.stdout and "('ollama.version', 200)" in result.stdout
    assert "openrouter" not in result.stdout


def test_statements_piped_on_stdin_run_as_a_script(deployment):
    script = (
        "total = 0\n"
        "for n in range(3):\n"
        "    total += n\n"
        "total * 7\n"
        "print(settings['DISCORD_TOKEN'])\n"
        "raise KeyError('late')\n"
        "print('still here')\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "acore_doctor.cli", "console", f"--bot-dir={deployment.root}"],
        input=script, cwd=SUITE_ROOT, env=clean_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.stdout.splitlines() == ["21", "***REDACTED***", "still here"], result.stdout
    assert "KeyError: 'late'" in result.stderr and "acore-doctor console for" not in result.stdout
    assert result.returncode == 1 and not leaked(result.stdout + result.stderr)


def test_interactive_console_has_completion_and_a_redacted_history(deployment, tmp_path):
    import os
    import pty
    import select
    import time

    history = tmp_path / "history"
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "acore_doctor.cli", "console", f"--bot-dir={deployment.root}"],
        stdin=slave, stdout=slave, stderr=slave, cwd=SUITE_ROOT,
        env=clean_env(TERM="xterm", ACORE_DOCTOR_HISTORY=str(history)),
    )  # fmt: skip
    os.close(slave)
    seen = bytearray()

    def until(token: bytes, timeout: float = 60) -> bytes:
        deadline = time.monotonic() + timeout
        while token not in seen and time.monotonic() < deadline:
            if select.select([master], [], [], 0.2)[0]:
                try:
                    seen.extend(os.read(master, 4096))
                except OSError:
                    break
        assert token in seen, bytes(seen)[-1500:]
        end = seen.index(token) + len(token)
        found = bytes(seen[:end])
        del seen[:end]
        return found

    try:
        assert b"acore-doctor console for" in until(b">>> ")
        os.write(master, b"datab\t")  # tab completion of a helper name
        until(b"databases()")  # a helper without arguments completes with its ()
        os.write(master, b"\n")
        until(b">>> ")
        os.write(master, f"note = '{TOKEN}'; print(6 * 7)\n".encode())
        until(b"42")  # what is typed echoes as typed; the history keeps it masked
        until(b">>> ")
        os.write(master, b"\x04")  # Ctrl-D leaves
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    lines = history.read_text().splitlines()
    assert lines[-2:] == ["databases()", "note = '***REDACTED***'; print(6 * 7)"], lines
    assert history.stat().st_mode & 0o077 == 0
