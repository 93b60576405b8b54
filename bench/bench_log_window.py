"""Cost of the log checks' window read on a 10 MB log vs a 1 GB log (target ratio <= 1.5).

Both logs end with the same recent hour (a start, chat, a small error storm); before it, the
big one holds ~1 GB of old records, made fast by repeating one generated block. The checks
read only the window from the end of the file, so their cost must not follow the file size.
Measured side by side, alternating, the median of several runs each; both the window read
alone and the whole ``health_tests/test_logs.py`` run in a child pytest are timed.

    python3 bench/bench_log_window.py                 # 10 MB vs 1 GB (the issue's sizes)
    python3 bench/bench_log_window.py --big-mb 200    # quicker
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from acore_doctor.logs.sources import find_log_files  # noqa: E402
from acore_doctor.logs.window import read_file_window  # noqa: E402
from tests.support.builder import DeploymentBuilder  # noqa: E402
from tests.support.loggen import LogGen, realistic_mix  # noqa: E402
from tests.support.runs import run_suite_process  # noqa: E402


def recent_hour(now: float) -> bytes:
    gen = LogGen(start=now - 3600, seed=2).start().chat(60, every=50).flood(400, 20)
    gen.heartbeats(30, every=20).dns_outage(1)
    return gen.data()


def old_block(now: float, target_bytes: int) -> bytes:
    lines = []
    size = 0
    for line in realistic_mix(10**9, now - 40 * 86400, storm=0):
        lines.append(line)
        size += len(line) + 1
        if size >= target_bytes:
            break
    return b"\n".join(lines) + b"\n"


def build(path: Path, total_bytes: int, block: bytes, tail: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        written = 0
        while written + len(tail) < total_bytes:
            out.write(block)
            written += len(block)
        out.write(tail)


def time_window(path: Path) -> float:
    files = find_log_files(path)
    started = time.perf_counter()
    facts = read_file_window(files, minutes=60)
    elapsed = time.perf_counter() - started
    assert facts.problem is None and facts.analysis.flooding_templates(100), "window not found"
    return elapsed


def time_checks(bot_dir: Path, report_dir: Path) -> float:
    started = time.perf_counter()
    run_suite_process(bot_dir, report_dir, "-q", "health_tests/test_logs.py")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small-mb", type=float, default=10)
    parser.add_argument("--big-mb", type=float, default=1024)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--suite-repeat", type=int, default=3)
    args = parser.parse_args()
    now = time.time()
    tmp = Path(tempfile.mkdtemp(prefix="bench-log-window-"))
    try:
        tail = recent_hour(now)
        block = old_block(now, 1024 * 1024)
        bots = {}
        for name, mb in (("small", args.small_mb), ("big", args.big_mb)):
            bot = DeploymentBuilder(tmp / name)
            bot.set_env(LOG_LEVEL="INFO")
            for old in (bot.root / "logs").glob("bot.log*"):
                old.unlink()
            started = time.perf_counter()
            build(bot.root / "logs" / "bot.log", int(mb * 1024 * 1024), block, tail)
            size = (bot.root / "logs" / "bot.log").stat().st_size
            print(
                f"{name}: {size / 2**20:,.0f} MiB log written in {time.perf_counter() - started:.1f} s"
            )
            bots[name] = bot.root
        window = {"small": [], "big": []}
        for _ in range(args.repeat):
            for name in ("small", "big"):
                window[name].append(time_window(bots[name] / "logs" / "bot.log"))
        suite = {"small": [], "big": []}
        for n in range(args.suite_repeat):
            for name in ("small", "big"):
                suite[name].append(time_checks(bots[name], tmp / f"reports-{name}-{n}"))
        w_small, w_big = statistics.median(window["small"]), statistics.median(window["big"])
        s_small, s_big = statistics.median(suite["small"]), statistics.median(suite["big"])
        print(
            f"window read (median of {args.repeat}): small {w_small * 1000:.1f} ms, big {w_big * 1000:.1f} ms"
        )
        print(f"window read ratio big/small: {w_big / w_small:.2f} (target <= 1.5)")
        print(
            f"test_logs.py in pytest (median of {args.suite_repeat}): small {s_small:.2f} s, big {s_big:.2f} s"
        )
        print(f"log checks ratio big/small: {s_big / s_small:.2f} (target <= 1.5)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
