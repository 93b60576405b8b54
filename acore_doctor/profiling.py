"""In-process profiling the bot can switch on with ``MEMORY_PROFILING`` / ``PERFORMANCE_PROFILING``.

Add two lines to the bot's start-up (``main.py`` or ``launcher.py``), in its main thread::

    import acore_doctor.profiling
    acore_doctor.profiling.start_from_env()

With ``MEMORY_PROFILING=true`` a daemon thread takes a tracemalloc snapshot every
``MEMORY_PROFILING_INTERVAL`` seconds (default 300) and appends the source lines whose
allocations grew most since the previous snapshot to ``MEMORY_PROFILING_FILE`` (default
``logs/memory_profile.log``).

With ``PERFORMANCE_PROFILING=true`` the main thread (where the bot's event loop runs) is
profiled with cProfile; the top functions by cumulative time are appended to
``PERFORMANCE_PROFILING_FILE`` (default ``logs/performance_profile.log``) at exit and
whenever the process gets SIGUSR1 (``kill -USR1 <pid>``), unless the bot handles SIGUSR1
itself.

Anything else leaves the bot untouched. The helpers never raise into the bot: a failure is
written to the file and that profiler stops.
"""

from __future__ import annotations

import atexit
import contextlib
import cProfile
import io
import os
import pstats
import signal
import threading
import tracemalloc
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from acore_doctor.catalog import SUITE_SETTINGS

# Defaults come from the suite's table (catalog.SUITE_SETTINGS), as README lists them.
DEFAULT_INTERVAL_S = float(SUITE_SETTINGS["MEMORY_PROFILING_INTERVAL"].default)  # type: ignore[arg-type]
DEFAULT_TOP = int(SUITE_SETTINGS["MEMORY_PROFILING_TOP"].default)  # type: ignore[call-overload]
DEFAULT_FILE = str(SUITE_SETTINGS["MEMORY_PROFILING_FILE"].default)
DEFAULT_PERFORMANCE_FILE = str(SUITE_SETTINGS["PERFORMANCE_PROFILING_FILE"].default)
#: tracemalloc's own bookkeeping and the import machinery are never the bot's leak.
IGNORED = ("<frozen importlib._bootstrap>", "<frozen importlib._bootstrap_external>", "<unknown>")


def _number(environ: Mapping[str, str], key: str, default: float) -> float:
    try:
        return float(environ.get(key, default))
    except ValueError:
        return default


