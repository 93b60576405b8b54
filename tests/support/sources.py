"""Our own source files, each parsed once per test session: several guards of the unit tier
walk the same trees (root keys, setting defaults, thresholds)."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

SUITE_ROOT = Path(__file__).resolve().parents[2]
SOURCE_FOLDERS = ("acore_doctor", "health_tests", "recovery_tests")


@functools.cache
def suite_sources() -> tuple[Path, ...]:
    """Every Python file of the package and its checks."""
    return tuple(
        path for folder in SOURCE_FOLDERS for path in sorted((SUITE_ROOT / folder).rglob("*.py"))
    )


@functools.cache
def tree_of(path: Path) -> ast.Module:
    """``path`` parsed (callers must not change the tree: it is shared)."""
    return ast.parse(path.read_text(encoding="utf-8"), str(path))
