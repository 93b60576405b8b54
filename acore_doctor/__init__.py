"""acore-doctor: health and troubleshooting suite for acore_bot deployments."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["Blocked", "__version__", "check"]


def __getattr__(name: str) -> Any:
    # Loaded on first use: `acore-doctor --help` and a pytest run that is not a health run
    # must not pay for pytest-dependent modules they never touch.
    if name in ("Blocked", "check"):
        from acore_doctor import findings

        return getattr(findings, name)
    raise AttributeError(f"module 'acore_doctor' has no attribute {name!r}")
