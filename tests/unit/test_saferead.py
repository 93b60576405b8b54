"""The one bounded read: never opens a FIFO, socket or device, never reads past its limit."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from acore_doctor.saferead import (
    FileTooLarge,
    NotARegularFile,
    not_a_file,
    open_regular,
    read_bounded,
    read_head,
)


def test_a_regular_file_reads_whole_within_its_limit(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(b"[1, 2, 3]")
    assert read_bounded(path, 9) == b"[1, 2, 3]"
    assert read_head(path, 3) == b"[1,"
    assert not_a_file(path) is None


def test_larger_than_the_limit_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_bytes(b"x" * 101)
    with pytest.raises(FileTooLarge) as caught:
        read_bounded(path, 100)
    assert "larger than the 100 bytes read limit" in str(caught.value)


def test_a_fifo_is_named_and_never_opened(tmp_path: Path) -> None:
    fifo = tmp_path / ".env"
    os.mkfifo(fifo)
    with pytest.raises(NotARegularFile) as caught:
        read_bounded(fifo, 1024)  # opening it for reading would block for ever
    assert str(caught.value) == f"{fifo} is a FIFO, not a file"
    assert caught.value.strerror == "a FIFO, not a file"


def test_a_symlink_to_a_device_is_named_as_such(tmp_path: Path) -> None:
    link = tmp_path / "history.json"
    os.symlink("/dev/zero", link)
    with pytest.raises(NotARegularFile) as caught:
        open_regular(link)
    assert str(caught.value).endswith("history.json is a symlink to a character device, not a file")


def test_sockets_and_directories_are_not_files(tmp_path: Path) -> None:
    sock_path = tmp_path / "s"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(sock_path))
        problem = not_a_file(sock_path)
        assert problem is not None and problem.kind == "socket"
    finally:
        server.close()
    problem = not_a_file(tmp_path)
    assert problem is not None and problem.kind == "directory"
    with pytest.raises(FileNotFoundError):
        not_a_file(tmp_path / "missing")


def test_the_suites_own_files_planted_as_fifos_or_device_links_read_as_missing(
    tmp_path: Path,
) -> None:
    """Reports and state are read bounded: a FIFO latest.json (which would block an open for
    reading forever) or a link to /dev/zero (endless) is simply unreadable, at once."""
    from acore_doctor.logs.state import load_state, state_path
    from acore_doctor.ops.alerts import AlertState
    from acore_doctor.ops.history import (
        RESULTS_FILE,
        TREND_FILE,
        read_previous,
        read_results,
        read_trend,
    )

    reports = tmp_path / "reports"
    reports.mkdir()
    os.mkfifo(reports / "latest.json")
    os.symlink("/dev/zero", reports / RESULTS_FILE)
    os.mkfifo(reports / TREND_FILE)
    assert read_previous(reports) is None
    assert read_results(reports) is None
    assert read_trend(reports) == []
    alert_state = reports / "alert-state.json"
    os.symlink("/dev/zero", alert_state)
    assert AlertState.load(alert_state) == AlertState()
    templates = state_path(reports, tmp_path / "bot")
    templates.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(templates)
    state = load_state(reports, tmp_path / "bot")
    assert state.known == {} and "not a file" in (state.problem or "")
