"""Fresh virtual environments with acore-doctor installed from a wheel built from this
checkout (as pip, pipx or a CI job installs it), for the e2e tests of an installed copy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.runs import SUITE_ROOT, clean_env


def build_wheel(out: Path) -> Path:
    """``pip wheel --no-deps .`` of this checkout into ``out``: the wheel's path."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), "."],
        cwd=SUITE_ROOT,
        check=True,
        capture_output=True,
        timeout=600,
    )
    (built,) = out.glob("acore_doctor-*.whl")
    return built


def make_venv(venv: Path, wheel: Path, *packages: str) -> Path:
    """A new venv with the wheel (our package only from it; its dependencies and
    ``packages`` from the pip cache or the index): its ``bin/``."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel), *packages],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return venv / "bin"


def venv_env(bin_dir: Path) -> dict[str, str]:
    """A clean environment whose ``python`` and ``acore-doctor`` are the venv's, with
    nothing of this checkout on the import path."""
    env = clean_env()
    env.pop("PYTHONPATH", None)
    env["PATH"] = os.pathsep.join([str(bin_dir), env.get("PATH", "")])
    return env
