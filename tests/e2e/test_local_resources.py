"""Host CPU with the suite's children running: real child processes burning CPU.

These read this machine's real CPU (``host_timing``): each waits for the CPU seconds it needs
instead of sleeping a wall-clock time, so they hold with both cores busy."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import psutil
import pytest

from acore_doctor import clock
from acore_doctor.probes.resources import CpuSampler, host_busy_percent

pytestmark = pytest.mark.host_timing

#: A burner: spins until it has used this many CPU seconds (or a minute of wall time passed).
BURN = (
    "import sys, time\nt = time.time()\n"
    "while time.process_time() < float(sys.argv[1]) and time.time() - t < 60:\n    pass\n"
)


def burner(cpu_s: float, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", BURN, str(cpu_s)], **kwargs)


def wait_until_burned(process: psutil.Process, cpu_s: float, limit_s: float = 60) -> float:
    """Wait until ``process`` has used ``cpu_s`` CPU seconds, however busy the host is."""
    deadline = time.monotonic() + limit_s
    while True:
        times = process.cpu_times()
        used = times.user + times.system
        if used >= cpu_s or time.monotonic() > deadline:
            return used
        time.sleep(0.02)


def test_a_sample_leaves_out_the_cpu_this_process_burns():
    start, own_start = psutil.cpu_times(), clock.own_cpu_seconds()
    deadline = time.monotonic() + 60
    while clock.own_cpu_seconds() - own_start < 0.3 and time.monotonic() < deadline:
        pass  # our own work, however long the busy host makes 0.3 CPU seconds take
    end, own = psutil.cpu_times(), clock.own_cpu_seconds() - own_start
    counted = host_busy_percent(start, end)
    corrected = host_busy_percent(start, end, own)
    total = sum(end) - sum(start) - (end.guest - start.guest) - (end.guest_nice - start.guest_nice)
    ours = 100.0 * own / total
    # Whatever else the machine does, our own CPU is what the correction takes away (the host's
    # tick counters and ours round apart by a few ticks).
    assert own >= 0.3
    assert corrected == 0.0 or counted - corrected >= 0.8 * ours, (counted, corrected, ours)


def test_cpu_a_running_child_used_before_the_sample_is_not_the_samples():
    """The probe child of a whole-suite run starts before the CPU sample: what it burned by
    then is counted as the suite's own at the start, so the sample subtracts only the rest."""
    child = burner(0.3)
    try:
        burned = wait_until_burned(psutil.Process(child.pid), 0.15)
        before = clock.own_cpu_seconds()
        counted = CpuSampler()._own_start - before
    finally:
        child.wait()
    assert counted >= 0.1, f"the child had burned {burned:.2f} s"  # its CPU so far
    # Once reaped, its whole CPU time is in os.times(): nothing is added twice.
    reaped = CpuSampler()._own_start
    assert abs(reaped - clock.own_cpu_seconds()) < 0.05


def test_cpu_the_suites_other_processes_are_the_suites_own():
    """Under pytest-xdist another worker of the same run burns a core beside the one that reads
    the sample: a process of the suite (a descendant of its root), not the host's load."""
    sampler = CpuSampler()  # this process is the suite's root; the burner is its child
    worker = burner(30)
    try:
        burned = wait_until_burned(psutil.Process(worker.pid), 0.3)
        # read while it runs: no process here has reaped it
        own, running = clock.process_tree_cpu(sampler.suite_root)
    finally:
        worker.kill()
        worker.wait()
    # The sample subtracts the suite's own CPU, the worker's included.
    assert own - sampler._own_start >= burned - 0.02, (own, sampler._own_start, burned)
    assert running >= 1


def host_burner(cpu_s: float) -> psutil.Process:
    """A process burning a core that is not the suite's: started through a launcher that
    exits at once, so it is nobody's child here."""
    launcher = (
        "import subprocess, sys\n"
        f"print(subprocess.Popen([sys.executable, '-c', {BURN!r}, {str(cpu_s)!r}],\n"
        "    start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).pid)"
    )
    done = subprocess.run([sys.executable, "-c", launcher], capture_output=True, text=True)
    return psutil.Process(int(done.stdout))


def test_cpu_a_host_whose_other_processes_want_every_core_reads_as_saturated():
    """As many busy processes as cores, and the suite's own work beside them: the sample
    leaves the suite out, yet reads the host as the saturated host it is."""
    # They burn until killed (a busy host may take seconds to start them all).
    burners = [host_burner(60) for _ in range(os.cpu_count() or 1)]
    try:
        for process in burners:
            wait_until_burned(process, 0.1)
        assert not set(psutil.Process().children(recursive=True)) & set(burners)
        sampler = CpuSampler()
        own_start = clock.own_cpu_seconds()
        deadline = time.monotonic() + 60
        while clock.own_cpu_seconds() - own_start < 0.2 and time.monotonic() < deadline:
            pass  # the suite's own checks, CPU-bound
        percent, _ = sampler.percent()
    finally:
        for process in burners:
            process.kill()
    assert percent >= 90.0
