"""AutoRecovery: strategy by class hierarchy, guards, backoff, and a log that survives restarts."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from acore_doctor.recovery import AutoRecovery, Escalation
from acore_doctor.recovery.auto import classify, find_loops, resolve_strategy
from acore_doctor.recovery.common import read_jsonl
from tests.support.builder import DeploymentBuilder
from tests.support.recovery import healthy


# discord.py's hierarchy (discord/errors.py, discord/gateway.py), rebuilt without discord.
class DiscordException(Exception):
    pass


class ClientException(DiscordException):
    pass


class LoginFailure(ClientException):
    pass


class HTTPException(DiscordException):
    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} error")
        self.status = status
        self.response = type("Response", (), {"status": status, "headers": headers or {}})()


class Forbidden(HTTPException):
    pass


class RateLimited(DiscordException):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited, retry in {retry_after}")
        self.retry_after = retry_after


class ConnectionClosed(ClientException):
    def __init__(self, code: int) -> None:
        super().__init__(f"closed with {code}")
        self.code = code


for _cls in (
    DiscordException,
    ClientException,
    LoginFailure,
    HTTPException,
    Forbidden,
    RateLimited,
):
    _cls.__module__ = "discord.errors"
ConnectionClosed.__module__ = "discord.gateway"


class MissingAccess(Forbidden):
    """A bot's own subclass: handled like its parent."""


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def make(tmp_path: Path, clock: Clock, **kwargs: Any) -> AutoRecovery:
    kwargs.setdefault("environ", {})
    return AutoRecovery(
        log_path=tmp_path / "attempts.jsonl", sleep=clock.sleep, clock=clock, **kwargs
    )


@pytest.mark.parametrize(
    ("error", "strategy"),
    [
        (LoginFailure("Improper token has been passed."), "refuse"),
        (Forbidden(403), "refuse"),
        (MissingAccess(403), "refuse"),
        (HTTPException(401), "refuse"),
        (HTTPException(429, {"Retry-After": "3"}), "rate_limit"),
        (RateLimited(2.5), "rate_limit"),
        (HTTPException(503), "reconnect"),
        (HTTPException(404), None),
        (ConnectionClosed(1006), "reconnect"),
        (ConnectionClosed(4004), "refuse"),
        (aiohttp.ServerDisconnectedError(), "reconnect"),
        (aiohttp.ClientConnectorError(None, OSError(111, "refused")), "reconnect"),
        (ConnectionResetError(), "reconnect"),
        (TimeoutError(), "reconnect"),
        (PermissionError(13, "denied"), "refuse"),
        (MemoryError(), "clear_caches"),
        (sqlite3.DatabaseError("database disk image is malformed"), "repair_data"),
        (sqlite3.OperationalError("database is locked"), "backoff"),
        (json.JSONDecodeError("Expecting value", "", 0), "repair_data"),
        (ValueError("unrelated"), None),
    ],
)
def test_strategy_follows_the_class_hierarchy(error: BaseException, strategy: str | None) -> None:
    assert resolve_strategy(error, {}) == strategy


def test_a_class_named_like_discords_elsewhere_is_not_discords() -> None:
    class Forbidden(Exception):  # noqa: N818 - the point is the name
        pass

    assert classify(Forbidden()) is None


@pytest.mark.asyncio
async def test_rate_limit_waits_retry_after_and_reconnect_calls_the_hook(tmp_path: Path) -> None:
    clock = Clock()
    recovery = make(tmp_path, clock)
    result = await recovery.attempt_recovery(RateLimited(2.5))
    assert result.handled and result.outcome == "waited"
    assert 2.5 <= clock.slept[-1] <= 2.75

    await recovery.attempt_recovery(HTTPException(429, {"Retry-After": "7"}))
    assert 7 <= clock.slept[-1] <= 7.7

    calls: list[str] = []

    async def reconnect_ollama() -> None:
        calls.append("ollama")

    recovery.register_reconnect("ollama", reconnect_ollama)
    recovery.register_reconnect("kokoro", lambda: calls.append("kokoro"))
    result = await recovery.attempt_recovery(
        aiohttp.ServerDisconnectedError(), {"service": "ollama"}
    )
    assert result.outcome == "recovered" and calls == ["ollama"]


