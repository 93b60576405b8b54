"""``acore-doctor --help`` start-up, as a ratio to a bare interpreter start.

Target (issue 13): ``acore-doctor --help`` <= 4x ``python -c pass``. Both run with the same
interpreter (this one, so the same site-packages and path hooks), alternated, N times each;
the ratio of the medians is printed, and which heavy modules the help path imported.

    python bench/bench_cli_help.py          # 15 runs each
    python bench/bench_cli_help.py --runs 40
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 4.0
HEAVY = ("pytest", "aiohttp", "psutil", "acore_doctor.settings", "acore_doctor.commands.run")


def elapsed(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def help_command() -> list[str]:
    script = Path(sys.executable).parent / "acore-doctor"
    if script.exists():  # the console script pip installed: what an operator runs
        return [str(script), "--help"]
    return [sys.executable, "-m", "acore_doctor.cli", "--help"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    bare_cmd, help_cmd = [sys.executable, "-c", "pass"], help_command()
    elapsed(bare_cmd), elapsed(help_cmd)  # warm the page cache
    bare, helped = [], []
    for _ in range(runs):
        bare.append(elapsed(bare_cmd))
        helped.append(elapsed(help_cmd))
    probe = (
        "import sys\nfrom acore_doctor.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules], file=sys.stderr)"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    ).stderr.strip()
    ratio = statistics.median(helped) / statistics.median(bare)
    print(f"python -c pass      median {statistics.median(bare) * 1000:7.1f} ms ({runs} runs)")
    print(f"acore-doctor --help median {statistics.median(helped) * 1000:7.1f} ms")
    print(f"heavy modules imported by --help: {loaded}")
    print(f"ratio {ratio:.2f}x (target <= {TARGET:g}x): {'OK' if ratio <= TARGET else 'TOO SLOW'}")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
