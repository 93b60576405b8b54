"""The profiler, memory breakdown and tracemalloc helper against real child processes."""

from __future__ import annotations

import csv
import json
import struct
import subprocess
import sys
import textwrap
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import psutil
import pytest

from acore_doctor.ops.memory import breakdown
from acore_doctor.ops.profile import sample_process, trend
from tests.support.runs import SUITE_ROOT, clean_env

#: Grows ~20 MB/s (touched pages, so RSS really grows) up to 100 MB, then idles.
MEMORY_LEAK = """
import sys, time
keep = []
print("ready", flush=True)
while True:
    if len(keep) < 100:
        keep.append(b"\\x01" * (1 << 20))
    time.sleep(0.05)
"""
FD_LEAK = """
import time
keep = []
print("ready", flush=True)
while True:
    if len(keep) < 400:
        keep.append(open("/dev/null"))
    time.sleep(0.02)
"""
STEADY = """
import time
ballast = b"\\x01" * (30 << 20)
print("ready", flush=True)
while True:
    time.sleep(0.05)
"""


@contextmanager
def child(
    script: str, path: Path | None = None, cwd: Path | None = None
) -> Iterator[subprocess.Popen]:
    if path is not None:
        path.write_text(textwrap.dedent(script))
        args = [sys.executable, path.name]
    else:
        args = [sys.executable, "-c", textwrap.dedent(script)]
    proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        yield proc
    finally:
        proc.kill()
        proc.wait()


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "acore_doctor.cli", *args],
        cwd=SUITE_ROOT, env=clean_env(), capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def test_memory_leak_is_detected():
    with child(MEMORY_LEAK) as proc:
        profile = sample_process(proc.pid, 1.5, 0.1)
    result = trend(profile.samples)
    assert result["verdict"] == "leak", result
    assert result["rss_mb_per_hour"] > 1000 and result["rss_growth_mb"] > 10
    assert "RSS grows" in result["reasons"][0]


def test_descriptor_leak_is_detected():
    with child(FD_LEAK) as proc:
        profile = sample_process(proc.pid, 1.5, 0.1)
    result = trend(profile.samples)
    assert result["verdict"] == "leak", result
    assert result["fd_growth"] >= 20
    assert any("open descriptors grow" in r for r in result["reasons"])


def test_steady_process_is_stable():
    with child(STEADY) as proc:
        profile = sample_process(proc.pid, 1.5, 0.1)
    result = trend(profile.samples)
    assert result["verdict"] == "stable", result
    assert result["rss_start_mb"] > 30


def test_process_exit_ends_sampling():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.5)"])
    profile = sample_process(proc.pid, 30, 0.1)
    proc.wait()
    assert profile.stopped == "process exited"
    assert trend(profile.samples)["samples"] == len(profile.samples)


