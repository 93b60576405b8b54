"""Build throw-away acore_bot deployments for our tests, with knobs for faults.

A deployment starts as a copy of the bundled demo (realistic layout and content); knobs
change it. Tests then run the real suite on it in a child process.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import struct
import zlib
from pathlib import Path
from typing import Any

from acore_doctor.demo import copy_sample

BOT_ID = "1309876543210987654"


def make_token(bot_id: str = BOT_ID, secret: str = "T" * 38) -> str:
    """A token of the right shape (not valid with Discord)."""
    first = base64.b64encode(bot_id.encode()).decode().rstrip("=")
    return f"{first}.GaBcDe.{secret}"


class DeploymentBuilder:
    """A deployment directory under a test's tmp_path."""

    def __init__(self, root: Path) -> None:
        self.root = copy_sample(root)

    # -- .env ---------------------------------------------------------------------------
    @property
    def env_path(self) -> Path:
        return self.root / ".env"

    def env(self) -> dict[str, str]:
        values = {}
        for line in self.env_path.read_text().splitlines():
            if "=" in line and not line.lstrip().startswith("#"):
                key, _, value = line.partition("=")
                values[key.strip()] = value
        return values

    def set_env(self, **values: str | None) -> DeploymentBuilder:
        """Set (or with None, remove) keys in .env, keeping the rest of the file."""
        lines = self.env_path.read_text().splitlines()
        out, done = [], set()
        for line in lines:
            key = line.partition("=")[0].strip()
            if key in values and not line.lstrip().startswith("#"):
                done.add(key)
                if values[key] is not None:
                    out.append(f"{key}={values[key]}")
                continue
            out.append(line)
        out += [f"{k}={v}" for k, v in values.items() if k not in done and v is not None]
        self.env_path.write_text("\n".join(out) + "\n")
        return self

    def write_env_bytes(self, data: bytes) -> DeploymentBuilder:
        self.env_path.write_bytes(data)
        return self

    def remove(self, relative: str) -> DeploymentBuilder:
        path = self.root / relative
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
        return self

    # -- files ------------------------------------------------------------------------
    def write(self, relative: str, content: str | bytes) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        return path

    def write_json(self, relative: str, data: Any) -> Path:
        return self.write(relative, json.dumps(data, indent=2) + "\n")


def tree_digest(root: Path) -> dict[str, str]:
    """Every file, directory and symlink under ``root`` with a content hash and mode."""
    digest: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in sorted(dirnames + filenames):
            path = Path(dirpath) / name
            rel = str(path.relative_to(root))
            st = path.lstat()
            if path.is_symlink():
                digest[rel] = f"link:{os.readlink(path)}"
            elif path.is_dir():
                digest[rel] = f"dir:{oct(st.st_mode)}"
            else:
                sha = hashlib.sha256(path.read_bytes()).hexdigest()
                digest[rel] = f"file:{oct(st.st_mode)}:{st.st_mtime_ns}:{sha}"
    return digest


def png_with_card(card: dict) -> bytes:
    """A 1x1 PNG carrying ``card`` in a ``chara`` tEXt chunk, as SillyTavern writes it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    text = b"chara\x00" + base64.b64encode(json.dumps(card).encode())
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"tEXt", text)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )
