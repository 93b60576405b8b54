"""Which changes likely caused a new finding: pure functions over fingerprints and inputs.

A change is one fingerprint key whose value differs between two runs. A check *read* a change
when one of its recorded inputs (:mod:`acore_doctor.changes.inputs`) covers the key: the setting
itself, the file, a file in the same directory (a listing: a deleted card), or the fixture whose
fact the key comes from. Changes a check read come first (the likely causes), newest first;
the others follow, and are never called a likely cause.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from acore_doctor.changes.fingerprint import Fingerprint, is_secret_value, kind_of, split

#: Fixture (or ``host:`` probe) tokens whose facts each scope comes from.
SCOPE_READERS: dict[str, tuple[str, ...]] = {
    "python": ("fixture:bot_python",),
    "package": ("fixture:bot_python",),
    "service:ollama": ("fixture:ollama_version",),
    "service:ollama-models": ("fixture:ollama_tags", "fixture:ollama_ps"),
    "service:openrouter": ("fixture:openrouter_models",),
    "service:discord": ("fixture:discord_api",),
    "service:kokoro": ("fixture:kokoro_health",),
    "service:supertonic": ("fixture:supertonic_health",),
    "service:luxtts": ("fixture:luxtts_health",),
    "service:qwen3tts": ("fixture:qwen3tts_health",),
    "service:parakeet": ("fixture:parakeet_health",),
}
#: Order of kinds among changes of the same time (the deployment's own config before the host).
KIND_ORDER = (
    "setting",
    "code",
    "package",
    "python",
    "persona-field",
    "persona",
    "unit",
    "service",
    "env-file",
    "host",
)


def diff(before: Fingerprint, after: Fingerprint) -> list[tuple[str, str | None, str | None]]:
    """(key, before, after) for each key whose value differs."""
    keys = sorted(set(before) | set(after))
    return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]


def read_by(
    entry_key: str, inputs: Iterable[str], bot_dir: Path, touched: Iterable[str] = ()
) -> bool:
    """Whether a check with these recorded inputs read the fact behind ``entry_key``.

    ``touched``: for a new commit, the files it changed (relative to ``bot_dir``)."""
    tokens = set(inputs)
    scope, name = split(entry_key)
    if scope == "setting":
        return f"setting:{name}" in tokens
    if scope == "host:disk":
        return "host:disk" in tokens or "fixture:disks" in tokens
    if scope == "host:memory":
        return "host:memory" in tokens
    if scope == "host":  # the kernel, the suite's Python, its version: no check reads them
        return False
    readers = SCOPE_READERS.get(scope)
    if readers is not None:
        return any(r in tokens for r in readers)
    files = {t[5:] for t in tokens if t.startswith("file:")}
    if scope == "code" and name == "commit":  # a file the commit changed
        return any(os.path.join(str(bot_dir), rel) in files for rel in touched)
    if scope == "unit":  # the unit file, or the unit a drop-in belongs to
        unit_file = name.rsplit(":", 1)[0]
        owner = os.path.dirname(unit_file)
        return (
            "fixture:systemd_units" in tokens  # the units as the run parsed them
            or unit_file in files
            or (owner.endswith(".d") and owner[:-2] in files)
        )
    rel = name
    if scope == "code":
        rel = name.split(":", 1)[1] if ":" in name else name
    elif scope == "persona-field":
        rel = name.rsplit("#", 1)[0]
    path = rel if os.path.isabs(rel) else os.path.join(str(bot_dir), rel)
    if path in files:
        return True
    if scope in ("persona", "persona-field"):  # a listing of the directory read it (a removed card)
        parent = os.path.dirname(path)
        return any(os.path.dirname(f) == parent for f in files)
    return False


def entries(
    changes: list[tuple[str, str | None, str | None]],
    inputs: Iterable[str] | None,
    bot_dir: Path,
    when: dict[str, str | None] | None = None,
    touched: dict[str, list[str]] | None = None,
) -> list[dict[str, Any]]:
    """The report's change entries, most likely first: read by the check, then newest.

    A persona file added or removed stands for its fields (they are not listed apart)."""
    tokens = set(inputs or ())
    whole = {
        split(k)[1]
        for k, before, after in changes
        if k.startswith("persona|") and not (before and after)
    }
    out = []
    for entry_key, before, after in changes:
        if (
            entry_key.startswith("persona-field|")
            and split(entry_key)[1].rsplit("#", 1)[0] in whole
        ):
            continue
        entry = change_entry(entry_key, before, after)
        files = (touched or {}).get(entry_key, [])
        if files:
            entry["files"] = files
        entry["read_by_check"] = inputs is not None and read_by(entry_key, tokens, bot_dir, files)
        if when and when.get(entry_key):
            entry["changed"] = when[entry_key]
        out.append(entry)
    rank = {kind: n for n, kind in enumerate(KIND_ORDER)}
    out.sort(key=lambda e: rank.get(e["kind"], len(rank)))
    out.sort(key=lambda e: e.get("changed") or "", reverse=True)
    out.sort(key=lambda e: not e["read_by_check"])
    return out


def change_entry(entry_key: str, before: str | None, after: str | None) -> dict[str, Any]:
    scope, name = split(entry_key)
    entry: dict[str, Any] = {"kind": kind_of(entry_key), "name": name}
    if ":" in scope:
        entry["source"] = scope.split(":", 1)[1]
    if is_secret_value(before) or is_secret_value(after):
        if before is not None and after is not None:
            entry["after"] = "(changed)"
        elif after is not None:
            entry["after"] = "(set)"
        else:
            entry["before"] = "(set)"
        entry["secret"] = True
        return entry
    if before is not None:
        entry["before"] = before
    if after is not None:
        entry["after"] = after
    return entry


def describe(entry: dict[str, Any]) -> str:
    """One line: ``OLLAMA_MODEL changed llama3.1 -> llama3.2 (.env, changed <time>)``."""
    kind, name = entry["kind"], entry["name"]
    label = {
        "setting": name,
        "package": f"package {name}",
        "python": "the bot's Python",
        "code": "commit" if name == "commit" else _code_label(name),
        "persona": f"persona file {name}",
        "persona-field": f"persona field {name}",
        "unit": f"unit key {name}",
        "service": f"{entry.get('source', 'service')} {name}",
        "env-file": f"settings file {name}",
        "host": f"host {entry.get('source', '')} {name}".replace("  ", " "),
    }.get(kind, f"{kind} {name}")
    before, after = entry.get("before"), entry.get("after")
    if entry.get("secret"):
        text = {"(changed)": "changed", "(set)": "added"}.get(after or "", "removed")
        text = f"{label} {text} (secret, value not shown)"
    elif kind in ("persona", "persona-field", "env-file") or (kind == "code" and name != "commit"):
        text = f"{label} {'edited' if before and after else 'added' if after else 'removed'}"
    elif before is None:
        text = f"{label} added ({after})"
    elif after is None:
        text = f"{label} removed (was {before})"
    else:
        text = f"{label} changed {before} -> {after}"
    where = [entry["where"]] if entry.get("where") else []
    if entry.get("changed"):
        where.append(f"changed {entry['changed']}")
    return text + (f" ({', '.join(where)})" if where else "")


def _code_label(name: str) -> str:
    how, _, path = name.partition(":")
    return f"uncommitted change to {path}" if how == "dirty" else f"source file {path}"
