"""Facts about the runtime path's credential file and the `.env` file mode (§2.1, §3.1)."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from acore_doctor.saferead import read_bounded
from acore_doctor.settings import BotSettings

MAX_AUTH_JSON_BYTES = 1024 * 1024


def env_file_mode(path: Path) -> int | None:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None


def auth_json_path(settings: BotSettings) -> Path:
    """`core/auth.py::default_auth_path`: $XDG_CONFIG_HOME/gestalt/auth.json, else ~/.config."""
    base = settings.get("XDG_CONFIG_HOME").strip() or os.path.expanduser("~/.config")
    return Path(base) / "gestalt" / "auth.json"


@dataclass(frozen=True)
class AuthFile:
    path: Path
    exists: bool
    mode: int | None = None
    error: str | None = None
    providers: tuple[str, ...] = ()
    secret_providers: tuple[str, ...] = ()


def read_auth_json(path: Path) -> AuthFile:
    if not path.exists():
        return AuthFile(path, exists=False)
    mode = env_file_mode(path)
    try:
        if path.stat().st_size > MAX_AUTH_JSON_BYTES:
            return AuthFile(path, True, mode, "larger than any real auth.json")
        data = json.loads(read_bounded(path, MAX_AUTH_JSON_BYTES))
    except (OSError, ValueError, RecursionError) as exc:
        text = getattr(exc, "strerror", None) or type(exc).__name__
        return AuthFile(
            path, True, mode, f"not readable JSON ({text}): the runtime treats it as empty"
        )
    providers = data.get("providers") if isinstance(data, dict) else None
    if not isinstance(providers, dict):
        return AuthFile(path, True, mode, "no 'providers' object")
    with_secret = tuple(
        name
        for name, entry in providers.items()
        if isinstance(entry, dict) and (entry.get("api_key") or entry.get("token"))
    )
    return AuthFile(path, True, mode, None, tuple(providers), with_secret)
