"""A local check that takes longer than its limit is reported as ``check timed out`` at its
own severity, and the run goes on (registered only in a health run; see plugin.HEALTH_PLUGINS).

Local reads are bounded and never open FIFOs or devices (acore_doctor.saferead), and network
probes have their own budgets; this is the guard behind both, for what nobody foresaw: a check
or its fixtures stuck in a syscall, a loop, a lock. The limit (``--check-timeout`` / ini
``check_timeout``, default 30 s, 0 turns it off) covers the setup (its fixtures) and the call
of each check.

How: a SIGALRM interval timer in the main thread, shared with pytest-timeout's (a user's
``--timeout`` fires as well: see :func:`_shared_alarm`). A blocked system call returns EINTR and the
handler raises pytest's ``Failed`` (a BaseException: no ``except Exception`` in a probe
swallows it), which the plugin files as a failure of the check with the message below. Code
stuck inside a C extension that never returns to Python is interrupted when it does.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Generator, Iterator
from typing import Any

import pytest

DEFAULT_TIMEOUT_S = 30.0


def check_timeout_of(config: pytest.Config) -> float:
    value = config.getoption("doctor_check_timeout", None)  # options.option (no cycle)
    if value is None:
        try:
            value = float(config.getini("check_timeout"))
        except (TypeError, ValueError):
            value = DEFAULT_TIMEOUT_S
    return max(0.0, float(value))


LOCAL_CHECK = pytest.StashKey[bool]()


def _is_local_check(item: pytest.Item) -> bool:
    """A check that asks for no network probe: those run under the probe budget
    (``--probe-budget``) and per-service timeouts instead, shared by all their checks.
    Asked in the setup and the call of every check: remembered on the item."""
    known = item.stash.get(LOCAL_CHECK, None)
    if known is None:
        from acore_doctor.netprobe.runner import fixture_probes

        fixtures = getattr(item, "fixturenames", ())
        is_check = item.get_closest_marker("doctor") is not None
        known = is_check and fixture_probes().keys().isdisjoint(fixtures)
        item.stash[LOCAL_CHECK] = known
    return known


def _armed(item: pytest.Item, phase: str) -> Generator[None, Any, Any]:
    limit = check_timeout_of(item.config)
    usable = (
        limit > 0
        and _is_local_check(item)
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        return (yield)

    message = (
        f"check timed out: its {phase} took longer than {limit:g} s "
        "(--check-timeout / ini check_timeout); the run went on without it"
    )
    with _shared_alarm(limit, message):
        return (yield)


@contextlib.contextmanager
def _shared_alarm(limit: float, message: str) -> Iterator[None]:
    """Our limit on the one SIGALRM interval timer, shared with whoever armed it before us
    (pytest-timeout's ``--timeout``, its signal method): the timer goes off at the earlier of
    the two deadlines; theirs calls their handler, ours fails the check; when we are done,
    their timer is set again to what is left of it, so a user's ``--timeout`` still fires."""
    now = time.monotonic()
    other_left, _ = signal.getitimer(signal.ITIMER_REAL)
    ours = now + limit
    theirs = now + other_left if other_left > 0 else None
    fired = {"theirs": False}

    def alarm(signum: int, frame: Any) -> None:
        at = time.monotonic()
        if theirs is not None and at >= theirs - _SLACK_S and callable(previous):
            fired["theirs"] = True
            previous(signum, frame)
            return
        if at >= ours - _SLACK_S:
            pytest.fail(message, pytrace=False)
        signal.setitimer(signal.ITIMER_REAL, max(_next_deadline(ours, theirs) - at, _SLACK_S))

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, max(_next_deadline(ours, theirs) - now, _SLACK_S))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if theirs is not None and not fired["theirs"]:
            signal.setitimer(signal.ITIMER_REAL, max(theirs - time.monotonic(), _SLACK_S))


#: An alarm this close to a deadline counts as that deadline (timers round to the tick).
_SLACK_S = 0.001


def _next_deadline(ours: float, theirs: float | None) -> float:
    return ours if theirs is None else min(ours, theirs)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, Any, Any]:
    return (yield from _armed(item, "setup (its fixtures)"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    return (yield from _armed(item, "run"))
