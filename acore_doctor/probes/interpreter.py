"""The bot's own Python interpreter, and what it can import, asked of that interpreter.

The suite's interpreter says nothing about the bot's: package checks run a small script in a
child process of the bot's Python, with bytecode writing off and outside the deployment's
directory so that no file appears in it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

#: (import name, distribution name) to import in the bot's interpreter. None by default: what
#: the bot needs is what it declares (``probes/declared.py``, judged against
#: :attr:`BotPython.distributions`), and what its entrypoint imports is the import rehearsal's
#: (``probes/rehearsal.py``).
REQUIRED_PACKAGES: tuple[tuple[str, str], ...] = ()

# Runs inside the bot's interpreter, whatever its version: keep it plain Python 3.
_PROBE = r"""
import json, os, platform, re, sys
out = {"version": list(sys.version_info[:3]), "executable": sys.executable,
       "prefix": sys.prefix, "base_prefix": getattr(sys, "base_prefix", sys.prefix),
       "packages": {}, "distributions": {}}
import importlib.util

def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()

def full_version(info):
    text = "%d.%d.%d" % tuple(info[:3])
    if info.releaselevel != "final":
        text += info.releaselevel[0] + str(info.serial)
    return text

# What environment markers see in this interpreter (packaging's default_environment()).
out["markers"] = {
    "implementation_name": sys.implementation.name,
    "implementation_version": full_version(sys.implementation.version),
    "os_name": os.name,
    "platform_machine": platform.machine(),
    "platform_release": platform.release(),
    "platform_system": platform.system(),
    "platform_version": platform.version(),
    "python_full_version": platform.python_version(),
    "platform_python_implementation": platform.python_implementation(),
    "python_version": ".".join(platform.python_version_tuple()[:2]),
    "sys_platform": sys.platform,
}

def read_headers(path):
    # Name, Version and Requires-Dist of a METADATA/PKG-INFO file (headers only).
    name, version, requires = None, None, []
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if not line.strip():
                break
            key, _, value = line.partition(":")
            if key == "Name":
                name = value.strip()
            elif key == "Version":
                version = value.strip()
            elif key == "Requires-Dist":
                requires.append(value.strip())
    return name, version, requires

# Installed distributions by their metadata directories, first on sys.path wins as for
# imports: importlib.metadata would cost this interpreter more than the rest of the probe.
for entry in sys.path:
    try:
        names = sorted(os.listdir(entry or "."))
    except OSError:
        continue
    for name in names:
        for suffix in (".dist-info", ".egg-info"):
            if name.endswith(suffix):
                dist = name[: -len(suffix)].rpartition("-")[0] or name[: -len(suffix)]
                path = os.path.join(entry or ".", name)
                meta = os.path.join(path, "METADATA" if suffix == ".dist-info" else "PKG-INFO")
                try:
                    real, version, requires = read_headers(meta)
                except OSError:
                    real, version, requires = None, None, []
                key = norm(real or dist)
                if key not in out["distributions"]:
                    out["distributions"][key] = {
                        "name": real or dist, "version": version, "requires": requires}

def version_of(dist, imported):
    found = out["distributions"].get(norm(dist))
    if found and found["version"]:
        return found["version"]
    if not imported:  # neither importable nor installed where sys.path looks
        return None
    try:
        from importlib import metadata
        return metadata.version(dist)
    except Exception:
        return None

for mod, dist in json.loads(sys.argv[1]):
    entry = {"ok": False}
    try:
        __import__(mod)
        entry["ok"] = True
    except BaseException as exc:
        text = str(exc).strip().splitlines()
        entry["error"] = type(exc).__name__ + (": " + text[0][:300] if text else "")
    entry["version"] = version_of(dist, entry["ok"])
    if not entry["version"] and entry["ok"]:
        entry["version"] = str(getattr(sys.modules.get(mod), "__version__", "") or "") or None
    out["packages"][mod] = entry
try:
    out["audioop_available"] = importlib.util.find_spec("audioop") is not None
except Exception:
    out["audioop_available"] = False
out["discord_imports_audioop"] = False
try:
    spec = importlib.util.find_spec("discord")
    if spec is not None and spec.submodule_search_locations:
        base = list(spec.submodule_search_locations)[0]
        for name in ("player.py", "voice_client.py", "opus.py", "voice_state.py"):
            path = os.path.join(base, name)
            if os.path.isfile(path):
                with open(path, encoding="utf-8", errors="replace") as handle:
                    if "import audioop" in handle.read():
                        out["discord_imports_audioop"] = True
except Exception:
    pass
