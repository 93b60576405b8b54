"""One line of progress on a terminal for work that takes more than a couple of seconds.

Quiet when the stream is not a terminal (cron, systemd, CI logs, pipes): nothing is written at
all, so logs hold only the result lines. When the amount of work is known up front (bytes
of an archive, seconds of a profile, pages of a database) the line also gives the share
done and an estimate of the time left. Time comes from an injectable ``clock``: tests drive
it by hand and never depend on the wall clock.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import TextIO

#: Nothing is shown for work that finishes sooner than this (seconds;
#: ``ACORE_DOCTOR_PROGRESS_AFTER`` overrides it, 0 draws from the start).
SHOW_AFTER_S = 2.0
SHOW_AFTER_ENV = "ACORE_DOCTOR_PROGRESS_AFTER"
#: At most this often, so a fast loop does not spend its time writing to the terminal.
REDRAW_EVERY_S = 0.25


def format_eta(seconds: float) -> str:
    """``0:42``, ``12:05``, ``1:02:03``: the time left, rounded up to a second."""
    whole = max(0, int(seconds + 0.999))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class ProgressLine:
    """``update(files, bytes)`` redraws ``  <verb>: 1,234 files, 56.7 MiB, 12.3 MiB/s``, with
    ``, 42%, ETA 0:13`` appended when ``total_bytes`` is known; ``advance(done, total, unit)``
    redraws ``  <verb>: 42% (420 of 1,000 <unit>), ETA 0:13`` for any other measure."""

    def __init__(
        self,
        verb: str,
        stream: TextIO | None = None,
        enabled: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
        show_after_s: float | None = None,
        total_bytes: int | None = None,
    ) -> None:
        self.verb = verb
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = _is_terminal(self.stream) if enabled is None else enabled
        self.clock = clock
        self.show_after_s = show_after_s if show_after_s is not None else _show_after()
        self.total_bytes = total_bytes
        self.started = clock()
        self.drawn_at: float | None = None
        self.width = 0

    def update(self, files: int, size: int) -> None:
        elapsed = self.clock() - self.started
        rate = size / elapsed / 2**20 if elapsed > 0 else 0.0
        text = f"{files:,} files, {size / 2**20:,.1f} MiB, {rate:,.1f} MiB/s"
        if self.total_bytes:
            text += ", " + self.share(size, self.total_bytes, elapsed)
        self.show(text)

    __call__ = update

    def advance(self, done: float, total: float | None, unit: str = "") -> None:
        """Progress in any unit: share done and time left when ``total`` is known."""
        if not self.enabled:
            return
        elapsed = self.clock() - self.started
        unit = f" {unit}" if unit else ""
        if not total:
            self.show(f"{done:,.0f}{unit}, {elapsed:,.0f} s")
            return
        percent, eta = self.share(done, total, elapsed).split(", ")
        self.show(f"{percent} ({done:,.0f} of {total:,.0f}{unit}), {eta}")

    @staticmethod
    def share(done: float, total: float, elapsed: float) -> str:
        """``42%, ETA 0:13`` (the time left assumes the rate so far holds)."""
        fraction = min(max(done / total, 0.0), 1.0) if total > 0 else 0.0
        if fraction <= 0 or elapsed <= 0:
            return f"{fraction:.0%}, ETA --:--"
        left = elapsed * (1 - fraction) / fraction
        return f"{fraction:.0%}, ETA {format_eta(left)}"

    def show(self, text: str) -> None:
        """Redraw the line as ``  <verb>: <text>`` (when enabled, late and not too often)."""
        if not self.enabled:
            return
        now = self.clock()
        if now - self.started < self.show_after_s:
            return
        if self.drawn_at is not None and now - self.drawn_at < REDRAW_EVERY_S:
            return
        line = f"  {self.verb}: {text}"
        self.stream.write("\r" + line.ljust(self.width))
        self.stream.flush()
        self.width = len(line)
        self.drawn_at = now

    def done(self) -> None:
        """Clear the line, so the result that follows starts at column 0."""
        if self.drawn_at is not None:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.drawn_at = None


def _show_after() -> float:
    try:
        return max(0.0, float(os.environ.get(SHOW_AFTER_ENV, SHOW_AFTER_S)))
    except ValueError:
        return SHOW_AFTER_S


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or foreign stream: no terminal
        return False


class Phases:
    """One progress line per phase of a longer job (a restore stages, then saves the live
    state): ``phases(verb, total_bytes)`` clears the previous phase's line and returns the
    new one, a ``(files, bytes)`` callback. Silent off a terminal, like every line here."""

    def __init__(self, stream: TextIO | None = None, enabled: bool | None = None) -> None:
        self.stream = stream
        self.enabled = enabled
        self.line: ProgressLine | None = None

    def __call__(self, verb: str, total_bytes: int | None = None) -> ProgressLine:
        self.done()
        self.line = ProgressLine(
            verb, stream=self.stream, enabled=self.enabled, total_bytes=total_bytes
        )
        return self.line

    def done(self) -> None:
        if self.line is not None:
            self.line.done()


# -- the shared hook: deep code reports progress without a parameter threaded down to it --
_active: list[ProgressLine] = []


class active:  # noqa: N801 - used as ``with progress.active(line):``
    """Make ``line`` the one :func:`report` draws on while the block runs (a repair makes
    its line active around each action; the salvage of a database deep inside reports its
    pages to it)."""

    def __init__(self, line: ProgressLine | None) -> None:
        self.line = line

    def __enter__(self) -> ProgressLine | None:
        if self.line is not None:
            _active.append(self.line)
        return self.line

    def __exit__(self, *_exc: object) -> None:
        if self.line is not None and _active and _active[-1] is self.line:
            _active.pop()


def report(done: float, total: float | None, unit: str = "") -> None:
    """Progress of whatever runs now (``advance`` on the active line); nothing when no line
    is active, so library code may call it freely."""
    if _active:
        _active[-1].advance(done, total, unit)
