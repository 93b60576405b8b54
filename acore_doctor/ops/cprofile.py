"""Run a Python command under cProfile and list its top functions."""

from __future__ import annotations

import io
import pstats
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

SORT_KEYS = ("cumulative", "tottime", "ncalls")


def profiled_command(cmd: Sequence[str], output: Path) -> list[str]:
    """``python -m cProfile -o OUT`` wrapped around ``cmd`` (a Python program or script)."""
    if not cmd:
        raise ValueError("give the command after '--', e.g. -- python bot.py")
    first = Path(cmd[0]).name
    if first.startswith("python"):
        return [cmd[0], "-m", "cProfile", "-o", str(output), *cmd[1:]]
    if first.endswith(".py"):
        return [sys.executable, "-m", "cProfile", "-o", str(output), *cmd]
    raise ValueError(
        f"--cprofile profiles Python programs: expected 'python ...' or a .py script, got {cmd[0]!r}"
    )


def top_functions(stats_file: Path, top: int = 25, sort: str = "cumulative") -> str:
    buffer = io.StringIO()
    stats = pstats.Stats(str(stats_file), stream=buffer)
    stats.strip_dirs().sort_stats(sort).print_stats(top)
    return buffer.getvalue()


def run_cprofile(
    cmd: Sequence[str],
    top: int = 25,
    sort: str = "cumulative",
    keep: Path | None = None,
    timeout: float | None = None,
) -> tuple[int, str]:
    """Run ``cmd`` under cProfile; its exit code and the top-functions table."""
    with tempfile.TemporaryDirectory(prefix="acore-doctor-cprofile-") as tmp:
        output = keep or Path(tmp) / "run.prof"
        proc = subprocess.run(profiled_command(cmd, output), timeout=timeout, check=False)
        if not output.exists():
            return proc.returncode, f"no profile written (the command exited {proc.returncode})"
        return proc.returncode, top_functions(output, top, sort)
