"""A fingerprint of the deployment: cheap, read-only, never a secret or a line of content.

A fingerprint is a flat mapping ``"scope|name" -> value`` (strings), so that two of them diff
key by key and history keeps only the keys that changed. The scope's head (before ``:``) is the
kind a reader sees: ``code``, ``setting``, ``env-file``, ``python``, ``package``, ``persona``,
``persona-field``, ``unit``, ``service``, ``host``.

What is never stored: a secret setting's value (a keyed hash, :class:`Hasher`, whose key is
random per deployment and kept 0600 in the report directory, so equal values compare equal and
nothing can be guessed from the hash), file contents (keyed hashes), a persona's text (only the
names of its fields, each with a keyed hash of its value). Non-secret values go through the
run's Redactor; a value the Redactor would change (a URL with a password) counts as secret.

Facts the run already has are reused (the bot interpreter's answer, the persona catalog, the
systemd units, the network probes' answers, the disks): nothing here sends a request or starts
a process but ``git`` (read-only, time-limited) in a git checkout.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import platform
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from acore_doctor import __version__
from acore_doctor.fsio import open_private, private_dir
from acore_doctor.saferead import read_bounded, read_text_bounded

Fingerprint = dict[str, str]

KEY_FILE = "fingerprint.key"
#: size+mtime -> hash of the files hashed last time, so an unchanged file is never read again
HASH_CACHE_FILE = "fingerprint_cache.json"
#: A file larger than this is fingerprinted by size and mtime only (no deployment source or
#: persona file is this large; a big one must not cost the run a read).
MAX_HASHED_BYTES = 2 * 1024 * 1024
#: At most this many files per tree (source without git, prompts): a bounded walk.
MAX_FILES = 2000
#: Directories of a checkout that hold no source: state, logs, environments.
NOT_SOURCE_DIRS = frozenset(
    {"data", "logs", "venv", ".venv", "node_modules", "__pycache__", "reports", "backups", "models"}
)
GIT_TIMEOUT_S = 3.0
#: Value shown for a value that is not stored in clear.
SECRET_PREFIX = "hmac:"
MAX_VALUE_CHARS = 200

#: Discord application flags that say which privileged intents are enabled (service-apis.md).
INTENT_FLAGS = {
    12: "presence",
    13: "presence (limited)",
    14: "guild_members",
    15: "guild_members (limited)",
    18: "message_content",
    19: "message_content (limited)",
}


def key(scope: str, name: str) -> str:
    return f"{scope}|{name}"


def split(entry_key: str) -> tuple[str, str]:
    scope, _, name = entry_key.partition("|")
    return scope, name


def kind_of(entry_key: str) -> str:
    return entry_key.split("|", 1)[0].split(":", 1)[0]


def is_secret_value(value: str | None) -> bool:
    return isinstance(value, str) and value.startswith(SECRET_PREFIX)


class Hasher:
    """Keyed hashes (HMAC-SHA256, shortened) with the deployment's own random key."""

    def __init__(self, secret_key: bytes) -> None:
        self._key = secret_key

    def digest(self, data: bytes | str) -> str:
        raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
        return hmac.new(self._key, raw, hashlib.sha256).hexdigest()[:16]

    def secret(self, value: str) -> str:
        return SECRET_PREFIX + self.digest(value)


def load_key(report_dir: Path) -> bytes:
    """The deployment's fingerprint key (created 0600 on first use), kept next to its history."""
    path = report_dir / KEY_FILE
    try:
        data = read_bounded(path, 1024)
        if len(data) >= 32:
            return data
    except OSError:
        pass
    private_dir(report_dir)
    # Written whole under another name, then linked into place: of two processes creating it
    # at once (xdist workers), one key wins and both use it.
    fresh = report_dir / f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
    with open_private(fresh) as handle:
        handle.write(secrets.token_hex(32))
    try:
        os.link(fresh, path)
    except FileExistsError:
        pass
    finally:
        fresh.unlink()
    return read_bounded(path, 1024)


