"""Is the running bot connected to Discord? Evidence -> one verdict (deployment §1, §8.3).

Pure: the time is an argument (``now``), so tests never depend on the wall clock.
launcher.py keeps running when its Discord login fails in a background task, so a process
that runs proves nothing; a ready line since the start, or a gateway connection, does.
"""

from __future__ import annotations

from dataclasses import dataclass

from acore_doctor.logs.parse import format_local
from acore_doctor.probes.readiness import CONNECTED, NONE, ReadyEvidence

READY, PENDING, NOT_CONNECTED, UNVERIFIED = "ready", "pending", "not connected", "unverified"


@dataclass(frozen=True)
class Readiness:
    status: str  # READY | PENDING | NOT_CONNECTED | UNVERIFIED
    message: str


def judge_readiness(evidence: ReadyEvidence, now: float, timeout_s: float) -> Readiness:
    """READY with a ready line or a gateway connection; PENDING within ``timeout_s`` of the
    start; then NOT_CONNECTED when a log covering the start has no ready line or the
    connections show none to the gateway, else UNVERIFIED (no evidence either way)."""
    pid, started = evidence.pid, evidence.started
    waited = max(0.0, now - started)
    since = f"pid {pid} ({evidence.entrypoint}) started {format_local(started)}, {waited / 60:.1f} min ago"
    read = (
        "; ".join(
            f"{log.source}: {log.problem or f'{log.records} record(s) since the start, no ready line'}"
            for log in evidence.logs
        )
        or "no log of this bot found"
    )
    if evidence.ready_at is not None:
        return Readiness(READY, f"{since}; ready line at {format_local(evidence.ready_at)}")
    if evidence.gateway.state == CONNECTED:
        return Readiness(READY, f"{since}; gateway connection {evidence.gateway.detail}")
    if waited < timeout_s:
        return Readiness(
            PENDING,
            f"{since}; no ready line yet, which may take up to {timeout_s / 60:g} min ({read}; "
            f"{evidence.gateway.detail})",
        )
    conclusive = evidence.conclusive_logs
    if conclusive or evidence.gateway.state == NONE:
        return Readiness(
            NOT_CONNECTED,
            f"expected a ready line or a Discord gateway connection within {timeout_s / 60:g} "
            f"min of the start, found neither: running but not connected ({since}; {read}; "
            f"{evidence.gateway.detail})",
        )
    return Readiness(
        UNVERIFIED,
        f"expected evidence that the bot reached Discord, found none to read: connectivity "
        f"could not be verified ({since}; {read}; {evidence.gateway.detail})",
    )
