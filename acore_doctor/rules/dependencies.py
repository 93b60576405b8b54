"""Declared dependencies against the distributions installed in the bot's interpreter.

Pure functions: the declaration (:mod:`acore_doctor.probes.declared`) and the interpreter's
answer (:class:`acore_doctor.probes.interpreter.BotPython`: installed distributions and its
environment marker values) in, problems out. ``packaging`` does what pip does with a
requirement: name normalisation (PEP 503), version specifiers, environment markers evaluated
with the bot's interpreter's values (never the suite's), so a requirement for another platform,
another Python or an extra the bot does not enable never counts.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from packaging.markers import InvalidMarker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from acore_doctor.probes.declared import Declared, DeclaredRequirement
from acore_doctor.probes.interpreter import Distribution


@dataclass(frozen=True)
class Unmet:
    """A declared requirement the bot's interpreter does not satisfy."""

    requirement: str
    source: str
    found: str  # "not installed" | "2.1.0 installed" | "needs PyNaCl (extra voice): not installed"

    def __str__(self) -> str:
        return f"{self.requirement} ({self.source}): {self.found}"


def _applies(req: Requirement, markers: dict[str, str], extra: str = "") -> bool:
    if req.marker is None:
        return True
    try:
        return req.marker.evaluate({**markers, "extra": extra})
    except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName):
        return False  # a marker we cannot evaluate never makes a critical


def _satisfied(req: Requirement, dist: Distribution | None) -> str | None:
    """None when ``dist`` satisfies ``req``'s name and version, else what was found."""
    if dist is None:
        return "not installed"
    if not req.specifier:
        return None
    try:
        version = Version(dist.version or "")
    except InvalidVersion:
        return None  # an unreadable version cannot be judged; it is installed
    if req.specifier.contains(version, prereleases=True):
        return None
    return f"{dist.version} installed"


def unmet_requirements(
    declared: Declared,
    installed: dict[str, Distribution],
    markers: dict[str, str],
) -> tuple[list[Unmet], list[str]]:
    """(unmet declared requirements, requirement lines that do not parse).

    A requirement with extras (``discord.py[voice]``) also needs what the installed
    distribution requires for those extras."""
    unmet: list[Unmet] = []
    unparsed: list[str] = []
    seen: set[tuple[str, str]] = set()
    for item in declared.requirements:
        try:
            req = Requirement(item.text)
        except InvalidRequirement:
            unparsed.append(_where(item) + f": {item.text!r}")
            continue
        if not _applies(req, markers) or (item.text, item.source) in seen:
            continue
        seen.add((item.text, item.source))
        dist = installed.get(canonicalize_name(req.name))
        found = _satisfied(req, dist)
        if found:
            unmet.append(Unmet(_shown(req), _where(item), found))
            continue
        for extra in sorted(req.extras):
            for needed in _extra_needs(dist, extra, markers):  # type: ignore[arg-type]
                missing = _satisfied(needed, installed.get(canonicalize_name(needed.name)))
                if missing:
                    unmet.append(
                        Unmet(_shown(req), _where(item), f"needs {_shown(needed)}: {missing}")
                    )
    return unmet, unparsed


def _extra_needs(dist: Distribution, extra: str, markers: dict[str, str]) -> list[Requirement]:
    needs = []
    for text in dist.requires:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue
        # Only what the extra adds: a requirement whose marker holds without it is a base one.
        if _applies(req, markers, extra) and not _applies(req, markers, ""):
            needs.append(req)
    return needs


def conflicts(
    installed: dict[str, Distribution], markers: dict[str, str], own: str | None = None
) -> list[str]:
    """What ``pip check`` reports: an installed distribution's requirement (its base ones,
    markers evaluated for this interpreter) not installed or at a version it does not accept.
    ``own`` (the bot's own project, installed editable) is left to the declared check."""
    found: list[str] = []
    skip = canonicalize_name(own) if own else None
    for key, dist in sorted(installed.items()):
        if key == skip:
            continue
        for text in dist.requires:
            try:
                req = Requirement(text)
            except InvalidRequirement:
                continue
            if not _applies(req, markers):
                continue
            missing = _satisfied(req, installed.get(canonicalize_name(req.name)))
            if missing:
                found.append(f"{dist.name} {dist.version or '?'} requires {_shown(req)}: {missing}")
    return found


def _shown(req: Requirement) -> str:
    text = req.name + (f"[{','.join(sorted(req.extras))}]" if req.extras else "")
    return text + str(req.specifier)


def _where(item: DeclaredRequirement) -> str:
    return f"{item.source}:{item.line}" if item.line else item.source


def install_command(declared: Declared, python: str | None, unmet: list[Unmet]) -> str:
    """The command that installs what this bot declares, the way it declares it: ``uv sync``
    with a uv.lock, ``pip install -e .`` for a pyproject, ``pip install -r`` for a requirements
    file (only one that exists)."""
    pip = f"{shlex.quote(python)} -m pip" if python else "python3 -m pip"
    sources = {u.source.split(":")[0].split(" [")[0] for u in unmet} or set(declared.sources)
    commands = []
    if declared.has_uv_lock and (sources & {"pyproject.toml", "uv.lock"} or not unmet):
        commands.append("uv sync")
    elif declared.has_project and "pyproject.toml" in sources:
        extras = f"[{','.join(sorted(declared.extras))}]" if declared.extras else ""
        commands.append(f"{pip} install -e {shlex.quote('.' + extras)}")
    if sources & set(declared.requirements_files):  # never a file the bot lacks
        commands.append(f"{pip} install -r {shlex.quote(declared.requirements_files[0])}")
    return " && ".join(commands) or f"{pip} install -e ."
