"""Every reading of time, CPU, memory and disk that a check judges by, in one place.

Modelled on pytest's ``_pytest/timing.py``: code that judges by these readings calls them
through this module (``clock.monotonic()``, never ``from acore_doctor.clock import
monotonic``), so a test can swap them for :class:`FakeHost`. The unit tier does so for every
test (``tests/unit/conftest.py``): on two shared, noisy cores a unit test must never depend on
how busy the machine is. Real readings are asserted on only in ``tests/e2e``, by tests marked
``host_timing``.

Timeouts and budgets that wait on real events (a socket, SQLite's own busy sleeps, a child
process) keep the real clock: a frozen clock would make them wait forever.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections import namedtuple
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

monotonic = time.monotonic
sleep = time.sleep


def host_cpu_times() -> Any:
    """The host's CPU times since boot, all CPUs together (``psutil.cpu_times()``)."""
    return psutil.cpu_times()


def cpu_count() -> int:
    return os.cpu_count() or 1


def own_cpu_seconds() -> float:
    """CPU seconds used by this process and the children it has waited for."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def process_tree_cpu(root: int) -> tuple[float, int]:
    """(CPU seconds, processes running now) of process ``root`` and its descendants, each with
    the children it has waited for (a child that ends moves its time to its parent)."""
    try:
        top = psutil.Process(root)
        processes = [top, *top.children(recursive=True)]
    except psutil.Error:
        return own_cpu_seconds(), 1  # the root is gone: this process alone
    seconds, running = 0.0, 0
    for process in processes:
        with contextlib.suppress(psutil.Error):  # ended meanwhile
            times = process.cpu_times()
            seconds += times.user + times.system + times.children_user + times.children_system
            running += process.status() == psutil.STATUS_RUNNING
    return seconds, running


def runnable_tasks() -> int:
    """Processes and threads ready to run now, the reader included (``/proc/loadavg``); 0
    where there is no such count."""
    try:
        with open("/proc/loadavg", encoding="ascii") as handle:
            return int(handle.read().split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return 0


def disk_usage(path: Path) -> Any:
    """``shutil.disk_usage``: (total, used, free) bytes of the filesystem holding ``path``."""
    return shutil.disk_usage(path)


def memory() -> Any:
    """``psutil.virtual_memory()``: total, available and percent used."""
    return psutil.virtual_memory()


#: The fields of ``psutil.cpu_times()`` on Linux, for fake readings.
CpuTimes = namedtuple("CpuTimes", "user nice system idle iowait irq softirq steal guest guest_nice")
DiskReading = namedtuple("DiskReading", "total used free")
MemoryReading = namedtuple("MemoryReading", "total available percent")

GIB = 2**30


def cpu_times(busy: float = 0.0, idle: float = 0.0, guest: float = 0.0) -> CpuTimes:
    """Fake host CPU times (Linux counts guest time inside user time as well)."""
    return CpuTimes(busy, 0.0, 0.0, idle, 0.0, 0.0, 0.0, 0.0, guest, 0.0)


@dataclass
class FakeHost:
    """A host whose readings a test sets: an idle two-core machine with room on its disks
    and memory to spare, until the test says otherwise. Time stands still except when code
    sleeps through :func:`sleep` (as pytest's ``MockTiming``) or the test calls
    :meth:`advance`; host CPU time advances with it, idle unless ``busy_share`` is set."""

    now: float = 1000.0
    cores: int = 2
    busy_share: float = 0.0
    cpu: CpuTimes = field(default_factory=lambda: cpu_times(busy=100.0, idle=900.0))
    #: the suite's own (process tree) CPU seconds and processes running now
    suite_cpu_s: float = 0.0
    suite_running: int = 1
    runnable: int = 1
    disk: DiskReading = DiskReading(100 * GIB, 10 * GIB, 90 * GIB)
    disks: dict[str, DiskReading] = field(default_factory=dict)
    mem: MemoryReading = MemoryReading(8 * GIB, 6 * GIB, 25.0)

    def advance(self, seconds: float) -> None:
        self.now += seconds
        capacity = seconds * self.cores
        busy = capacity * self.busy_share
        self.cpu = self.cpu._replace(
            user=self.cpu.user + busy, idle=self.cpu.idle + capacity - busy
        )

    def install(self, monkeypatch: Any) -> FakeHost:
        """Swap this module's readings for this host's (undone with ``monkeypatch``)."""
        import acore_doctor.clock as clock

        for name, value in {
            "monotonic": lambda: self.now,
            "sleep": self.advance,
            "host_cpu_times": lambda: self.cpu,
            "cpu_count": lambda: self.cores,
            "own_cpu_seconds": lambda: self.suite_cpu_s,
            "process_tree_cpu": lambda root: (self.suite_cpu_s, self.suite_running),
            "runnable_tasks": lambda: self.runnable,
            "disk_usage": lambda path: self.disks.get(str(path), self.disk),
            "memory": lambda: self.mem,
        }.items():
            monkeypatch.setattr(clock, name, value)
        return self
