"""Writing files so a reader (or a crash) sees the old content or the new, never half.

The one atomic write of the project: reports, ops outputs, the log analyzer's state and the
recovery tools all use it. The new content goes to a temporary file next to the target
(same filesystem, so the final ``os.replace`` is atomic), is fsynced, renamed over the target,
and the directory is fsynced so the rename survives a power cut.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import IO, Any

#: Reports, history, state, the audit log and bundles: the operator's alone (docs/operations.md).
PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) owner-only; an existing directory is left as is."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    return path


def open_private(path: Path, mode: str = "w", newline: str | None = None) -> IO[str]:
    """Open a text file for writing (``"w"``) or appending (``"a"``), created 0600."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if mode == "a" else os.O_TRUNC)
    fd = os.open(path, flags, PRIVATE_FILE)
    return os.fdopen(fd, mode, encoding="utf-8", newline=newline)


def fsync_dir(path: Path) -> None:
    """Make a rename or a new entry in ``path`` durable (best effort: some filesystems refuse)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(
    path: Path,
    data: bytes | str,
    mode: int | None = None,
    suffix: str | None = None,
    make_parents: bool = False,
) -> None:
    """Replace ``path`` with ``data`` atomically.

    ``mode`` sets the new file's permissions (default 0600). ``suffix`` names the temporary
    file ``<name><suffix>`` (the recovery tools use a fixed name so a later run finds what a
    kill left behind); without it the temporary file gets a unique hidden name. Text is
    written as UTF-8.
    """
    if make_parents:
        private_dir(path.parent)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    if suffix is None:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        partial = Path(name)
    else:
        partial = path.with_name(path.name + suffix)
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        try:
            view = memoryview(payload)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(partial, PRIVATE_FILE if mode is None else mode)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def write_json_atomic(path: Path, document: Any, mode: int | None = None) -> None:
    """``document`` as indented JSON, written with :func:`write_atomic`."""
    write_atomic(path, json.dumps(document, indent=2) + "\n", mode)
