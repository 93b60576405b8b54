"""The machinery every simulated service shares: fault modes, ports, a background loop.

Each service is an aiohttp app on its own loopback port. A :class:`FaultState` per service
says how it misbehaves; a middleware applies the generic modes (hang, slow, error
statuses, malformed JSON) and each service's handlers read the service-specific ones
(missing model, missing voice, intents disabled ...). ``down`` closes the listening socket
so connections are refused, and reopens the same port when the fault is cleared.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

LOOPBACK = "127.0.0.1"

#: Modes the middleware applies to every service.
GENERIC_MODES: dict[str, str] = {
    "ok": "answer normally",
    "down": "refuse connections (nothing listens on the port)",
    "hang": "accept the connection, never answer",
    "slow": "answer normally after a delay (default 2 s)",
    "401": "reject the credentials (the service's own 401 body)",
    "403": "refuse access (the service's own 403 body)",
    "404": "answer 404 to every route",
    "429": "rate limited, with Retry-After",
    "1015": "Cloudflare ban: 429 HTML 'error code: 1015', no rate-limit headers",
    "500": "internal server error",
    "malformed": "200 with a JSON content type and a truncated body",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class FaultState:
    """How one service misbehaves right now."""

    mode: str = "ok"
    #: seconds for ``slow``
    delay: float = 2.0
    #: seconds announced by ``429``
    retry_after: float = 30.0
    #: only requests whose path contains this string get the fault (None: all)
    only: str | None = None
    #: the body of a 401/403/404/500 answer instead of the service's own envelope (a service
    #: that echoes what it was sent, secrets included)
    error_text: str | None = None

    def applies_to(self, path: str) -> bool:
        return self.only is None or self.only in path

    @property
    def modes(self) -> frozenset[str]:
        """Several modes combine with '+', e.g. ``wrong_id+no_guilds``."""
        return frozenset(part for part in self.mode.split("+") if part)

    @property
    def down(self) -> bool:
        return "down" in self.modes


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        text=json.dumps(data), status=status, content_type="application/json", headers=headers
    )


class ServiceSim:
    """One simulated service. Subclasses add routes and their error envelopes."""

    name = "service"
    #: service-specific modes, on top of GENERIC_MODES
    modes: dict[str, str] = {}
    #: prefix under which the API lives (the URL given to the bot includes it)
    base_path = ""

    def __init__(self) -> None:
        self.fault = FaultState()
        self.requests: list[dict[str, Any]] = []
        self._release: asyncio.Event | None = None
        self.port: int | None = None

    # -- what subclasses provide ---------------------------------------------------------
    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def error(self, status: int, request: web.Request) -> web.Response:
        """The service's own error envelope for ``status``."""
        return json_response({"error": {"code": status, "message": f"error {status}"}}, status)

    def rate_limited(self, request: web.Request) -> web.Response:
        retry = self.fault.retry_after
        return json_response(
            {"error": {"code": 429, "message": "Rate limit exceeded"}},
            429,
            headers={"Retry-After": str(max(1, round(retry)))},
        )

    def env(self, url: str) -> dict[str, str]:
        """Environment variables that point a deployment at this service."""
        return {}

    # -- shared behaviour ---------------------------------------------------------------
    @property
    def mode(self) -> str:
        return self.fault.mode

    def modes_for(self, request: web.Request) -> frozenset[str]:
        return self.fault.modes if self.fault.applies_to(request.path) else frozenset()

    def has(self, request: web.Request, mode: str) -> bool:
        """Whether ``mode`` is on for this request."""
        return mode in self.modes_for(request)

    def build(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        self.routes(app)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.requests.append(
            {"method": request.method, "path": request.path, "headers": dict(request.headers)}
        )
        modes = self.modes_for(request)
        generic = [m for m in GENERIC_MODES if m in modes]
        mode = generic[0] if generic else "ok"
        if mode == "hang":
            assert self._release is not None
            await self._release.wait()
            raise web.HTTPServiceUnavailable(text="simulator stopping")
        if mode == "slow":
            await asyncio.sleep(self.fault.delay)
        elif mode in ("401", "403", "404", "500"):
            if self.fault.error_text is not None:
                return web.Response(
                    status=int(mode), text=self.fault.error_text, content_type="application/json"
                )
            return self.error(int(mode), request)
        elif mode == "429":
            return self.rate_limited(request)
        elif mode == "1015":
            return web.Response(
                status=429,
                content_type="text/html",
                text="<!DOCTYPE html><html><head><title>Access denied | discord.com used "
                "Cloudflare to restrict access</title></head><body><h1>Error 1015</h1>"
                "<p>error code: 1015</p><p>You are being rate limited</p></body></html>",
            )
        elif mode == "malformed":
            return web.Response(
                status=200, content_type="application/json", text='{"models": [{"na'
            )
        return await handler(request)


def _listening_socket(port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((LOOPBACK, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


@dataclass
class _Running:
    sim: ServiceSim
    runner: web.AppRunner
    site: web.SockSite | None = None
    sockets: list[socket.socket] = field(default_factory=list)


class Simulator:
    """Simulated services on loopback ports, served from a background thread.

    Usable from plain synchronous code (tests, the CLI, the demo)::

        with Simulator(["discord", "ollama"], faults={"ollama": "missing_model"}) as sim:
            env = sim.env()            # OLLAMA_HOST=..., DISCORD_API_BASE=...
            sim.set_fault("ollama", "hang")
            sim.discord.webhook_messages()
    """

    def __init__(
        self,
        services: list[str] | tuple[str, ...] | None = None,
        faults: dict[str, str | FaultState] | None = None,
        ports: dict[str, int] | None = None,
        **options: Any,
    ) -> None:
        from acore_doctor.simulate.registry import SERVICES, make_service

        names = list(services) if services is not None else list(SERVICES)
        self.sims: dict[str, ServiceSim] = {n: make_service(n, **options.get(n, {})) for n in names}
        self._ports = dict(ports or {})
        self._running: dict[str, _Running] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        for name, fault in (faults or {}).items():
            self._sim(name).fault = fault if isinstance(fault, FaultState) else FaultState(fault)

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> Simulator:
        if self._loop is not None:
            return self
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="acore-doctor-simulator", daemon=True
        )
        self._thread.start()
        self._call(self._start_all())
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        try:
            self._call(self._stop_all(), timeout=10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            assert self._thread is not None
            self._thread.join(timeout=5)
            self._loop.close()
            self._loop = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what users ask --------------------------------------------------------------------
    def port(self, name: str) -> int:
        port = self._sim(name).port
        if port is None:
            raise RuntimeError(f"simulator for {name} is not started")
        return port

    def url(self, name: str) -> str:
        """The base URL the bot would be configured with (including an API prefix)."""
        sim = self._sim(name)
        return f"http://{LOOPBACK}:{self.port(name)}{sim.base_path}"

    def env(self) -> dict[str, str]:
        """Environment variables that point a deployment at every running service."""
        out: dict[str, str] = {}
        for name, sim in self.sims.items():
            out.update(sim.env(self.url(name)))
        return out

    def set_fault(self, name: str, mode: str | FaultState, **params: Any) -> None:
        """Switch a service's fault mode while it runs (``down`` closes its port)."""
        sim = self._sim(name)
        known = {**GENERIC_MODES, **sim.modes}
        fault = mode if isinstance(mode, FaultState) else FaultState(mode, **params)
        unknown = sorted(fault.modes - set(known))
        if unknown:
            raise ValueError(
                f"unknown fault mode {unknown[0]!r} for {name}; known: {', '.join(known)}"
            )
        was_down = sim.fault.down
        sim.fault = fault
        if self._loop is not None and was_down != fault.down:
            self._call(self._open(name) if was_down else self._close(name))

    def __getattr__(self, name: str) -> ServiceSim:
        sims = self.__dict__.get("sims", {})
        if name in sims:
            return sims[name]
        raise AttributeError(name)

    # -- internals -----------------------------------------------------------------------
    def _sim(self, name: str) -> ServiceSim:
        try:
            return self.sims[name]
        except KeyError:
            raise KeyError(
                f"no simulated service {name!r}; running: {', '.join(self.sims)}"
            ) from None

    def _call(self, coro: Awaitable[Any], timeout: float = 30) -> Any:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)  # type: ignore[arg-type]

    async def _start_all(self) -> None:
        for name, sim in self.sims.items():
            sim._release = asyncio.Event()
            runner = web.AppRunner(sim.build(), handle_signals=False, shutdown_timeout=0.5)
            await runner.setup()
            self._running[name] = _Running(sim, runner)
            sim.port = self._ports.get(name) or free_port()
            if not sim.fault.down:
                await self._open(name)

    async def _open(self, name: str) -> None:
        running = self._running[name]
        sock = _listening_socket(running.sim.port or 0)
        running.sim.port = sock.getsockname()[1]
        running.sockets.append(sock)
        running.site = web.SockSite(running.runner, sock)
        await running.site.start()

    async def _close(self, name: str) -> None:
        running = self._running[name]
        if running.site is not None:
            await running.site.stop()
            running.site = None
        for sock in running.sockets:
            sock.close()
        running.sockets.clear()

    async def _stop_all(self) -> None:
        for running in self._running.values():
            if running.sim._release is not None:
                running.sim._release.set()
        for name, running in self._running.items():
            await self._close(name)
            await running.runner.cleanup()
        self._running.clear()