class HashCache:
    """Content hashes of files by (size, mtime): an unchanged file is not read again."""

    def __init__(self, report_dir: Path | None) -> None:
        self.path = report_dir / HASH_CACHE_FILE if report_dir else None
        self.old: dict[str, list[Any]] = {}
        self.new: dict[str, list[Any]] = {}
        if self.path is not None:
            try:
                data = json.loads(read_text_bounded(self.path, 8 * 1024 * 1024, "strict"))
                if isinstance(data, dict):
                    self.old = data
            except (OSError, ValueError):
                pass

    def file_hash(self, path: Path, hasher: Hasher) -> str:
        try:
            st = path.stat()
        except OSError:
            return "(unreadable)"
        stamp = [st.st_size, st.st_mtime_ns]
        cached = self.old.get(str(path))
        if isinstance(cached, list) and len(cached) == 3 and cached[:2] == stamp:
            self.new[str(path)] = cached
            return str(cached[2])
        if st.st_size > MAX_HASHED_BYTES:
            value = f"size {st.st_size}"
        else:
            try:
                value = hasher.digest(read_bounded(path, MAX_HASHED_BYTES))
            except OSError as exc:
                value = f"(unreadable: {type(exc).__name__})"
        self.new[str(path)] = [*stamp, value]
        return value

    def save(self) -> None:
        if self.path is None or self.new == self.old:
            return
        try:
            private_dir(self.path.parent)
            with open_private(self.path) as handle:
                json.dump(self.new, handle, separators=(",", ":"))
        except OSError:
            pass  # a cache: the next run hashes again


# -- the bot's code -----------------------------------------------------------------------
def _git(bot_dir: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-c", "safe.directory=*", "-C", str(bot_dir), *args],
            capture_output=True,
            timeout=GIT_TIMEOUT_S,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"},
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.decode("utf-8", "replace") if done.returncode == 0 else None


def code_part(
    bot_dir: Path, hasher: Hasher, cache: HashCache, redact: Callable[[str], str]
) -> Fingerprint:
    """Git commit (and subject) and dirty files in a git checkout; else each source file's hash."""
    out: Fingerprint = {}
    if (bot_dir / ".git").exists():
        head = _git(bot_dir, "log", "-1", "--format=%H%x1f%ct%x1f%s")
        if head is not None:
            sha, _, rest = head.strip().partition("\x1f")
            _, _, subject = rest.partition("\x1f")
            out[key("code", "commit")] = redact(f"{sha[:12]} {subject[:80]}".strip())
            status = _git(bot_dir, "status", "--porcelain=v1", "-z", "--untracked-files=no")
            for record in (status or "").split("\0")[:MAX_FILES]:
                if len(record) < 4:
                    continue
                rel = record[3:]
                path = bot_dir / rel
                value = cache.file_hash(path, hasher) if path.is_file() else "(deleted)"
                out[key("code", f"dirty:{redact(rel)}")] = value
            return out
    for path in _walk(bot_dir, lambda p: p.suffix == ".py"):
        rel = path.relative_to(bot_dir).as_posix()
        out[key("code", f"file:{redact(rel)}")] = cache.file_hash(path, hasher)
    return out


def commit_files(bot_dir: Path, before: str | None, after: str | None) -> list[str]:
    """The files (relative paths) that changed between two commits' fingerprint values."""
    if not before or not after:
        return []
    old, new = before.split()[0], after.split()[0]
    out = _git(bot_dir, "diff", "--name-only", "--no-renames", f"{old}..{new}")
    return [line for line in (out or "").splitlines() if line][:MAX_FILES]


def _walk(root: Path, wanted: Callable[[Path], bool]) -> list[Path]:
    """Regular files under ``root`` (not in state, log or environment directories), bounded."""
    found: list[Path] = []
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in NOT_SOURCE_DIRS and not d.startswith("."))
        for name in sorted(files):
            path = Path(directory, name)
            if wanted(path) and not path.is_symlink():
                found.append(path)
                if len(found) >= MAX_FILES:
                    return found
    return found


