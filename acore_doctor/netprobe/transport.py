"""One HTTP request as a fact: what came back, or why nothing did. Never raises."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from acore_doctor import __version__
from acore_doctor.redact import run_redactor

if TYPE_CHECKING:
    import aiohttp

# aiohttp is imported where a request is sent, not here: importing it costs a good part of a
# second (it builds its TLS contexts), which the probe child pays (netprobe/child.py) rather
# than the pytest process running the local checks (unless the child gave nothing).

#: Bodies beyond this are not needed by any check; keep memory bounded.
MAX_BODY = 256 * 1024
#: see fetch(): never let aiohttp round a deadline up to a whole second
NO_CEILING = float("inf")

USER_AGENT = f"DiscordBot (https://pypi.org/project/acore-doctor/, {__version__}) acore-doctor"


@dataclass(frozen=True)
class Timeouts:
    """Connect and total seconds per request; per-service totals override the default."""

    connect: float = 3.0
    total: float = 5.0
    per_service: dict[str, float] = field(default_factory=dict)
    #: the whole prefetch, all services together
    budget: float = 30.0
    #: the opt-in canary generation (a cold model load is slow)
    canary: float = 60.0

    def for_service(self, service: str) -> float:
        return self.per_service.get(service, self.total)


@dataclass
class HttpResult:
    """What one request found. ``error`` is set when no HTTP answer came back."""

    method: str
    url: str
    status: int | None = None
    reason: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    text: str = ""
    data: Any = None
    json_error: str | None = None
    error: str | None = None
    #: refused | timeout | dns | connect | budget | other
    error_kind: str | None = None
    elapsed_s: float = 0.0
    timeout_s: float = 0.0

    @property
    def answered(self) -> bool:
        return self.status is not None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def is_json(self) -> bool:
        return self.answered and self.json_error is None and self.text != ""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def target(self) -> str:
        try:
            parts = urlsplit(self.url)
        except ValueError:
            return f"{self.method} {self.url}"
        return f"{self.method} {parts.scheme}://{parts.netloc}{parts.path}"

    def describe(self) -> str:
        """A short human account of the answer, for a failure message."""
        if not self.answered:
            return f"{self.target()}: {self.error}"
        # masked before it is cut: a token cut in half matches no shape any more
        body = run_redactor()(self.text.strip().replace("\n", " "))
        if len(body) > 160:
            body = body[:157] + "..."
        text = f"{self.target()}: HTTP {self.status} {self.reason}".rstrip()
        if self.json_error and self.ok:
            text += f" with a body that is not valid JSON ({self.json_error})"
        elif body and not self.ok:
            text += f" {body}"
        return text


def unanswered(method: str, url: str, error: str, kind: str, timeout: float = 0.0) -> HttpResult:
    return HttpResult(method, url, error=error, error_kind=kind, timeout_s=timeout)


async def fetch(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    total: float,
    connect: float,
    headers: dict[str, str] | None = None,
    json_body: Any = None,
) -> HttpResult:
    """Send one request. Headers are never copied into the result (they carry credentials)."""
    import aiohttp

    #: aiohttp < 3.10 has no separate connect-timeout error; a timeout then reads as "no answer"
    connect_timeout = getattr(aiohttp, "ConnectionTimeoutError", ())
    problem = url_problem(url)
    if problem:
        return unanswered(method, url, problem, "config", total)
    started = time.monotonic()
    result = HttpResult(method, url, timeout_s=total)
    # aiohttp rounds a timeout of ceil_threshold (5 s) or more up to the next whole second of
    # loop time, up to 1 s late; a probe's deadline must be the one it was given.
    timeout = aiohttp.ClientTimeout(
        total=total, sock_connect=min(connect, total), ceil_threshold=NO_CEILING
    )
    try:
        async with session.request(
            method, url, headers=headers, json=json_body, timeout=timeout, allow_redirects=False
        ) as response:
            result.status = response.status
            result.reason = response.reason or ""
            result.headers = {k.lower(): v for k, v in response.headers.items()}
            raw = await response.content.read(MAX_BODY)
            result.text = raw.decode("utf-8", errors="replace")
    except asyncio.CancelledError:
        raise
    except connect_timeout:
        result.error = f"could not connect within {min(connect, total):g} s"
        result.error_kind = "timeout"
    except (aiohttp.ServerTimeoutError, TimeoutError):
        elapsed = time.monotonic() - started
        if result.status is None:
            result.error = f"no answer within {elapsed:.1f} s (timeout {total:g} s)"
        else:
            result.error = f"the body did not arrive within {total:g} s"
            result.status = None
        result.error_kind = "timeout"
    except aiohttp.ClientConnectorError as exc:
        result.error, result.error_kind = _connector_error(exc)
    except aiohttp.ClientError as exc:
        result.error = f"{type(exc).__name__}: {_first_line(exc)}"
        result.error_kind = "other"
    except (OSError, ValueError) as exc:
        result.error = f"{type(exc).__name__}: {_first_line(exc)}"
        result.error_kind = "other"
    result.elapsed_s = time.monotonic() - started
    if result.answered and result.text:
        try:
            result.data = json.loads(result.text)
        except ValueError as exc:
            result.json_error = str(exc).split(":")[0]
    return result


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be requested (a setting without scheme or host), or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        return f"not a usable URL ({exc}); expected e.g. http://HOST:PORT"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "not an http(s) URL with a host; expected e.g. http://HOST:PORT"
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else ""


def _connector_error(exc: aiohttp.ClientConnectorError) -> tuple[str, str]:
    where = f"{exc.host}:{exc.port}"
    cause = exc.os_error
    if isinstance(cause, ConnectionRefusedError):
        return f"connection refused by {where} (nothing listens there)", "refused"
    if isinstance(cause, socket.gaierror):
        return f"cannot resolve {exc.host} ({cause.strerror or cause})", "dns"
    reason = getattr(cause, "strerror", None) or _first_line(cause) or type(cause).__name__
    return f"cannot connect to {where}: {reason}", "connect"
