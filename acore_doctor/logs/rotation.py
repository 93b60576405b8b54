"""Facts about the log's rotation: backup count, compression, segment validity, size, and
how often the handler rotates (a flood rotates a 10 MiB log within hours).

How often is read from the records, not from file times: a rotated segment holds everything
logged between two rotations, so its first and last records' times are the interval. File
mtimes would say nothing after a copy or a restore."""

from __future__ import annotations

from dataclasses import dataclass, field

from acore_doctor.logs.parse import format_local
from acore_doctor.logs.sources import LogFiles, scan_segment

#: The handler rotates after a write crosses LOG_MAX_BYTES; allow that write plus slack.
SIZE_SLACK = 1.1
#: A segment the handler rotated out is LOG_MAX_BYTES long; a much smaller one was cut by
#: something else (a restart under other settings, a copy), so its span is no interval.
FULL_SEGMENT = 0.5


@dataclass
class RotationFacts:
    any_file: bool
    problems: list[str] = field(default_factory=list)
    #: shortest time a full rotated segment took to fill (its first to its last record)
    shortest_interval_h: float | None = None
    shortest_interval_between: str = ""


def rotation_facts(files: LogFiles, backup_count: int, max_bytes: int) -> RotationFacts:
    facts = RotationFacts(any_file=files.live_exists or bool(files.segments))
    name = files.live.name
    extra = [s for s in files.segments if s.index > max(backup_count, 0)]
    if extra:
        facts.problems.append(
            f"{len(extra)} segment(s) beyond LOG_BACKUP_COUNT={backup_count} "
            f"({', '.join(s.path.name for s in extra[:3])}): not rotated by this bot's settings"
        )
    if files.uncompressed_backups:
        facts.problems.append(
            f"uncompressed {', '.join(p.name for p in files.uncompressed_backups[:3])}: the bot "
            f"writes only {name}.N.gz (left by an older version or an interrupted rotation)"
        )
    spans = []
    for segment in files.segments:
        scan = scan_segment(segment.path)
        if scan.problem:
            facts.problems.append(f"{segment.path.name} is not a valid gzip file: {scan.problem}")
        elif (
            scan.first_time is not None
            and scan.last_time is not None
            and scan.size >= max_bytes * FULL_SEGMENT
        ):
            spans.append((segment, scan.first_time, scan.last_time))
    if max_bytes > 0 and files.live_size > max_bytes * SIZE_SLACK:
        facts.problems.append(
            f"{name} is {files.live_size / 2**20:.1f} MiB, above LOG_MAX_BYTES="
            f"{max_bytes} ({max_bytes / 2**20:.1f} MiB): the file is not being rotated"
        )
    for segment, first, last in spans:
        hours = (last - first) / 3600
        if facts.shortest_interval_h is None or hours < facts.shortest_interval_h:
            facts.shortest_interval_h = hours
            facts.shortest_interval_between = (
                f"{segment.path.name} holds {format_local(first)} to {format_local(last)}"
            )
    return facts
