"""Persona cards and the framework, read as the detected entrypoint reads them (§3.2)."""

import pytest

from acore_doctor import check
from acore_doctor.deployment import Deployment
from acore_doctor.probes.entrypoint import Entrypoint
from acore_doctor.probes.personas import Catalog, read_framework

GUIDE = "guides/deployment_issues.md"
MAX_LISTED = 20


def _name(catalog: Catalog, path) -> str:
    return path.name if path.parent == catalog.directory else str(path)


@pytest.mark.critical
@check(
    "At least one persona card loads",
    "Put Character Card V2 files (*.json) in CHARACTERS_DIR (default prompts/characters), "
    "or point CHARACTERS_DIR at the directory that has them.",
    guide=f"{GUIDE}#persona-catalog-broken",
)
def test_characters_dir_loadable(
    persona_catalog: Catalog, entrypoint: Entrypoint, record_property
) -> None:
    assert persona_catalog.exists, (
        f"expected CHARACTERS_DIR {persona_catalog.directory} to be a directory, found none"
    )
    assert persona_catalog.error is None, (
        f"expected to list {persona_catalog.directory}, found: {persona_catalog.error}"
    )
    loadable = [c for c in persona_catalog.cards if c.loadable(entrypoint.kind)]
    record_property(
        "details",
        f"{len(loadable)} of {len(persona_catalog.cards)} cards load: "
        + ", ".join(c.path.name for c in loadable[:MAX_LISTED]),
    )
    assert loadable, (
        f"expected a card the {entrypoint.kind} bot can load in {persona_catalog.directory}, "
        f"found {len(persona_catalog.cards)} file(s), none loadable"
    )


@pytest.mark.warning
@check(
    "Every persona file is a valid card",
    "Fix or remove each listed file: the runtime loader skips a bad card silently, and the "
    "legacy loader only reads V2 cards with a name and a description or system prompt.",
    guide=f"{GUIDE}#persona-file-invalid",
)
def test_persona_files_valid(persona_catalog: Catalog, entrypoint: Entrypoint) -> None:
    if not persona_catalog.exists or persona_catalog.error:
        pytest.skip("not applicable: no readable CHARACTERS_DIR (see the critical check)")
    bad = []
    for card in persona_catalog.cards:
        problems = [card.error] if card.error else list(card.problems)
        if entrypoint.kind == "runtime":
            problems = [p for p in problems if not p.startswith("not a Character Card V2")]
        if problems:
            bad.append(f"{_name(persona_catalog, card.path)}: {'; '.join(problems)}")
    assert not bad, f"expected every card to load, found {len(bad)} bad: " + " | ".join(
        bad[:MAX_LISTED]
    )


@pytest.mark.warning
@check(
    "Persona ids are unique",
    "Give each card a distinct name (or data.id): with two cards on one id the runtime keeps "
    "whichever it reads last.",
    guide=f"{GUIDE}#persona-file-invalid",
)
def test_persona_ids_unique(persona_catalog: Catalog, entrypoint: Entrypoint) -> None:
    ids = persona_catalog.ids(entrypoint.kind)
    dupes = {k: v for k, v in ids.items() if len(v) > 1}
    assert not dupes, "expected one card per persona id, found: " + "; ".join(
        f"{k}: {', '.join(p.name for p in v)}" for k, v in dupes.items()
    )


@pytest.mark.warning
@check(
    "Persona extensions use values the bot accepts",
    "Use lowercase [a-z0-9_] rag_categories and a default_mode of default, creative, logic, "
    "analytical, reflective or focused.",
    guide=f"{GUIDE}#persona-file-invalid",
)
def test_persona_extensions(persona_catalog: Catalog) -> None:
    bad = [
        f"{_name(persona_catalog, c.path)}: {'; '.join(c.extension_problems)}"
        for c in persona_catalog.cards
        if c.extension_problems
    ]
    assert not bad, "expected valid extensions, found: " + " | ".join(bad[:MAX_LISTED])


@pytest.mark.critical
@check(
    "CHARACTER names a persona that loads",
    "Set CHARACTER to a card's file stem (legacy main.py) or to its persona id, the card's "
    "name in lower case with '_' for spaces (launcher.py).",
    guide=f"{GUIDE}#character-not-found",
)
def test_character_resolves(
    deployment: Deployment, persona_catalog: Catalog, entrypoint: Entrypoint
) -> None:
    character = deployment.settings.get("CHARACTER").strip()
    ids = persona_catalog.ids(entrypoint.kind)
    how = "persona id" if entrypoint.kind == "runtime" else "file stem"
    assert character in ids, (
        f"expected CHARACTER={character!r} to match a loadable card's {how} in "
        f"{persona_catalog.directory}, found only: {', '.join(sorted(ids)[:MAX_LISTED]) or 'none'}"
    )


@pytest.mark.critical
@check(
    "FRAMEWORK file exists with its required keys",
    "Set FRAMEWORK to a file in prompts/frameworks/ (assistant, caring, chaotic, neuro) or add "
    "the missing keys: the legacy loader indexes each one and fails without it.",
    guide=f"{GUIDE}#framework-file-broken",
)
def test_framework_file(deployment: Deployment, entrypoint: Entrypoint) -> None:
    if entrypoint.kind == "runtime":
        pytest.skip("not applicable: frameworks are read by the legacy main.py path")
    settings = deployment.settings
    name = settings.get("FRAMEWORK").strip()
    chars = deployment.path(settings.get("CHARACTERS_DIR"))
    framework = read_framework(chars.parent / "frameworks" / f"{name}.json")
    assert framework.error is None, f"expected FRAMEWORK {framework.path}, found: {framework.error}"
    assert not framework.missing_keys, (
        f"expected all required keys in {framework.path}, found it lacks "
        + ", ".join(framework.missing_keys)
    )
