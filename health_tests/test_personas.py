"""Persona cards and the framework, as the detected entrypoint's loader reads them (§3.2).

Which files each loader reads and which ids it builds are facts
(:mod:`acore_doctor.probes.personas`); :mod:`acore_doctor.rules.personas` judges them."""

import pytest

from acore_doctor import check
from acore_doctor.deployment import Deployment
from acore_doctor.probes.entrypoint import Entrypoint
from acore_doctor.probes.personas import Catalog, PersonaLoad, read_framework
from acore_doctor.rules import personas as rules

GUIDE = "guides/deployment_issues.md"
MAX_LISTED = rules.MAX_LISTED


@pytest.mark.critical
@check(
    "At least one persona card loads",
    "Put Character Card V2 files (*.json) in CHARACTERS_DIR (default prompts/characters), "
    "or point CHARACTERS_DIR at the directory that has them; on the legacy main.py path the "
    "router loads only the files named in ACTIVE_PERSONAS (config/persona.py) plus CHARACTER.",
    guide=f"{GUIDE}#persona-catalog-broken",
)
def test_characters_dir_loadable(
    persona_catalog: Catalog, persona_load: PersonaLoad, record_details
) -> None:
    assert persona_catalog.exists, (
        f"expected CHARACTERS_DIR {persona_catalog.directory} to be a directory, found none"
    )
    assert persona_catalog.error is None, (
        f"expected to list {persona_catalog.directory}, found: {persona_catalog.error}"
    )
    record_details(rules.load_summary(persona_catalog, persona_load))
    problems = rules.nothing_loads(persona_catalog, persona_load)
    assert not problems, "; ".join(problems)


@pytest.mark.warning
@check(
    "Every persona file is a valid card",
    "Fix or remove each listed file: the runtime loader skips a bad card silently, and the "
    "legacy loader only reads V2 cards with a name and a description or system prompt.",
    guide=f"{GUIDE}#persona-file-invalid",
)
def test_persona_files_valid(persona_catalog: Catalog, persona_load: PersonaLoad) -> None:
    if not persona_catalog.exists or persona_catalog.error:
        pytest.skip("not applicable: no readable CHARACTERS_DIR (see the critical check)")
    bad = rules.invalid_cards(persona_catalog, persona_load)
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
def test_persona_ids_unique(persona_load: PersonaLoad) -> None:
    if persona_load.loader == "legacy":
        pytest.skip(
            "not applicable: the legacy loader keys personas by file stem, and reads a .png "
            "only when no .json has its stem"
        )
    dupes = rules.duplicate_ids(persona_load)
    assert not dupes, "expected one card per persona id, found: " + "; ".join(dupes)


@pytest.mark.warning
@check(
    "Persona extensions use values the bot accepts",
    "Use lowercase [a-z0-9_] rag_categories and a default_mode of default, creative, logic, "
    "analytical, reflective or focused.",
    guide=f"{GUIDE}#persona-file-invalid",
)
def test_persona_extensions(persona_catalog: Catalog) -> None:
    bad = [
        f"{card.path.name}: {'; '.join(problems)}"
        for card in persona_catalog.cards
        if (problems := rules.extension_problems(card))
    ]
    assert not bad, "expected valid extensions, found: " + " | ".join(bad[:MAX_LISTED])


@pytest.mark.critical
@check(
    "CHARACTER names a persona that loads",
    "Set CHARACTER to a card's file stem in prompts/characters (legacy main.py) or to its "
    "persona id, the card's data.id or name in lower case with '_' for spaces (launcher.py).",
    guide=f"{GUIDE}#character-not-found",
)
def test_character_resolves(deployment: Deployment, persona_load: PersonaLoad) -> None:
    if persona_load.loader == "legacy" and not deployment.settings.get("USE_PERSONA_SYSTEM"):
        pytest.skip(
            "not applicable: USE_PERSONA_SYSTEM=false, the legacy bot compiles no CHARACTER"
        )
    problems = rules.character_unresolved(persona_load)
    assert not problems, "; ".join(problems)


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
