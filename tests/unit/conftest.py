"""tests/unit is the fast loop: everything runs in this process. A test that starts a child
process (a pytest, the CLI, a bot, sqlite3...) belongs in tests/e2e; this guard says so at once
instead of letting the tier slow down unnoticed.

The tier is also deterministic on a busy machine: every test sees a fake host (an idle two-core
machine, time standing still but for sleeps; :class:`acore_doctor.clock.FakeHost`) instead of
this machine's CPU, memory, disks and clock, and a test asserting on real timing
(``host_timing``) belongs in tests/e2e."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from acore_doctor.clock import FakeHost


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


@pytest.fixture(autouse=True)
def fake_host(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> FakeHost:
    """The host every unit test sees through :mod:`acore_doctor.clock`; a test changes it
    (``fake_host.busy_share = 1.0``, ``fake_host.advance(2)``) to set the scene."""
    if request.node.get_closest_marker("host_timing") is not None:
        pytest.fail(
            f"{request.node.nodeid} asserts on real host timing: move it to tests/e2e "
            "(same module name); the unit tier must pass on a busy machine",
            pytrace=False,
        )
    return FakeHost().install(monkeypatch)
