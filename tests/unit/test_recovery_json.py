"""JSON repair keeps every complete entry before and after the damage, fills damaged places
from the backup by entry identity, never resurrects what was deleted, and says how many
entries may be lost."""

from __future__ import annotations

import json

import pytest

from acore_doctor.deployment import load_deployment
from acore_doctor.jsonstream import salvage_entries
from acore_doctor.recovery.backup import create_backup
from acore_doctor.recovery.jsonmerge import merge
from acore_doctor.recovery.repair import apply_repair
from tests.support.builder import DeploymentBuilder
from tests.support.recovery import config_of, healthy, quarantined, sha

CHAT = "data/chat_history/1431878519016915044.json"
PROFILE = "data/user_profiles/dagoth_ur/user_42.json"
RL = "data/rl/rl_policies.json"
QUIET = {"say": lambda _line: None}


@pytest.fixture
def bot(bot: DeploymentBuilder) -> DeploymentBuilder:
    return healthy(bot)


def messages(first: int, last: int) -> list[dict]:
    return [
        {"role": "user" if i % 2 else "assistant", "content": f"message {i}", "user_id": i % 3}
        for i in range(first, last)
    ]


def with_bad_byte(document: object, inside: str) -> bytes:
    """``document`` as the bot writes it, one byte inside ``inside`` replaced by 0xFF."""
    data = json.dumps(document, indent=2).encode()
    at = data.index(inside.encode())
    return data[:at] + b"\xff" + data[at + 1 :]


def test_one_bad_byte_in_thirty_messages_keeps_the_other_twenty_nine(
    bot: DeploymentBuilder,
) -> None:
    history = messages(0, 30)
    damaged = with_bad_byte(history, "message 15")
    bot.write(CHAT, damaged)
    report = apply_repair(load_deployment(bot.root), **QUIET)
    kept = json.loads((bot.root / CHAT).read_text())
    assert kept == history[:15] + history[16:]
    assert report.maybe_lost == 1 and report.incomplete, "one message may be lost: exit 1"
    assert sha(damaged) in quarantined(bot.root)


def test_damaged_places_come_from_the_backup_and_later_messages_are_kept(
    bot: DeploymentBuilder,
) -> None:
    config = config_of(bot.root)
    bot.write_json(CHAT, messages(0, 20))
    create_backup(config)
    history = messages(0, 30)  # ten messages written after the backup
    bot.write(CHAT, with_bad_byte(history, "message 5"))
    report = apply_repair(load_deployment(bot.root), **QUIET)
    assert json.loads((bot.root / CHAT).read_text()) == history
    assert report.maybe_lost == 0 and not report.incomplete and not report.failed
    done = [o for o in report.outcomes if o["outcome"] == "done"][0]
    assert done["restored_entries"] == 1 and done["kept_entries"] == 29


def test_messages_trimmed_since_the_backup_stay_trimmed(bot: DeploymentBuilder) -> None:
    config = config_of(bot.root)
    bot.write_json(CHAT, messages(0, 20))
    create_backup(config)
    history = messages(10, 30)  # the bot trimmed the oldest ten, wrote ten new ones
    bot.write(CHAT, with_bad_byte(history, "message 10"))  # the first entry is damaged
    report = apply_repair(load_deployment(bot.root), **QUIET)
    assert json.loads((bot.root / CHAT).read_text()) == history
    assert report.maybe_lost == 0


def test_a_cut_off_history_keeps_what_was_written_after_the_backup(
    bot: DeploymentBuilder,
) -> None:
    config = config_of(bot.root)
    bot.write_json(CHAT, messages(0, 20))
    create_backup(config)
    data = json.dumps(messages(0, 30)).encode()
    bot.write(CHAT, data[: data.index(b"message 29") + 3])  # killed mid-write
    report = apply_repair(load_deployment(bot.root), **QUIET)
    assert json.loads((bot.root / CHAT).read_text()) == messages(0, 29)
    assert report.maybe_lost == 1, "the message being written is lost, and said so"


def test_profile_facts_and_rl_agents_resync_inside_their_collections(
    bot: DeploymentBuilder,
) -> None:
    profile = {
        "user_id": 42,
        "username": "neo",
        "facts": [{"fact": f"likes {i}", "timestamp": f"2026-01-0{i}T00:00:00"} for i in range(6)],
        "affection": {"level": 50},
    }
    rl = {"version": 1, "agents": {f"{i}:{i * 7}": {"q": [i, i + 1]} for i in range(5)}}
    bot.write(PROFILE, with_bad_byte(profile, "likes 3"))
    bot.write(RL, with_bad_byte(rl, '"q": [\n        2'))
    report = apply_repair(load_deployment(bot.root), **QUIET)
    fixed = json.loads((bot.root / PROFILE).read_text())
    assert fixed == {**profile, "facts": profile["facts"][:3] + profile["facts"][4:]}
    agents = json.loads((bot.root / RL).read_text())["agents"]
    assert sorted(agents) == ["0:0", "1:7", "3:21", "4:28"]
    assert report.maybe_lost == 2


def test_resync_after_damage_keeps_later_entries_exactly() -> None:
    history = messages(0, 8)
    data = json.dumps(history).encode()
    cut = data.index(b"message 3")
    broken = data[:cut] + b'"\x00}}]]{{' + data[cut + 12 :]  # garbage with brackets
    entries = salvage_entries(broken)
    assert entries is not None
    result = merge(entries)
    kept = result.document
    assert kept[:3] == history[:3] and kept[-4:] == history[4:]
    assert all(item in history for item in kept), "nothing invented or altered"
    assert result.maybe_lost >= 1


def test_nothing_invented_from_a_damaged_member_of_a_profile() -> None:
    profile = {"user_id": 1, "affection": {"level": 50, "relationship_stage": "friend"}}
    entries = salvage_entries(with_bad_byte(profile, "friend"))
    assert entries is not None
    result = merge(entries)
    assert result.document == {"user_id": 1}, "a damaged member is dropped whole"
    assert result.maybe_lost == 1
    filled = merge(entries, profile)
    assert filled.document == profile and filled.maybe_lost == 1, "a backup copy may be older"
