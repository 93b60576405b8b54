"""What the deployment fingerprint (issue 21) costs a healthy run, and what it adds to history.

1. The fingerprint's own time, measured inside each run (``report["fingerprint"]["seconds"]``:
   gathering, diffing, attributing) against the run's wall time (target <= 10 %).
2. Side by side: the full suite on the healthy sample with the fingerprint and with
   ``-p no:acore_doctor.changes.plugin`` (median of N alternating rounds), as a cross-check.
3. History growth: bytes ``fingerprints.jsonl`` gains per run with nothing changed, and with
   one setting changed, and the size of the first (whole) line.

    python bench/bench_fingerprint.py            # 5 rounds
    python bench/bench_fingerprint.py --rounds 9
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    from acore_doctor.changes.store import FINGERPRINTS_FILE
    from acore_doctor.simulate import Simulator
    from tests.support.changes import make_healthy_deployment

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-fingerprint-") as tmp, Simulator() as sim:
        d = make_healthy_deployment(Path(tmp), sim)
        first = d.run()
        assert first.code == 0, first.stdout[-2000:]
        history = d.reports / FINGERPRINTS_FILE
        base_bytes = history.stat().st_size
        with_fp, without_fp, own, growth, cpu_with, cpu_without = [], [], [], [], [], []
        for _ in range(args.rounds):
            size = history.stat().st_size
            start, cpu = time.perf_counter(), _children_cpu()
            run = d.run()
            with_fp.append(time.perf_counter() - start)
            cpu_with.append(_children_cpu() - cpu)
            own.append(run.report["fingerprint"]["seconds"])
            growth.append(history.stat().st_size - size)
            start, cpu = time.perf_counter(), _children_cpu()
            d.run("-p", "no:acore_doctor.changes.plugin")
            without_fp.append(time.perf_counter() - start)
            cpu_without.append(_children_cpu() - cpu)
        size = history.stat().st_size
        d.bot.set_env(OLLAMA_MODEL="llama3.1:8b")
        d.run()
        changed = history.stat().st_size - size
        keys = run.report["fingerprint"]["keys"]
    wall, bare, inside = (statistics.median(x) for x in (with_fp, without_fp, own))
    print(
        f"fingerprint inside the run: {inside * 1000:.0f} ms of a {wall:.2f} s healthy run "
        f"= {100 * inside / wall:.1f} % (target <= 10 %), {keys} keys"
    )
    print(
        f"side by side: {wall:.2f} s with it, {bare:.2f} s without (-p no:...): "
        f"{100 * (wall - bare) / bare:+.1f} % (noise on a shared machine is a few %)"
    )
    cw, cwo = statistics.median(cpu_with), statistics.median(cpu_without)
    print(
        f"side by side, CPU seconds of the run and its children: {cw:.2f} s with it, "
        f"{cwo:.2f} s without: {100 * (cw - cwo) / cwo:+.1f} %"
    )
    print(
        f"history: first line (whole fingerprint) {base_bytes} bytes; per run with nothing "
        f"changed {statistics.median(growth):.0f} bytes; with one setting changed {changed} "
        "bytes"
    )
    print(json.dumps({"rounds": args.rounds, "with": with_fp, "without": without_fp}))


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
