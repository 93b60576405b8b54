"""Which inputs a check read, recorded while it (and its fixtures) run.

Readers call :func:`note` with a token: ``setting:KEY`` (``BotSettings.raw``, which every typed
accessor and ``settings.get`` go through), ``file:/abs/path`` (every ``saferead`` open). The
engine's hooks (:mod:`acore_doctor.changes.plugin`) open a recorder around each fixture's setup
and each check's call; outside one, :func:`note` costs one context-variable lookup.
"""

from __future__ import annotations

import os
from contextvars import ContextVar

_RECORDER: ContextVar[set[str] | None] = ContextVar("acore_doctor_inputs", default=None)


def note(token: str) -> None:
    """Record ``token`` in the recorder of the check or fixture running now, if any."""
    recorder = _RECORDER.get()
    if recorder is not None:
        recorder.add(token)


def note_setting(key: str) -> None:
    recorder = _RECORDER.get()
    if recorder is not None:
        recorder.add("setting:" + key)


def note_file(path: os.PathLike[str] | str) -> None:
    recorder = _RECORDER.get()
    if recorder is not None:
        recorder.add("file:" + os.path.abspath(path))


class Recording:
    """``with Recording() as seen:`` collects what is read inside; nested recordings also
    hand what they saw to the enclosing one (a fixture set up for a check is the check's)."""

    def __init__(self, seen: set[str] | None = None) -> None:
        self.seen: set[str] = set() if seen is None else seen
        self._token: object = None
        self._outer: set[str] | None = None

    def __enter__(self) -> set[str]:
        self._outer = _RECORDER.get()
        self._token = _RECORDER.set(self.seen)
        return self.seen

    def __exit__(self, *exc: object) -> None:
        _RECORDER.reset(self._token)  # type: ignore[arg-type]
        if self._outer is not None:
            self._outer.update(self.seen)
