"""Facts about the log's rotation: backup count, compression, segment validity, size, and
how often the handler rotates (a flood rotates a 10 MiB log within hours)."""

from __future__ import annotations

from dataclasses import dataclass, field

from acore_doctor.logs.parse import format_local
from acore_doctor.logs.sources import LogFiles, gzip_problem

#: The handler rotates after a write crosses LOG_MAX_BYTES; allow that write plus slack.
SIZE_SLACK = 1.1


@dataclass
class RotationFacts:
    any_file: bool
    problems: list[str] = field(default_factory=list)
    #: shortest time between two successive rotations, and which segments
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
    for segment in files.segments:
        problem = gzip_problem(segment.path)
        if problem:
            facts.problems.append(f"{segment.path.name} is not a valid gzip file: {problem}")
    if max_bytes > 0 and files.live_size > max_bytes * SIZE_SLACK:
        facts.problems.append(
            f"{name} is {files.live_size / 2**20:.1f} MiB, above LOG_MAX_BYTES="
            f"{max_bytes} ({max_bytes / 2**20:.1f} MiB): the file is not being rotated"
        )
    ordered = sorted(files.segments, key=lambda s: -s.index)  # oldest first
    for older, newer in zip(ordered, ordered[1:], strict=False):
        hours = (newer.mtime - older.mtime) / 3600
        if hours > 0 and (facts.shortest_interval_h is None or hours < facts.shortest_interval_h):
            facts.shortest_interval_h = hours
            facts.shortest_interval_between = (
                f"{older.path.name} rotated {format_local(older.mtime)}, "
                f"{newer.path.name} {format_local(newer.mtime)}"
            )
    return facts
