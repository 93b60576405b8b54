"""``serve`` is safe by default: loopback only unless an address and a token are both given;
strangers get the status of /healthz and nothing else; runs started over HTTP are
rate-limited."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.runs import SUITE_ROOT, clean_env

TOKEN = "0123456789abcdef0123456789abcdef"
ONE_CHECK = "health_tests/test_config.py::test_discord_token_shape"


def serve_cmd(bot_dir: Path, reports: Path, *args: str) -> list[str]:
    return [
        sys.executable, "-m", "acore_doctor.cli", "serve", f"--bot-dir={bot_dir}",
        f"--report-dir={reports}", "--port=0", *args, ONE_CHECK,
    ]  # fmt: skip


@pytest.fixture
def server(bot, tmp_path):
    procs = []

    def start(*args: str) -> str:
        proc = subprocess.Popen(
            serve_cmd(bot.root, tmp_path / "reports", *args),
            cwd=SUITE_ROOT,
            env=clean_env(),
            stdout=subprocess.PIPE,
            text=True,
        )
        procs.append(proc)
        line = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert match, line
        return match.group(0)

    yield start
    for proc in procs:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def get(url: str, token: str | None = None) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=60) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10"])
def test_binding_beyond_loopback_without_a_token_is_refused(bot, tmp_path, host):
    done = subprocess.run(
        serve_cmd(bot.root, tmp_path / "reports", f"--host={host}"),
        cwd=SUITE_ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3, done.stdout + done.stderr
    assert "--token-file" in done.stderr and "listening" not in done.stdout


def test_a_short_token_is_refused(bot, tmp_path):
    weak = tmp_path / "token"
    weak.write_text("1234\n")
    done = subprocess.run(
        serve_cmd(bot.root, tmp_path / "reports", "--host=0.0.0.0", f"--token-file={weak}"),
        cwd=SUITE_ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3 and "16 characters" in done.stderr, done.stderr


def test_strangers_get_the_status_only(server, bot, tmp_path):
    bot.set_env(DISCORD_TOKEN="nope")
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    base = server(f"--token-file={token_file}", "--cache-seconds=60")

    status, body = get(base + "/healthz")
    assert status == 503
    assert json.loads(body) == {"status": "critical"}
    assert get(base + "/metrics")[0] == 401
    assert get(base + "/metrics", token="wrong-token-wrong-token")[0] == 401

    status, body = get(base + "/healthz", token=TOKEN)
    full = json.loads(body)
    assert status == 503 and full["issues"][0]["check"] == ONE_CHECK
    status, metrics = get(base + "/metrics", token=TOKEN)
    assert status == 200 and re.search(
        r"acore_doctor_serve_runs_total\{deployment=\"[^\"]+\"\} 1\n", metrics
    )


def test_runs_started_over_http_are_rate_limited(server):
    base = server("--cache-seconds=0", "--max-runs-per-minute=1")
    first = json.loads(get(base + "/healthz")[1])
    assert first["cached"] is False and first["rate_limited"] is False
    for _ in range(5):
        again = json.loads(get(base + "/healthz")[1])
        assert again["rate_limited"] is True and again["timestamp"] == first["timestamp"]
    assert re.search(r"acore_doctor_serve_runs_total\{[^}]*\} 1\n", get(base + "/metrics")[1])
