"""Disk, memory and CPU of the host the bot runs on."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acore_doctor import clock
from acore_doctor.changes.inputs import note


@dataclass(frozen=True)
class DiskUsage:
    path: Path
    mount: str
    total: int
    used: int
    free: int
    error: str | None = None

    @property
    def used_percent(self) -> float:
        # As df computes it: used / (used + available to unprivileged users).
        denominator = self.used + self.free
        return 100.0 * self.used / denominator if denominator else 0.0

    def describe(self) -> str:
        return (
            f"{self.path} (filesystem {self.mount}): {self.used_percent:.1f} % used, "
            f"{self.free / 2**30:.2f} GiB free of {self.total / 2**30:.2f} GiB"
        )


def _existing_ancestor(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path("/")


def _mount_of(path: Path) -> str:
    path = path.resolve()
    while not os.path.ismount(path) and path != path.parent:
        path = path.parent
    return str(path)


def disk_usage(path: Path) -> DiskUsage:
    note("host:disk")  # a check read the disk (what changed since it passed)
    target = _existing_ancestor(path)
    try:
        usage = clock.disk_usage(target)
    except OSError as exc:
        return DiskUsage(path, "?", 0, 0, 0, exc.strerror or str(exc))
    return DiskUsage(path, _mount_of(target), usage.total, usage.used, usage.free)


@dataclass(frozen=True)
class MemoryUsage:
    total: int
    available: int
    percent: float

    def describe(self) -> str:
        return (
            f"{self.percent:.1f} % used, {self.available / 2**30:.2f} GiB available of "
            f"{self.total / 2**30:.2f} GiB"
        )


def memory_usage() -> MemoryUsage:
    note("host:memory")
    vm = clock.memory()
    return MemoryUsage(vm.total, vm.available, vm.percent)


class CpuSampler:
    """Host CPU use between its creation and :meth:`percent`, without blocking for a second.

    Created when the run is configured and read by a check that runs last, so the sample spans
    the run; if the two are too close in time the check waits until ``min_window`` has
    passed (0.1 s, the shortest interval psutil's documentation calls accurate: ten clock
    ticks per CPU). The suite's own CPU time is not the host's load (on a one-core host a run
    would otherwise read as saturated): the suite is the process ``suite_root`` (this one, or
    the pytest-xdist controller in a worker) with all its descendants (workers, the probe
    child, the bot's interpreter asked in a child). But where other processes wanted every
    core (as many runnable as there are CPUs), the suite took cycles they would have used:
    then what they got of the capacity the suite left them is the share.
    """

    def __init__(self, suite_root: int | None = None) -> None:
        self.suite_root = os.getpid() if suite_root is None else suite_root
        self.started = clock.monotonic()
        self._start = clock.host_cpu_times()
        self._own_start, _ = clock.process_tree_cpu(self.suite_root)

    def percent(self, min_window: float = 0.1) -> tuple[float, float]:
        """(CPU use in percent, seconds sampled)."""
        elapsed = clock.monotonic() - self.started
        if elapsed < min_window:
            clock.sleep(min_window - elapsed)
        end = clock.host_cpu_times()
        own, own_running = clock.process_tree_cpu(self.suite_root)
        window = clock.monotonic() - self.started
        saturated = clock.runnable_tasks() - own_running >= clock.cpu_count()
        return host_busy_percent(self._start, end, own - self._own_start, saturated), window


def host_busy_percent(start: Any, end: Any, own_s: float = 0.0, saturated: bool = False) -> float:
    """Busy share of all CPUs between two ``clock.host_cpu_times()`` readings, less ``own_s``
    seconds of CPU used by the suite itself. ``saturated``: other processes wanted every core,
    so the share is of the capacity the suite left them. Linux counts guest time inside user
    time: it is left out of the total so it is not counted twice."""
    busy = _busy(end) - _busy(start)
    total = _total(end) - _total(start)
    if total <= 0:
        return 0.0
    others = min(max(busy - own_s, 0.0), total)
    left = total - own_s
    # Below a twentieth of the window left, the few ticks are noise, not a share.
    if saturated and left > 0.05 * total:
        return 100.0 * min(others / left, 1.0)
    return 100.0 * others / total


def _total(times: Any) -> float:
    guest = getattr(times, "guest", 0.0) + getattr(times, "guest_nice", 0.0)
    return sum(times) - guest


def _busy(times: Any) -> float:
    idle = times.idle + getattr(times, "iowait", 0.0)
    return _total(times) - idle


@dataclass(frozen=True)
class HostMemory:
    """What a model can be loaded into on this host: RAM and GPU memory, in bytes."""

    ram: int
    gpu: int
    gpu_source: str  # "nvidia-smi", or why no GPU memory is counted


def gpu_memory_bytes(timeout: float = 3.0) -> tuple[int, str]:
    """Total memory of the NVIDIA GPUs ``nvidia-smi`` sees, or 0 and why none is counted."""
    import shutil
    import subprocess

    tool = shutil.which("nvidia-smi")
    if tool is None:
        return 0, "no nvidia-smi on this host"
    try:
        out = subprocess.run(
            [tool, "--query-gpu=memory.total", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 0, f"nvidia-smi failed: {exc}"
    mib = [int(v) for v in out.stdout.split() if v.strip().isdigit()]
    if out.returncode != 0 or not mib:
        return 0, f"nvidia-smi exited {out.returncode} with no GPU listed"
    return sum(mib) * 2**20, "nvidia-smi"


def host_memory() -> HostMemory:
    gpu, source = gpu_memory_bytes()
    return HostMemory(clock.memory().total, gpu, source)