@pytest.mark.asyncio
async def test_auth_errors_are_refused_and_escalated_once(tmp_path: Path) -> None:
    clock = Clock()
    told: list[Escalation] = []
    reconnects: list[int] = []
    recovery = make(tmp_path, clock, notifier=told.append)
    recovery.register_reconnect("discord", lambda: reconnects.append(1))
    for _ in range(3):
        result = await recovery.attempt_recovery(LoginFailure("bad token"), {"guild": "g1"})
        assert result.outcome == "refused" and not result.handled
    assert reconnects == [] and clock.slept == []
    assert len(told) == 1, "one escalation per cooldown, not one per error"
    assert told[0].error_type.endswith("LoginFailure") and told[0].context == {"guild": "g1"}


@pytest.mark.asyncio
async def test_circuit_opens_after_max_attempts_within_cooldown(tmp_path: Path) -> None:
    clock = Clock()
    told: list[Escalation] = []
    recovery = make(tmp_path, clock, max_attempts=3, cooldown_s=300, notifier=told.append)
    results = [await recovery.attempt_recovery(ConnectionResetError()) for _ in range(5)]
    assert [r.outcome for r in results] == ["backed_off"] * 3 + ["circuit_open"] * 2
    assert len(told) == 1 and "3 attempts within 300s" in told[0].reason
    assert len(clock.slept) == 3, "no sleeping or acting once the circuit is open"
    # Backoff grows, with jitter between half and all of base * 2^(n-1).
    for n, delay in enumerate(clock.slept, 1):
        assert 0.5 * 2 ** (n - 1) <= delay <= 2 ** (n - 1)
    clock.now += 301
    result = await recovery.attempt_recovery(ConnectionResetError())
    assert result.outcome == "backed_off", "after the cooldown the circuit closes again"
    assert find_loops(read_jsonl(tmp_path / "attempts.jsonl"), 3, 300) == []


@pytest.mark.asyncio
async def test_disabled_does_nothing(bot: DeploymentBuilder) -> None:
    bot.set_env(AUTO_RECOVERY_ENABLED="false")
    clock = Clock()
    calls: list[int] = []
    recovery = AutoRecovery(bot.root, sleep=clock.sleep, clock=clock, environ={})
    recovery.register_cache("responses", lambda: calls.append(1))
    result = await recovery.attempt_recovery(MemoryError())
    assert result.outcome == "disabled" and calls == [] and clock.slept == []


@pytest.mark.asyncio
async def test_memory_pressure_clears_registered_caches(tmp_path: Path) -> None:
    clock = Clock()
    cache = {"a": 1}
    recovery = make(tmp_path, clock)
    recovery.register_cache("responses", cache.clear)
    result = await recovery.attempt_recovery(MemoryError())
    assert result.outcome == "recovered" and cache == {}


@pytest.mark.asyncio
async def test_database_error_runs_data_repair(bot: DeploymentBuilder) -> None:
    healthy(bot)
    # Zero-filled blocks after the document (a crash mid-write): nothing is lost.
    history = bot.write("data/chat_history/42.json", b'[{"role": "user", "content": "hi"}]\0\0')
    clock = Clock()
    reopened: list[int] = []
    recovery = AutoRecovery(bot.root, sleep=clock.sleep, clock=clock, environ={})
    result = await recovery.attempt_recovery(
        json.JSONDecodeError("Unterminated string", "", 0), {"reopen": lambda: reopened.append(1)}
    )
    assert result.outcome == "recovered", result.detail
    assert json.loads(history.read_text()) == [{"role": "user", "content": "hi"}]
    assert list((bot.root / "data/.quarantine").rglob("42.json"))
    assert reopened == [1]
    # A message cut off mid-write cannot be kept: never called recovered.
    bot.write("data/chat_history/43.json", '[{"role": "user", "content": "cu')
    clock.now += 1000
    result = await recovery.attempt_recovery(json.JSONDecodeError("Unterminated", "", 0))
    assert result.outcome == "failed" and "1 record(s) may be lost" in result.detail


@pytest.mark.asyncio
async def test_the_log_is_bounded_and_secrets_never_reach_it(bot: DeploymentBuilder) -> None:
    token = bot.env()["DISCORD_TOKEN"]
    clock = Clock()
    recovery = AutoRecovery(
        bot.root, sleep=clock.sleep, clock=clock, environ={}, max_log_records=10, cooldown_s=0.001
    )
    for _ in range(50):
        clock.now += 1
        await recovery.attempt_recovery(ConnectionResetError(f"reset while sending {token}"))
    path = bot.root / ".acore-doctor" / "recovery-attempts.jsonl"
    lines = path.read_text().splitlines()
    assert len(lines) <= 20
    assert token not in path.read_text()
    assert read_jsonl(path)[-1]["ts"] == clock.now


