"""What changed: the fingerprint's parts, its compact history, attribution, input recording."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from types import SimpleNamespace

from acore_doctor.changes import attribute, store
from acore_doctor.changes import fingerprint as fp
from acore_doctor.changes.inputs import Recording, note_file, note_setting
from acore_doctor.changes.report import finding_summary
from acore_doctor.redact import Redactor
from acore_doctor.saferead import read_bounded
from acore_doctor.settings import load_settings

HASHER = fp.Hasher(b"k" * 32)
BOT = Path("/srv/acore_bot")


# -- inputs ---------------------------------------------------------------------------------
def test_reads_are_recorded_inside_a_recording_and_handed_to_the_enclosing_one(tmp_path):
    card = tmp_path / "card.json"
    card.write_text("{}")
    env = tmp_path / ".env"
    env.write_text("OLLAMA_MODEL=llama3.2\n")
    settings = load_settings(env, environ={})
    note_setting("OUTSIDE")  # no recording: nothing happens, nothing raised
    with Recording() as check:
        with Recording() as fixture:
            read_bounded(card, 100)
        settings.get("OLLAMA_MODEL")
    assert fixture == {f"file:{card}"}
    assert check == {f"file:{card}", "setting:OLLAMA_MODEL"}


def test_a_missing_file_is_an_input_too(tmp_path):
    with Recording() as seen:
        note_file(tmp_path / "gone.json")
    assert seen == {f"file:{tmp_path / 'gone.json'}"}


# -- the fingerprint ----------------------------------------------------------------------------
def test_settings_secrets_are_keyed_hashes_and_the_key_file_is_private(tmp_path):
    env = tmp_path / ".env"
    token = "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gabcde.secretpartsecretpartsecretpart12"
    env.write_text(
        f"DISCORD_TOKEN={token}\nOLLAMA_MODEL=llama3.2\n"
        "OLLAMA_HOST=http://user:hunter2pw@127.0.0.1:11434\n# a comment\n"
    )
    settings = load_settings(env, environ={})
    redact = Redactor([token, "hunter2pw"])
    key = fp.load_key(tmp_path / "reports")
    assert stat.S_IMODE((tmp_path / "reports" / fp.KEY_FILE).stat().st_mode) == 0o600
    assert fp.load_key(tmp_path / "reports") == key  # kept: equal values keep comparing equal
    part = fp.settings_part(settings, env, tmp_path, fp.Hasher(key), redact)
    assert part["setting|OLLAMA_MODEL"] == "llama3.2"
    assert fp.is_secret_value(part["setting|DISCORD_TOKEN"])
    assert fp.is_secret_value(part["setting|OLLAMA_HOST"])  # a URL with a password
    text = json.dumps(part)
    assert token not in text and "hunter2pw" not in text and "comment" not in text
    other = fp.settings_part(settings, env, tmp_path, fp.Hasher(b"o" * 32), redact)
    assert other["setting|DISCORD_TOKEN"] != part["setting|DISCORD_TOKEN"]  # per deployment


def test_unit_keys_and_drop_ins(tmp_path):
    unit = tmp_path / "bot.service"
    unit.write_text(
        "[Service]\nUser=bot\nEnvironment=DISCORD_TOKEN=abc.def.ghi\nExecStart=/x main.py\n"
    )
    (tmp_path / "bot.service.d").mkdir()
    (tmp_path / "bot.service.d" / "override.conf").write_text("[Service]\nNice=5\n")
    part = fp.unit_part([SimpleNamespace(path=unit)], HASHER, Redactor(["abc.def.ghi"]))
    assert part[f"unit|{unit}:Service.User"] == "bot"
    assert fp.is_secret_value(part[f"unit|{unit}:Service.Environment"])
    assert part[f"unit|{tmp_path}/bot.service.d/override.conf:Service.Nice"] == "5"


def test_persona_fields_are_names_with_keyed_hashes(tmp_path):
    card_path = tmp_path / "prompts" / "characters" / "hal.json"
    card_path.parent.mkdir(parents=True)
    raw = {"spec": "chara_card_v2", "data": {"name": "HAL 9000", "description": "I am sorry"}}
    card_path.write_text(json.dumps(raw))
    catalog = SimpleNamespace(cards=[SimpleNamespace(path=card_path, raw=raw)])
    cache = fp.HashCache(tmp_path / "reports")
    part = fp.persona_part(tmp_path, [tmp_path / "prompts"], catalog, HASHER, cache)
    assert set(part) == {
        "persona|prompts/characters/hal.json",
        "persona-field|prompts/characters/hal.json#name",
        "persona-field|prompts/characters/hal.json#description",
    }
    assert "HAL" not in json.dumps(part) and "sorry" not in json.dumps(part)
    cache.save()
    # Cached by size and mtime: an unchanged file is not read again (same size and mtime,
    # other bytes: the cached hash comes back, so the file was not read).
    st = card_path.stat()
    card_path.write_bytes(card_path.read_bytes().replace(b"HAL", b"XYZ"))
    os.utime(card_path, ns=(st.st_atime_ns, st.st_mtime_ns))
    again = fp.HashCache(tmp_path / "reports")
    assert again.file_hash(card_path, HASHER) == part["persona|prompts/characters/hal.json"]
    assert (
        fp.HashCache(None).file_hash(card_path, HASHER)
        != part["persona|prompts/characters/hal.json"]
    )


def test_services_from_probe_answers_only():
    ok = SimpleNamespace
    results = {
        "ollama.version": ok(ok=True, data={"version": "0.9.0"}),
        "ollama.tags": ok(
            ok=True, data={"models": [{"name": "llama3.2:latest", "digest": "ab" * 32}]}
        ),
        "discord": ok(application=ok(ok=True, data={"flags": (1 << 13) | (1 << 19) | (1 << 23)})),
        "kokoro.health": ok(ok=False, data=None),
    }
    settings = SimpleNamespace(known={}, raw=lambda k: None)
    parts = fp.services_part(results, settings)
    assert parts["service:ollama"] == {"service:ollama|version": "0.9.0"}
    assert parts["service:ollama-models"] == {"service:ollama-models|llama3.2:latest": "ab" * 6}
    assert parts["service:discord"] == {
        "service:discord|privileged intents": "presence (limited), message_content (limited)"
    }
    assert "service:kokoro" not in parts  # no answer: nothing said about it


def test_disk_bands_and_thresholds():
    disk = SimpleNamespace(error=None, used_percent=42.0, free=100 * 2**30, mount="/")
    thresholds = SimpleNamespace(
        disk_critical_free_gib=1.0, disk_critical_percent=40.0, disk_warning_percent=30.0
    )
    assert fp.disk_part([disk]) == {"host:disk|/": "0-50 % used"}
    assert fp.disk_part([disk], thresholds)["host:disk|/"].endswith("past the critical threshold")
    assert fp.band(42.0) == fp.band(49.9)  # noise within a band is no change


# -- history ------------------------------------------------------------------------------------
def test_history_keeps_deltas_and_subset_runs_keep_what_they_did_not_see(tmp_path):
    first = {"setting|A": "1", "package|x": "1.0", "host|kernel": "6"}
    store.record(tmp_path, "2026-01-01T00:00:00", first, {"setting", "package", "host"}, 100)
    # A subset run saw settings only: the package is not "removed".
    store.record(tmp_path, "2026-01-01T00:01:00", {"setting|A": "2"}, {"setting"}, 100)
    _, size = store.record(
        tmp_path, "2026-01-01T00:02:00", {"setting|A": "2"}, {"setting", "package"}, 100
    )
    lines = [json.loads(x) for x in (tmp_path / store.FINGERPRINTS_FILE).read_text().splitlines()]
    assert lines[0]["base"] is True and lines[1] == {
        "t": "2026-01-01T00:01:00",
        "set": {"setting|A": "2"},
    }
    assert lines[2] == {"t": "2026-01-01T00:02:00", "del": ["package|x"]}
    assert size < 80
    history = store.History.read(tmp_path)
    assert history.at("2026-01-01T00:00:30") == first
    assert history.at("2026-01-01T00:01:00") == {**first, "setting|A": "2"}
    assert history.first_seen("2026-01-01T00:00:00", "setting|A") == "2026-01-01T00:01:00"


def test_history_is_cut_to_the_kept_runs_with_a_new_base(tmp_path):
    for n in range(30):
        store.record(tmp_path, f"2026-01-01T00:{n:02d}:00", {"setting|A": str(n)}, {"setting"}, 10)
    history = store.History.read(tmp_path)
    assert 10 <= len(history.runs) <= 11
    assert history.lines[0]["base"] is True
    assert history.latest == {"setting|A": "29"}
    assert history.at(history.runs[0]) == {"setting|A": history.runs[0][14:16].lstrip("0") or "0"}


# -- attribution --------------------------------------------------------------------------------
def test_a_change_the_check_read_comes_first_even_when_older():
    changes = [
        ("setting|OLLAMA_MODEL", "llama3.1", "llama3.2"),
        ("setting|LOG_LEVEL", "INFO", "WARNING"),
        ("host|kernel", "6.1", "6.2"),
    ]
    when = {
        "setting|OLLAMA_MODEL": "2026-01-01T00:00:00",
        "setting|LOG_LEVEL": "2026-01-02T00:00:00",
        "host|kernel": "2026-01-03T00:00:00",
    }
    entries = attribute.entries(changes, {"setting:OLLAMA_MODEL"}, BOT, when)
    assert [e["name"] for e in entries] == ["OLLAMA_MODEL", "kernel", "LOG_LEVEL"]
    assert [e["read_by_check"] for e in entries] == [True, False, False]
    finding = {"title": "The Ollama model is pulled", "last_passed": "2026-01-01"}
    entries[0]["where"] = ".env"
    line = finding_summary({**finding, "changes_since_pass": entries})
    assert line == (
        "NEW since 2026-01-01: The Ollama model is pulled - likely cause: OLLAMA_MODEL changed "
        "llama3.1 -> llama3.2 (.env, changed 2026-01-01T00:00:00)"
    )
    # Nothing it read changed: other changes are listed, none is called a likely cause.
    unrelated = attribute.entries(changes[1:], {"setting:OLLAMA_MODEL"}, BOT, when)
    assert "likely cause" not in finding_summary({**finding, "changes_since_pass": unrelated})


def test_secrets_show_as_changed_only():
    entry = attribute.change_entry("setting|DISCORD_TOKEN", "hmac:aaaa", "hmac:bbbb")
    assert entry == {
        "kind": "setting",
        "name": "DISCORD_TOKEN",
        "after": "(changed)",
        "secret": True,
    }
    assert attribute.describe(entry) == "DISCORD_TOKEN changed (secret, value not shown)"
    removed = attribute.change_entry("setting|DISCORD_TOKEN", "hmac:aaaa", None)
    assert "hmac" not in json.dumps(removed)


def test_which_inputs_cover_which_changes():
    files = {f"file:{BOT}/prompts/characters/hal.json"}
    assert attribute.read_by("persona|prompts/characters/hal.json", files, BOT)
    # a card removed from the directory the check listed
    assert attribute.read_by("persona|prompts/characters/gone.json", files, BOT)
    assert not attribute.read_by("persona|prompts/frameworks/neuro.json", files, BOT)
    assert attribute.read_by("package|aiohttp", {"fixture:bot_python"}, BOT)
    assert attribute.read_by("service:ollama-models|llama3.2", {"fixture:ollama_tags"}, BOT)
    assert not attribute.read_by("service:ollama-models|llama3.2", {"fixture:discord_api"}, BOT)
    assert attribute.read_by(
        "unit|/etc/x.service.d/o.conf:Service.User", {"file:/etc/x.service"}, BOT
    )
    commit = "code|commit"
    assert attribute.read_by(commit, files, BOT, ["prompts/characters/hal.json"])
    assert not attribute.read_by(commit, files, BOT, ["main.py"])
    assert not attribute.read_by("host|kernel", {"fixture:disks", "host:disk"}, BOT)
    assert attribute.read_by("host:disk|/", {"fixture:disks"}, BOT)


def test_a_removed_card_stands_for_its_fields():
    changes = [
        ("persona-field|p/c/a.json#name", "h1", None),
        ("persona|p/c/a.json", "h2", None),
        ("persona-field|p/c/b.json#name", "h3", "h4"),
    ]
    names = [e["name"] for e in attribute.entries(changes, set(), BOT)]
    assert names == ["p/c/b.json#name", "p/c/a.json"]


def test_html_shows_the_changes_under_a_new_finding_escaped():
    from acore_doctor.report.html import finding_html

    finding = {
        "check": "health_tests/test_llm.py::test_model_pulled",
        "title": "The Ollama model is pulled",
        "severity": "critical",
        "message": "expected llama3.1",
        "last_passed": "2026-01-01T00:00:00",
        "changes_since_pass": attribute.entries(
            [("setting|OLLAMA_MODEL", "llama3.2", "<llama3.1>"), ("host|kernel", "6.1", "6.2")],
            {"setting:OLLAMA_MODEL"},
            BOT,
        ),
    }
    html = finding_html(finding)
    assert "likely cause: OLLAMA_MODEL changed llama3.2 -&gt; &lt;llama3.1&gt;" in html
    assert '<li class="change-other">host kernel changed 6.1 -&gt; 6.2</li>' in html
    del finding["changes_since_pass"]
    assert "changes-since-pass" not in finding_html(finding)