# -- settings -----------------------------------------------------------------------------
def settings_part(
    settings: Any,
    env_file: Path,
    bot_dir: Path,
    hasher: Hasher,
    redact: Callable[[str], str],
    cache: HashCache | None = None,
) -> Fingerprint:
    """Each key of ``.env`` and each known key set in the environment, as the bot sees it."""
    out: Fingerprint = {}
    keys = set(settings.file_values) | {k for k in settings.known if k in settings.environ}
    for name in sorted(keys):
        value = settings.raw(name)
        if value is None:
            shown = "(empty)"
        else:
            shown = redact(value)
            if shown != value or _secret_name(name):
                shown = hasher.secret(value)
            elif len(shown) > MAX_VALUE_CHARS:
                shown = shown[:MAX_VALUE_CHARS] + f"... ({hasher.digest(value)})"
        out[key("setting", name)] = shown
    if cache is not None:  # the file as a whole: a comment or a blank line is a change too
        out[key("env-file", _rel(env_file, bot_dir))] = cache.file_hash(env_file, hasher)
    return out


def _secret_name(name: str) -> bool:
    from acore_doctor.redact import is_secret_name

    return is_secret_name(name)


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


# -- the bot's interpreter ----------------------------------------------------------------
def python_part(bot_python: Any) -> Fingerprint:
    """The bot interpreter's version and its distributions (name -> version).

    Every distribution when the interpreter probe lists them (``distributions``), else the
    packages the bot needs."""
    out: Fingerprint = {}
    if bot_python is None or getattr(bot_python, "error", None):
        return out
    out[key("python", "version")] = str(bot_python.version_text)
    dists = getattr(bot_python, "distributions", None)
    if isinstance(dists, Mapping) and dists:  # name -> version (or facts with a .version)
        for name, version in list(dists.items())[:MAX_FILES]:
            number = getattr(version, "version", version)
            out[key("package", str(name).lower())] = str(number or "(no version)")
        return out
    for facts in (getattr(bot_python, "packages", None) or {}).values():
        version = facts.version if facts.importable else None
        if version or facts.importable:
            out[key("package", facts.name)] = str(version or "(no version)")
        else:
            out[key("package", facts.name)] = "(not installed)" if not facts.version else "(broken)"
    return out


# -- personas -----------------------------------------------------------------------------
def persona_part(
    bot_dir: Path, roots: Iterable[Path], catalog: Any, hasher: Hasher, cache: HashCache
) -> Fingerprint:
    """Each file of the persona trees (prompts, cards, frameworks): a keyed hash; for each card
    the catalog read, each field's name with a keyed hash of its value (never its text)."""
    out: Fingerprint = {}
    seen: set[Path] = set()
    for root in roots:
        if not root.is_dir():
            continue
        for path in _walk(root, lambda p: p.suffix.lower() in (".json", ".png", ".txt", ".md")):
            if path in seen:
                continue
            seen.add(path)
            out[key("persona", _rel(path, bot_dir))] = cache.file_hash(path, hasher)
    for card in getattr(catalog, "cards", None) or []:
        raw = getattr(card, "raw", None)
        if not isinstance(raw, dict):
            continue
        fields = raw.get("data") if isinstance(raw.get("data"), dict) else raw
        rel = _rel(Path(card.path), bot_dir)
        for name in sorted(fields)[:100]:
            value = json.dumps(fields[name], sort_keys=True, default=str)
            out[key("persona-field", f"{rel}#{name}")] = hasher.digest(value)
    return out


# -- systemd units ------------------------------------------------------------------------
def unit_part(units: Iterable[Any], hasher: Hasher, redact: Callable[[str], str]) -> Fingerprint:
    """Each key of the bot's unit files and drop-ins (``path:Section.Key``); secret values as
    keyed hashes."""
    out: Fingerprint = {}
    for unit in units:
        path = Path(getattr(unit, "path", unit))
        files = [path]
        dropins = path.parent / (path.name + ".d")
        if dropins.is_dir():
            files += sorted(dropins.glob("*.conf"))[:50]
        for file in files:
            try:
                text = read_text_bounded(file, 256 * 1024)
            except OSError:
                continue
            for name, value in _unit_keys(text).items():
                shown = redact(value)
                if shown != value or _secret_name(value.split("=", 1)[0]):
                    shown = hasher.secret(value)
                out[key("unit", f"{file}:{name}")] = shown[:MAX_VALUE_CHARS]
    return out


