"""One line of progress on a terminal for work that takes more than a couple of seconds.

Quiet when the stream is not a terminal (cron, systemd, CI logs, pipes): nothing is written at
all, so logs hold only the result lines.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

#: Nothing is shown for work that finishes sooner than this.
SHOW_AFTER_S = 2.0
#: At most this often, so a fast loop does not spend its time writing to the terminal.
REDRAW_EVERY_S = 0.25


class ProgressLine:
    """``update(files, bytes)`` redraws ``  <verb>: 1,234 files, 56.7 MiB, 12.3 MiB/s``."""

    def __init__(
        self,
        verb: str,
        stream: TextIO | None = None,
        enabled: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
        show_after_s: float = SHOW_AFTER_S,
    ) -> None:
        self.verb = verb
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.clock = clock
        self.show_after_s = show_after_s
        self.started = clock()
        self.drawn_at: float | None = None
        self.width = 0

    def update(self, files: int, size: int) -> None:
        elapsed = self.clock() - self.started
        rate = size / elapsed / 2**20 if elapsed > 0 else 0.0
        self.show(f"{files:,} files, {size / 2**20:,.1f} MiB, {rate:,.1f} MiB/s")

    __call__ = update

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
