"""The two persona loaders modelled on real files: which files each reads, the ids it builds,
what it ignores, and the counts the checks print (reference §3.2)."""

from __future__ import annotations

import json
from pathlib import Path

from acore_doctor.probes.personas import (
    BUNDLED_ACTIVE_PERSONAS,
    legacy_active_personas,
    legacy_load,
    read_catalog,
    runtime_load,
)
from acore_doctor.rules import personas as rules
from tests.support.builder import png_with_card


def v2(name: str, **data: object) -> dict:
    return {"spec": "chara_card_v2", "data": {"name": name, "description": "x", **data}}


def deployment(tmp_path: Path) -> Path:
    """A bot checkout with its own config/persona.py and five card files."""
    bot = tmp_path / "bot"
    chars = bot / "prompts" / "characters"
    chars.mkdir(parents=True)
    (bot / "config").mkdir()
    (bot / "config" / "__init__.py").write_text("")
    (bot / "config" / "persona.py").write_text(
        "class PersonaConfig:\n"
        "    ACTIVE_PERSONAS: list = [\n"
        '        "dagoth_ur.json",\n        "gothmommy.json",\n        "old_style.json",\n'
        '        "gone.json",\n    ]\n'
    )
    (chars / "dagoth_ur.json").write_text(json.dumps(v2("Dagoth Ur")))
    (chars / "gothmommy.json").write_text(json.dumps(v2("Goth Mommy")))
    (chars / "gothmommy.png").write_bytes(png_with_card(v2("Goth Mommy")))
    (chars / "old_style.json").write_text(json.dumps({"name": "Old", "system_prompt": "hi"}))
    tai = v2("Tai", extensions={"mode_profiles": {"default_mode": "tai_anis"}})
    (chars / "tai.json").write_text(json.dumps(tai))
    return bot


def test_active_personas_come_from_the_bots_own_source(tmp_path: Path):
    bot = deployment(tmp_path)
    active = legacy_active_personas(bot)
    assert active.names == ("dagoth_ur.json", "gothmommy.json", "old_style.json", "gone.json")
    assert active.source == "config/persona.py"
    (bot / "config" / "persona.py").unlink()
    fallback = legacy_active_personas(bot)
    assert fallback.names == BUNDLED_ACTIVE_PERSONAS and "bundled" in fallback.source


def test_legacy_loader_reads_active_personas_plus_character(tmp_path: Path):
    bot = deployment(tmp_path)
    catalog = read_catalog(bot / "prompts" / "characters")
    load = legacy_load(catalog, legacy_active_personas(bot), "tai", True, bot)
    assert sorted(load.loaded) == ["dagoth_ur", "gothmommy"]
    assert load.character_card is not None and load.character_card.path.name == "tai.json"
    assert [(p.name, why) for p, why in load.failed] == [
        ("old_style.json", "not a Character Card V2 ('Legacy character format not supported')")
    ]
    assert load.missing == ["gone.json"]
    not_read = {p.name: why for p, why in load.not_read}
    assert not_read == {"gothmommy.png": "gothmommy.json is read instead"}
    assert load.duplicates == {}  # a .json and a .png of one stem: one file read
    summary = rules.load_summary(catalog, load)
    assert summary.startswith("3 of 5 persona files load on the legacy path")
    assert "gone.json" in summary and "Character file not found" in summary


def test_legacy_character_outside_active_personas_and_unknown(tmp_path: Path):
    bot = deployment(tmp_path)
    catalog = read_catalog(bot / "prompts" / "characters")
    load = legacy_load(catalog, legacy_active_personas(bot), "nobody", True, bot)
    assert load.character_card is None
    problem = rules.character_unresolved(load)[0]
    assert "CHARACTER='nobody'" in problem and "file stem" in problem
    not_read = {p.name for p, _ in load.not_read}
    assert "tai.json" in not_read  # neither in ACTIVE_PERSONAS nor CHARACTER


def test_runtime_loader_reads_every_json_and_no_png(tmp_path: Path):
    bot = deployment(tmp_path)
    chars = bot / "prompts" / "characters"
    (chars / "goth2.json").write_text(json.dumps(v2("Goth Mommy")))  # same id as gothmommy
    (chars / "broken.json").write_text("{")
    (chars / "no_name.json").write_text(json.dumps({"description": "only"}))
    catalog = read_catalog(chars)
    load = runtime_load(catalog, "Dagoth Ur")
    assert sorted(load.loaded) == ["dagoth_ur", "goth_mommy", "no_name", "old", "tai"]
    assert load.loaded["goth_mommy"].path.name == "gothmommy.json"  # sorted: the last wins
    assert load.duplicates == {"goth_mommy": [chars / "goth2.json", chars / "gothmommy.json"]}
    assert rules.duplicate_ids(load) == ["goth_mommy: goth2.json, gothmommy.json"]
    assert {p.name: why for p, why in load.not_read} == {
        "gothmommy.png": "the runtime loader reads only *.json"
    }
    assert [p.name for p, _ in load.failed] == ["broken.json"]
    assert load.character == "dagoth_ur" and load.character_card is not None
    summary = rules.load_summary(catalog, load)
    assert summary.startswith("5 of 8 persona files load on the runtime path")
    assert "overwritten by a later card with the same id: goth2.json (id goth_mommy)" in summary


def test_card_rules_per_loader(tmp_path: Path):
    bot = deployment(tmp_path)
    catalog = read_catalog(bot / "prompts" / "characters")
    legacy = legacy_load(catalog, legacy_active_personas(bot), "dagoth_ur", True, bot)
    runtime = runtime_load(catalog, "dagoth_ur")
    legacy_bad = " | ".join(rules.invalid_cards(catalog, legacy))
    assert "old_style.json: not a Character Card V2" in legacy_bad
    assert "gothmommy.png" not in legacy_bad
    assert "Character Card V2" not in " | ".join(rules.invalid_cards(catalog, runtime))
    tai = next(c for c in catalog.cards if c.path.name == "tai.json")
    assert "mode_profiles.default_mode 'tai_anis' is unknown" in rules.extension_problems(tai)[0]
    dagoth = next(c for c in catalog.cards if c.path.name == "dagoth_ur.json")
    assert rules.extension_problems(dagoth) == []
    assert rules.nothing_loads(catalog, legacy) == []
    empty = read_catalog(tmp_path / "nowhere")
    none = rules.nothing_loads(empty, runtime_load(empty, "x"))
    assert none and "0 of 0 persona files load" in none[0]