def _unit_keys(text: str) -> dict[str, str]:
    section = ""
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        name, sep, value = line.partition("=")
        if sep:
            found.setdefault(f"{section}.{name.strip()}", []).append(value.strip())
    return {name: " ; ".join(values) for name, values in found.items()}


# -- services (facts the probes already have) ----------------------------------------------
def services_part(results: Mapping[str, Any], settings: Any) -> dict[str, Fingerprint]:
    """Per service scope, what its probe answers say: versions, models and digests, intents.

    Only answers that came back (a service that is down says nothing about its models)."""
    parts: dict[str, Fingerprint] = {}
    version = _data(results.get("ollama.version"))
    if isinstance(version, dict) and isinstance(version.get("version"), str):
        parts["service:ollama"] = {key("service:ollama", "version"): version["version"]}
    tags = _data(results.get("ollama.tags"))
    if isinstance(tags, dict) and isinstance(tags.get("models"), list):
        scope = "service:ollama-models"
        parts[scope] = {
            key(scope, str(m.get("name") or m.get("model"))): str(m.get("digest") or "?")[:12]
            for m in tags["models"][:500]
            if isinstance(m, dict)
        }
    models = _data(results.get("openrouter.models"))
    if isinstance(models, dict) and isinstance(models.get("data"), list):
        ids = {str(m.get("id")) for m in models["data"] if isinstance(m, dict)}
        scope = "service:openrouter"
        wanted = {
            str(settings.raw(name))
            for name in settings.known
            if name.endswith("_MODEL") and settings.raw(name) and "/" in str(settings.raw(name))
        }
        parts[scope] = {
            key(scope, name): "listed" if name in ids else "not listed" for name in sorted(wanted)
        }
    discord = results.get("discord")
    application = _data(getattr(discord, "application", None))
    if isinstance(application, dict) and isinstance(application.get("flags"), int):
        flags = application["flags"]
        on = [label for bit, label in INTENT_FLAGS.items() if flags & (1 << bit)]
        parts["service:discord"] = {
            key("service:discord", "privileged intents"): ", ".join(on) or "none"
        }
    for name in ("kokoro", "supertonic", "luxtts", "qwen3tts", "parakeet"):
        data = _data(results.get(f"{name}.health"))
        if isinstance(data, dict) and isinstance(data.get("version"), str):
            parts[f"service:{name}"] = {key(f"service:{name}", "version"): data["version"]}
    return parts


def _data(result: Any) -> Any:
    if result is None or not getattr(result, "ok", False):
        return None
    return getattr(result, "data", None)


# -- the host -----------------------------------------------------------------------------
#: Disk and memory use, in bands: noise within a band is not a change.
USE_BANDS = (50.0, 70.0, 80.0, 90.0, 95.0, 98.0)


def band(percent: float, bands: tuple[float, ...] = USE_BANDS) -> str:
    low = 0.0
    for edge in bands:
        if percent < edge:
            return f"{low:g}-{edge:g} % used"
        low = edge
    return f">= {low:g} % used"


def host_part() -> Fingerprint:
    out: Fingerprint = {
        key("host", "kernel"): platform.release(),
        key("host", "python"): sys.version.split()[0],
        key("host", "acore-doctor"): __version__,
    }
    try:
        for line in read_text_bounded("/etc/os-release", 64 * 1024).splitlines():
            if line.startswith("PRETTY_NAME="):
                out[key("host", "os")] = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return out


def disk_part(disks: Iterable[Any], thresholds: Any = None) -> Fingerprint:
    """Each data/log filesystem's use in bands, and whether it is past the run's thresholds."""
    out: Fingerprint = {}
    for disk in disks:
        if getattr(disk, "error", None):
            continue
        used = float(disk.used_percent)
        state = band(used)
        if thresholds is not None:
            low_free = disk.free < thresholds.disk_critical_free_gib * 2**30
            if used > thresholds.disk_critical_percent or low_free:
                state += ", past the critical threshold"
            elif used > thresholds.disk_warning_percent:
                state += ", past the warning threshold"
        out[key("host:disk", disk.mount)] = state
    return out


def memory_part(memory: Any) -> Fingerprint:
    return {key("host:memory", "used"): band(float(memory.percent))} if memory is not None else {}
