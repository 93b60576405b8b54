"""Persona rules: pure functions from card and loader facts (:mod:`acore_doctor.probes.personas`)
to problems, used by ``health_tests/test_personas.py``."""

from __future__ import annotations

import re
from pathlib import Path

from acore_doctor.catalog import PERSONA_MODES
from acore_doctor.probes.personas import Card, Catalog, PersonaLoad

RAG_CATEGORY = re.compile(r"^[a-z0-9_]+$")
MAX_LISTED = 20


def card_problems(card: Card, loader: str) -> list[str]:
    """Why a card file is not a valid card for ``loader`` ("legacy" or "runtime")."""
    if card.error:
        return [card.error]
    problems = []
    body = card.body
    if loader == "legacy" and not card.is_v2:
        problems.append(
            "not a Character Card V2 (no 'spec' and 'data'): the legacy loader "
            "rejects it ('Legacy character format not supported')"
        )
    if not card.name:
        problems.append("empty or missing name")
    if not any(
        isinstance(body.get(k), str) and body.get(k).strip()
        for k in ("description", "personality", "system_prompt")
    ):
        problems.append("no description, personality or system_prompt")
    return problems


def judged_cards(catalog: Catalog, load: PersonaLoad) -> list[Card]:
    """The card files worth judging on this path: every file the loader could read (the
    runtime never reads a PNG; the legacy loader never reads a PNG shadowed by a .json).
    Files outside ACTIVE_PERSONAS are judged too: CHARACTER, /set_character and reloads
    read any stem."""
    skipped = {
        path
        for path, why in load.not_read
        if why.startswith("the runtime loader reads only") or why.endswith("is read instead")
    }
    return [c for c in catalog.cards if c.path not in skipped]


def extension_problems(card: Card) -> list[str]:
    """Extension values the bot drops or replaces silently (rag_categories, default_mode)."""
    if card.error:
        return []
    body = card.body
    problems = []
    extensions = body.get("extensions")
    extensions = extensions if isinstance(extensions, dict) else {}
    domain = extensions.get("knowledge_domain")
    categories = domain.get("rag_categories") if isinstance(domain, dict) else None
    if categories is not None:
        if not isinstance(categories, list):
            problems.append("rag_categories is not a list")
        else:
            bad = [c for c in categories if not (isinstance(c, str) and RAG_CATEGORY.match(c))]
            if bad:
                problems.append(f"rag_categories {bad[:5]!r} are dropped (must match [a-z0-9_]+)")
    modes = extensions.get("mode_profiles")
    for where, mode in (
        ("default_mode", body.get("default_mode")),
        (
            "mode_profiles.default_mode",
            modes.get("default_mode") if isinstance(modes, dict) else None,
        ),
    ):
        if mode is not None and str(mode).strip().lower() not in PERSONA_MODES:
            problems.append(
                f"{where} {mode!r} is unknown and silently becomes 'default' "
                f"(valid: {', '.join(sorted(PERSONA_MODES))})"
            )
    return problems


def _name(directory: Path, path: Path) -> str:
    return path.name if path.parent == directory else str(path)


def load_summary(catalog: Catalog, load: PersonaLoad) -> str:
    """'N of M persona files load on the <loader> path: ...' with what is not read and why."""
    loaded = load.loaded_files
    how = (
        f"ACTIVE_PERSONAS from {load.active_source} plus CHARACTER"
        if load.loader == "legacy"
        else "every *.json"
    )
    text = (
        f"{len(loaded)} of {len(catalog.cards)} persona files load on the {load.loader} path "
        f"(it reads {how}): " + ", ".join(_name(catalog.directory, p) for p in loaded[:MAX_LISTED])
    )
    if load.failed:
        text += "; fail: " + ", ".join(
            f"{_name(catalog.directory, p)} ({why})" for p, why in load.failed[:MAX_LISTED]
        )
    overwritten = [
        f"{_name(catalog.directory, path)} (id {key})"
        for key, paths in load.duplicates.items()
        for path in paths
        if path != load.loaded[key].path
    ]
    if overwritten:
        text += "; overwritten by a later card with the same id: " + ", ".join(overwritten)
    if load.not_read:
        text += "; not read: " + ", ".join(
            f"{_name(catalog.directory, p)} ({why})" for p, why in load.not_read[:MAX_LISTED]
        )
    if load.missing:
        text += (
            f"; {len(load.missing)} ACTIVE_PERSONAS file(s) absent (the bot logs 'Character "
            f"file not found' for each): " + ", ".join(load.missing[:MAX_LISTED])
        )
    return text


def nothing_loads(catalog: Catalog, load: PersonaLoad) -> list[str]:
    if load.loaded_files:
        return []
    return [
        f"expected a card the {load.loader} bot loads in {catalog.directory}, found "
        + load_summary(catalog, load)
    ]


def invalid_cards(catalog: Catalog, load: PersonaLoad) -> list[str]:
    return [
        f"{_name(catalog.directory, card.path)}: {'; '.join(problems)}"
        for card in judged_cards(catalog, load)
        if (problems := card_problems(card, load.loader))
    ]


def duplicate_ids(load: PersonaLoad) -> list[str]:
    """Ids more than one file gives to the same loader (only the runtime can: legacy ids are
    file stems, and a .png beside a .json of the same stem is never read)."""
    return [f"{k}: {', '.join(p.name for p in v)}" for k, v in load.duplicates.items()]


def character_unresolved(load: PersonaLoad) -> list[str]:
    if load.character_card is not None:
        return []
    how = "persona id" if load.loader == "runtime" else "file stem"
    known = sorted(load.loaded)
    return [
        f"expected CHARACTER={load.character!r} to match a loadable card's {how} in "
        f"{load.character_where}, found only: {', '.join(known[:MAX_LISTED]) or 'none'}"
    ]