def test_find_loops_reports_more_attempts_than_allowed() -> None:
    records = [
        {"ts": 1000 + i * 10, "strategy": "reconnect", "outcome": "backed_off"} for i in range(6)
    ]
    records.append({"ts": 1100, "strategy": "reconnect", "outcome": "circuit_open"})
    assert find_loops(records, 3, 300) == [
        {"strategy": "reconnect", "attempts": 6, "window_start": 1000}
    ]
    assert find_loops(records, 6, 300) == []
    assert find_loops(records, 3, 15) == []


def test_settings_follow_the_bots_parse_rules_without_a_deployment() -> None:
    recovery = AutoRecovery(
        environ={
            "AUTO_RECOVERY_ENABLED": "yes",  # the bot reads only 'true' as true
            "MAX_RECOVERY_ATTEMPTS": "5",
            "RECOVERY_COOLDOWN": "5 minutes",  # unparseable: the default
        }
    )
    assert (recovery.enabled, recovery.max_attempts, recovery.cooldown_s) == (False, 5, 300.0)


@pytest.mark.asyncio
async def test_each_service_has_its_own_circuit(tmp_path: Path) -> None:
    """Three Ollama reconnects open Ollama's circuit, not Discord's."""
    clock = Clock()
    told: list[Escalation] = []
    recovery = make(tmp_path, clock, max_attempts=3, cooldown_s=300, notifier=told.append)
    ollama = [
        await recovery.attempt_recovery(ConnectionResetError(), {"service": "ollama"})
        for _ in range(4)
    ]
    assert [r.outcome for r in ollama] == ["backed_off"] * 3 + ["circuit_open"]
    discord = await recovery.attempt_recovery(ConnectionClosed(1006), {"service": "discord"})
    assert discord.outcome == "backed_off", discord.detail
    # Without a service named, each error type is its own circuit.
    timeouts = [await recovery.attempt_recovery(TimeoutError()) for _ in range(3)]
    assert [r.outcome for r in timeouts] == ["backed_off"] * 3
    assert len(told) == 1 and told[0].context["circuit"] == "reconnect:ollama"
    records = read_jsonl(tmp_path / "attempts.jsonl")
    assert {r.get("key") for r in records} == {
        "reconnect:ollama",
        "reconnect:discord",
        "reconnect:builtins.TimeoutError",
    }
    # Three per circuit is within the limit: no loop, although seven reconnects happened.
    assert find_loops(records, 3, 300) == []


def test_find_loops_counts_per_circuit() -> None:
    records = [
        {"ts": 1000 + i, "strategy": "reconnect", "key": f"reconnect:{name}", "outcome": "failed"}
        for i, name in enumerate(["ollama", "discord"] * 3)
    ]
    assert find_loops(records, 3, 300) == []
    records += [
        {"ts": 1010, "strategy": "reconnect", "key": "reconnect:ollama", "outcome": "failed"}
    ]
    assert find_loops(records, 3, 300) == [
        {"strategy": "reconnect:ollama", "attempts": 4, "window_start": 1000}
    ]


@pytest.mark.asyncio
async def test_auto_backup_on_error_backs_up_before_a_repair_writes(bot: DeploymentBuilder) -> None:
    from acore_doctor.recovery.backup import list_backups, read_member_bytes

    healthy(bot)
    bot.set_env(AUTO_BACKUP_ON_ERROR="true")
    broken = b'[{"role": "user", "content": "hi"}]\0\0\0'
    bot.write("data/chat_history/42.json", broken)
    clock = Clock()
    recovery = AutoRecovery(bot.root, sleep=clock.sleep, clock=clock, environ={})
    result = await recovery.attempt_recovery(json.JSONDecodeError("Unterminated", "", 0))
    assert result.outcome == "recovered", result.detail
    [backup] = list_backups(bot.root / "backups")
    assert backup.label == "before-auto-repair"
    assert read_member_bytes(backup, "data/chat_history/42.json") == broken
    # Rate-limited: a second repair within RECOVERY_COOLDOWN takes no second backup.
    bot.write("data/chat_history/43.json", b"[]\0")
    clock.now += 1000  # the attempt clock; backups are dated by the wall clock
    result = await recovery.attempt_recovery(json.JSONDecodeError("Expecting", "", 0))
    assert result.outcome == "recovered", result.detail
    assert len(list_backups(bot.root / "backups")) == 1


