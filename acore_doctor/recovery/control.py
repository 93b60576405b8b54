"""What an operator sees and steers of AutoRecovery: its circuits, a pause, a reset.

AutoRecovery runs inside the bot; the operator runs ``acore-doctor recover --status``,
``--reset SERVICE``, ``--pause`` and ``--resume``. They meet in two files under the
deployment's ``.acore-doctor/``: the attempts log AutoRecovery already keeps (read here,
never written) and a small control file (written here, read by AutoRecovery before every
attempt), so a pause or a reset takes effect without restarting the bot.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from acore_doctor.fsio import write_atomic
from acore_doctor.saferead import OWN_FILE_MAX, read_text_bounded

CONTROL_FILE = "recovery-control.json"
#: Outcomes in which AutoRecovery acted; these count against MAX_RECOVERY_ATTEMPTS.
ACTING = frozenset({"recovered", "waited", "backed_off", "failed", "no_action"})


@dataclass
class RecoveryControl:
    paused: bool = False
    paused_at: float | None = None
    reason: str = ""
    #: circuit (or service) -> when it was reset: attempts before that no longer count
    resets: dict[str, float] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> RecoveryControl:
        try:
            data = json.loads(read_text_bounded(path, OWN_FILE_MAX, "strict"))
            known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
            control = cls(**known)
        except (OSError, ValueError, TypeError):
            return cls()
        if not isinstance(control.resets, dict):
            control.resets = {}
        return control

    def save(self, path: Path, owner_of: Path | None = None) -> None:
        """Write atomically. Run as root for a bot that runs as its own user, the file (and a
        directory made for it) goes to the owner of ``owner_of`` (the bot's directory):
        AutoRecovery reads it as the bot, and a file it cannot read would be no pause at all."""
        made = not path.parent.exists()
        write_atomic(path, json.dumps(asdict(self), indent=2) + "\n", mode=0o600, make_parents=True)
        if owner_of is not None and os.geteuid() == 0:
            owner = owner_of.stat()
            for target in (path.parent, path) if made else (path,):
                os.chown(target, owner.st_uid, owner.st_gid)

    def reset_at(self, circuit: str) -> float:
        """When ``circuit`` ("strategy:service") was last reset, by its name or its service's."""
        service = circuit.split(":", 1)[-1]
        stamps = [self.resets.get(circuit), self.resets.get(service), self.resets.get("*")]
        return max((s for s in stamps if isinstance(s, int | float)), default=0.0)


def record_key(record: Mapping[str, Any]) -> str:
    """A logged attempt's circuit; records written before circuits had keys count per
    strategy, as they were counted then."""
    return str(record.get("key") or record.get("strategy"))


@dataclass
class CircuitStatus:
    circuit: str
    recent: int  # acting attempts within the cooldown, since the last reset
    open: bool
    #: seconds until the oldest recent attempt leaves the window (the circuit closes again)
    closes_in_s: float
    last_outcome: str
    last_at: float
    last_detail: str

    def describe(self, max_attempts: int) -> str:
        state = (
            f"OPEN (closes in {self.closes_in_s:.0f} s)"
            if self.open
            else f"closed ({self.recent}/{max_attempts} recent attempts)"
        )
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(self.last_at))
        return f"{self.circuit}: {state}; last {self.last_outcome} at {when} UTC {self.last_detail}"


def circuits(
    records: Iterable[Mapping[str, Any]],
    max_attempts: int,
    cooldown_s: float,
    control: RecoveryControl,
    now: float,
) -> list[CircuitStatus]:
    """Every circuit the log knows, newest activity first."""
    by_key: dict[str, list[Mapping[str, Any]]] = {}
    for record in records:
        if isinstance(record.get("ts"), int | float) and record.get("strategy"):
            by_key.setdefault(record_key(record), []).append(record)
    result = []
    for key, entries in by_key.items():
        since = max(now - cooldown_s, control.reset_at(key))
        recent = sorted(
            float(r["ts"]) for r in entries if r.get("outcome") in ACTING and r["ts"] > since
        )
        is_open = len(recent) >= max_attempts
        closes_in = max(0.0, recent[-max_attempts] + cooldown_s - now) if is_open else 0.0
        last = max(entries, key=lambda r: r["ts"])
        result.append(
            CircuitStatus(
                key,
                len(recent),
                is_open,
                closes_in,
                str(last.get("outcome", "")),
                float(last["ts"]),
                str(last.get("detail", ""))[:200],
            )
        )
    return sorted(result, key=lambda c: -c.last_at)


def attempt_counts(records: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], int]:
    """(strategy, outcome) -> attempts in the kept log."""
    counts: dict[tuple[str, str], int] = {}
    for record in records:
        strategy, outcome = record.get("strategy"), record.get("outcome")
        if isinstance(strategy, str) and isinstance(outcome, str):
            counts[(strategy, outcome)] = counts.get((strategy, outcome), 0) + 1
    return counts


def recovery_status(config: Any, now: float) -> dict[str, Any]:
    """What the report and ``/metrics`` show of recovery: the pause, attempts by strategy and
    outcome, open circuits, and when the newest finished backup was taken.
    ``config`` is the deployment's :class:`~acore_doctor.recovery.common.RecoveryConfig`."""
    from acore_doctor.recovery.backup import list_backups
    from acore_doctor.recovery.common import read_jsonl

    control = RecoveryControl.load(config.home / CONTROL_FILE)
    records = read_jsonl(config.attempts_log) if config.attempts_log.exists() else []
    status = circuits(records, config.max_attempts, config.cooldown_s, control, now)
    finished = [b for b in list_backups(config.backup_dir) if b.trailer()]
    return {
        "paused": control.paused,
        "paused_at": control.paused_at,
        "attempts": [
            {"strategy": strategy, "outcome": outcome, "count": count}
            for (strategy, outcome), count in sorted(attempt_counts(records).items())
        ],
        "open_circuits": [c.circuit for c in status if c.open],
        "last_backup_timestamp": finished[-1].created_at.timestamp() if finished else None,
    }
