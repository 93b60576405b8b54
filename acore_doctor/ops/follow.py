"""Follow the bot's log between ``watch``'s full runs: an ERROR triggers diagnosis at once.

The troubleshooting design's ``AUTO_DIAGNOSTIC_ON_ERROR`` and "Selective Execution: only run
when issues detected": instead of waiting up to ``HEALTH_CHECK_INTERVAL`` for the next full
run, a new ERROR or CRITICAL record runs the checks of the area it concerns (Discord, the
LLM, voice, data...) within seconds.

Cheap on purpose: a tail position, never a re-read. One ``stat`` per poll; the file is read
only when it grew. Rotation is followed by inode (``RotatingFileHandler`` renames the file):
the rest of the old file is read through the handle still open on it before the new file is
read from its start; a file cut shorter (``copytruncate``) is read again from its start.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from acore_doctor.logs.parse import LEVEL_RANK, LogRecord, ParseStats, iter_records
from acore_doctor.logs.signatures import SIGNATURES

#: The most read in one poll (a burst is taken over the next polls, memory stays flat).
MAX_READ = 1 << 20
#: A line longer than this without its end is cut (a binary or runaway line).
MAX_PARTIAL = 64 * 1024
ERROR_RANK = LEVEL_RANK["ERROR"]

#: Check files of each area; the log checks run with every area, so the error is judged too.
AREA_CHECKS: dict[str, tuple[str, ...]] = {
    "discord": ("health_tests/test_discord.py",),
    "llm": ("health_tests/test_llm.py",),
    "voice": ("health_tests/test_voice.py",),
    "data": ("health_tests/test_data.py", "health_tests/test_databases.py"),
    "personas": ("health_tests/test_personas.py",),
    "startup": (
        "health_tests/test_config.py",
        "health_tests/test_environment.py",
        "health_tests/test_system.py",
    ),
    "network": ("health_tests/test_discord.py", "health_tests/test_llm.py"),
    "logs": (),
}
LOG_CHECKS = "health_tests/test_logs.py"

#: Signature (logs/signatures.py) -> area; a test keeps every signature listed.
SIGNATURE_AREAS: dict[str, str] = {
    "fatal_error": "startup",
    "login_failure": "discord",
    "privileged_intents": "discord",
    "model_not_found": "llm",
    "llm_provider_check_failed": "llm",
    "webhook_limit": "discord",
    "missing_permissions": "discord",
    "rate_limited": "discord",
    "dns_failure": "network",
    "unclosed_session": "logs",
    "event_loop_blocked": "logs",
    "rerank_nested_loop": "llm",
    "on_message_exception": "logs",
    "persona_not_found": "personas",
    "parakeet_unreachable": "voice",
    "avatar_fetch_failed": "personas",
    "plugin_load_failed": "startup",
    "command_sync_failed": "discord",
    "character_break": "llm",
}

#: Without a known signature, words in the logger name or the exception say the area.
_KEYWORD_AREAS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("sqlite", "database", "jsondecode", "chat_history", "profile", "json"), "data"),
    (("ollama", "openrouter", "llm", "openai"), "llm"),
    (("tts", "kokoro", "rvc", "parakeet", "stt", "voice", "supertonic", "luxtts"), "voice"),
    (("persona", "character"), "personas"),
    (("discord", "gateway", "webhook"), "discord"),
)


@dataclass(frozen=True)
class ErrorEvent:
    """An ERROR or CRITICAL record, reduced to what may leave the process: no message text
    (it can hold user content), only its level, logger, time, signature and area."""

    level: str
    logger: str
    time: float | None
    signature: str | None
    area: str

    def describe(self) -> str:
        named = f" ({self.signature})" if self.signature else ""
        return f"{self.level} from {self.logger}{named}"


def area_of(record: LogRecord) -> tuple[str | None, str]:
    """(signature key, area) of an error record."""
    text = record.full_text()
    rank = LEVEL_RANK.get(record.level, 0)
    for signature in SIGNATURES:
        if rank >= signature.min_rank and signature.pattern.search(text):
            return signature.key, SIGNATURE_AREAS.get(signature.key, "logs")
    # Read here, never kept: the message may hold user content.
    haystack = f"{record.logger} {record.traceback_type() or ''} {record.message[:300]}".lower()
    for words, area in _KEYWORD_AREAS:
        if any(word in haystack for word in words):
            return None, area
    return None, "logs"


def checks_for(areas: Iterable[str]) -> list[str]:
    """The check files to run for ``areas``: theirs and the log checks, each once."""
    files = [LOG_CHECKS]
    for area in areas:
        files += [f for f in AREA_CHECKS.get(area, ()) if f not in files]
    return files


@dataclass
class LogFollower:
    """A tail position on one log file; :meth:`poll` returns the complete lines added."""

    path: Path
    max_read: int = MAX_READ
    _handle: IO[bytes] | None = None
    _ident: tuple[int, int] | None = None
    _partial: bytes = b""
    stats: ParseStats = field(default_factory=ParseStats)

    def start_at_end(self) -> None:
        """Follow from now: what is already in the file was the full run's to judge."""
        self._open(seek_end=True)

    def _open(self, seek_end: bool = False) -> bool:
        try:
            handle = open(self.path, "rb")  # noqa: SIM115 - kept open to follow rotation
        except OSError:
            return False
        st = os.fstat(handle.fileno())
        if seek_end:
            handle.seek(st.st_size)
        self.close()
        self._handle, self._ident, self._partial = handle, (st.st_dev, st.st_ino), b""
        return True

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def poll(self) -> list[bytes]:
        lines: list[bytes] = []
        if self._handle is None and not self._open():
            return lines
        try:
            st = os.stat(self.path)
        except OSError:
            st = None  # rotation in progress: read what the old file still holds
        assert self._handle is not None
        current = os.fstat(self._handle.fileno())
        if st is not None and (st.st_dev, st.st_ino) == self._ident:
            if current.st_size < self._handle.tell():  # cut shorter in place
                self._handle.seek(0)
                self._partial = b""
            return self._read(lines)
        self._read(lines, everything=True)  # the rest of the rotated-away file
        if self._partial:
            lines.append(self._partial)
            self._partial = b""
        if st is not None and self._open():
            self._read(lines)
        return lines

    def _read(self, lines: list[bytes], everything: bool = False) -> list[bytes]:
        assert self._handle is not None
        budget = self.max_read
        while everything or budget > 0:
            data = self._handle.read(min(budget, 256 * 1024))
            if not data:
                break
            budget -= len(data)
            parts = (self._partial + data).split(b"\n")
            self._partial = parts.pop()[-MAX_PARTIAL:]
            lines.extend(parts)
        return lines

    def errors(self) -> list[ErrorEvent]:
        """The ERROR and CRITICAL records among the lines added since the last call."""
        return error_events(iter_records(self.poll(), self.stats))

    def describe(self) -> str:
        return str(self.path)


