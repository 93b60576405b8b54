"""Recovery tools: backups with restore drills, data repair, guarded auto-recovery.

``from acore_doctor.recovery import AutoRecovery`` is the library the bot can import; the
operator tools are ``acore-doctor backup|restore|repair|recover``. See docs/recovery.md.
"""

from __future__ import annotations

from typing import Any

__all__ = ["AutoRecovery", "Escalation", "RecoveryOutcome"]


def __getattr__(name: str) -> Any:
    # Imported lazily: the CLI's backup/restore commands need not load asyncio machinery.
    if name in __all__:
        from acore_doctor.recovery import auto

        return getattr(auto, name)
    raise AttributeError(name)
