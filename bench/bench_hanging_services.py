"""Suite time with every external service hanging, divided by the per-probe timeout.

Every simulated service accepts connections and never answers. The whole suite
(health_tests/) runs in a child process against a deployment that uses every service the
suite probes. Network probes run concurrently and overlap with the local checks, so the run
should take one probe timeout plus overhead, not the sum of the timeouts.
Target (issue 4): ratio <= 1.3, i.e. within the timeout plus 2 s.

    python3 bench/bench_hanging_services.py             # 5 s probe timeout (the default)
    python3 bench/bench_hanging_services.py --timeout 2 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from acore_doctor.netprobe.runner import fixture_probes  # noqa: E402
from acore_doctor.simulate import Simulator  # noqa: E402
from tests.support.builder import DeploymentBuilder  # noqa: E402
from tests.support.runs import clean_env, everything_on, run_suite_process  # noqa: E402


def run_suite(
    bot_dir: Path, report_dir: Path, env: dict[str, str], timeout: float
) -> tuple[float, dict]:
    started = time.monotonic()
    run_suite_process(
        bot_dir, report_dir, "-q", f"--probe-timeout={timeout:g}", "health_tests", env=env
    )
    elapsed = time.monotonic() - started
    return elapsed, json.loads((report_dir / "latest.json").read_text())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--timeout", type=float, default=5.0, help="per-probe timeout (default 5 s)"
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs per case; the median is used")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-hanging-"))
    bot = DeploymentBuilder(tmp / "acore_bot")
    probes = len([p for p in fixture_probes().values() if p != "ollama.canary"])
    results: dict[str, list[float]] = {"healthy": [], "hanging": []}
    timed_out = 0
    with Simulator() as sim:
        env = clean_env(**everything_on(sim))
        for i in range(args.repeat):
            for case in ("healthy", "hanging"):
                for name in sim.sims:
                    sim.set_fault(name, "hang" if case == "hanging" else "ok")
                elapsed, report = run_suite(bot.root, tmp / f"r-{case}-{i}", env, args.timeout)
                results[case].append(elapsed)
                if case == "hanging":
                    timed_out = sum("no answer within" in c["message"] for c in report["checks"])
    healthy = sorted(results["healthy"])[len(results["healthy"]) // 2]
    hanging = sorted(results["hanging"])[len(results["hanging"]) // 2]
    print(f"probe timeout                    {args.timeout:6.2f} s")
    print(f"network probes in the run        {probes:6d} (checks reporting a timeout: {timed_out})")
    print(f"suite, all services healthy      {healthy:6.2f} s")
    print(f"suite, all services hanging      {hanging:6.2f} s")
    print(f"sequential probes would cost   >={probes * args.timeout:6.1f} s")
    print(f"hanging - healthy                {hanging - healthy:6.2f} s")
    ratio = hanging / args.timeout
    print(
        f"ratio suite/timeout (hanging)    {ratio:6.2f}  (target <= 1.3: {'met' if ratio <= 1.3 else 'NOT met'})"
    )
    within = hanging <= args.timeout + 2
    print(
        f"within timeout + 2 s             {'yes' if within else 'NO'} ({hanging:.2f} <= {args.timeout + 2:.2f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