class MemoryProfiler:
    def __init__(
        self,
        path: Path,
        interval_s: float = DEFAULT_INTERVAL_S,
        top: int = DEFAULT_TOP,
        frames: int = 1,
    ) -> None:
        self.path, self.interval_s, self.top, self.frames = path, interval_s, top, frames
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._previous: tracemalloc.Snapshot | None = None
        self.snapshots = 0

    def start(self) -> MemoryProfiler:
        if not tracemalloc.is_tracing():
            tracemalloc.start(self.frames)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._previous = self._snapshot()
        self._write(
            f"== {_now()} tracemalloc started (every {self.interval_s:g} s, top {self.top})\n"
        )
        self._thread = threading.Thread(target=self._run, name="acore-doctor-memory", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _snapshot(self) -> tracemalloc.Snapshot:
        filters = [tracemalloc.Filter(False, name) for name in IGNORED]
        filters.append(tracemalloc.Filter(False, tracemalloc.__file__))
        return tracemalloc.take_snapshot().filter_traces(filters)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.write_diff()
            except Exception as exc:  # never take the bot down for a profiler
                self._write(f"== {_now()} memory profiling stopped: {type(exc).__name__}: {exc}\n")
                return

    def write_diff(self) -> None:
        snapshot = self._snapshot()
        stats = snapshot.compare_to(self._previous, "lineno") if self._previous else []
        self._previous = snapshot
        self.snapshots += 1
        current, peak = tracemalloc.get_traced_memory()
        lines = [
            f"== {_now()} snapshot {self.snapshots}: traced {current / 2**20:.1f} MiB "
            f"(peak {peak / 2**20:.1f} MiB); top growth since the previous snapshot:"
        ]
        growing = [s for s in stats if s.size_diff > 0][: self.top]
        for stat in growing:
            frame = stat.traceback[0]
            lines.append(
                f"  {stat.size_diff / 1024:+10.1f} KiB  {stat.count_diff:+8d} blocks  "
                f"{frame.filename}:{frame.lineno}  (now {stat.size / 1024:.1f} KiB)"
            )
        if not growing:
            lines.append("  (nothing grew)")
        self._write("\n".join(lines) + "\n")

    def _write(self, text: str) -> None:
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(text)


class PerformanceProfiler:
    """cProfile over the thread that starts it; dumps its top functions at exit and on SIGUSR1."""

    def __init__(self, path: Path, top: int = 30) -> None:
        self.path, self.top = path, top
        self.profile = cProfile.Profile()
        self.dumps = 0

    def start(self) -> PerformanceProfiler:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.profile.enable()
        atexit.register(self.dump, final=True)
        in_main = threading.current_thread() is threading.main_thread()
        if in_main and signal.getsignal(signal.SIGUSR1) is signal.SIG_DFL:
            signal.signal(signal.SIGUSR1, lambda signum, frame: self.dump())
        return self

    def dump(self, final: bool = False) -> None:
        try:
            self.profile.disable()
            buffer = io.StringIO()
            stats = pstats.Stats(self.profile, stream=buffer)
            stats.strip_dirs().sort_stats("cumulative").print_stats(self.top)
            self.dumps += 1
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(
                    f"== {_now()} cProfile of the main thread ({'exit' if final else 'SIGUSR1'}):\n"
                )
                handle.write(buffer.getvalue())
        except Exception as exc:  # never take the bot down for a profiler
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(f"== {_now()} performance profiling failed: {exc}\n")
            return
        if not final:
            self.profile.enable()


@dataclass
class Profilers:
    memory: MemoryProfiler | None = None
    performance: PerformanceProfiler | None = None

    def __bool__(self) -> bool:
        return self.memory is not None or self.performance is not None


def _enabled(environ: Mapping[str, str], key: str) -> bool:
    return environ.get(key, "").strip().lower() == "true"  # the bot's bool rule


def _path(environ: Mapping[str, str], key: str, default: str, base_dir: Path | None) -> Path:
    path = Path(environ.get(key, default))
    return path if path.is_absolute() else (base_dir or Path.cwd()) / path


def start_from_env(
    environ: Mapping[str, str] | None = None, base_dir: Path | None = None
) -> Profilers:
    """Start what ``MEMORY_PROFILING`` and ``PERFORMANCE_PROFILING`` ask for (each ``true``).

    The result is falsy when neither is on.
    """
    environ = os.environ if environ is None else environ
    started = Profilers()
    if _enabled(environ, "MEMORY_PROFILING"):
        interval = _number(environ, "MEMORY_PROFILING_INTERVAL", DEFAULT_INTERVAL_S)
        top = int(_number(environ, "MEMORY_PROFILING_TOP", DEFAULT_TOP))
        path = _path(environ, "MEMORY_PROFILING_FILE", DEFAULT_FILE, base_dir)
        # An unwritable log directory must not stop the bot.
        with contextlib.suppress(OSError):
            started.memory = MemoryProfiler(path, max(0.05, interval), max(1, top)).start()
    if _enabled(environ, "PERFORMANCE_PROFILING"):
        path = _path(environ, "PERFORMANCE_PROFILING_FILE", DEFAULT_PERFORMANCE_FILE, base_dir)
        with contextlib.suppress(OSError, ValueError):
            started.performance = PerformanceProfiler(path).start()
    return started


def _now() -> str:
    return datetime.now().isoformat(timespec="seconds")
