"""Shared helpers for the local-diagnostics tests: a healthy baseline deployment, a bot
virtual environment, and running chosen check files in a child process."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from acore_doctor.demo import HOST_THRESHOLDS_OFF, make_standin_tools
from tests.support.builder import DeploymentBuilder
from tests.support.runs import SuiteRun, clean_env, run_suite_process

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
RELAXED = HOST_THRESHOLDS_OFF
#: executables answering their version query, for PATH-based tool checks
make_tools = make_standin_tools


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


BOT_DB_TABLES = ("conversations", "user_profiles", "reminders", "notes")


def make_bot_db(path: Path, rows: int = 20000, journal: str = "delete") -> Path:
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA journal_mode={journal}")
    conn.executescript(
        "CREATE TABLE conversations(id INTEGER PRIMARY KEY, channel_id INTEGER, content TEXT);"
        "CREATE TABLE user_profiles(user_id INTEGER PRIMARY KEY, data TEXT);"
        "CREATE TABLE reminders(id INTEGER PRIMARY KEY, due TEXT, body TEXT);"
        "CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT);"
        "CREATE INDEX conv_channel ON conversations(channel_id);"
    )
    conn.executemany(
        "INSERT INTO conversations(channel_id, content) VALUES (?, ?)",
        [(i % 50, "message body " * 20) for i in range(rows)],
    )
    conn.commit()
    conn.close()
    return path
