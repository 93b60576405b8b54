"""Fingerprints kept in the report directory, compactly: ``fingerprints.jsonl``.

One line per run, ``{"t": <run timestamp>, "set": {key: value}, "del": [key]}``: only what
changed from the state before it. The first kept line carries the whole state (``"base":
true``). A run that observed part of the deployment (a subset run, a check rerun alone, an
xdist worker that never needed a fact) lists the scopes it saw (``scopes``); keys of other
scopes keep their last known value, so a subset run never makes a fact look removed.

Bounded like the trend (:func:`acore_doctor.ops.history.keep_runs`): past the limit plus
some slack, the file is rewritten with its oldest kept line as a new base.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from acore_doctor.changes.fingerprint import Fingerprint
from acore_doctor.fsio import open_private, private_dir, write_atomic
from acore_doctor.saferead import OWN_FILE_MAX, read_text_bounded

FINGERPRINTS_FILE = "fingerprints.jsonl"


def in_scopes(entry_key: str, scopes: set[str]) -> bool:
    return entry_key.split("|", 1)[0] in scopes


def overlay(previous: Fingerprint, observed: Fingerprint, scopes: set[str]) -> Fingerprint:
    """The deployment's state now: what this run observed, and for scopes it did not observe,
    what was last known."""
    state = {k: v for k, v in previous.items() if not in_scopes(k, scopes)}
    state.update(observed)
    return state


def delta(before: Fingerprint, after: Fingerprint) -> tuple[dict[str, str], list[str]]:
    changed = {k: v for k, v in after.items() if before.get(k) != v}
    removed = sorted(k for k in before if k not in after)
    return changed, removed


def read_lines(report_dir: Path) -> list[dict[str, Any]]:
    try:
        text = read_text_bounded(report_dir / FINGERPRINTS_FILE, OWN_FILE_MAX, "strict")
    except (OSError, ValueError):
        return []
    lines = []
    for raw in text.splitlines():
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        if isinstance(data, dict) and isinstance(data.get("t"), str):
            lines.append(data)
    return lines


class History:
    """The kept fingerprints, replayed: the state at each run and when each key changed."""

    def __init__(self, lines: list[dict[str, Any]]) -> None:
        self.lines = lines
        self.runs: list[str] = []
        self.states: list[Fingerprint] = []
        state: Fingerprint = {}
        for line in lines:
            if line.get("base"):
                state = {}
            state = {**state, **{k: str(v) for k, v in (line.get("set") or {}).items()}}
            for gone in line.get("del") or []:
                state.pop(gone, None)
            self.runs.append(line["t"])
            self.states.append(state)

    @classmethod
    def read(cls, report_dir: Path) -> History:
        return cls(read_lines(report_dir))

    @property
    def latest(self) -> Fingerprint:
        return self.states[-1] if self.states else {}

    def index_at(self, when: str) -> int | None:
        """The last run at or before ``when`` (an ISO timestamp, or a prefix of one)."""
        found = None
        for index, stamp in enumerate(self.runs):
            if stamp <= when or stamp.startswith(when):
                found = index
        return found

    def at(self, when: str) -> Fingerprint | None:
        index = self.index_at(when)
        return None if index is None else self.states[index]

    def first_seen(self, since: str, entry_key: str) -> str | None:
        """When ``entry_key`` last changed after ``since``: the run that first saw its value."""
        seen = None
        for line in self.lines:
            if line["t"] <= since:
                continue
            if entry_key in (line.get("set") or {}) or entry_key in (line.get("del") or []):
                seen = line["t"]
        return seen


def record(
    report_dir: Path,
    timestamp: str,
    observed: Fingerprint,
    scopes: set[str],
    keep: int,
    history: History | None = None,
) -> tuple[Path, int]:
    """Append this run's changes; returns the file and the bytes this run added."""
    history = history or History.read(report_dir)
    previous = history.latest
    state = overlay(previous, observed, scopes)
    changed, removed = delta(previous, state)
    line: dict[str, Any] = {"t": timestamp}
    if not history.lines:
        line["base"] = True
        changed, removed = dict(state), []
    if changed:
        line["set"] = changed
    if removed:
        line["del"] = removed
    text = json.dumps(line, separators=(",", ":"), sort_keys=True) + "\n"
    path = report_dir / FINGERPRINTS_FILE
    private_dir(report_dir)
    with open_private(path, "a") as handle:
        handle.write(text)
    if len(history.lines) + 1 > keep + max(1, keep // 10):
        _cut(path, [*history.lines, line], keep)
    return path, len(text.encode())


def _cut(path: Path, lines: list[dict[str, Any]], keep: int) -> None:
    """Keep the newest ``keep`` runs; the oldest of them becomes the base."""
    replayed = History(lines)
    start = len(lines) - keep
    base = {"t": lines[start]["t"], "base": True, "set": replayed.states[start]}
    kept = [base, *lines[start + 1 :]]
    text = "".join(json.dumps(x, separators=(",", ":"), sort_keys=True) + "\n" for x in kept)
    write_atomic(path, text, make_parents=True)