@pytest.mark.asyncio
async def test_no_repair_when_the_backup_before_it_fails(bot: DeploymentBuilder) -> None:
    healthy(bot)
    (bot.root / "not-a-dir").write_text("a file where the backup directory should be")
    bot.set_env(AUTO_BACKUP_ON_ERROR="true", STATE_BACKUP_DIR="not-a-dir/backups")
    broken = bot.write("data/chat_history/42.json", b"[")
    clock = Clock()
    recovery = AutoRecovery(bot.root, sleep=clock.sleep, clock=clock, environ={})
    result = await recovery.attempt_recovery(json.JSONDecodeError("Expecting", "", 0))
    assert result.outcome == "failed"
    assert "AUTO_BACKUP_ON_ERROR backup failed" in result.detail
    assert broken.read_bytes() == b"[", "the repair wrote although the backup failed"


@pytest.mark.asyncio
async def test_without_auto_backup_no_backup_is_taken(bot: DeploymentBuilder) -> None:
    healthy(bot)
    bot.write("data/chat_history/42.json", b"[]\0")
    clock = Clock()
    recovery = AutoRecovery(bot.root, sleep=clock.sleep, clock=clock, environ={})
    result = await recovery.attempt_recovery(json.JSONDecodeError("Expecting", "", 0))
    assert result.outcome == "recovered", result.detail
    assert not (bot.root / "backups").exists()


# -- issue 23: FileNotFoundError, progressive memory recovery, pause/reset, webhook reports --
@pytest.mark.asyncio
async def test_a_missing_directory_the_bot_expects_is_recreated(bot: DeploymentBuilder) -> None:
    import shutil

    healthy(bot)
    shutil.rmtree(bot.root / "data/chat_history")
    recovery = AutoRecovery(bot.root, sleep=Clock().sleep, clock=Clock(), environ={})
    missing = bot.root / "data/chat_history/42.json"
    error = FileNotFoundError(2, "No such file or directory", str(missing))
    result = await recovery.attempt_recovery(error)
    assert result.outcome == "recovered", result.detail
    assert (bot.root / "data/chat_history").is_dir()
    assert not missing.exists()  # the directory, never the data file


@pytest.mark.asyncio
async def test_a_missing_data_file_is_never_invented(bot: DeploymentBuilder) -> None:
    healthy(bot)
    recovery = AutoRecovery(bot.root, sleep=Clock().sleep, clock=Clock(), environ={})
    missing = bot.root / "data/chat_history/404.json"
    result = await recovery.attempt_recovery(FileNotFoundError(2, "gone", str(missing)))
    assert result.outcome == "no_action" and "not invented" in result.detail
    assert not missing.exists()
    outside = await recovery.attempt_recovery(FileNotFoundError(2, "gone", "/nonexistent/x/y"))
    assert outside.outcome == "no_action" and not Path("/nonexistent/x").exists()


@pytest.mark.asyncio
async def test_memory_pressure_that_returns_restarts_the_heavy_components(tmp_path: Path) -> None:
    clock = Clock()
    recovery = make(tmp_path, clock)
    calls: list[str] = []
    recovery.register_cache("lru", lambda: calls.append("cache"))
    recovery.register_restart("tts", lambda: calls.append("restart"))
    first = await recovery.attempt_recovery(MemoryError())
    assert first.outcome == "recovered" and calls == ["cache"]
    second = await recovery.attempt_recovery(MemoryError())
    assert second.outcome == "recovered" and "restarted tts" in second.detail
    assert calls == ["cache", "cache", "restart"]


