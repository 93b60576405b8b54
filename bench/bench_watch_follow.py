"""``watch`` following the bot's log: reaction time to a new error, and the idle cost.

Reaction (issue 23, target < 5 s): ``acore-doctor watch`` on the sample deployment, its full
runs limited to the log checks; once its first run is done, one ERROR line (Discord rejected
the token) is appended to ``logs/bot.log`` and the time until the alert reaches a local
webhook receiver (the simulator's Discord) is measured. The median of ``--rounds``.

Idle cost (target < 1 % of one core, flat memory): the same ``watch`` and a ``tail -F`` on
the same idle log, side by side for ``--idle`` seconds (3600 for the issue's hour); CPU time
and resident memory read from /proc for each, as a share of one core and as a ratio.

    python3 bench/bench_watch_follow.py                 # 3 rounds, 60 s idle
    python3 bench/bench_watch_follow.py --idle 3600
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from acore_doctor.simulate import Simulator  # noqa: E402
from tests.support.builder import DeploymentBuilder  # noqa: E402
from tests.support.local_suite import make_healthy  # noqa: E402
from tests.support.runs import clean_env, everything_on  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
ERROR_LINE = (
    "{stamp},000 - discord.client - ERROR - Attempting a login failed: "
    "Improper token has been passed.\n"
)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` and of its children it waited for."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / TICK


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def start_watch(bot: Path, reports: Path, env: dict[str, str], out: Path) -> subprocess.Popen:
    cmd = [
        sys.executable, "-m", "acore_doctor.cli", "watch", f"--bot-dir={bot}",
        f"--report-dir={reports}", "--interval=100000", "health_tests/test_logs.py",
    ]  # fmt: skip
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out.open("w"), stderr=subprocess.STDOUT)


def wait_for(predicate, timeout: float) -> float | None:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.02)
    return None


def reaction_round(sim: Simulator, tmp: Path, index: int) -> float | None:
    bot = DeploymentBuilder(tmp / f"bot-{index}")
    make_healthy(bot)
    hook = sim.discord.add_webhook()
    bot.set_env(ERROR_REPORT_WEBHOOK=sim.discord.webhook_url(hook.id))
    out = tmp / f"watch-{index}.out"
    watch = start_watch(bot.root, tmp / f"reports-{index}", clean_env(**everything_on(sim)), out)
    try:
        if wait_for(lambda: "warning(s)" in out.read_text(), 180) is None:
            print(out.read_text())
            return None
        time.sleep(1.0)  # a poll or two: the error must come after the first run
        with (bot.root / "logs" / "bot.log").open("a") as log:
            log.write(ERROR_LINE.format(stamp=time.strftime("%Y-%m-%d %H:%M:%S")))
        return wait_for(lambda: sim.discord.webhook_messages(hook.id), 60)
    finally:
        watch.terminate()
        watch.wait(30)


def idle_cost(tmp: Path, seconds: float) -> None:
    bot = DeploymentBuilder(tmp / "bot-idle")
    make_healthy(bot)
    log = bot.root / "logs" / "bot.log"
    out = tmp / "watch-idle.out"
    watch = start_watch(bot.root, tmp / "reports-idle", clean_env(), out)
    tail = subprocess.Popen(["tail", "-F", str(log)], stdout=subprocess.DEVNULL)
    try:
        if wait_for(lambda: "warning(s)" in out.read_text(), 180) is None:
            print(out.read_text())
            return
        time.sleep(2.0)  # the first run's child is gone; settle
        w0, t0, rss0, start = (
            cpu_seconds(watch.pid),
            cpu_seconds(tail.pid),
            rss_kib(watch.pid),
            time.monotonic(),
        )
        time.sleep(seconds)
        wall = time.monotonic() - start
        w1, t1, rss1 = cpu_seconds(watch.pid), cpu_seconds(tail.pid), rss_kib(watch.pid)
    finally:
        watch.terminate()
        tail.terminate()
        watch.wait(30)
        tail.wait(30)
    watch_cpu, tail_cpu = w1 - w0, t1 - t0
    share = 100 * watch_cpu / wall
    floor = 1 / TICK  # one clock tick: tail -F idles on inotify and may read as zero
    print(f"idle {wall:.0f} s: watch {watch_cpu:.2f} s CPU ({share:.3f} % of one core, "
          f"target < 1 %: {'met' if share < 1 else 'NOT met'}); tail -F {tail_cpu:.2f} s CPU; "
          f"ratio watch/tail {watch_cpu / max(tail_cpu, floor):.1f} "
          f"(tail's CPU floored at one tick, {floor:.2f} s)")  # fmt: skip
    print(f"watch RSS {rss0 / 1024:.1f} MiB at the start, {rss1 / 1024:.1f} MiB at the end "
          f"(x{rss1 / max(rss0, 1):.2f})")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="reaction rounds (median)")
    parser.add_argument("--idle", type=float, default=60.0, help="idle seconds measured")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-follow-"))
    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    with Simulator() as sim:
        times = [reaction_round(sim, tmp, i) for i in range(args.rounds)]
    got = [t for t in times if t is not None]
    if got:
        median = statistics.median(got)
        print(f"log line -> alert at the webhook: {', '.join(f'{t:.2f}' for t in got)} s; "
              f"median {median:.2f} s (target < 5 s: {'met' if median < 5 else 'NOT met'})")  # fmt: skip
    else:
        print("no alert arrived")
    idle_cost(tmp, args.idle)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
