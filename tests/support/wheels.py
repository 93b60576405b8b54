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


#: A PEP 517/660 build backend kept in the candidate's own tree (``backend-path``), so that
#: ``pip install -e .`` works with no network (no setuptools to fetch): a wheel with the
#: project's metadata (name, version, dependencies from pyproject.toml) and, for an editable
#: install, a ``.pth`` file pointing at the project.
INTREE_BACKEND = r"""
import base64, hashlib, os, tomllib, zipfile

def _wheel(directory, editable):
    with open("pyproject.toml", "rb") as handle:
        project = tomllib.load(handle)["project"]
    name, version = project["name"], project["version"]
    stem = name.replace("-", "_").replace(".", "_") + "-" + version
    info = stem + ".dist-info"
    meta = "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version)
    meta += "".join("Requires-Dist: %s\n" % r for r in project.get("dependencies", []))
    entries = {info + "/METADATA": meta.encode(),
               info + "/WHEEL": b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    if editable:
        entries["_%s_editable.pth" % stem] = (os.path.abspath(".") + "\n").encode()
    record = []
    for path, data in entries.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append("%s,sha256=%s,%d" % (path, digest, len(data)))
    entries[info + "/RECORD"] = ("\n".join(record + [info + "/RECORD,,"]) + "\n").encode()
    filename = stem + "-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(directory, filename), "w") as archive:
        for path, data in entries.items():
            archive.writestr(path, data)
    return filename

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _wheel(wheel_directory, False)

def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    return _wheel(wheel_directory, True)
"""
