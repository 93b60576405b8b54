"""What the pytest plugin costs, as ratios measured side by side in one run.

1. Inert outside health runs: an unrelated one-test project with acore-doctor installed vs the
   same session with ``-p no:acore_doctor`` (target <= 1.15x).
2. A full health run on a healthy deployment (the sample deployment with a stand-in bot and
   every service simulated) vs an empty pytest session with the same plugins (target <= 2.0x).

Each side is a whole child process (start-up included); the median of N alternating rounds.

    python bench/bench_plugin.py            # 7 rounds
    python bench/bench_plugin.py --rounds 15
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]


def timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def median_ratio(
    a: list[str], b: list[str], cwd: Path, rounds: int, env: dict[str, str] | None = None
) -> tuple[float, float, float]:
    """(median seconds of a, of b, a/b), alternating so load changes hit both sides.

    Also prints the CPU-time ratio: on a shared, loaded machine it moves less than wall time.
    """
    times_a, times_b, cpu_a, cpu_b = [], [], [], []
    for _ in range(rounds):
        wall, cpu = timed(a, cwd, env)
        times_a.append(wall)
        cpu_a.append(cpu)
        wall, cpu = timed(b, cwd, env)
        times_b.append(wall)
        cpu_b.append(cpu)
    ma, mb = statistics.median(times_a), statistics.median(times_b)
    print(
        f"  (CPU {statistics.median(cpu_a):.3f} s vs {statistics.median(cpu_b):.3f} s: "
        f"ratio {statistics.median(cpu_a) / statistics.median(cpu_b):.2f}; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
    )
    return ma, mb, ma / mb


def inert(rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-plugin-") as tmp:
        project = Path(tmp)
        (project / "test_one.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
        with_plugin, without, ratio = median_ratio(
            PYTEST + ["test_one.py"],
            PYTEST + ["-p", "no:acore_doctor", "test_one.py"],
            project,
            rounds,
        )
    print(
        f"inert: unrelated one-test session {with_plugin:.3f} s with the plugin, "
        f"{without:.3f} s with -p no:acore_doctor: ratio {ratio:.2f} (target <= 1.15)"
    )


def health_run(rounds: int) -> None:
    sys.path.insert(0, str(ROOT))
    from acore_doctor.simulate import Simulator
    from tests.support.changes import make_healthy_deployment
    from tests.support.local_suite import RELAXED

    with tempfile.TemporaryDirectory(prefix="bench-health-") as tmp, Simulator() as sim:
        root = Path(tmp)
        # The sample deployment without its planted local faults, every service simulated,
        # its own interpreter with its packages.
        healthy = make_healthy_deployment(root, sim)
        bot, env, reports = healthy.bot, healthy.env, healthy.reports
        empty = root / "empty"
        empty.mkdir()
        full = PYTEST + [
            f"--bot-dir={bot.root}",
            f"--report-dir={reports}",
            "--allow-stopped",
            *RELAXED,
        ]
        # The same installed plugins, nothing collected (pytest's exit 5): start-up only.
        bare = PYTEST + [str(empty)]
        with_checks, empty_session, ratio = median_ratio(full, bare, ROOT, rounds, env)
        last = subprocess.run(full, cwd=ROOT, env=env, capture_output=True, text=True)
    failing = [line for line in last.stdout.splitlines() if line.startswith("  - ")]
    print(
        f"health run: full suite on a healthy deployment {with_checks:.3f} s, empty session "
        f"{empty_session:.3f} s: ratio {ratio:.2f} (target <= 2.0); verdict exit "
        f"{last.returncode}, {len(failing)} warning(s) left"
    )
    for line in failing:
        print("  " + line.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--only", choices=["inert", "health"])
    args = parser.parse_args()
    os.environ.pop("ACORE_BOT_DIR", None)
    if args.only in (None, "inert"):
        inert(args.rounds)
    if args.only in (None, "health"):
        health_run(args.rounds)


if __name__ == "__main__":
    main()
