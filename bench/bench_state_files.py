"""Benchmark: the data-integrity scan over many small state files, against a plain baseline.

The scan (acore_doctor.probes.state_files.scan_state_files) opens, reads, parses and
shape-checks every file and looks for stray *.tmp and future mtimes. The baseline does the
least any scan must do: open, read and json.loads each file. Both run alternately over the
same warm files; the ratio is what this benchmark reports.

    python3 bench/bench_state_files.py            # 20 000 files (quick)
    python3 bench/bench_state_files.py --full     # 100 000 files, the issue's size (< 10 s)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from acore_doctor.deployment import load_deployment  # noqa: E402
from acore_doctor.probes.state_files import scan_state_files, state_kinds  # noqa: E402

BUDGET_S = 10.0
FULL = 100_000


def build(root: Path, count: int) -> list[str]:
    """A deployment's data/ with ``count`` small files: 40 % chat history, 40 % user
    profiles over 10 personas, 20 % runtime memory over 10 personas."""
    (root / ".env").write_text("")
    data = root / "data"
    paths: list[str] = []
    history = data / "chat_history"
    history.mkdir(parents=True)
    message = [
        {"role": "user", "content": "hello there", "username": "n", "user_id": "1"},
        {"role": "assistant", "content": "Welcome, Nerevar."},
    ]
    profile = {
        "user_id": 1,
        "username": "n",
        "traits": [],
        "facts": [],
        "affection": {"level": 50, "relationship_stage": "friend"},
    }
    memory = {"short_term": message, "long_term_summary": "", "state": {}}
    for i in range(count):
        kind = i % 5
        if kind in (0, 1):
            path, body = history / f"{1431878519016915044 + i}.json", message
        elif kind in (2, 3):
            directory = data / "user_profiles" / f"persona_{i % 10}"
            path, body = directory / f"user_{i}.json", profile
        else:
            directory = data / "gestalt_memory" / f"persona_{i % 10}"
            path, body = directory / f"{i}.json", memory
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(body))
        paths.append(str(path))
    return paths


def baseline(paths: list[str]) -> float:
    started = time.perf_counter()
    for path in paths:
        with open(path, "rb") as handle:
            json.loads(handle.read())
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--full", action="store_true", help=f"{FULL} files, the issue's size")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    count = FULL if args.full else args.files
    with tempfile.TemporaryDirectory(prefix="acore-bench-") as tmp:
        root = Path(tmp) / "acore_bot"
        root.mkdir()
        print(f"building {count} state files in {root} ...", flush=True)
        paths = build(root, count)
        deployment = load_deployment(root)
        kinds = state_kinds(deployment, "legacy")
        kinds += [k for k in state_kinds(deployment, "runtime") if k not in kinds]
        baseline(paths)  # warm the page cache for both
        scans, bases = [], []
        for _ in range(args.rounds):
            report = scan_state_files(kinds, root / "data")
            scans.append(report.elapsed_s)
            bases.append(baseline(paths))
        assert report.files == count and not report.corrupt and not report.bad_shape, (
            report.files,
            report.corrupt[:3],
            report.bad_shape[:3],
        )
    scan, base = statistics.median(scans), statistics.median(bases)
    projected = scan * FULL / count
    print(f"files: {count}  rounds: {args.rounds}  cpu count: {os.cpu_count()}")
    print(
        f"scan_state_files (parse + shape + tmp + mtime): median {scan:.2f} s "
        f"({count / scan:,.0f} files/s)"
    )
    print(
        f"baseline (open + read + json.loads):           median {base:.2f} s "
        f"({count / base:,.0f} files/s)"
    )
    print(f"ratio scan/baseline: {scan / base:.2f}")
    print(
        f"{'measured' if count == FULL else 'projected'} for {FULL} files: {projected:.2f} s "
        f"(budget {BUDGET_S:g} s: {'OK' if projected < BUDGET_S else 'OVER'})"
    )
    return 0 if projected < BUDGET_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