def error_events(records: Iterable[LogRecord]) -> list[ErrorEvent]:
    events = []
    for record in records:
        if LEVEL_RANK.get(record.level, 0) >= ERROR_RANK:
            signature, area = area_of(record)
            events.append(ErrorEvent(record.level, record.logger, record.time, signature, area))
    return events


@dataclass
class JournalFollower:
    """``journalctl -f -o json -u UNIT`` for a bot that logs to the journal (``launcher.py``,
    ``LOG_TO_FILE=false``): one long-lived child, read without blocking at every poll."""

    unit: str
    restart_after_s: float = 30.0
    _proc: subprocess.Popen[bytes] | None = None
    _partial: bytes = b""
    _died_at: float = 0.0
    stats: ParseStats = field(default_factory=ParseStats)

    def start_at_end(self) -> None:
        self._start()

    def _start(self) -> None:
        cmd = ["journalctl", "-f", "-o", "json", "-n", "0", "-q", "-u", self.unit]
        try:
            self._proc = subprocess.Popen(
                cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL
            )
        except OSError:
            self._proc, self._died_at = None, time.monotonic()
            return
        assert self._proc.stdout is not None
        os.set_blocking(self._proc.stdout.fileno(), False)

    def poll(self) -> list[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            if self._proc is not None:
                self._proc, self._died_at = None, time.monotonic()
            if time.monotonic() - self._died_at >= self.restart_after_s:
                self._start()
            return []
        assert self._proc.stdout is not None
        chunks = []
        total = 0
        while total < MAX_READ:
            try:
                data = os.read(self._proc.stdout.fileno(), 256 * 1024)
            except BlockingIOError:
                break
            if not data:
                break
            chunks.append(data)
            total += len(data)
        parts = (self._partial + b"".join(chunks)).split(b"\n")
        self._partial = parts.pop()[-MAX_PARTIAL:]
        return parts

    def errors(self) -> list[ErrorEvent]:
        return error_events(iter_records(self.poll(), self.stats, fmt="journal"))

    def close(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        self._proc = None

    def describe(self) -> str:
        return f"journalctl -u {self.unit}"


Follower = LogFollower | JournalFollower
