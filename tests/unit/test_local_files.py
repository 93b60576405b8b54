"""Files, permissions, state files and the read-only contract of the local checks."""

from __future__ import annotations

import os
import pwd
import time
from pathlib import Path

import pytest

from acore_doctor.probes.files import dir_state, mode_allows_write, user_of
from acore_doctor.probes.state_files import (
    StateKind,
    _shape_chat_history,
    _shape_rl,
    scan_state_files,
)


def test_write_probe_is_removed_even_when_the_directory_fails(tmp_path: Path) -> None:
    user = user_of(os.geteuid(), "test")
    state = dir_state(tmp_path, "t", user)
    assert state.writable and state.how == "write probe"
    assert list(tmp_path.iterdir()) == []
    afile = tmp_path / "file"
    afile.write_text("x")
    assert dir_state(afile, "t", user).is_dir is False
    assert dir_state(tmp_path / "missing", "t", user).exists is False


def test_mode_bits_judge_another_user(tmp_path: Path) -> None:
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no 'nobody' user on this host")
    other = user_of(nobody.pw_uid, "test")
    directory = tmp_path / "data"
    directory.mkdir(mode=0o755)
    directory.chmod(0o755)
    assert mode_allows_write(directory.stat(), other) is False
    directory.chmod(0o777)
    assert mode_allows_write(directory.stat(), other) is True
    if os.geteuid() == 0:  # only root can hand the directory to nobody
        os.chown(directory, nobody.pw_uid, -1)
        directory.chmod(0o700)
        assert mode_allows_write(directory.stat(), other) is True
    root = user_of(0, "test")
    assert mode_allows_write(directory.stat(), root) is True


def test_state_scan_names_each_fault(tmp_path: Path) -> None:
    history = tmp_path / "data" / "chat_history"
    history.mkdir(parents=True)
    (history / "1.json").write_text('[{"role": "user", "content": "hi"}]')
    (history / "2.json").write_text("")
    (history / "3.json").write_bytes(b'[{"role": "user", "content": "\xff\xfe"}]')
    (history / "4.json").write_text("[" * 100_000 + "]" * 100_000)
    (history / "5.json").write_text('{"role": "user"}')
    os.mkfifo(history / "6.json")
    (history / "7.json").symlink_to(history / "7.json")
    (history / "x.json.tmp").write_text("[")
    future = history / "1.json"
    os.utime(future, (time.time() + 7200, time.time() + 7200))
    kinds = [StateKind("chat history", history, 1, ".json", _shape_chat_history)]
    report = scan_state_files(kinds, tmp_path / "data")
    corrupt = dict(report.corrupt)
    assert "empty file" in corrupt[str(history / "2.json")]
    assert "UTF-8" in corrupt[str(history / "3.json")]
    assert "nested too deeply" in corrupt[str(history / "4.json")]
    assert "is a FIFO, not a file" in corrupt[str(history / "6.json")]
    assert "unreadable" in corrupt[str(history / "7.json")]
    assert [p for p, _ in report.bad_shape] == [str(history / "5.json")]
    assert [p for p, _ in report.future] == [str(history / "1.json")]
    assert report.stray_tmp == [str(history / "x.json.tmp")]


def test_rl_shape() -> None:
    assert _shape_rl({"version": 1, "agents": {"1:2": {}}}) is None
    assert "agent key" in _shape_rl({"version": 1, "agents": {"general": {}}})
    assert "version" in _shape_rl({"agents": {}})
