"""What the bot declares it needs: ``pyproject.toml``, ``uv.lock``, ``requirements*.txt``.

Read as text (never built, never run); each requirement keeps the file and line it came from,
so a finding can point at it. Judging them against the bot's interpreter is
:mod:`acore_doctor.rules.dependencies`.

What counts, and why:

* ``pyproject.toml`` ``[project] dependencies``, plus the ``[project.optional-dependencies]``
  groups the bot enables itself: a self-reference (``acore-bot[voice]`` in its own
  dependencies) or ``-e .[voice]`` in ``requirements.txt``. Dependency groups (``dev``...) are
  not needed to start the bot.
* ``uv.lock``: the project's own ``requires-dist`` as locked, when ``pyproject.toml`` has no
  ``[project]`` table to read; its presence also says the bot is installed with ``uv sync``.
* ``requirements.txt`` and the files it includes (``-r``). Other ``requirements-*.txt`` files
  (dev, test, docs...) are listed but not judged: nothing says the bot needs them to start.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from acore_doctor.saferead import read_text_bounded

#: Far above any real declaration file (the bot's uv.lock is the largest, a few MiB).
MAX_DECLARATION_BYTES = 32 * 1024 * 1024
#: ``-r`` includes followed at most this deep (a cycle stops here too).
MAX_INCLUDE_DEPTH = 5
_EGG = re.compile(r"[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)")


@dataclass(frozen=True)
class DeclaredRequirement:
    text: str  # a PEP 508 requirement string
    source: str  # the file it came from, relative to the bot's directory
    line: int | None = None


@dataclass
class Declared:
    """The bot's declared dependencies and how it installs them."""

    requirements: list[DeclaredRequirement] = field(default_factory=list)
    project_name: str | None = None
    has_project: bool = False  # pyproject.toml with a [project] table
    has_uv_lock: bool = False
    requirements_files: list[str] = field(default_factory=list)  # judged
    other_files: list[str] = field(default_factory=list)  # requirements-*.txt not judged
    extras: set[str] = field(default_factory=set)  # optional groups the bot enables
    problems: list[str] = field(default_factory=list)  # files that could not be read

    @property
    def sources(self) -> list[str]:
        names = (["pyproject.toml"] if self.has_project else []) + (
            ["uv.lock"] if self.has_uv_lock else []
        )
        return names + self.requirements_files

    @property
    def anything(self) -> bool:
        return bool(self.requirements) or self.has_project or bool(self.requirements_files)


def _read(path: Path, declared: Declared) -> str | None:
    try:
        return read_text_bounded(path, MAX_DECLARATION_BYTES)
    except OSError as exc:
        declared.problems.append(f"{path.name}: {exc.strerror or exc}")
        return None


def _toml(path: Path, declared: Declared) -> dict | None:
    text = _read(path, declared)
    if text is None:
        return None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        declared.problems.append(f"{path.name}: not valid TOML ({exc})")
        return None


