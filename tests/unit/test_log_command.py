"""``acore-doctor logs`` end to end: a child process on a generated deployment."""

from __future__ import annotations

import time

import pytest

from acore_doctor.commands.logs import parse_since


def test_parse_since_forms():
    now = 1_800_000_000.0
    assert parse_since("90m", now) == now - 5400
    assert parse_since("2d", now) == now - 2 * 86400
    assert parse_since("15", now) == now - 900
    assert parse_since("2026-11-28 20:00", now) == time.mktime((2026, 11, 28, 20, 0, 0, 0, 0, -1))
    with pytest.raises(ValueError):
        parse_since("soon", now)


def test_progress_indicator_writes_only_when_enabled(capsys: pytest.CaptureFixture[str]):
    from acore_doctor.commands.logs import Progress

    quiet = Progress(enabled=False)
    quiet.started -= 5
    quiet(1000)
    shown = Progress(enabled=True)
    shown.started -= 5  # long runs only: nothing is drawn in the first half second
    shown(123_456)
    shown.done()
    err = capsys.readouterr().err
    assert err.count("reading: 123,456 lines") == 1 and "1,000" not in err
