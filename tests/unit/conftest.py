"""tests/unit is the fast loop: everything runs in this process. A test that starts a child
process (a pytest, the CLI, a bot, sqlite3...) belongs in tests/e2e; this guard says so at once
instead of letting the tier slow down unnoticed."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest


class ChildProcessInUnitTier(AssertionError):
    pass


@pytest.fixture(autouse=True)
def no_child_processes(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[None]:
    message = (
        f"{request.node.nodeid} started a child process; tests/unit runs in-process only. "
        "Move the test to tests/e2e (same module name)."
    )
    attempts: list[str] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(repr(args[1:2])[:200])
        raise ChildProcessInUnitTier(message)

    monkeypatch.setattr(subprocess.Popen, "_execute_child", refuse)
    for name in ("fork", "forkpty", "posix_spawn", "posix_spawnp"):
        if hasattr(os, name):
            monkeypatch.setattr(os, name, refuse)
    yield
    # Also when the code under test swallowed the exception.
    assert not attempts, f"{message} Attempted: {attempts[0]}"