def _extras_of(spec: str) -> set[str]:
    """``.[a,b]`` / ``-e .[a]`` -> {"a", "b"}."""
    match = re.search(r"\[([^\]]*)\]", spec)
    return {e.strip() for e in match.group(1).split(",") if e.strip()} if match else set()


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(text: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", text)
    return _canonical(match.group(1)) if match else ""


def read_requirements_file(bot_dir: Path, path: Path, declared: Declared, depth: int = 0) -> None:
    """Requirements of one pip requirements file (and its ``-r`` includes) into ``declared``."""
    text = _read(path, declared)
    if text is None:
        return
    name = str(path.relative_to(bot_dir)) if path.is_relative_to(bot_dir) else str(path)
    logical: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = re.sub(r"(^|\s)#.*$", "", raw).rstrip()
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append((start, (pending + line).strip()))
        pending = ""
    for number, line in logical:
        if not line:
            continue
        if line.startswith(("-r", "--requirement")):
            target = re.sub(r"^(-r|--requirement)[ =]?", "", line).strip()
            include = (path.parent / target).resolve()
            if depth < MAX_INCLUDE_DEPTH and include.is_file():
                rel = (
                    str(include.relative_to(bot_dir)) if include.is_relative_to(bot_dir) else target
                )
                if rel not in declared.requirements_files:
                    declared.requirements_files.append(rel)
                    read_requirements_file(bot_dir, include, declared, depth + 1)
            continue
        if line.startswith(("-e ", "--editable")):
            target = re.sub(r"^(-e|--editable)[ =]?", "", line).strip()
            if target.split("[")[0] in (".", "./", str(bot_dir)):
                declared.extras |= _extras_of(target)  # the bot itself: pyproject counts
            elif egg := _EGG.search(target):
                declared.requirements.append(DeclaredRequirement(egg.group(1), name, number))
            continue
        if line.startswith("-"):  # --index-url, -c constraints, --hash on its own...
            continue
        line = line.split(" --", 1)[0].strip()  # per-requirement options (--hash=...)
        if line.split("[")[0] in (".", "./"):
            declared.extras |= _extras_of(line)
            continue
        if "://" in line and "@" not in line.split("://")[0]:
            if egg := _EGG.search(line):  # git+https://...#egg=name
                declared.requirements.append(DeclaredRequirement(egg.group(1), name, number))
            continue
        declared.requirements.append(DeclaredRequirement(line, name, number))


def _pyproject(bot_dir: Path, declared: Declared) -> None:
    data = _toml(bot_dir / "pyproject.toml", declared)
    project = (data or {}).get("project")
    if not isinstance(project, dict):
        return
    declared.has_project = True
    declared.project_name = str(project.get("name") or "") or None
    own = _canonical(declared.project_name or "")
    deps = project.get("dependencies") or []
    optional = project.get("optional-dependencies") or {}
    for text in deps if isinstance(deps, list) else []:
        if own and _requirement_name(str(text)) == own:
            declared.extras |= _extras_of(str(text))  # the bot enabling its own extras
            continue
        declared.requirements.append(DeclaredRequirement(str(text), "pyproject.toml"))
    # Extras enabled through extras (acore-bot[all] = acore-bot[voice,rag]).
    seen: set[str] = set()
    while declared.extras - seen:
        group = sorted(declared.extras - seen)[0]
        seen.add(group)
        for text in optional.get(group, []) if isinstance(optional, dict) else []:
            if own and _requirement_name(str(text)) == own:
                declared.extras |= _extras_of(str(text))
                continue
            declared.requirements.append(
                DeclaredRequirement(str(text), f"pyproject.toml [{group}]")
            )


def _uv_lock_requirements(bot_dir: Path, declared: Declared) -> None:
    """The root package's ``requires-dist`` in uv.lock (a project without [project])."""
    data = _toml(bot_dir / "uv.lock", declared)
    for package in (data or {}).get("package", []):
        source = package.get("source") or {}
        if not (source.get("editable") == "." or source.get("virtual") == "."):
            continue
        for item in (package.get("metadata") or {}).get("requires-dist", []):
            if not isinstance(item, dict) or not item.get("name"):
                continue
            text = str(item["name"])
            if item.get("extras"):
                text += "[" + ",".join(map(str, item["extras"])) + "]"
            text += str(item.get("specifier") or "")
            if item.get("marker"):
                text += f"; {item['marker']}"
            if "extra ==" in text or "extra==" in text:
                continue  # an optional group: not enabled by anything we can see
            declared.requirements.append(DeclaredRequirement(text, "uv.lock"))
        return


def read_declared(bot_dir: Path) -> Declared:
    """Everything ``bot_dir`` declares; a file that cannot be read is a problem, not a crash."""
    declared = Declared()
    declared.has_uv_lock = (bot_dir / "uv.lock").is_file()
    if (bot_dir / "requirements.txt").is_file():
        declared.requirements_files.append("requirements.txt")
        read_requirements_file(bot_dir, bot_dir / "requirements.txt", declared)
    if (bot_dir / "pyproject.toml").is_file():
        _pyproject(bot_dir, declared)
    if declared.has_uv_lock and not declared.has_project:
        _uv_lock_requirements(bot_dir, declared)
    for path in sorted(bot_dir.glob("requirements*.txt")):
        if path.name not in declared.requirements_files:
            declared.other_files.append(path.name)
    return declared
