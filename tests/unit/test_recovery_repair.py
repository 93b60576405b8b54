"""acore-doctor repair on broken throw-away deployments: every record ends up back in place
or in quarantine, originals preserved, the audit log complete — also after a kill."""

from __future__ import annotations

import json

import pytest

from acore_doctor.deployment import load_deployment
from acore_doctor.probes.state_files import parse_state, state_kinds
from acore_doctor.recovery.backup import create_backup
from acore_doctor.recovery.common import read_jsonl
from acore_doctor.recovery.repair import (
    apply_repair,
    empty_document,
    json_state_ok,
    kind_of,
    plan_repair,
)
from tests.support.builder import DeploymentBuilder
from tests.support.recovery import audit_is_complete, config_of, healthy, quarantined, sha

CHAT = "data/chat_history/1431878519016915044.json"
QUIET = {"say": lambda _line: None}


@pytest.fixture
def bot(bot: DeploymentBuilder) -> DeploymentBuilder:
    return healthy(bot)


def test_corrupt_json_comes_back_from_the_newest_valid_backup(bot: DeploymentBuilder) -> None:
    config = config_of(bot.root)
    good = (bot.root / CHAT).read_bytes()
    create_backup(config)
    bot.write(CHAT, '[{"role": "user", "content": "bro')  # then a backup of the damage
    create_backup(config)
    damaged = (bot.root / CHAT).read_bytes()

    actions = plan_repair(load_deployment(bot.root))
    assert [a.kind for a in actions] == ["restore-json"]
    report = apply_repair(load_deployment(bot.root), **QUIET)

    assert (bot.root / CHAT).read_bytes() == good
    assert sha(damaged) in quarantined(bot.root)
    records = read_jsonl(config.audit_log)
    audit_is_complete(records)
    done = [r for r in records if r.get("outcome") == "done" and r["tool"] == "repair"]
    assert done[0]["before_sha256"] == sha(damaged) and done[0]["after_sha256"] == sha(good)
    assert report.quarantine and report.quarantine.is_dir()
    assert plan_repair(load_deployment(bot.root)) == []


def test_corrupt_json_without_backup_is_quarantined_and_replaced_empty(
    bot: DeploymentBuilder,
) -> None:
    broken = {
        CHAT: b'[{"role": "user"',
        "data/rl/rl_policies.json": b"\x00\x00\x00",
        "data/user_profiles/dagoth_ur/user_2233445566778899001.json": b"",
        "data/gestalt_memory/dagoth_ur/123.json": b'{"short_term": [',
    }
    for path, data in broken.items():
        bot.write(path, data)
    deployment = load_deployment(bot.root)
    apply_repair(deployment, **QUIET)
    kinds = state_kinds(deployment, None)
    for path, data in broken.items():
        file = bot.root / path
        kind = kind_of(file, kinds)
        assert kind is not None, path
        parsed, error = parse_state(file.read_bytes(), kind.suffix)
        assert error is None and kind.shape(parsed) is None, f"{path}: {error}"
        assert json_state_ok(file.read_bytes(), kind)
        assert sha(data) in quarantined(bot.root), f"{path}: original not in quarantine"
    profile = json.loads((bot.root / list(broken)[2]).read_text())
    assert profile["user_id"] == 2233445566778899001
    assert empty_document(bot.root / CHAT, kind_of(bot.root / CHAT, kinds)) == []
    audit_is_complete(read_jsonl(config_of(bot.root).audit_log))


def test_stray_tmp_quarantined_and_missing_dirs_created(bot: DeploymentBuilder) -> None:
    half = b'{"version": 1, "agents": {"1:2": {"q": [1.0'
    bot.write("data/rl/rl_policies.json.tmp", half)
    bot.remove("data/temp")
    bot.remove("data/chat_history")
    apply_repair(load_deployment(bot.root), **QUIET)
    assert not (bot.root / "data/rl/rl_policies.json.tmp").exists()
    kept = [p for p in (bot.root / "data/.quarantine").rglob("*.tmp.quarantined")]
    assert len(kept) == 1 and kept[0].read_bytes() == half
    assert (bot.root / "data/temp").is_dir() and (bot.root / "data/chat_history").is_dir()
    assert plan_repair(load_deployment(bot.root)) == []
