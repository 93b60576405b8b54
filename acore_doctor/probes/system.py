"""System tools the bot and its repair scripts call: found on PATH, with their versions."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass

#: tool -> the argument that makes it print its version
VERSION_ARGS = {
    "ffmpeg": "-version",
    "sqlite3": "--version",
    "ollama": "--version",
    "uv": "--version",
    "docker": "--version",
}


@dataclass(frozen=True)
class Tool:
    name: str
    path: str | None
    version: str | None = None
    error: str | None = None

    @property
    def found(self) -> bool:
        return self.path is not None

    def describe(self) -> str:
        if self.path is None:
            return f"{self.name}: not found on PATH"
        return f"{self.name}: {self.path} ({self.version or self.error or 'version unknown'})"


def find_tool(name: str, extra_dirs: tuple[str, ...] = (), timeout: float = 5.0) -> Tool:
    search = os.pathsep.join([*extra_dirs, os.environ.get("PATH", os.defpath)])
    path = shutil.which(name, path=search)
    if path is None:
        return Tool(name, None)
    try:
        done = subprocess.run(
            [path, VERSION_ARGS.get(name, "--version")],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
            errors="replace",
        )
    except subprocess.TimeoutExpired:
        return Tool(name, path, error=f"no answer to {VERSION_ARGS.get(name)} within {timeout:g} s")
    except OSError as exc:
        return Tool(name, path, error=f"cannot run: {exc.strerror or exc}")
    first = (done.stdout.strip() or done.stderr.strip()).splitlines()
    if done.returncode != 0:
        return Tool(name, path, error=f"exit code {done.returncode}: {first[0] if first else ''}")
    return Tool(name, path, version=first[0][:200] if first else None)
