"""Pass and fail sides of every local check, on real deployments, through the real suite.

Two module-scoped runs carry most assertions: a healthy deployment with a running bot in its
own virtual environment, and a broken one with one planted fault per check.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from acore_doctor.demo import make_bot_venv, start_standin_bot, stop_standin_bot
from tests.support.builder import DeploymentBuilder, png_with_card
from tests.support.local_suite import (
    RELAXED,
    env_with_path,
    make_healthy,
    make_tools,
    run_checks,
)
from tests.support.runs import SuiteRun

LOCAL_FILES = (
    "test_environment",
    "test_config",
    "test_system",
    "test_files",
    "test_resources",
    "test_personas",
    "test_data",
    "test_databases",
)


@pytest.fixture(scope="module")
def healthy(tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    root = tmp_path_factory.mktemp("healthy")
    bot = make_healthy(DeploymentBuilder(root / "acore_bot"))
    python = make_bot_venv(bot.root / ".venv")
    bot.set_env(DISCORD_VOICE_ENABLED="true", STT_ENGINE="parakeet", PARAKEET_ENABLED="true")
    tools = make_tools(root / "tools", ("ffmpeg", "ollama"))
    standin = start_standin_bot(bot.root, python=str(python))
    try:
        return run_checks(
            bot.root,
            root / "reports",
            *RELAXED,
            env=env_with_path(tools, Path("/usr/bin"), Path("/bin")),
        )
    finally:
        stop_standin_bot(standin)


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    root = tmp_path_factory.mktemp("broken")
    bot = DeploymentBuilder(root / "acore_bot")
    bot.set_env(
        KOBOLDCPP_STEPS="thirty",
        OLLAMA_TEMPERATURE="5",
        LOG_LEVEL="VERBOSE",
        BEHAVIOR_COOLDOWN_SECONDS="10",
        OLLAMA_MODLE="llama3.2",
        TTS_ENGINE="kokoro",
        LLM_PROVIDER="openrouter",
        OPENAI_API_KEY="your_api_key_here",  # not used with openrouter: info (severity.md)
        OPENROUTER_MODEL="your_model_here",  # required by LLM_PROVIDER=openrouter: critical
        DISCORD_VOICE_ENABLED="true",
        RVC_ENABLED="true",
        RVC_MODE="local",
        CHARACTER="nobody_here",
        FRAMEWORK="chaotic",
        AUTO_REPLY_CHANNELS="123,general",
    )
    bot.env_path.chmod(0o644)
    bot.remove("data/temp")
    bot.remove("logs")
    bot.write("logs", "not a directory\n")
    (bot.root / "prompts/default.txt").chmod(0o666)
    bot.write("prompts/characters/broken.json", '{"spec": "chara_card_v2", "data": {"name": ')
    bot.write_json(
        "prompts/characters/nameless.json",
        {"spec": "chara_card_v2", "data": {"name": "", "description": "x"}},
    )
    bot.write_json("prompts/characters/old_style.json", {"name": "Old", "system_prompt": "hi"})
    hal = json.loads((bot.root / "prompts/characters/hal_9000.json").read_text())
    bot.write("prompts/characters/hal_9000.png", png_with_card(hal))
    bot.write_json(
        "data/user_profiles/dagoth_ur/user_42.json", {"user_id": 42, "affection": {"level": 150}}
    )
    future = bot.root / "data/chat_history/1431878519016915044.json"
    os.utime(future, (time.time() + 86400, time.time() + 86400))
    bot.write("data/bot.db", b"this is not a database at all" * 100)
    import sqlite3

    conn = sqlite3.connect(bot.root / "data/conversations.db")
    conn.execute("CREATE TABLE foo(x)")
    conn.commit()
    conn.close()
    return run_checks(
        bot.root,
        root / "reports",
        f"--bot-python={os.path.realpath(os.sys.executable)}",
        "--disk-critical-free-gib=1000000",
        "--disk-warning-percent=0",
        "--memory-warning-percent=0",
        "--cpu-warning-percent=0",
        env=env_with_path(root / "empty-bin"),
    )


def local_findings(run: SuiteRun) -> list[dict]:
    return [c for c in run.report["checks"] if any(f in c["nodeid"] for f in LOCAL_FILES)]


def test_healthy_deployment_passes_every_local_check(healthy: SuiteRun) -> None:
    bad = [
        (c["nodeid"], c["outcome"], c["message"])
        for c in local_findings(healthy)
        if c["outcome"] not in ("passed", "skipped")
    ]
    assert not bad, bad
    assert healthy.code == 0, healthy.stdout[-3000:]


@pytest.mark.parametrize(
    "nodeid_part",
    [
        "test_entrypoint_detected",
        "test_python_version",
        "test_virtual_environment",
        "test_declared_dependencies_installed",
        "test_installed_packages_agree",
        "test_env_lines_parse",
        "test_required_settings",
        "test_no_placeholders",
        "test_values_bot_understands",
        "test_no_import_crash",
        "test_ranges",
        "test_no_dead_keys",
        "test_selectors_do_not_crash",
        "test_selectors_coherent",
        "test_env_file_private",
        "test_ffmpeg_for_voice",
        "test_sqlite3_cli",
        "test_ollama_cli",
        "test_bot_dirs_writable",
        "test_no_world_writable",
        "test_bot_process_running",
        "test_single_bot_process",
        "test_disk_not_full",
        "test_disk_headroom",
        "test_memory",
        "test_characters_dir_loadable",
        "test_persona_files_valid",
        "test_persona_extensions",
        "test_character_resolves",
        "test_framework_file",
        "test_state_files_parse",
        "test_state_files_shape",
        "test_no_stray_tmp",
        "test_no_future_mtimes",
        "test_databases_undamaged",
        "test_database_tables",
    ],
)
def test_healthy_side_passes(healthy: SuiteRun, nodeid_part: str) -> None:
    finding = healthy.finding(nodeid_part)
    assert finding["outcome"] == "passed", finding


def test_healthy_run_reports_facts_as_info(healthy: SuiteRun) -> None:
    details = {c["nodeid"].split("::")[-1]: c["details"] for c in healthy.report["checks"]}
    assert "from process" in details["test_entrypoint_detected"]
    assert ".venv/bin/python" in details["test_python_version"]
    assert (
        "declared in pyproject.toml: 7 requirements"
        in details["test_declared_dependencies_installed"]
    )
    assert "RSS" in details["test_bot_process_running"]
    assert "threads" in details["test_bot_process_running"]
    assert "ffmpeg version 1.0-standin" in details["test_ffmpeg_for_voice"]
    assert "conversations.db" in details["test_databases_undamaged"]


EXPECTED_FAILURES = {
    "test_virtual_environment": "expected a virtual environment",
    "test_declared_dependencies_installed": "discord.py[voice]>=2.3.2 (pyproject.toml): not installed",
    "test_required_settings": "LLM_PROVIDER=openrouter but OPENROUTER_API_KEY is not set",
    "test_no_placeholders": "OPENROUTER_MODEL holds a placeholder",
    "test_values_bot_understands": "AUTO_REPLY_CHANNELS: 'general' is not a number",
    "test_no_import_crash": "KOBOLDCPP_STEPS='thirty'",
    "test_ranges": "OLLAMA_TEMPERATURE=5 should be in [0, 2]",
    "test_no_dead_keys": "OLLAMA_MODLE: did you mean OLLAMA_MODEL?",
    "test_selectors_do_not_crash": "TTS_ENGINE=kokoro",
    "test_selectors_coherent": "RVC_MODE='local'",
    "test_env_file_private": "found 0644",
    "test_ffmpeg_for_voice": "ffmpeg: not found on PATH",
    "test_sqlite3_cli": "sqlite3: not found on PATH",
    # data/temp is missing too, but the bot creates it at start: not a finding (severity.md)
    "test_bot_dirs_writable": "logs is not a directory",
    "test_no_world_writable": "prompts/default.txt",
    "test_bot_process_running": "found none",
    "test_disk_not_full": "expected > 1e+06 GiB free",
    "test_disk_headroom": "expected <= 0 % used",
    "test_memory": "expected <= 0 % memory used",
    "test_persona_files_valid": "broken.json: invalid JSON",
    "test_character_resolves": "CHARACTER='nobody_here'",
    "test_framework_file": "chaotic.json, found: does not exist",
    "test_state_files_parse": "data/chat_history/1431878519016915045.json (chat history: invalid JSON",
    "test_state_files_shape": "affection.level 150",
    "test_no_stray_tmp": "data/rl/rl_policies.json.tmp",
    "test_no_future_mtimes": "1431878519016915044.json (24.0 h ahead)",
    "test_databases_undamaged": "bot.db (documented bot database): not a SQLite database",
    "test_database_tables": "lacks table(s) messages, rewards",
}


@pytest.mark.parametrize("nodeid_part", sorted(EXPECTED_FAILURES))
def test_broken_side_fails_with_the_right_message(broken: SuiteRun, nodeid_part: str) -> None:
    finding = broken.finding(nodeid_part)
    assert finding["outcome"] == "failed", finding
    assert EXPECTED_FAILURES[nodeid_part] in finding["message"], finding["message"]


def test_broken_run_lists_every_bad_persona_file(broken: SuiteRun) -> None:
    message = broken.finding("test_persona_files_valid")["message"]
    for name in ("broken.json", "nameless.json: empty or missing name", "old_style.json"):
        assert name in message
    # hal_9000.png beside hal_9000.json: the legacy loader reads only the .json, so the
    # pair is no duplicate and the .png is not judged as a file the bot reads.
    assert "hal_9000.png" not in message
    unique = broken.finding("test_persona_ids_unique")
    assert unique["outcome"] == "skipped" and "keys personas by file stem" in unique["message"]


def test_broken_run_is_critical_and_never_unknown(broken: SuiteRun) -> None:
    assert broken.code == 2, broken.stdout[-3000:]
    assert not [c for c in local_findings(broken) if c["outcome"] == "crashed"]


def test_logs_path_that_is_a_file_is_named(broken: SuiteRun) -> None:
    assert "logs is not a directory" in broken.finding("test_bot_dirs_writable")["message"]