sys.stdout.write("ACORE-DOCTOR-PROBE " + json.dumps(out) + "\n")
"""
_MARK = "ACORE-DOCTOR-PROBE "


@dataclass(frozen=True)
class Interpreter:
    path: str | None
    source: str  # "option" | "process" | ".venv" | "venv" | "uv" | "system" | "none"


@dataclass(frozen=True)
class PackageFacts:
    name: str
    importable: bool
    version: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Distribution:
    """An installed distribution as its metadata says: name, version, Requires-Dist lines."""

    name: str
    version: str | None
    requires: tuple[str, ...] = ()


@dataclass
class BotPython:
    interpreter: Interpreter
    error: str | None = None
    version: tuple[int, ...] = ()
    executable: str = ""
    prefix: str = ""
    base_prefix: str = ""
    packages: dict[str, PackageFacts] = field(default_factory=dict)
    audioop_available: bool = False
    discord_imports_audioop: bool = False
    #: canonical name (PEP 503) -> the distribution installed where the interpreter imports from
    distributions: dict[str, Distribution] = field(default_factory=dict)
    #: environment marker values of this interpreter (``packaging.markers.default_environment``)
    markers: dict[str, str] = field(default_factory=dict)

    @property
    def version_text(self) -> str:
        return ".".join(map(str, self.version)) or "unknown"

    @property
    def in_venv(self) -> bool:
        return bool(self.prefix) and self.prefix != self.base_prefix


def _venv_python(bot_dir: Path) -> Interpreter | None:
    for name in (".venv", "venv"):
        for exe in ("bin/python", "bin/python3", "Scripts/python.exe"):
            candidate = bot_dir / name / exe
            if candidate.exists():
                return Interpreter(str(candidate), name)
    return None


def _uv_python(bot_dir: Path, timeout: float) -> Interpreter | None:
    uv = shutil.which("uv")
    if uv is None:
        return None
    try:
        done = subprocess.run(
            [uv, "python", "find", "--no-python-downloads"],
            cwd=bot_dir,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "UV_NO_SYNC": "1"},
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    path = done.stdout.strip().splitlines()[-1:] if done.returncode == 0 else []
    return Interpreter(path[0], "uv") if path else None


def find_bot_interpreter(
    bot_dir: Path,
    override: str | None = None,
    process_exe: str | None = None,
    timeout: float = 10.0,
) -> Interpreter:
    """The bot's Python: an override, the running bot's, its .venv, uv's, else the system's."""
    if override:
        return Interpreter(override, "option")
    if process_exe:
        return Interpreter(process_exe, "process")
    return (
        _venv_python(bot_dir)
        or _uv_python(bot_dir, timeout)
        or (Interpreter(path, "system") if (path := shutil.which("python3")) else None)
        or Interpreter(None, "none")
    )


class PythonProbe:
    """The probe script running in ``interpreter``: started at once, so that the bot's
    interpreter imports its packages while the suite goes on; :meth:`result` waits for the
    answer (at most ``timeout`` seconds from the start)."""

    def __init__(
        self,
        interpreter: Interpreter,
        packages: tuple[tuple[str, str], ...] = REQUIRED_PACKAGES,
        timeout: float = 60.0,
    ) -> None:
        self.interpreter = interpreter
        self.timeout = timeout
        self._deadline = time.monotonic() + timeout
        self._answer: BotPython | None = None
        self._child: subprocess.Popen[str] | None = None
        if interpreter.path is None:
            self._answer = BotPython(
                interpreter, error="no Python interpreter found (.venv, uv or python3 on PATH)"
            )
            return
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")
        }
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        try:
            self._child = subprocess.Popen(
                [interpreter.path, "-c", _PROBE, json.dumps(list(packages))],
                cwd="/",  # never the deployment: nothing there is imported or written
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                text=True,
                env=env,
            )
        except OSError as exc:
            self._answer = BotPython(
                interpreter, error=f"cannot run {interpreter.path}: {exc.strerror or exc}"
            )

    def result(self) -> BotPython:
        if self._answer is None:
            assert self._child is not None
            try:
                out, err = self._child.communicate(
                    timeout=max(0.0, self._deadline - time.monotonic())
                )
            except subprocess.TimeoutExpired:
                self.cancel()
                self._answer = BotPython(
                    self.interpreter,
                    error=f"{self.interpreter.path} did not answer within {self.timeout:g} s",
                )
            else:
                self._answer = _read_answer(self.interpreter, self._child.returncode, out, err)
        return self._answer

    def cancel(self) -> None:
        """Stop a child whose answer nobody will read."""
        if self._child is not None and self._child.poll() is None:
            self._child.kill()
            self._child.communicate()


def probe_python(
    interpreter: Interpreter,
    packages: tuple[tuple[str, str], ...] = REQUIRED_PACKAGES,
    timeout: float = 60.0,
) -> BotPython:
    """Ask ``interpreter`` its version, prefix and which packages import."""
    return PythonProbe(interpreter, packages, timeout).result()


def _read_answer(interpreter: Interpreter, returncode: int, out: str, err: str) -> BotPython:
    facts = BotPython(interpreter)
    line = next((ln for ln in out.splitlines() if ln.startswith(_MARK)), None)
    if line is None:
        tail = (err.strip().splitlines() or ["no output"])[-1][:300]
        facts.error = f"{interpreter.path} exited with {returncode}: {tail}"
        return facts
    try:
        data = json.loads(line[len(_MARK) :])
        facts.version = tuple(int(v) for v in data["version"])
        facts.executable = str(data.get("executable") or interpreter.path)
        facts.prefix = str(data.get("prefix") or "")
        facts.base_prefix = str(data.get("base_prefix") or "")
        facts.audioop_available = bool(data.get("audioop_available"))
        facts.discord_imports_audioop = bool(data.get("discord_imports_audioop"))
        facts.markers = {str(k): str(v) for k, v in (data.get("markers") or {}).items()}
        for key, dist in (data.get("distributions") or {}).items():
            facts.distributions[str(key)] = Distribution(
                str(dist.get("name") or key),
                dist.get("version"),
                tuple(str(r) for r in dist.get("requires") or ()),
            )
        for name, entry in (data.get("packages") or {}).items():
            facts.packages[name] = PackageFacts(
                name, bool(entry.get("ok")), entry.get("version"), entry.get("error")
            )
    except (ValueError, KeyError, TypeError) as exc:
        facts.error = f"unreadable answer from {interpreter.path}: {exc}"
    return facts
