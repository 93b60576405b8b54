"""Host CPU with the suite's children running: a real child process burning CPU."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from acore_doctor.probes.resources import CpuSampler, own_cpu_seconds

BURN = "import time\nt = time.time()\nwhile time.time() - t < 0.3:\n    pass\n"


def test_cpu_a_running_child_used_before_the_sample_is_not_the_samples():
    """The probe child of a whole-suite run starts before the CPU sample: what it burned by
    then is counted as the suite's own at the start, so the sample subtracts only the rest."""
    burner = subprocess.Popen([sys.executable, "-c", BURN])
    try:
        time.sleep(0.2)  # it has burned about 0.2 s of CPU
        before = own_cpu_seconds()
        counted = CpuSampler(running_children=[burner.pid])._own_start - before
    finally:
        burner.wait()
    assert counted >= 0.1  # its CPU so far
    # Once reaped, its whole CPU time is in os.times(): nothing is added twice.
    reaped = CpuSampler(running_children=[burner.pid])._own_start
    assert abs(reaped - own_cpu_seconds()) < 0.05


def test_cpu_a_host_whose_other_processes_want_every_core_reads_as_saturated():
    """As many busy processes as cores, and the suite's own work beside them: the sample
    leaves the suite out, yet reads the host as the saturated host it is."""
    burners = [
        subprocess.Popen([sys.executable, "-c", BURN.replace("0.3", "3")])
        for _ in range(os.cpu_count() or 1)
    ]
    try:
        time.sleep(0.3)
        sampler = CpuSampler()
        deadline = time.monotonic() + 0.4
        while time.monotonic() < deadline:  # the suite's own checks, CPU-bound
            pass
        percent, _ = sampler.percent()
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()
    assert percent >= 90.0
