"""Small real wheels built in a test (no network, no build backend): a package that pip
installs like any other, for bots whose declared dependencies a test installs or leaves out."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(
    out_dir: Path,
    name: str,
    version: str,
    files: dict[str, str],
    requires: tuple[str, ...] = (),
) -> Path:
    """A pure-Python wheel of distribution ``name`` holding ``files`` (path in site-packages ->
    source); ``requires`` become its Requires-Dist lines."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{name.replace('-', '_').replace('.', '_')}-{version}"
    info = f"{stem}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(
        f"Requires-Dist: {r}\n" for r in requires
    )
    entries = {path: source.encode() for path, source in files.items()}
    entries[f"{info}/METADATA"] = metadata.encode()
    entries[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: acore-doctor-tests\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n"
    )
    record = [_record_line(path, data) for path, data in entries.items()] + [f"{info}/RECORD,,"]
    entries[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = out_dir / f"{stem}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in entries.items():
            archive.writestr(path, data)
    return wheel


def standin_wheel(out_dir: Path, module: str, name: str, version: str) -> Path:
    """A wheel of the stand-in the demo's venv holds for ``name`` (importable, versioned)."""
    return build_wheel(
        out_dir,
        name,
        version,
        {f"{module}/__init__.py": f'"""Stand-in {name}."""\n__version__ = "{version}"\n'},
    )
