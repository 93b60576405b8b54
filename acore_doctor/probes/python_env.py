"""Facts about a Python interpreter: version and virtual environment."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class PythonFacts:
    executable: str
    version: tuple[int, int, int]
    in_venv: bool
    prefix: str

    @property
    def version_text(self) -> str:
        return ".".join(map(str, self.version))


def current_python() -> PythonFacts:
    """The interpreter running the suite."""
    in_venv = sys.prefix != getattr(sys, "base_prefix", sys.prefix) or bool(
        os.environ.get("VIRTUAL_ENV") or os.environ.get("CONDA_PREFIX")
    )
    return PythonFacts(
        executable=sys.executable,
        version=tuple(sys.version_info[:3]),  # type: ignore[arg-type]
        in_venv=in_venv,
        prefix=sys.prefix,
    )
