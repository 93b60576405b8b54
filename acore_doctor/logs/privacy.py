"""Whether a log file holds users' words: a bounded sample of each file, rotated and compressed
segments included (facts only; :func:`acore_doctor.rules.logs.logs_private` judges them).

The recent window says what the bot writes now; a ``bot.log.3.gz`` written while it ran at
DEBUG can still be full of Discord message payloads. Each file that others may read is
sampled on its own: the first :data:`SAMPLE_BYTES` (decompressed) and, for a plain file, the
last ones too. What is reported names the kind of content, never the content.
"""

from __future__ import annotations

import gzip
import re
import stat
import zlib
from collections.abc import Iterable, Mapping

from acore_doctor.logs.masking import CONTENT_PREFIXES
from acore_doctor.logs.sources import Segment
from acore_doctor.saferead import open_regular

#: Decompressed bytes read from each end of a file: a few thousand lines.
SAMPLE_BYTES = 1 << 20

#: kind of user content -> what shows it in a line, most telling first. Each pattern starts
#: with literal text, so a search skips through megabytes fast.
_KINDS: tuple[tuple[str, bytes], ...] = (
    # discord.py's DEBUG payload dumps: message objects with their author (a user object)
    ("Discord user objects", rb"""author["']\s*:\s*\{\s*["']id["']"""),
    ("Discord user objects", rb"""user["']\s*:\s*\{[^{}]{0,200}["']username["']"""),
    ("Discord message content", rb"""MESSAGE_CREATE["']"""),
    (
        "conversation text",
        rb" - (?:" + b"|".join(re.escape(p.encode()) for p in CONTENT_PREFIXES) + rb")",
    ),
)
_COMPILED = tuple((kind, re.compile(pattern)) for kind, pattern in _KINDS)


def content_kind(data: bytes) -> str | None:
    """The most telling kind of user content ``data`` shows, or None."""
    for kind, pattern in _COMPILED:
        if pattern.search(data):
            return kind
    return None


def _sample(segment: Segment) -> bytes:
    with open_regular(segment.path) as raw:
        if not segment.compressed:
            head = raw.read(SAMPLE_BYTES)
            if segment.size > 2 * SAMPLE_BYTES:
                raw.seek(-SAMPLE_BYTES, 2)
            return head + b"\n" + raw.read(SAMPLE_BYTES)
        with gzip.GzipFile(fileobj=raw) as stream:
            try:
                return stream.read(2 * SAMPLE_BYTES)
            except (EOFError, zlib.error, OSError):  # a broken segment: rotation's finding
                return b""


def sample_user_content(segment: Segment) -> str | None:
    """What user content a sample of ``segment`` shows, or None (also when unreadable)."""
    try:
        data = _sample(segment)
    except (OSError, zlib.error, EOFError):
        return None
    return content_kind(data)


def world_readable_content(segments: Iterable[Segment]) -> Mapping[str, str]:
    """File name -> the user content its sample shows, for every file others may read."""
    found = {}
    for segment in segments:
        if segment.mode & stat.S_IROTH:
            kind = sample_user_content(segment)
            if kind is not None:
                found[segment.path.name] = f"{kind} in a sample of the file"
    return found
