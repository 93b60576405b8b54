"""Host CPU with the suite's children running: real child processes burning CPU."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import psutil

from acore_doctor.probes.resources import CpuSampler, host_busy_percent, own_cpu_seconds

BURN = "import time\nt = time.time()\nwhile time.time() - t < 0.3:\n    pass\n"


def test_cpu_a_running_child_used_before_the_sample_is_not_the_samples():
    """The probe child of a whole-suite run starts before the CPU sample: what it burned by
    then is counted as the suite's own at the start, so the sample subtracts only the rest."""
    burner = subprocess.Popen([sys.executable, "-c", BURN])
    try:
        time.sleep(0.2)  # it has burned about 0.2 s of CPU
        before = own_cpu_seconds()
        counted = CpuSampler()._own_start - before
    finally:
        burner.wait()
    assert counted >= 0.1  # its CPU so far
    # Once reaped, its whole CPU time is in os.times(): nothing is added twice.
    reaped = CpuSampler()._own_start
    assert abs(reaped - own_cpu_seconds()) < 0.05


def test_cpu_the_suites_other_processes_are_the_suites_own():
    """Under pytest-xdist another worker of the same run burns a core beside the one that reads
    the sample: a process of the suite (a descendant of its root), not the host's load."""
    start = psutil.cpu_times()
    sampler = CpuSampler()  # this process is the suite's root; the burner is its child
    worker = subprocess.Popen([sys.executable, "-c", BURN.replace("0.3", "3")])
    try:
        time.sleep(0.3)
        percent, _ = sampler.percent()  # read while it runs: no process here has reaped it
    finally:
        worker.kill()
        worker.wait()
    counted = host_busy_percent(start, psutil.cpu_times())  # the same window, nothing left out
    one_core = 100.0 / (os.cpu_count() or 1)
    assert counted - percent >= 0.5 * one_core


def host_burner(seconds: float) -> psutil.Process:
    """A process burning a core that is not the suite's: started through a launcher that
    exits at once, so it is nobody's child here."""
    code = BURN.replace("0.3", str(seconds))
    launcher = (
        "import subprocess, sys\n"
        f"print(subprocess.Popen([sys.executable, '-c', {code!r}], start_new_session=True,\n"
        "    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).pid)"
    )
    done = subprocess.run([sys.executable, "-c", launcher], capture_output=True, text=True)
    return psutil.Process(int(done.stdout))


def test_cpu_a_host_whose_other_processes_want_every_core_reads_as_saturated():
    """As many busy processes as cores, and the suite's own work beside them: the sample
    leaves the suite out, yet reads the host as the saturated host it is."""
    burners = [host_burner(3) for _ in range(os.cpu_count() or 1)]
    try:
        time.sleep(0.3)
        assert not set(psutil.Process().children(recursive=True)) & set(burners)
        sampler = CpuSampler()
        deadline = time.monotonic() + 0.4
        while time.monotonic() < deadline:  # the suite's own checks, CPU-bound
            pass
        percent, _ = sampler.percent()
    finally:
        for burner in burners:
            burner.kill()
    assert percent >= 90.0