def read_png(data: bytes) -> tuple[int, int, bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, kind
        chunks[kind] = chunks.get(kind, b"") + body
        pos += 12 + length
    width, height = struct.unpack(">II", chunks[b"IHDR"][:8])
    return width, height, zlib.decompress(chunks[b"IDAT"])


def test_profile_command_writes_json_csv_png_and_exits_1_on_leak(tmp_path):
    with child(MEMORY_LEAK) as proc:
        result = cli("profile", f"--pid={proc.pid}", "--duration=1.5", "--interval=0.1",
                     f"--report-dir={tmp_path}")  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Verdict: LEAK SUSPECTED" in result.stdout
    files = {p.suffix: p for p in (tmp_path / "profiles").glob("profile_*")}
    assert set(files) == {".json", ".csv", ".png"}
    data = json.loads(files[".json"].read_text())
    assert data["pid"] == proc.pid and data["trend"]["verdict"] == "leak"
    rows = list(csv.DictReader(files[".csv"].open()))
    assert len(rows) == len(data["samples"]) >= 10
    assert float(rows[-1]["rss_mb"]) > float(rows[0]["rss_mb"])
    width, height, pixels = read_png(files[".png"].read_bytes())
    assert len(pixels) == height * (1 + 3 * width)
    assert len(set(pixels)) > 3, "the chart is not blank"
    assert json.loads((tmp_path / "profiles" / "latest.json").read_text())["pid"] == proc.pid


def test_profile_finds_the_bot_process_by_default(bot, tmp_path):
    with child(MEMORY_LEAK, path=bot.root / "main.py", cwd=bot.root) as proc:
        result = cli("profile", f"--bot-dir={bot.root}", "--duration=1.5", "--interval=0.1",
                     f"--report-dir={tmp_path}", "--json")  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert json.loads(result.stdout)["pid"] == proc.pid


def test_profile_without_bot_process_says_so(bot, tmp_path):
    result = cli("profile", f"--bot-dir={bot.root}", "--duration=1", f"--report-dir={tmp_path}")
    assert result.returncode == 3
    assert "no bot process found" in result.stderr and "Traceback" not in result.stderr


def test_cprofile_lists_top_functions(tmp_path):
    script = tmp_path / "work.py"
    script.write_text(
        "def busy_function_xyz():\n    return sum(i * i for i in range(200000))\n\n"
        "for _ in range(5):\n    busy_function_xyz()\n"
    )
    result = cli("profile", "--cprofile", "--top=10", "--", sys.executable, str(script))
    assert result.returncode == 0, result.stderr
    assert "busy_function_xyz" in result.stdout and "cumulative" in result.stdout


def test_cprofile_refuses_non_python_commands():
    result = cli("profile", "--cprofile", "--", "ls", "-l")
    assert result.returncode == 3
    assert "profiles Python programs" in result.stderr


# -- memory breakdown -------------------------------------------------------------------------
def test_memory_breakdown_shows_anonymous_memory_and_children():
    script = STEADY.replace(
        "print(", "import subprocess, sys\nkid = subprocess.Popen(['sleep', '30'])\nprint("
    )
    with child(script) as proc:
        time.sleep(0.2)
        result = breakdown(proc.pid)
    anonymous = sum(
        mb for kind, mb in result.categories.items() if kind.startswith(("anon", "heap"))
    )
    assert anonymous >= 25, result.categories
    assert [c["name"] for c in result.children] == ["sleep"]
    assert result.uss_mb is not None and result.uss_mb <= result.rss_mb


def test_memory_command_reads_the_bot(bot):
    with child(STEADY, path=bot.root / "main.py", cwd=bot.root):
        result = cli("memory", f"--bot-dir={bot.root}", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["rss_mb"] > 30
    assert cli("memory", "--pid=999999999").returncode == 3


# -- in-process tracemalloc helper -------------------------------------------------------------
PROFILED_BOT = """
import time
import acore_doctor.profiling
profiler = acore_doctor.profiling.start_from_env()
cache = []

def remember_everything():
    cache.append("x" * 100_000)

deadline = time.time() + 1.2
while time.time() < deadline:
    remember_everything()
    time.sleep(0.01)
print("profiler" if profiler else "none")
"""


def run_profiled(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "fake_bot.py"
    script.write_text(PROFILED_BOT)
    return subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
        env=clean_env(PYTHONPATH=str(SUITE_ROOT), **env), timeout=60,
    )  # fmt: skip


def test_memory_profiling_writes_top_allocation_diffs(tmp_path):
    log = tmp_path / "logs" / "memory_profile.log"
    result = run_profiled(tmp_path, MEMORY_PROFILING="true", MEMORY_PROFILING_INTERVAL="0.3")
    assert result.stdout.strip() == "profiler", result.stderr
    text = log.read_text()
    assert "tracemalloc started" in text and "snapshot 1:" in text
    first_diff = text.split("snapshot 1:", 1)[1].split("==", 1)[0]
    assert "fake_bot.py:8" in first_diff.splitlines()[1], first_diff


@pytest.mark.parametrize("value", ["", "false", "yes"])
def test_memory_profiling_off_unless_true(tmp_path, value):
    result = run_profiled(tmp_path, MEMORY_PROFILING=value)
    assert result.stdout.strip() == "none"
    assert not (tmp_path / "logs").exists()


# -- the health check ---------------------------------------------------------------------
def run_check(bot_dir: Path, report_dir: Path, *args: str) -> dict:
    subprocess.run(
        [sys.executable, "-m", "pytest", f"--bot-dir={bot_dir}", f"--report-dir={report_dir}",
         "-p", "no:cacheprovider", "health_tests/test_profile.py", *args],
        cwd=SUITE_ROOT, env=clean_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    [finding] = json.loads((report_dir / "latest.json").read_text())["checks"]
    return finding


#: Grows ~4 MB/s for a minute: still growing when a child pytest on a busy host (seconds to
#: start) samples it, where MEMORY_LEAK may already have stopped at its 100 MB.
LASTING_LEAK = MEMORY_LEAK.replace("< 100", "< 1200").replace("(1 << 20)", "(1 << 18)")


@pytest.mark.host_timing
def test_leak_check_warns_on_a_leaking_bot(bot, tmp_path):
    with child(LASTING_LEAK, path=bot.root / "main.py", cwd=bot.root) as proc:
        finding = run_check(bot.root, tmp_path, "--profile-sample=3")
    assert finding["outcome"] == "failed" and finding["severity"] == "warning"
    assert "RSS grows" in finding["message"] and f"pid {proc.pid}" in finding["message"]


def test_leak_check_uses_a_recent_profile(bot, tmp_path):
    with child(STEADY) as proc:
        cli("profile", f"--pid={proc.pid}", "--duration=1", "--interval=0.1",
            f"--report-dir={tmp_path}")  # fmt: skip
    finding = run_check(bot.root, tmp_path)
    assert finding["outcome"] == "passed", finding


def test_leak_check_skips_without_bot_or_profile(bot, tmp_path):
    finding = run_check(bot.root, tmp_path)
    assert finding["outcome"] == "skipped"
    assert finding["message"].startswith("not applicable: no bot process")


PERF_BOT = """
import os, signal, time
import acore_doctor.profiling
profilers = acore_doctor.profiling.start_from_env()

def handle_message_slowly():
    return sum(i * i for i in range(300_000))

for _ in range(3):
    handle_message_slowly()
os.kill(os.getpid(), signal.SIGUSR1)
time.sleep(0.2)
print("perf" if profilers.performance else "none")
"""


def test_performance_profiling_dumps_top_functions_on_sigusr1_and_exit(tmp_path):
    script = tmp_path / "perf_bot.py"
    script.write_text(PERF_BOT)
    result = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
        env=clean_env(PYTHONPATH=str(SUITE_ROOT), PERFORMANCE_PROFILING="true"), timeout=60,
    )  # fmt: skip
    assert result.stdout.strip() == "perf", result.stderr
    text = (tmp_path / "logs" / "performance_profile.log").read_text()
    assert text.count("cProfile of the main thread") == 2
    assert "(SIGUSR1)" in text and "(exit)" in text
    assert "handle_message_slowly" in text


def write_history(report_dir: Path, pid: int, rss_values: list[float], hours: float) -> None:
    report_dir.mkdir(parents=True, exist_ok=True)
    now = time.time()
    lines = []
    for n, rss in enumerate(rss_values):
        when = now - hours * 3600 * (1 - n / len(rss_values))
        stamp = datetime.fromtimestamp(when).isoformat(timespec="seconds")
        metrics = {"bot_pid": pid, "bot_rss_mb": rss, "bot_fds": 10}
        lines.append(json.dumps({"t": stamp, "status": "healthy", "metrics": metrics}))
    (report_dir / "history.jsonl").write_text("\n".join(lines) + "\n")


def test_leak_check_reads_the_trend_of_earlier_runs(bot, tmp_path):
    with child(STEADY, path=bot.root / "main.py", cwd=bot.root) as proc:
        rss = psutil.Process(proc.pid).memory_info().rss / 2**20
        write_history(tmp_path, proc.pid, [rss - 100, rss - 80, rss - 60, rss - 40, rss - 20], 2.0)
        finding = run_check(bot.root, tmp_path)
    assert finding["outcome"] == "failed", finding
    assert "last 6 runs over 2.0 h" in finding["message"] and "RSS grows" in finding["message"]
    recorded = json.loads((tmp_path / "latest.json").read_text())["metrics"]
    assert recorded["bot_pid"] == proc.pid and abs(recorded["bot_rss_mb"] - rss) < 20


def test_runs_of_another_process_do_not_count(bot, tmp_path):
    with child(STEADY, path=bot.root / "main.py", cwd=bot.root) as proc:
        write_history(tmp_path, proc.pid + 1, [10, 200, 400, 600, 800], 2.0)
        finding = run_check(bot.root, tmp_path, "--profile-sample=1")
    assert finding["outcome"] == "passed", finding


def test_profile_threshold_option_is_used_and_saved(tmp_path):
    with child(STEADY) as proc:
        result = cli("profile", f"--pid={proc.pid}", "--duration=1", "--interval=0.1",
                     f"--report-dir={tmp_path}", "--leak-mb-per-hour=-1", "--json")  # fmt: skip
    data = json.loads(result.stdout)
    assert data["leak_mb_per_hour"] == -1
    saved = json.loads((tmp_path / "profiles" / "latest.json").read_text())
    assert saved["trend"] == data["trend"]
