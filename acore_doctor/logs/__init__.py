"""The bot's logs: parsing, templates, known signatures, windows and streaming analysis.

Facts only (the probe layer of the log area); ``health_tests/test_logs.py`` judges them and
``acore-doctor logs`` presents them. See docs/logs.md.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from acore_doctor.logs.analyzer import Analyzer, LogAnalysis, analyze
from acore_doctor.logs.parse import LogRecord, ParseStats, iter_records
from acore_doctor.logs.sources import (
    LogFiles,
    find_log_files,
    log_file_path,
    read_line_batches,
    read_lines,
    read_records,
    records_since,
)


def analyze_paths(
    paths: list[Path],
    since: float | None = None,
    fmt: str = "auto",
    crash_window_s: float = 600.0,
    progress: Callable[[int], None] | None = None,
) -> LogAnalysis:
    """Stream every record of ``paths`` (in that order) through one analyzer."""
    analyzer = Analyzer(crash_window_s=crash_window_s, progress=progress)
    analyzer.result.sources = [str(p) for p in paths]
    if fmt == "journal":
        records = read_records(paths, analyzer.result.parse, fmt=fmt)
        return analyzer.feed_all(records_since(records, since))
    return analyzer.feed_batches(read_line_batches(paths), since=since)


__all__ = [
    "Analyzer",
    "LogAnalysis",
    "LogFiles",
    "LogRecord",
    "ParseStats",
    "analyze",
    "analyze_paths",
    "find_log_files",
    "iter_records",
    "log_file_path",
    "read_line_batches",
    "read_lines",
    "read_records",
    "records_since",
]
