"""pytest plugin module for log health: session fixtures (the options are in options.py).

Facts come from :mod:`acore_doctor.logs`; ``health_tests/test_logs.py`` judges them with
:mod:`acore_doctor.rules.logs` (which also holds the thresholds these options set). The
recent window is read once per run and shared by every window check.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from acore_doctor.deployment import Deployment
from acore_doctor.logs.analyzer import Analyzer
from acore_doctor.logs.privacy import world_readable_content
from acore_doctor.logs.sources import (
    DEFAULT_UNIT,
    LogFiles,
    find_log_files,
    journalctl_available,
    log_file_path,
    read_journal,
    read_journal_file,
)
from acore_doctor.logs.window import (
    WindowFacts,
    read_file_window,
    read_journal_window,
)
from acore_doctor.options import option
from acore_doctor.probes.entrypoint import RUNTIME, Entrypoint
from acore_doctor.rules.logs import LOG_THRESHOLDS, LogThresholds
from acore_doctor.thresholds import read_thresholds


@pytest.fixture(scope="session")
def log_thresholds(request: pytest.FixtureRequest) -> LogThresholds:
    return LogThresholds(**read_thresholds(request.config, LOG_THRESHOLDS))


@dataclass(frozen=True)
class LogSource:
    """Where the bot's log is: a file ("file"), the journal ("journal"), or nowhere (None)."""

    kind: str | None
    description: str
    #: why file checks do not apply, when they do not
    no_file_reason: str | None = None
    journal_file: Path | None = None
    unit: str = DEFAULT_UNIT
    #: launcher.py: logs to stderr only and ignores every LOG_* setting
    runtime: bool = False


@pytest.fixture(scope="session")
def log_source(
    request: pytest.FixtureRequest, deployment: Deployment, entrypoint: Entrypoint
) -> LogSource:
    unit = option(request.config, "log_journal_unit") or DEFAULT_UNIT
    journal_file = option(request.config, "log_journal_file")
    no_file = None
    if entrypoint.kind == RUNTIME:
        no_file = "launcher.py logs only to stderr/journald (no log file, LOG_* ignored)"
    elif not deployment.settings.get("LOG_TO_FILE"):
        no_file = "LOG_TO_FILE=false: the bot writes no log file"
    runtime = entrypoint.kind == RUNTIME
    if journal_file:
        path = Path(journal_file)
        return LogSource("journal", f"journal export {path}", no_file, path, unit, runtime)
    if no_file is None:
        return LogSource("file", str(log_file_path(deployment)))
    if journalctl_available():
        return LogSource("journal", f"journalctl -u {unit}", no_file, None, unit, runtime)
    return LogSource(None, "no log file and no journalctl", no_file, None, unit, runtime)


@pytest.fixture(scope="session")
def log_files(deployment: Deployment) -> LogFiles:
    return find_log_files(log_file_path(deployment))


@pytest.fixture(scope="session")
def log_readable_content(log_files: LogFiles) -> Mapping[str, str]:
    """File name -> the user content a sample of it shows, for each log file others may read
    (the live file and every rotated segment, compressed or not)."""
    return world_readable_content(log_files.every_file())


def _journal_lines(source: LogSource, since: float | None) -> tuple[list[bytes], str | None]:
    if source.journal_file is not None:
        try:
            return read_journal_file(source.journal_file), None
        except OSError as exc:
            return [], f"cannot read {source.journal_file}: {exc.strerror or exc}"
    result = read_journal(source.unit, since)
    return result.lines, result.error


@pytest.fixture(scope="session")
def log_window(
    log_source: LogSource, log_files: LogFiles, log_thresholds: LogThresholds
) -> WindowFacts:
    """The recent window (the last N minutes before the newest record), analyzed once."""
    minutes = log_thresholds.log_window_minutes
    crash_s = log_thresholds.log_crash_minutes * 60
    if log_source.kind == "file":
        return read_file_window(log_files, minutes, crash_window_s=crash_s)
    if log_source.kind == "journal":
        # A day of journal is plenty to find the newest entry and the window before it.
        lines, error = _journal_lines(log_source, time.time() - 86400)
        facts = read_journal_window(lines, minutes, log_source.description, crash_s)
        if error and facts.problem:
            facts.problem = error
        return facts
    facts = WindowFacts(log_source.description, minutes, Analyzer().result)
    facts.problem = log_source.no_file_reason or "no log source"
    return facts
