"""HTTP health endpoint: ``/healthz`` (JSON, 200 or 503) and ``/metrics`` (Prometheus).

Every request is answered from the newest run if it is younger than the cache time;
otherwise one run starts, and every request arriving meanwhile waits for that same run
(single flight). A health endpoint that runs the suite per request would be a denial of
service on the bot and on the services it probes (anchors.md 6.1), so runs started by requests
are also rate-limited (a token bucket: ``--max-runs-per-minute``); past the limit the newest
result is served again, marked ``rate_limited``.

With a token (``--token-file``, required to bind anything but loopback) only a request with
``Authorization: Bearer <token>`` reads the findings and ``/metrics``; anyone else gets the
status of ``/healthz`` and nothing more.
"""

from __future__ import annotations

import asyncio
import hmac
import re
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from acore_doctor.ops import prometheus
from acore_doctor.ops.switches import Switches
from acore_doctor.ops.watch import RunResult, placeholder_report, run_lock, run_suite_once

DEFAULT_CACHE_S = 15.0
#: "disabled": DIAGNOSTIC_ENABLED=false; the endpoint idles, which is no reason to restart a pod.
HTTP_BY_STATUS = {"healthy": 200, "warning": 200, "critical": 503, "disabled": 200}
#: The suite could not decide: not the bot's fault, so not 503; still a failure for probes.
HTTP_UNKNOWN = 500


@dataclass
class SuiteService:
    bot_dir: Path | None
    report_dir: Path
    extra: Sequence[str] = ()
    cache_s: float = DEFAULT_CACHE_S
    run_timeout: float = 120.0
    #: the bot's switches, read again before every run (None: everything on)
    switches: Callable[[], Switches] | None = None
    runs: int = 0
    #: runs that requests may start per minute (a bucket of at most MAX_BURST runs)
    max_runs_per_minute: float = 6.0
    clock: Callable[[], float] = time.monotonic
    _bucket: float | None = None
    _bucket_at: float = 0.0
    _result: RunResult | None = None
    _finished_at: float = 0.0
    _inflight: asyncio.Task[RunResult] | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: whether the last answer was an old result because no run was allowed
    rate_limited: bool = False

    def _blocking_run(self) -> RunResult:
        switches = self.switches() if self.switches is not None else Switches()
        if not switches.diagnostics:
            return idle_result(switches, self.bot_dir)
        with run_lock(self.report_dir, wait=True):
            return run_suite_once(self.bot_dir, self.report_dir, self.extra, self.run_timeout)

    def _may_start_run(self) -> bool:
        """Take one run from the bucket, refilled at ``max_runs_per_minute``."""
        capacity = max(1.0, min(MAX_BURST, self.max_runs_per_minute))
        now = self.clock()
        if self._bucket is None:
            self._bucket = capacity
        else:
            refill = (now - self._bucket_at) * self.max_runs_per_minute / 60.0
            self._bucket = min(capacity, self._bucket + refill)
        self._bucket_at = now
        if self._bucket < 1.0:
            return False
        self._bucket -= 1.0
        return True

    async def result(self) -> tuple[RunResult, bool]:
        """The newest result and whether it came from the cache (also when the rate limit
        allows no new run: :attr:`rate_limited`). :class:`RateLimited` when there is none."""
        async with self._lock:
            self.rate_limited = False
            if self._result is not None and time.monotonic() - self._finished_at < self.cache_s:
                return self._result, True
            if self._inflight is None and not self._may_start_run():
                if self._result is None:
                    raise RateLimited
                self.rate_limited = True
                return self._result, True
            if self._inflight is None:
                self.runs += 1
                self._inflight = asyncio.create_task(asyncio.to_thread(self._blocking_run))
            task = self._inflight
        try:
            result = await asyncio.shield(task)
        finally:
            async with self._lock:
                if self._inflight is task and task.done():
                    self._inflight = None
                    if not task.cancelled() and task.exception() is None:
                        self._result, self._finished_at = task.result(), time.monotonic()
        return result, False


#: Runs the bucket holds at most: a burst of requests after a quiet time starts this many.
MAX_BURST = 3.0


