"""Named probes, run together: one event loop, a timeout per request, a budget per run.

A probe is registered with :func:`probe` under a name and the fixture name checks use for
its fact; importing :mod:`acore_doctor.netprobe` imports every probe module of the package. :func:`run_probes` starts every requested probe at once, so a run with every
service hanging costs one timeout, not their sum (pytest-asyncio runs async tests one after
another, so the concurrency has to live here).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from acore_doctor.changes.inputs import Recording
from acore_doctor.netprobe.transport import USER_AGENT, HttpResult, Timeouts, fetch, unanswered
from acore_doctor.settings import BotSettings

if TYPE_CHECKING:
    import aiohttp  # imported where the probes run (see transport.py)

ProbeFunc = Callable[["ProbeContext"], Awaitable[Any]]


@dataclass(frozen=True)
class NotApplicable:
    """The probe does not apply to this deployment; checks using it skip with the reason."""

    reason: str


@dataclass(frozen=True)
class ProbeFailed:
    """The probe itself broke (a bug, or the run's budget ran out before it finished)."""

    name: str
    reason: str


@dataclass(frozen=True)
class ProbeSpec:
    name: str
    service: str
    func: ProbeFunc
    not_applicable: Callable[[BotSettings], str | None]
    fixture: str


PROBES: dict[str, ProbeSpec] = {}


def probe(
    name: str,
    service: str,
    not_applicable: Callable[[BotSettings], str | None],
    fixture: str | None = None,
) -> Callable[[ProbeFunc], ProbeFunc]:
    def register(func: ProbeFunc) -> ProbeFunc:
        PROBES[name] = ProbeSpec(
            name, service, func, not_applicable, fixture or name.replace(".", "_")
        )
        return func

    return register


def fixture_probes() -> dict[str, str]:
    """fixture name -> probe name (every probe module registered when the package loaded)."""
    return {spec.fixture: name for name, spec in PROBES.items()}


@dataclass
class ProbeContext:
    settings: BotSettings
    timeouts: Timeouts
    session: aiohttp.ClientSession
    deadline: float
    canary: bool = False
    started: float = field(default_factory=time.monotonic)

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    async def request(
        self,
        service: str,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        json_body: Any = None,
        total: float | None = None,
    ) -> HttpResult:
        """One request under the service's timeout, cut short by what is left of the budget."""
        timeout = total if total is not None else self.timeouts.for_service(service)
        remaining = self.remaining()
        if remaining <= 0.05:
            return unanswered(
                method,
                url,
                f"not sent: the run's probe budget ({self.timeouts.budget:g} s) is spent",
                "budget",
            )
        return await fetch(
            self.session,
            method,
            url,
            total=min(timeout, remaining),
            connect=self.timeouts.connect,
            headers=headers,
            json_body=json_body,
        )

    async def sleep(self, seconds: float) -> bool:
        """Wait if the budget allows it; False when it does not."""
        if seconds >= self.remaining() - 0.5:
            return False
        await asyncio.sleep(seconds)
        return True


async def gather_probes(
    names: Iterable[str],
    settings: BotSettings,
    timeouts: Timeouts,
    canary: bool = False,
    reads: dict[str, set[str]] | None = None,
) -> dict[str, Any]:
    """Run the probes together; ``reads`` gets the settings each probe read (its inputs)."""
    results: dict[str, Any] = {}
    to_run: list[ProbeSpec] = []
    reads = {} if reads is None else reads
    for name in dict.fromkeys(names):
        spec = PROBES[name]
        with Recording() as seen:
            reason = spec.not_applicable(settings)
        reads[name] = seen
        if reason:
            results[name] = NotApplicable(reason)
        else:
            to_run.append(spec)
    if not to_run:
        return results
    import aiohttp

    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    async with aiohttp.ClientSession(
        connector=connector, headers={"User-Agent": USER_AGENT}, trust_env=True
    ) as session:
        ctx = ProbeContext(settings, timeouts, session, time.monotonic() + timeouts.budget, canary)
        tasks = {}
        for spec in to_run:
            with Recording(reads[spec.name]):  # a task reads in a copy of this context
                tasks[spec.name] = asyncio.create_task(spec.func(ctx))
        # Requests stop themselves at the deadline; this is only the backstop.
        await asyncio.wait(tasks.values(), timeout=timeouts.budget + 1.0)
        for name, task in tasks.items():
            if not task.done():
                task.cancel()
                results[name] = ProbeFailed(
                    name, f"did not finish within the {timeouts.budget:g} s budget"
                )
            elif task.exception() is not None:
                exc = task.exception()
                results[name] = ProbeFailed(name, f"probe crashed: {type(exc).__name__}: {exc}")
            else:
                results[name] = task.result()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
    return results


def run_probes(
    names: Iterable[str],
    settings: BotSettings,
    timeouts: Timeouts,
    canary: bool = False,
    reads: dict[str, set[str]] | None = None,
) -> dict[str, Any]:
    """Synchronous entry: run the probes in a fresh loop (in a thread if one is running here)."""
    coro_args = (list(names), settings, timeouts, canary, reads)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(gather_probes(*coro_args))
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(gather_probes(*coro_args))
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target, name="acore-doctor-probes")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]
