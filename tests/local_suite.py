"""Shared helpers for the local-diagnostics tests: a healthy baseline deployment, a bot
virtual environment, and running chosen check files in a child process."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from tests.builder import DeploymentBuilder
from tests.conftest import SuiteRun, clean_env, run_suite_process

LOCAL_CHECKS = (
    "health_tests/test_environment.py",
    "health_tests/test_config.py",
    "health_tests/test_system.py",
    "health_tests/test_files.py",
    "health_tests/test_resources.py",
    "health_tests/test_personas.py",
    "health_tests/test_data.py",
    "health_tests/test_databases.py",
)
#: thresholds no host fails, for runs that are not about resources
RELAXED = (
    "--disk-critical-free-gib=0",
    "--disk-critical-percent=100",
    "--disk-warning-percent=100",
    "--memory-warning-percent=100",
    "--cpu-warning-percent=100",
)


def make_tools(directory: Path, names: tuple[str, ...]) -> Path:
    """Executables answering their version query, for PATH-based tool checks."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        tool = directory / name
        tool.write_text(f"#!/bin/sh\necho '{name} version 1.0-test'\n")
        tool.chmod(0o755)
    return directory


def make_healthy(bot: DeploymentBuilder) -> DeploymentBuilder:
    """Remove the demo's planted faults in the local area."""
    bot.set_env(
        CHAT_HISTORY_MAX_MESSAGES="20",
        USE_STREAMING_FOR_LONG_RESPONSES="true",
        ANALYTICS_API_KEY=None,
    )
    bot.remove("data/chat_history/1431878519016915045.json")
    bot.remove("data/rl/rl_policies.json.tmp")
    card = bot.root / "prompts/characters/gothmommy.json"
    card.write_text(card.read_text().replace('"Dark Poetry"', '"dark_poetry"'))
    make_conversations_db(bot.root / "data" / "conversations.db")
    return bot


def make_conversations_db(path: Path, rows: int = 50) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE messages(id INTEGER PRIMARY KEY AUTOINCREMENT, channel_id INTEGER NOT NULL,"
        " role TEXT NOT NULL, content TEXT NOT NULL, username TEXT, user_id INTEGER,"
        " timestamp DATETIME DEFAULT CURRENT_TIMESTAMP);"
        "CREATE TABLE rewards(message_id INTEGER PRIMARY KEY REFERENCES messages(id),"
        " quality_score REAL DEFAULT 0.5, reward REAL DEFAULT 0.0, action_taken INTEGER DEFAULT 0);"
    )
    conn.executemany(
        "INSERT INTO messages(channel_id, role, content) VALUES (?, ?, ?)",
        [(1431878519016915044, "user", f"message {i} " + "x" * 200) for i in range(rows)],
    )
    conn.commit()
    conn.close()
    return path


def run_checks(
    bot_dir: Path,
    report_dir: Path,
    *args: str,
    files: tuple[str, ...] = LOCAL_CHECKS,
    env: dict[str, str] | None = None,
    timeout: float = 180,
) -> SuiteRun:
    return run_suite_process(bot_dir, report_dir, *args, *files, env=env, timeout=timeout)


def env_with_path(*dirs: Path) -> dict[str, str]:
    return clean_env(PATH=os.pathsep.join(str(d) for d in dirs))