class RateLimited(Exception):
    """No result yet and no run allowed now."""


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` serves only this machine."""
    import ipaddress

    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def authorized(request: web.Request, token: str | None) -> bool:
    """No token: everyone on loopback is trusted. Else the request must carry it."""
    if token is None:
        return True
    given = request.headers.get("Authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


#: An absolute path: a slash not inside a URL (after ':' or '/') or a word, up to a separator.
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/~-])(?:/[^\s/'\"<>:,;()\[\]]+)+/?")


def hide_paths(text: str) -> str:
    """``text`` with every absolute path cut to ``…/<last part>``: /healthz may be exposed
    (behind a proxy), and where the deployment lives is nobody's business there."""
    return _ABSOLUTE_PATH.sub(lambda m: "…/" + m.group().rstrip("/").rsplit("/", 1)[-1], text)


def idle_result(switches: Switches, bot_dir: Path | None) -> RunResult:
    """What serve answers while diagnostics are off: status "disabled", and why."""
    report = placeholder_report(3, switches.idle_reason(), bot_dir)
    report["summary"]["overall_status"] = "disabled"
    return RunResult(3, report, False, 0.0)


def health_body(result: RunResult, cached: bool, age_s: float) -> dict[str, Any]:
    report = result.report
    summary = report["summary"]

    def brief(entries: list[dict[str, Any]]) -> list[dict[str, str]]:
        return [
            {
                "check": e["check"],
                "title": hide_paths(e["title"]),
                "message": hide_paths(e["message"]),
            }
            for e in entries
        ]

    return {
        "status": summary["overall_status"],
        "exit_code": summary["exit_code"],
        "reason": hide_paths(summary.get("reason", "")),
        "timestamp": report.get("timestamp"),
        "age_s": round(age_s, 1),
        "cached": cached,
        "checks": len(report.get("checks", [])),
        "issues": brief(report.get("issues", [])),
        "warnings": brief(report.get("warnings", [])),
    }


def live_recovery(report: dict[str, Any], service: SuiteService) -> dict[str, Any]:
    """The report with its ``recovery`` block read again now: AutoRecovery acts between runs,
    and a scrape should see an open circuit or a pause at once, not after the next run."""
    if service.bot_dir is None:
        return report
    from acore_doctor.deployment import load_deployment
    from acore_doctor.recovery.common import recovery_config
    from acore_doctor.recovery.control import recovery_status

    try:
        config = recovery_config(load_deployment(service.bot_dir))
        return {**report, "recovery": recovery_status(config, time.time())}
    except (OSError, ValueError):
        return report


def _too_many() -> web.Response:
    return web.json_response(
        {"status": "unknown", "reason": "rate limited: no result yet, try again later"},
        status=429,
        headers={"Retry-After": "60", "Cache-Control": "no-store"},
    )


def make_app(service: SuiteService, token: str | None = None) -> web.Application:
    async def healthz(request: web.Request) -> web.Response:
        try:
            result, cached = await service.result()
        except RateLimited:
            return _too_many()
        age = time.monotonic() - service._finished_at if cached else 0.0
        body = health_body(result, cached, age)
        body["rate_limited"] = service.rate_limited
        status = HTTP_BY_STATUS.get(body["status"], HTTP_UNKNOWN)
        if not authorized(request, token):  # a stranger learns the status, nothing else
            body = {"status": body["status"]}
        return web.json_response(body, status=status, headers={"Cache-Control": "no-store"})

    async def metrics(request: web.Request) -> web.Response:
        if not authorized(request, token):
            return web.Response(
                status=401, text="401: Authorization: Bearer <token> required\n",
                headers={"WWW-Authenticate": "Bearer"},
            )  # fmt: skip
        try:
            result, cached = await service.result()
        except RateLimited:
            return _too_many()
        age = time.monotonic() - service._finished_at if cached else 0.0
        text = prometheus.render(live_recovery(result.report, service))
        labels = prometheus.series_labels(result.report)
        text += (
            "# HELP acore_doctor_result_age_seconds Age of the cached run served.\n"
            "# TYPE acore_doctor_result_age_seconds gauge\n"
            f"acore_doctor_result_age_seconds{labels} {age:.3f}\n"
            "# HELP acore_doctor_serve_runs_total Suite runs started by this server.\n"
            "# TYPE acore_doctor_serve_runs_total counter\n"
            f"acore_doctor_serve_runs_total{labels} {service.runs}\n"
        )
        return web.Response(
            body=text.encode("utf-8"), headers={"Content-Type": prometheus.CONTENT_TYPE}
        )

    async def index(request: web.Request) -> web.Response:
        return web.Response(text="acore-doctor: /healthz (JSON) and /metrics (Prometheus)\n")

    app = web.Application()
    app.router.add_get("/", index)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    return app


async def serve(
    service: SuiteService, host: str, port: int, announce: Any = print, token: str | None = None
) -> None:
    """Serve until SIGTERM or SIGINT."""
    runner = web.AppRunner(make_app(service, token), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = site._server.sockets[0].getsockname()[:2] if site._server else (host, port)  # type: ignore[union-attr]
    announce(f"acore-doctor serve: listening on http://{bound[0]}:{bound[1]} (/healthz, /metrics)")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
