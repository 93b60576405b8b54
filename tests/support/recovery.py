"""Throw-away state for the recovery tests: databases, digests of a deployment's state."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

from acore_doctor.deployment import load_deployment
from acore_doctor.probes.databases import open_readonly
from acore_doctor.recovery.common import (
    RecoveryConfig,
    json_parses,
    recovery_config,
)
from tests.support.builder import DeploymentBuilder

CLI = [sys.executable, "-m", "acore_doctor.cli"]
#: The bot's own user in the owner tests (a numeric id: no account is needed).
BOT_UID, BOT_GID = 1234, 2345


def make_db(path: Path, rows: int = 2000, wal: bool = False) -> list[tuple]:
    """The offline-RL conversation store (deployment §3.1) with ``rows`` messages."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    if wal:
        conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(
        "CREATE TABLE messages(id INTEGER PRIMARY KEY AUTOINCREMENT, channel_id INTEGER NOT NULL,"
        " role TEXT NOT NULL, content TEXT NOT NULL, username TEXT, user_id INTEGER,"
        " timestamp DATETIME DEFAULT CURRENT_TIMESTAMP)"
    )
    conn.execute("CREATE INDEX idx_channel ON messages(channel_id)")
    conn.executemany(
        "INSERT INTO messages(channel_id, role, content, username, user_id) VALUES (?,?,?,?,?)",
        [(i % 7, "user", f"message {i} " + "x" * 40, f"user{i % 5}", i % 5) for i in range(rows)],
    )
    conn.commit()
    rows = conn.execute(ROWS).fetchall()
    conn.close()  # the last writer closing removes -wal and -shm, as when the bot stops
    return rows


ROWS = "SELECT id, channel_id, role, content, username, user_id FROM messages ORDER BY id"


def db_rows(path: Path) -> list[tuple]:
    conn = open_readonly(path)
    try:
        return conn.execute(ROWS).fetchall()
    finally:
        conn.close()


def repair_cli(root: Path) -> subprocess.CompletedProcess[str]:
    """``acore-doctor repair --apply --no-sqlite-cli`` on ``root``, as an operator runs it."""
    from tests.support.runs import SUITE_ROOT, clean_env

    return subprocess.run(
        [*CLI, "repair", "--apply", "--no-sqlite-cli", f"--bot-dir={root}"],
        cwd=SUITE_ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
    )


def config_of(root: Path) -> RecoveryConfig:
    return recovery_config(load_deployment(root))


def state_digest(root: Path) -> dict[str, str]:
    """Content of the deployment's state (data/ minus scratch and quarantine, prompts/, .env),
    databases by their rows so two consistent copies compare equal."""
    digest: dict[str, str] = {}
    for top in ("data", "prompts"):
        base = root / top
        for path in sorted(base.rglob("*")) if base.exists() else []:
            rel = path.relative_to(root).as_posix()
            parts = path.relative_to(base).parts
            if top == "data" and parts[0] in (".quarantine", "temp"):
                continue
            if path.is_dir():
                digest[rel] = "dir"
            elif path.suffix == ".db":
                digest[rel] = "rows:" + hashlib.sha256(repr(db_rows(path)).encode()).hexdigest()
            elif not path.name.endswith(("-wal", "-shm", "-journal")):
                digest[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    env = root / ".env"
    digest[".env"] = hashlib.sha256(env.read_bytes()).hexdigest() if env.exists() else "missing"
    return digest


def healthy(bot: DeploymentBuilder) -> DeploymentBuilder:
    """The demo ships with damage for the health checks to find (a corrupt history file, a
    stray .tmp); recovery tests start from state with none and add their own."""
    for path in sorted((bot.root / "data").rglob("*")):
        if path.suffix == ".tmp" or (path.suffix == ".json" and not json_parses(path.read_bytes())):
            path.unlink()
    return bot


def deployment_with_db(bot: DeploymentBuilder) -> DeploymentBuilder:
    make_db(bot.root / "data" / "conversations.db")
    bot.write("data/temp/tts_123.wav", b"RIFF....WAVEfmt ")
    bot.write("data/.quarantine/20250101T000000000000Z/old.json", "{}")
    return bot


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def quarantined(root: Path) -> dict[str, bytes]:
    """sha256 -> bytes of every file in quarantine."""
    base = root / "data" / ".quarantine"
    return {sha(p.read_bytes()): p.read_bytes() for p in base.rglob("*") if p.is_file()}


def audit_is_complete(records: list[dict]) -> None:
    """Every repair action that started has an ending; before/after checksums recorded."""
    started = {r["action_id"]: r for r in records if r.get("outcome") == "started"}
    ended = {
        r["action_id"]: r
        for r in records
        if r.get("tool") == "repair" and r.get("outcome") != "started"
    }
    assert set(started) == set(ended), f"actions without an ending: {set(started) - set(ended)}"
    for action_id, end in ended.items():
        assert end["before_sha256"] == started[action_id]["before_sha256"]
        assert "after_sha256" in end and "when" in end and "what" in end


def change_everything(bot: DeploymentBuilder) -> None:
    """The state drifts after the backup: a file gone, one changed, one new, db rewritten."""
    bot.remove("data/rl/rl_policies.json")
    bot.write_json(
        "data/chat_history/1431878519016915044.json", [{"role": "user", "content": "new"}]
    )
    bot.write("data/chat_history/777.json", "[]")
    bot.write("prompts/default.txt", "changed prompt\n")
    bot.set_env(OLLAMA_MODEL="changed-model")
    (bot.root / "data" / "conversations.db").unlink(missing_ok=True)
    make_db(bot.root / "data" / "conversations.db", rows=10)


def ownership(root: Path) -> dict[str, tuple]:
    """(kind, uid, gid, mode or link target) of every path of the state, symlinks not followed."""
    found: dict[str, tuple] = {}
    paths = [root / ".env"]
    for top in ("data", "prompts"):
        paths.append(root / top)
        for dirpath, dirnames, filenames in os.walk(root / top):
            dirnames[:] = [d for d in dirnames if d not in (".quarantine", "temp")]
            paths += [Path(dirpath) / n for n in dirnames + filenames]
    for path in paths:
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode):
            found[str(path.relative_to(root))] = ("link", st.st_uid, st.st_gid, os.readlink(path))
        else:
            kind = "dir" if stat.S_ISDIR(st.st_mode) else "file"
            found[str(path.relative_to(root))] = (
                kind,
                st.st_uid,
                st.st_gid,
                oct(stat.S_IMODE(st.st_mode)),
            )
    return found


def give_to_the_bot_user(bot: DeploymentBuilder, models: Path) -> None:
    healthy(bot)
    make_db(bot.root / "data" / "conversations.db", rows=50)
    os.symlink(models, bot.root / "data" / "voice_models")
    os.symlink("../prompts/characters", bot.root / "data" / "cards")  # inside: a relative link
    for top in ("data", "prompts"):
        for dirpath, dirnames, filenames in os.walk(bot.root / top):
            for name in [*dirnames, *filenames, ""]:
                os.lchown(Path(dirpath) / name, BOT_UID, BOT_GID)
    os.lchown(bot.root / "data" / "voice_models", BOT_UID, BOT_GID)
    os.chown(bot.env_path, BOT_UID, BOT_GID)
    os.chmod(bot.env_path, 0o640)
    os.chmod(bot.root / "data" / "chat_history", 0o750)
    os.chmod(bot.root / "prompts" / "characters" / "hal_9000.json", 0o600)
