"""The JSON state files the bot keeps, parsed and shape-checked (§3.1, §8 check 24).

Built to scale: one open/fstat/read/close per file with ``os`` calls, no per-file Path
objects on the hot path, so 100 000 small files take a few seconds.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acore_doctor import jsonstream
from acore_doctor.deployment import Deployment
from acore_doctor.saferead import NotARegularFile, open_regular, read_rest

#: Files up to this size are read and parsed whole (fastest); larger ones are streamed item
#: by item (acore_doctor.jsonstream), so a valid 200 MB history costs megabytes, not gigabytes.
READ_WHOLE_MAX = 16 * 1024 * 1024
#: Beyond this a file is not checked at all (it would take minutes): reported, not judged.
STREAM_MAX = 1024 * 1024 * 1024
#: mtimes this far ahead of the clock are "in the future" (clock skew allowance).
FUTURE_SLACK_S = 300.0
_RL_AGENT_KEY = re.compile(r"^-?\d+:-?\d+$")


def _shape_chat_history(data: Any) -> str | None:
    if not isinstance(data, list):
        return f"a JSON {type(data).__name__}, expected a list of messages"
    for index, message in enumerate(data):
        if not isinstance(message, dict):
            return f"message {index} is a {type(message).__name__}, expected an object"
        if not isinstance(message.get("role"), str) or not isinstance(message.get("content"), str):
            return f"message {index} lacks a string 'role' and 'content'"
    return None


def _shape_user_profile(data: Any) -> str | None:
    if not isinstance(data, dict):
        return f"a JSON {type(data).__name__}, expected a profile object"
    if "user_id" not in data:
        return "no 'user_id'"
    affection = data.get("affection")
    if affection is not None:
        level = affection.get("level") if isinstance(affection, dict) else None
        if not isinstance(level, int | float) or isinstance(level, bool) or not 0 <= level <= 100:
            return f"affection.level {level!r} is not a number in 0-100"
    return None


def _shape_gestalt_memory(data: Any) -> str | None:
    if not isinstance(data, dict):
        return f"a JSON {type(data).__name__}, expected a memory object"
    if not isinstance(data.get("short_term"), list):
        return "'short_term' is not a list"
    if not isinstance(data.get("long_term_summary", ""), str):
        return "'long_term_summary' is not a string"
    if not isinstance(data.get("state", {}), dict):
        return "'state' is not an object"
    return None


def _shape_rl(data: Any) -> str | None:
    if not isinstance(data, dict):
        return f"a JSON {type(data).__name__}, expected an object"
    if "version" not in data:
        return "no 'version'"
    agents = data.get("agents")
    if not isinstance(agents, dict):
        return "'agents' is not an object"
    bad = next((k for k in agents if not _RL_AGENT_KEY.match(k)), None)
    return None if bad is None else f"agent key {bad!r} is not '<channel_id>:<user_id>'"


def _shape_any_object(data: Any) -> str | None:
    return None if isinstance(data, dict) else f"a JSON {type(data).__name__}, expected an object"


Shape = Callable[[Any], str | None]


@dataclass(frozen=True)
class StateKind:
    name: str
    root: Path
    depth: int  # 1: root/*.ext, 2: root/*/*.ext
    suffix: str
    shape: Shape
    prefix: str = ""


def state_kinds(deployment: Deployment, entrypoint: str | None) -> list[StateKind]:
    s = deployment.settings
    data = deployment.path("data")
    kinds = [
        StateKind("gestalt memory", data / "gestalt_memory", 2, ".json", _shape_gestalt_memory),
        StateKind("chat history", data / "chat_history", 1, ".json", _shape_chat_history),
        StateKind(
            "user profile",
            deployment.path(s.get("USER_PROFILES_PATH")),
            2,
            ".json",
            _shape_user_profile,
            prefix="user_",
        ),
        StateKind("RL state", deployment.path(s.get("RL_DATA_DIR")), 1, ".json", _shape_rl),
        StateKind(
            "bot conversation",
            data / "bot_conversations" / "active",
            1,
            ".jsonl",
            _shape_any_object,
        ),
    ]
    return kinds


@dataclass
class StateReport:
    files: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    corrupt: list[tuple[str, str]] = field(default_factory=list)
    bad_shape: list[tuple[str, str]] = field(default_factory=list)
    future: list[tuple[str, float]] = field(default_factory=list)
    #: too large to check (an item over the streaming limit, or the file over STREAM_MAX)
    unchecked: list[tuple[str, str]] = field(default_factory=list)
    stray_tmp: list[str] = field(default_factory=list)
    unreadable_dirs: list[tuple[str, str]] = field(default_factory=list)
    elapsed_s: float = 0.0


def _files(kind: StateKind, report: StateReport) -> Iterator[str]:
    dirs = [str(kind.root)]
    for _ in range(kind.depth - 1):
        subdirs = []
        for directory in dirs:
            try:
                with os.scandir(directory) as entries:
                    subdirs += [e.path for e in entries if e.is_dir(follow_symlinks=False)]
            except FileNotFoundError:
                continue
            except OSError as exc:
                report.unreadable_dirs.append((directory, exc.strerror or str(exc)))
        dirs = subdirs
    for directory in dirs:
        try:
            with os.scandir(directory) as entries:
                names = [
                    e.path
                    for e in entries
                    if e.name.endswith(kind.suffix) and e.name.startswith(kind.prefix)
                ]
        except FileNotFoundError:
            continue
        except OSError as exc:
            report.unreadable_dirs.append((directory, exc.strerror or str(exc)))
            continue
        yield from names


def read_state_file(path: str) -> tuple[bytes | None, float, str | None]:
    """(content, mtime, error) without opening FIFOs or devices (acore_doctor.saferead). A
    file larger than READ_WHOLE_MAX gives (None, mtime, None): check it with
    :func:`stream_state_file`."""
    try:
        with open_regular(path) as handle:
            st = os.fstat(handle.fileno())
            if st.st_size > READ_WHOLE_MAX:
                return None, st.st_mtime, None
            data = read_rest(handle, READ_WHOLE_MAX)
    except NotARegularFile as exc:
        return None, 0.0, str(exc)
    except OSError as exc:
        return None, 0.0, f"unreadable: {exc.strerror or exc}"
    if len(data) > READ_WHOLE_MAX:  # grew while read: stream it instead
        return None, st.st_mtime, None
    return data, st.st_mtime, None


@dataclass
class StreamedState:
    error: str | None = None  # does not parse
    shape: str | None = None  # parses, wrong shape
    unchecked: str | None = None  # too large to check
    items: int = 0


def stream_state_file(path: str, kind: StateKind | None) -> StreamedState:
    """Parse and shape-check a large state file one top-level item at a time.

    Each list element is shape-checked as a one-element list; an object's members are
    gathered with long lists cut to their first 100 elements (the shape checks look at types
    and small fields, not at every element of a long list)."""
    result = StreamedState()
    try:
        handle = open_regular(path)
    except NotARegularFile as exc:
        result.error = str(exc)
        return result
    except OSError as exc:
        result.error = f"unreadable: {exc.strerror or exc}"
        return result
    with handle:
        st = os.fstat(handle.fileno())
        if st.st_size > STREAM_MAX:
            result.unchecked = f"{st.st_size / 2**30:.1f} GiB: too large to check in a health run"
            return result
        if kind is not None and kind.suffix == ".jsonl":
            return _stream_lines(handle, kind, result)
        skeleton: dict[str, Any] = {}

        def check(key: str | None, value: Any) -> None:
            if key is None:
                if result.shape is None and kind is not None:
                    problem = kind.shape([value])
                    if problem:
                        result.shape = f"item {result.items}: {problem}"
                result.items += 1
            else:
                skeleton[key] = value[:100] if isinstance(value, list) else value

        scanned = jsonstream.scan(handle, check)
    if scanned.too_large:
        result.unchecked = scanned.error
    elif scanned.error:
        result.error = scanned.error
    elif kind is not None and result.shape is None:
        if scanned.container == "object":
            result.shape = kind.shape(skeleton)
        elif scanned.container is None:
            result.shape = "a lone JSON value, expected a list or an object"
    return result


def _stream_lines(handle: Any, kind: StateKind, result: StreamedState) -> StreamedState:
    """A JSON-lines file, line by line: as parse_state, the last line that parses counts."""
    last: Any = None
    for line in handle:
        if not line.strip():
            continue
        try:
            last = json.loads(line)
            result.items += 1
        except (ValueError, RecursionError):
            continue
    if result.items == 0:
        result.error = "no line parses as JSON"
    else:
        result.shape = kind.shape(last)
    return result


def parse_state(data: bytes, suffix: str) -> tuple[Any, str | None]:
    if not data.strip():
        return None, "empty file (0 bytes of JSON): an interrupted write"
    try:
        return json.loads(data), None
    except RecursionError:
        return None, "nested too deeply to parse"
    except UnicodeDecodeError as exc:
        return None, f"not valid UTF-8 at byte {exc.start}"
    except ValueError as exc:
        if suffix == ".jsonl":
            try:
                return [json.loads(line) for line in data.splitlines() if line.strip()][-1], None
            except (ValueError, RecursionError, IndexError):
                pass
        if isinstance(exc, json.JSONDecodeError):
            return None, f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        return None, f"invalid JSON: {exc}"


def stray_tmp_files(data_dir: Path, limit: int = 500_000) -> list[str]:
    """`*.tmp` files under data/: an atomic save that never completed."""
    found, seen = [], 0
    for dirpath, dirnames, filenames in os.walk(
        data_dir, followlinks=False, onerror=lambda e: None
    ):
        seen += len(filenames) + len(dirnames)
        found += [os.path.join(dirpath, n) for n in filenames if n.endswith(".tmp")]
        if seen > limit:
            break
    return sorted(found)


def scan_state_files(
    kinds: list[StateKind], data_dir: Path, now: float | None = None
) -> StateReport:
    started = time.perf_counter()
    now = time.time() if now is None else now
    report = StateReport()
    for kind in kinds:
        count = 0
        for path in _files(kind, report):
            count += 1
            data, mtime, error = read_state_file(path)
            if mtime > now + FUTURE_SLACK_S:
                report.future.append((path, mtime))
            if error is None and data is None:  # large: streamed, never held whole
                streamed = stream_state_file(path, kind)
                if streamed.unchecked:
                    report.unchecked.append((path, f"{kind.name}: {streamed.unchecked}"))
                    continue
                if streamed.error is None:
                    if streamed.shape:
                        report.bad_shape.append((path, f"{kind.name}: {streamed.shape}"))
                    continue
                error = streamed.error
            if error is None:
                parsed, error = parse_state(data or b"", kind.suffix)
                if error is None:
                    problem = kind.shape(parsed)
                    if problem:
                        report.bad_shape.append((path, f"{kind.name}: {problem}"))
                    continue
            report.corrupt.append((path, f"{kind.name}: {error}"))
        report.by_kind[kind.name] = count
        report.files += count
    report.stray_tmp = stray_tmp_files(data_dir)
    report.elapsed_s = time.perf_counter() - started
    return report
