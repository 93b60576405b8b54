"""Which templates an earlier analysis already saw, kept under the report directory.

The state never goes into the deployment: it lives in ``<report dir>/log-state/``, one file
per deployment (named by a hash of its path), holding template keys only (templates are
already masked, so no user data). Keys are redacted before they are compared or stored: a
token in a log line must not end up in clear in a file that CI uploads as an artifact, and a
state file an older version wrote with a secret in it is rewritten clean when it is read.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from acore_doctor.fsio import write_atomic
from acore_doctor.saferead import OWN_FILE_MAX, read_text_bounded

#: Keys remembered per deployment; the oldest are forgotten first.
MAX_KNOWN = 20_000


@dataclass(frozen=True)
class TemplateState:
    path: Path
    known: dict[str, float]  # template key -> when first seen (epoch)
    previous_run: float | None
    problem: str | None = None
    #: applied to every key before it is compared or stored (the run's Redactor)
    redact: Callable[[str], str] = field(default=str, compare=False)


def state_path(report_dir: Path, bot_dir: Path) -> Path:
    digest = hashlib.sha256(str(bot_dir.resolve()).encode()).hexdigest()[:16]
    return report_dir / "log-state" / f"templates-{digest}.json"


def load_state(
    report_dir: Path, bot_dir: Path, redact: Callable[[str], str] = str
) -> TemplateState:
    """The state for ``bot_dir``; one holding an unredacted key is rewritten clean at once."""
    path = state_path(report_dir, bot_dir)
    try:
        data = json.loads(read_text_bounded(path, OWN_FILE_MAX, "strict"))
        stored = {str(k): float(v) for k, v in dict(data.get("templates", {})).items()}
        previous = data.get("analyzed_at")
    except FileNotFoundError:
        return TemplateState(path, {}, None, redact=redact)
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        note = f"ignored unreadable state {path}: {exc}"
        return TemplateState(path, {}, None, note, redact=redact)
    known: dict[str, float] = {}
    for key, seen in stored.items():
        clean = redact(key)
        known[clean] = min(seen, known.get(clean, seen))
    state = TemplateState(path, known, float(previous) if previous else None, redact=redact)
    if known.keys() != stored.keys():
        try:
            _write(path, {"analyzed_at": previous, "templates": known})
        except OSError as exc:
            with contextlib.suppress(OSError):  # never leave the secret behind, even at a cost
                path.unlink(missing_ok=True)
            note = f"state with unredacted keys removed, not rewritten: {exc}"
            return TemplateState(path, known, state.previous_run, note, redact=redact)
    return state


def new_keys(state: TemplateState, keys: set[str]) -> list[str]:
    """Keys not seen by an earlier analysis (all of them on the first analysis), redacted."""
    return sorted({clean for clean in map(state.redact, keys) if clean not in state.known})


def save_state(state: TemplateState, keys: set[str], now: float | None = None) -> None:
    """Remember ``keys`` (redacted); written atomically, never into the deployment."""
    now = time.time() if now is None else now
    known = dict(state.known)
    for key in keys:
        known.setdefault(state.redact(key), now)
    if len(known) > MAX_KNOWN:
        known = dict(sorted(known.items(), key=lambda kv: kv[1])[-MAX_KNOWN:])
    _write(state.path, {"analyzed_at": now, "templates": known})


def _write(path: Path, data: dict[str, object]) -> None:
    """Atomically, owner-only (0600 in a 0700 directory): keys can still tell a lot."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_atomic(path, json.dumps(data), mode=0o600)
