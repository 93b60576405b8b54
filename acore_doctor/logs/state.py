"""Which templates an earlier analysis already saw, kept under the report directory.

The state never goes into the deployment: it lives in ``<report dir>/log-state/``, one file
per deployment (named by a hash of its path), holding template keys only (templates are
already masked, so no user data).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

from acore_doctor.fsio import write_atomic

#: Keys remembered per deployment; the oldest are forgotten first.
MAX_KNOWN = 20_000


@dataclass(frozen=True)
class TemplateState:
    path: Path
    known: dict[str, float]  # template key -> when first seen (epoch)
    previous_run: float | None
    problem: str | None = None


def state_path(report_dir: Path, bot_dir: Path) -> Path:
    digest = hashlib.sha256(str(bot_dir.resolve()).encode()).hexdigest()[:16]
    return report_dir / "log-state" / f"templates-{digest}.json"


def load_state(report_dir: Path, bot_dir: Path) -> TemplateState:
    path = state_path(report_dir, bot_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        known = {str(k): float(v) for k, v in dict(data.get("templates", {})).items()}
        previous = data.get("analyzed_at")
        return TemplateState(path, known, float(previous) if previous else None)
    except FileNotFoundError:
        return TemplateState(path, {}, None)
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        return TemplateState(path, {}, None, f"ignored unreadable state {path}: {exc}")


def new_keys(state: TemplateState, keys: set[str]) -> list[str]:
    """Keys not seen by an earlier analysis (all of them on the first analysis)."""
    return sorted(k for k in keys if k not in state.known)


def save_state(state: TemplateState, keys: set[str], now: float | None = None) -> None:
    """Remember ``keys``; written atomically, never into the deployment."""
    now = time.time() if now is None else now
    known = dict(state.known)
    for key in keys:
        known.setdefault(key, now)
    if len(known) > MAX_KNOWN:
        known = dict(sorted(known.items(), key=lambda kv: kv[1])[-MAX_KNOWN:])
    document = json.dumps({"analyzed_at": now, "templates": known})
    write_atomic(state.path, document, make_parents=True)
