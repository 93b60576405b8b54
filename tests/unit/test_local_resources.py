"""Host CPU as the resource check reads it: the suite's own CPU is not the host's load."""

from __future__ import annotations

import os
import time
from collections import namedtuple

import psutil
import pytest

from acore_doctor.probes.resources import CpuSampler, host_busy_percent, own_cpu_seconds

Times = namedtuple("Times", "user nice system idle iowait irq softirq steal guest guest_nice")


def times(busy: float, idle: float, guest: float = 0.0) -> Times:
    # Linux counts guest time inside user time as well.
    return Times(busy, 0.0, 0.0, idle, 0.0, 0.0, 0.0, 0.0, guest, 0.0)


def test_busy_share_of_all_cpus():
    assert host_busy_percent(times(0, 0), times(1.0, 3.0)) == pytest.approx(25.0)


def test_the_suites_own_cpu_is_left_out():
    # One core of two busy for a second, all of it the suite's own work: the host is idle.
    assert host_busy_percent(times(0, 0), times(1.0, 1.0), own_s=1.0) == pytest.approx(0.0)
    assert host_busy_percent(times(0, 0), times(1.5, 0.5), own_s=1.0) == pytest.approx(25.0)
    # never below zero (own time counted by other clocks), never above 100
    assert host_busy_percent(times(0, 0), times(0.2, 1.8), own_s=1.0) == 0.0


def test_guest_time_is_not_counted_twice():
    assert host_busy_percent(times(0, 0), times(1.0, 1.0, guest=1.0)) == pytest.approx(50.0)


def test_no_time_passed_reads_as_idle():
    assert host_busy_percent(times(1, 1), times(1, 1)) == 0.0


def test_a_sample_leaves_out_the_cpu_this_process_burns():
    start, own_start = psutil.cpu_times(), own_cpu_seconds()
    deadline = time.monotonic() + 0.3
    while time.monotonic() < deadline:  # one core busy with our own work
        pass
    end, own = psutil.cpu_times(), own_cpu_seconds() - own_start
    counted = host_busy_percent(start, end)
    corrected = host_busy_percent(start, end, own)
    one_core = 100.0 / (os.cpu_count() or 1)
    # Whatever else the machine does, our own busy core is what the correction takes away.
    assert corrected == 0.0 or counted - corrected >= 0.8 * one_core
    assert own >= 0.2


def test_the_sampler_waits_for_a_minimal_window():
    percent, window = CpuSampler().percent(min_window=0.05)
    assert window >= 0.05
    assert 0.0 <= percent <= 100.0


def test_where_others_want_every_core_their_share_is_of_what_the_suite_left():
    # Two cores, one second: the suite took 0.7 s, the others every other cycle (1.3 s).
    assert host_busy_percent(times(0, 0), times(2.0, 0.0), own_s=0.7) == pytest.approx(65.0)
    saturated = host_busy_percent(times(0, 0), times(2.0, 0.0), own_s=0.7, saturated=True)
    assert saturated == pytest.approx(100.0)
    # Half of what the suite left them: half busy, whatever the flag says.
    assert host_busy_percent(
        times(0, 0), times(1.35, 0.65), own_s=0.7, saturated=True
    ) == pytest.approx(50.0)
    # The suite took (almost) all: a few leftover ticks are no share to judge by.
    assert host_busy_percent(times(0, 0), times(2.0, 0.0), own_s=1.95, saturated=True) == (
        pytest.approx(2.5)
    )
