"""Following the bot's log: a tail position that survives rotation and truncation, and
error records mapped to the check areas they concern (issue 23)."""

from __future__ import annotations

import os
from pathlib import Path

from acore_doctor.logs.signatures import SIGNATURES
from acore_doctor.ops.follow import (
    AREA_CHECKS,
    LOG_CHECKS,
    SIGNATURE_AREAS,
    LogFollower,
    checks_for,
)

HEADER = "2026-12-08 00:00:0{n},123 - {logger} - {level} - {message}\n"


def line(n: int, level: str = "INFO", logger: str = "bot", message: str = "hello") -> str:
    return HEADER.format(n=n, logger=logger, level=level, message=message)


def following_an_empty_log(tmp_path: Path) -> tuple[Path, LogFollower]:
    log = tmp_path / "bot.log"
    log.write_text("")
    follower = LogFollower(log)
    follower.start_at_end()
    return log, follower


def append(path: Path, text: str) -> None:
    with path.open("a") as out:
        out.write(text)


def test_it_follows_from_the_end_and_returns_only_complete_new_lines(tmp_path: Path) -> None:
    log = tmp_path / "bot.log"
    log.write_text(line(1, "ERROR", message="old error, judged by the full run"))
    follower = LogFollower(log)
    follower.start_at_end()
    assert follower.poll() == []
    append(log, line(2) + "2026-12-08 00:00:03,000 - bot - ERR")
    assert [x.decode() for x in follower.poll()] == [line(2).rstrip("\n")]
    append(log, "OR - half written\n")
    assert follower.poll() == [b"2026-12-08 00:00:03,000 - bot - ERROR - half written"]


def test_rotation_reads_the_rest_of_the_old_file_then_the_new_one(tmp_path: Path) -> None:
    log = tmp_path / "bot.log"
    log.write_text(line(1))
    follower = LogFollower(log)
    follower.start_at_end()
    append(log, line(2, message="written just before the rotation"))
    os.rename(log, tmp_path / "bot.log.1")
    log.write_text(line(3, message="first line of the new file"))
    got = [x.decode() for x in follower.poll()]
    assert got == [line(2, message="written just before the rotation").rstrip("\n"),
                   line(3, message="first line of the new file").rstrip("\n")]  # fmt: skip
    append(log, line(4))
    assert len(follower.poll()) == 1


def test_copytruncate_reads_the_file_again_from_its_start(tmp_path: Path) -> None:
    log = tmp_path / "bot.log"
    log.write_text(line(1) * 5)
    follower = LogFollower(log)
    follower.start_at_end()
    log.write_text(line(2))  # truncated in place, then written
    assert [x.decode() for x in follower.poll()] == [line(2).rstrip("\n")]


def test_a_missing_log_is_followed_once_it_appears(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "bot.log"
    follower = LogFollower(log)
    follower.start_at_end()
    assert follower.poll() == []
    log.parent.mkdir()
    log.write_text(line(1, "ERROR"))
    assert len(follower.errors()) == 1


def test_a_huge_burst_is_read_in_bounded_steps(tmp_path: Path) -> None:
    log = tmp_path / "bot.log"
    log.write_text("")
    follower = LogFollower(log, max_read=4096)
    follower.start_at_end()
    append(log, line(1) * 1000)
    first = follower.poll()
    assert 0 < len(first) < 1000
    total = len(first)
    while batch := follower.poll():
        total += len(batch)
    assert total == 1000


def test_errors_carry_area_and_signature_never_the_message(tmp_path: Path) -> None:
    log, follower = following_an_empty_log(tmp_path)
    append(
        log,
        line(1, "WARNING", "discord.client", "a warning triggers nothing")
        + line(2, "ERROR", "discord.client", "Improper token has been passed.")
        + line(3, "ERROR", "services.llm.ollama", "secret user text: my password is hunter2")
        + line(4, "CRITICAL", "services.persistence", "sqlite3.DatabaseError: malformed")
        + line(5, "ERROR", "somewhere", "something else"),
    )
    events = follower.errors()
    assert [(e.signature, e.area) for e in events] == [
        ("login_failure", "discord"),
        (None, "llm"),
        (None, "data"),
        (None, "logs"),
    ]
    assert "hunter2" not in repr(events)
    assert events[0].describe() == "ERROR from discord.client (login_failure)"


def test_a_traceback_continuation_names_the_area(tmp_path: Path) -> None:
    log, follower = following_an_empty_log(tmp_path)
    append(
        log,
        line(1, "ERROR", "bot", "Ignoring exception in on_message")
        + "Traceback (most recent call last):\n"
        + '  File "x.py", line 1, in f\n'
        + "discord.errors.PrivilegedIntentsRequired: Shard ID None is requesting privileged intents\n",
    )
    (event,) = follower.errors()
    assert (event.signature, event.area) == ("privileged_intents", "discord")


def test_every_signature_has_an_area_and_every_area_existing_checks() -> None:
    assert {s.key for s in SIGNATURES} <= set(SIGNATURE_AREAS)
    assert set(SIGNATURE_AREAS.values()) <= set(AREA_CHECKS)
    root = Path(__file__).resolve().parents[2]
    for files in AREA_CHECKS.values():
        for name in files:
            assert (root / name).is_file(), name
    assert checks_for(["discord", "network"]) == [
        LOG_CHECKS,
        "health_tests/test_discord.py",
        "health_tests/test_llm.py",
    ]
