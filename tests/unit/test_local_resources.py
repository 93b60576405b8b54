"""Host CPU as the resource check reads it: the suite's own CPU is not the host's load.

Every reading comes from the fake host (``tests/unit/conftest.py``); the same claims on this
machine's real CPU are in tests/e2e/test_local_resources.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from acore_doctor.clock import GIB, DiskReading, FakeHost, MemoryReading
from acore_doctor.clock import cpu_times as times
from acore_doctor.probes.resources import CpuSampler, disk_usage, host_busy_percent, memory_usage


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


def test_a_sample_leaves_out_the_cpu_this_process_burns(fake_host: FakeHost):
    sampler = CpuSampler()
    fake_host.busy_share = 0.5  # one core of two busy for a second...
    fake_host.advance(1.0)
    fake_host.suite_cpu_s += 1.0  # ...with the suite's own work
    percent, window = sampler.percent()
    assert (percent, window) == (0.0, 1.0)


def test_a_sample_counts_what_others_burn_beside_the_suite(fake_host: FakeHost):
    sampler = CpuSampler()
    fake_host.busy_share = 0.75  # the suite's core and half of the other
    fake_host.advance(2.0)
    fake_host.suite_cpu_s += 2.0
    assert sampler.percent()[0] == pytest.approx(25.0)


def test_the_sampler_waits_for_a_minimal_window(fake_host: FakeHost):
    started = fake_host.now
    percent, window = CpuSampler().percent(min_window=0.05)
    assert window == pytest.approx(0.05) and fake_host.now == pytest.approx(started + 0.05)
    assert percent == 0.0  # the fake host is idle


def test_a_sample_where_others_want_every_core_reads_as_saturated(fake_host: FakeHost):
    sampler = CpuSampler()
    fake_host.busy_share = 1.0
    fake_host.advance(1.0)
    fake_host.suite_cpu_s += 0.7
    fake_host.runnable, fake_host.suite_running = 3, 1  # two others ready for two cores
    assert sampler.percent()[0] == pytest.approx(100.0)
    fake_host.runnable = 2  # one core wanted by others: a share of all
    assert sampler.percent()[0] == pytest.approx(65.0)


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


def test_disk_and_memory_are_read_through_the_clock(fake_host: FakeHost, tmp_path: Path):
    fake_host.disks[str(tmp_path)] = DiskReading(10 * GIB, 9.5 * GIB, 0.5 * GIB)
    fake_host.mem = MemoryReading(4 * GIB, 0.2 * GIB, 95.0)
    usage = disk_usage(tmp_path / "not-yet" / "data")  # its nearest existing ancestor
    assert (usage.free, round(usage.used_percent)) == (0.5 * GIB, 95)
    assert memory_usage().percent == 95.0
