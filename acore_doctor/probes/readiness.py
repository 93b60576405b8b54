"""Evidence that the running bot reached Discord, not merely that its process runs.

Two kinds of evidence (deployment §1, §8 check 3): a ready line logged since the process
started (``Bot is ready!``, ``Logged in as``, ``Discord bot ready as``), read from wherever this
bot writes its log (``logs/bot.log``, the journal, or the file its stdout/stderr is redirected
to under nohup, tmux or a shell), else an established TCP connection of the process to
Discord's gateway. Facts only: :mod:`acore_doctor.rules.readiness` judges them.
"""

from __future__ import annotations

import os
import socket
import stat
import threading
from dataclasses import dataclass, field
from pathlib import Path

import psutil

#: The host discord.py opens its gateway websocket to (``GET /gateway/bot`` answers it).
GATEWAY_HOSTS = ("gateway.discord.gg",)
GATEWAY_PORT = 443
#: How long resolving the gateway's addresses may take before the answer is "unknown".
RESOLVE_TIMEOUT_S = 2.0

CONNECTED, NONE, UNKNOWN = "connected", "none", "unknown"


@dataclass(frozen=True)
class LogEvidence:
    """What one log said about the span since the process started."""

    source: str
    #: the first ready line's time since the start, or None
    ready_at: float | None = None
    #: why this log cannot tell (unreadable, does not reach back to the start...), or None
    problem: str | None = None
    records: int = 0


@dataclass(frozen=True)
class GatewayEvidence:
    """The process's TCP connections: to Discord's gateway ("connected"), to nothing that
    could be it ("none"), or not knowable from here ("unknown")."""

    state: str
    detail: str


@dataclass(frozen=True)
class ReadyEvidence:
    pid: int
    started: float
    entrypoint: str
    logs: list[LogEvidence] = field(default_factory=list)
    gateway: GatewayEvidence = GatewayEvidence(UNKNOWN, "not looked at")

    @property
    def ready_at(self) -> float | None:
        times = [log.ready_at for log in self.logs if log.ready_at is not None]
        return min(times) if times else None

    @property
    def conclusive_logs(self) -> list[LogEvidence]:
        """Logs that cover the time since the start (so a missing ready line means one)."""
        return [log for log in self.logs if log.problem is None]


def output_files(pid: int, proc_root: Path = Path("/proc")) -> list[Path]:
    """Regular files the process's stdout and stderr are redirected to (nohup.out, a
    ``launcher.py 2>bot.err`` file); a terminal, a pipe or /dev/null is none."""
    found: list[Path] = []
    for fd in (2, 1):
        try:
            target = os.readlink(proc_root / str(pid) / "fd" / str(fd))
        except OSError:
            continue
        if not target.startswith("/") or target.endswith(" (deleted)"):
            continue  # pipe:[...], socket:[...], anon_inode:...
        path = Path(target)
        try:
            if stat.S_ISREG(path.stat().st_mode) and path not in found:
                found.append(path)
        except OSError:
            continue
    return found


def gateway_addresses(hosts: tuple[str, ...] = GATEWAY_HOSTS) -> set[str] | None:
    """The gateway's IP addresses, or None when they cannot be resolved in time (offline)."""
    result: dict[str, set[str]] = {}

    def resolve() -> None:
        addresses: set[str] = set()
        for host in hosts:
            try:
                for info in socket.getaddrinfo(host, GATEWAY_PORT, proto=socket.IPPROTO_TCP):
                    addresses.add(str(info[4][0]))
            except OSError:
                continue
        result["addresses"] = addresses

    worker = threading.Thread(target=resolve, daemon=True)
    worker.start()
    worker.join(RESOLVE_TIMEOUT_S)
    return result.get("addresses") or None


def _same_netns(pid: int) -> bool:
    """psutil reads this process's /proc/net: another network namespace's sockets (a
    container's) are invisible from here."""
    try:
        return os.readlink(f"/proc/{pid}/ns/net") == os.readlink("/proc/self/ns/net")
    except OSError:
        return True  # no namespaces to tell apart (not Linux, or no access)


def gateway_evidence(pid: int, addresses: set[str] | None) -> GatewayEvidence:
    """Whether process ``pid`` holds an established TCP connection to Discord's gateway.

    ``addresses``: the gateway's IPs (None when they could not be resolved: a connection to
    port 443 then proves nothing either way)."""
    if not _same_netns(pid):
        return GatewayEvidence(UNKNOWN, f"pid {pid} runs in another network namespace")
    try:
        process = psutil.Process(pid)
        lister = getattr(process, "net_connections", None) or process.connections
        connections = lister(kind="tcp")
    except psutil.AccessDenied:
        return GatewayEvidence(UNKNOWN, f"the connections of pid {pid} cannot be read")
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return GatewayEvidence(UNKNOWN, f"pid {pid} is gone")
    established = [c for c in connections if c.status == psutil.CONN_ESTABLISHED and c.raddr]
    https = [c for c in established if c.raddr.port == GATEWAY_PORT]
    if addresses is not None:
        gateway = [c for c in https if c.raddr.ip in addresses]
        if gateway:
            c = gateway[0]
            return GatewayEvidence(CONNECTED, f"pid {pid} -> {c.raddr.ip}:{c.raddr.port}")
    if not https:
        return GatewayEvidence(
            NONE,
            f"pid {pid} has {len(established)} established TCP connection(s), none to port 443",
        )
    # Connections to port 443 that are not to the addresses resolved now prove nothing: the
    # gateway is anycast, and a resumed session runs on a regional host (resume_gateway_url).
    where = (
        "the gateway's addresses could not be resolved"
        if addresses is None
        else f"none to the addresses {', '.join(GATEWAY_HOSTS)} resolves to now"
    )
    return GatewayEvidence(
        UNKNOWN,
        f"pid {pid} has {len(https)} connection(s) to port 443 ({where}); one may be Discord's",
    )
