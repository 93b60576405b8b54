"""What the import rehearsal costs a run, measured side by side in one run.

The rehearsal runs in a child of the bot's interpreter, started when collection ends, while
the other checks run; the checks that read it run last. So a run with it should take no longer
than the longer of the run without it and the bot's own import time, plus 10 %:

    wall(with) <= max(wall(--no-rehearsal), bot import time) * 1.10

Measured for two bots, each a copy of the sample deployment with its own venv, the whole local
suite offline (``--offline --allow-stopped``, host thresholds off):

1. the sample deployment itself (its entrypoint imports only the standard library);
2. a bot whose entrypoint imports a heavy package: a package generated into its venv whose
   import does about 2 s of real work (hashing), standing in for torch and chromadb.

"The bot's own import time" is its interpreter importing the entrypoint's top-level imports
in a fresh process (start-up included), as the bot does when it starts. Each figure is the
median of N alternating rounds. Also printed: how long the run waited for the rehearsal (the
check that reads it, setup included: near 0 when it finished while the other checks ran), and
the CPU seconds of both runs. The bound needs a spare core: on a host whose every core is busy
with other work (load average above the CPU count), a child cannot run beside the suite, and
the run's wall time follows its CPU time instead (the rehearsal's CPU is the bot's import).

    python bench/bench_rehearsal.py            # 5 rounds
    python bench/bench_rehearsal.py --rounds 9
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from acore_doctor.demo import HOST_THRESHOLDS_OFF, copy_sample, make_bot_venv  # noqa: E402

#: Seconds of real work the heavy package's import does (calibrated on this machine).
HEAVY_IMPORT_S = 2.0
TARGET = 1.10


def calibrated_rounds(seconds: float) -> int:
    """sha256 rounds over 64 KiB that take about ``seconds`` here."""
    import hashlib

    block, rounds, start = b"x" * 65536, 0, time.perf_counter()
    while time.perf_counter() - start < 0.2:
        hashlib.sha256(block).digest()
        rounds += 1
    return int(rounds * seconds / (time.perf_counter() - start))


def heavy_package(site: Path, seconds: float) -> None:
    package = site / "heavy_ml"
    package.mkdir()
    (package / "__init__.py").write_text(
        '"""Stands in for torch/chromadb: an import that does real work."""\n'
        "import hashlib\n\n"
        'BLOCK = b"x" * 65536\n'
        f"for _ in range({calibrated_rounds(seconds)}):\n"
        "    hashlib.sha256(BLOCK).digest()\n"
        '__version__ = "1.0"\n'
    )


def make_bot(root: Path, heavy: bool) -> Path:
    bot = copy_sample(root / "acore_bot")
    python = make_bot_venv(bot / ".venv")
    if heavy:
        heavy_package(next((bot / ".venv" / "lib").glob("python3*/site-packages")), HEAVY_IMPORT_S)
        main = bot / "main.py"
        main.write_text(
            main.read_text().replace("import time\n", "import time\n\nimport heavy_ml\n")
        )
    return python


def suite_cmd(bot: Path, report_dir: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
        f"--bot-dir={bot}", f"--report-dir={report_dir}", "--offline", "--allow-stopped",
        *HOST_THRESHOLDS_OFF, *extra,
        *(str(p) for p in sorted((ROOT / "health_tests").glob("test_*.py"))),
    ]  # fmt: skip


def wall(cmd: list[str], cwd: Path, env: dict[str, str], cpu: list[float] | None = None) -> float:
    """Wall seconds of ``cmd``; its CPU seconds (children included) appended to ``cpu``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, check=False)
    took = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if cpu is not None:
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return took


def rehearsal_wait(report: Path) -> float:
    """Seconds the check reading the rehearsal took (its setup waits for the child)."""
    try:
        checks = json.loads(report.read_text())["checks"]
        return next(c["duration_s"] for c in checks if c["nodeid"].endswith("::test_bot_imports"))
    except (OSError, ValueError, KeyError, StopIteration):
        return float("nan")


def measure(name: str, heavy: bool, rounds: int) -> bool:
    with tempfile.TemporaryDirectory(prefix="bench-rehearsal-") as tmp:
        root = Path(tmp)
        python = make_bot(root, heavy)
        bot = root / "acore_bot"
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
        imports = "import os, time" + (", heavy_ml" if heavy else "")
        with_r, without_r, own, cpu_with, cpu_without, waited = [], [], [], [], [], []
        for n in range(rounds):
            with_r.append(wall(suite_cmd(bot, root / f"r-with-{n}"), ROOT, env, cpu_with))
            waited.append(rehearsal_wait(root / f"r-with-{n}" / "latest.json"))
            without_r.append(
                wall(suite_cmd(bot, root / f"r-no-{n}", "--no-rehearsal"), ROOT, env, cpu_without)
            )
            own.append(wall([str(python), "-c", imports], bot, env))
    w, wo, imp = (statistics.median(x) for x in (with_r, without_r, own))
    cw, cwo = statistics.median(cpu_with), statistics.median(cpu_without)
    bound = max(wo, imp) * TARGET
    ok = w <= bound
    print(
        f"{name}: run with the rehearsal {w:.2f} s; without (--no-rehearsal) {wo:.2f} s; "
        f"the bot's own import {imp:.2f} s; bound max({wo:.2f}, {imp:.2f}) x {TARGET:.2f} = "
        f"{bound:.2f} s: {'ok' if ok else 'OVER'} (ratio to bound {w / bound:.2f}; the run "
        f"waited {statistics.median(waited):.2f} s for the rehearsal; CPU {cw:.2f} s vs "
        f"{cwo:.2f} s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    results = [
        measure("sample deployment", heavy=False, rounds=args.rounds),
        measure(f"bot importing a heavy package (~{HEAVY_IMPORT_S:g} s)", True, args.rounds),
    ]
    if os.getloadavg()[0] > (os.cpu_count() or 1):
        print(
            "note: every core was busy with other work (load average above the CPU count): "
            "no spare core for the rehearsal, so the bound cannot hold; compare the CPU times."
        )
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
