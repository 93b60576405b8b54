"""Operations overheads, as ratios measured side by side in one run.

1. Run history: the per-run cost of comparing with the previous report and appending to the
   trend must not grow with the kept history (1000 runs kept vs 10): ratio near 1.
2. serve's single flight: N concurrent /healthz requests on an empty cache start one suite
   run, not N (runs per request: 1/N), and take about as long as a single request.

    python bench/bench_ops.py            # 100-check reports, 20 concurrent requests
    python bench/bench_ops.py --full     # 300-check reports, 100 concurrent requests
"""

from __future__ import annotations

import argparse
import concurrent.futures
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from acore_doctor.ops import history  # noqa: E402


def report(checks: int, n: int) -> dict:
    entries = [
        {
            "nodeid": f"health_tests/test_area{c % 9}.py::test_check_{c}",
            "title": f"Check {c}",
            "severity": "critical" if c % 3 else "warning",
            "outcome": "failed" if (c + n) % 17 == 0 else "passed",
            "duration_s": 0.001 + (c % 7) * 0.004,
        }
        for c in range(checks)
    ]
    failing = [e for e in entries if e["outcome"] == "failed"]
    issue = [
        {"check": e["nodeid"], "title": e["title"], "severity": e["severity"]} for e in failing
    ]
    return {
        "timestamp": f"2026-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}",
        "summary": {"overall_status": "critical", "exit_code": 2},
        "issues": issue,
        "warnings": [],
        "checks": entries,
        "metrics": {"disk_used_pct": 50.0, "bot_rss_mb": 400.0 + n},
        "environment": {"bot_dir": "/srv/acore_bot"},
    }


def history_cost(kept: int, checks: int, runs: int = 200) -> float:
    """Seconds per run for annotate (each check against its last result) + the trend view +
    write latest + record_trend + record_results, with ``kept`` runs already."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-ops-"))
    try:
        for n in range(kept):
            history.record_trend(report(checks, n), tmp, keep=1000)
        (tmp / "latest.json").write_text(__import__("json").dumps(report(checks, kept)))
        started = time.perf_counter()
        for n in range(runs):
            doc = history.annotate(report(checks, kept + n), tmp)
            doc["history"]["trend"] = history.recent_runs(history.read_trend_tail(tmp), doc)
            (tmp / "latest.json").write_text(__import__("json").dumps(doc))
            history.record_trend(doc, tmp, keep=1000)
            history.record_results(doc, tmp)
        return (time.perf_counter() - started) / runs
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def serve_runs(concurrency: int) -> tuple[int, float, float]:
    """Suite runs started for ``concurrency`` simultaneous requests, and the wall times of
    one lone request and of the burst."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    bot = tmp / "acore_bot"
    shutil.copytree(ROOT / "acore_doctor" / "demo" / "deployment", bot)
    proc = subprocess.Popen(
        [sys.executable, "-m", "acore_doctor.cli", "serve", f"--bot-dir={bot}",
         f"--report-dir={tmp / 'reports'}", "--port=0", "--cache-seconds=0.01",
         "health_tests/test_config.py"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        base = re.search(r"http://\S+", proc.stdout.readline()).group(0).rstrip()

        def get(_: int) -> int:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=120) as response:
                    return response.status
            except urllib.error.HTTPError as exc:
                return exc.code

        started = time.perf_counter()
        get(0)
        single = time.perf_counter() - started
        time.sleep(0.05)
        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(get, range(concurrency)))
        burst = time.perf_counter() - started
        with urllib.request.urlopen(base + "/metrics", timeout=120) as response:
            text = response.read().decode()
        total = int(re.search(r"acore_doctor_serve_runs_total (\d+)", text).group(1))
        return total - 1, single, burst  # minus the lone request's run
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="300 checks, 100 requests")
    args = parser.parse_args()
    checks, concurrency = (300, 100) if args.full else (100, 20)
    small = history_cost(10, checks)
    large = history_cost(1000, checks)
    print(f"history per run, {checks} checks: 10 runs kept {small * 1000:.2f} ms, "
          f"1000 runs kept {large * 1000:.2f} ms, ratio {large / small:.2f}")  # fmt: skip
    runs, single, burst = serve_runs(concurrency)
    print(f"serve: {concurrency} concurrent requests started {runs} suite run(s) "
          f"(runs per request {runs / concurrency:.3f}); burst/lone request wall time "
          f"{burst / single:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