@pytest.mark.asyncio
async def test_a_paused_recovery_does_not_act_and_a_reset_closes_the_circuit(
    tmp_path: Path,
) -> None:
    from acore_doctor.recovery.control import CONTROL_FILE, RecoveryControl

    clock = Clock()
    recovery = make(tmp_path, clock, max_attempts=2)
    calls: list[int] = []
    recovery.register_reconnect("ollama", lambda: calls.append(1))
    for _ in range(2):
        await recovery.attempt_recovery(ConnectionResetError(), {"service": "ollama"})
    assert (
        await recovery.attempt_recovery(ConnectionResetError(), {"service": "ollama"})
    ).outcome == "circuit_open"

    control = RecoveryControl(resets={"ollama": clock.now})
    control.save(tmp_path / CONTROL_FILE)
    clock.now += 1
    assert (await recovery.attempt_recovery(ConnectionResetError(), {"service": "ollama"})).handled
    assert len(calls) == 3

    RecoveryControl(paused=True, paused_at=clock.now, reason="db migration").save(
        tmp_path / CONTROL_FILE
    )
    paused = await recovery.attempt_recovery(ConnectionResetError(), {"service": "ollama"})
    assert paused.outcome == "paused" and "db migration" in paused.detail and not paused.handled
    assert len(calls) == 3


def test_circuit_status_reads_the_log_as_auto_recovery_counts() -> None:
    from acore_doctor.recovery.control import RecoveryControl, circuits

    now = 1_800_000_000.0
    log = [
        {
            "ts": now - 50,
            "key": "reconnect:ollama",
            "strategy": "reconnect",
            "outcome": "recovered",
        },
        {"ts": now - 40, "key": "reconnect:ollama", "strategy": "reconnect", "outcome": "failed"},
        {"ts": now - 30, "key": "reconnect:ollama", "strategy": "reconnect", "outcome": "failed"},
        {"ts": now - 900, "key": "backoff:x", "strategy": "backoff", "outcome": "backed_off"},
    ]
    status = {c.circuit: c for c in circuits(log, 3, 300, RecoveryControl(), now)}
    assert status["reconnect:ollama"].open and status["reconnect:ollama"].closes_in_s == 250
    assert not status["backoff:x"].open and status["backoff:x"].recent == 0
    reset = circuits(log, 3, 300, RecoveryControl(resets={"*": now - 35}), now)
    assert not {c.circuit: c for c in reset}["reconnect:ollama"].open


@pytest.mark.asyncio
async def test_attempts_and_escalations_post_to_the_error_webhook(
    bot: DeploymentBuilder,
) -> None:
    from acore_doctor.simulate import Simulator

    healthy(bot)
    with Simulator(["discord"]) as sim:
        created = sim.discord.add_webhook()
        url = sim.discord.webhook_url(created.id)
        bot.set_env(ERROR_REPORT_WEBHOOK=url, MAX_RECOVERY_ATTEMPTS="1")
        clock = Clock()
        recovery = AutoRecovery(bot.root, sleep=clock.sleep, clock=clock, environ={})
        recovery.register_reconnect("ollama", lambda: None)
        await recovery.attempt_recovery(ConnectionResetError("peer reset"), {"service": "ollama"})
        clock.now += 120  # past the notifier's minimum interval
        await recovery.attempt_recovery(ConnectionResetError("peer reset"), {"service": "ollama"})
        titles = [m["embeds"][0]["title"] for m in sim.discord.webhook_messages(created.id)]
        assert titles[0].startswith("AUTO-RECOVERY: recovered")
        assert any("a human is needed" in t for t in titles[1:]), titles
        assert url not in json.dumps(sim.discord.webhook_messages(created.id))

        bot.set_env(CRITICAL_ERROR_NOTIFICATIONS="false")
        quiet = AutoRecovery(bot.root, sleep=clock.sleep, clock=lambda: clock.now + 999, environ={})
        assert quiet.reporter is not None and not quiet.reporter.config.critical
        bot.set_env(ERROR_REPORTING_ENABLED="false")
        assert AutoRecovery(bot.root, environ={}).reporter is None


def test_a_pause_written_as_root_is_readable_by_the_bots_own_user(tmp_path: Path) -> None:
    import os
    import pwd

    from acore_doctor.recovery.control import CONTROL_FILE, RecoveryControl

    if os.geteuid() != 0:
        pytest.skip("not applicable: giving a file to another user needs root")
    nobody = pwd.getpwnam("nobody")
    bot_dir = tmp_path / "acore_bot"
    bot_dir.mkdir()
    os.chown(bot_dir, nobody.pw_uid, nobody.pw_gid)
    path = bot_dir / ".acore-doctor" / CONTROL_FILE
    RecoveryControl(paused=True, reason="db move").save(path, owner_of=bot_dir)
    for made in (path.parent, path):
        assert (made.stat().st_uid, made.stat().st_gid) == (nobody.pw_uid, nobody.pw_gid)
    assert RecoveryControl.load(path).paused
