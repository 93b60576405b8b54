"""The log rules (acore_doctor.rules.logs) on analyses of generated logs: each rule finds its
problem, stays quiet on a healthy log, and says what was expected and what was found."""

from __future__ import annotations

import io
import os
import stat
import time
from pathlib import Path

from acore_doctor.logs.analyzer import Analyzer, LogAnalysis
from acore_doctor.logs.parse import iter_lines
from acore_doctor.logs.privacy import world_readable_content
from acore_doctor.logs.signatures import SIGNATURES_BY_KEY
from acore_doctor.logs.sources import find_log_files
from acore_doctor.rules import logs as rules
from acore_doctor.rules.logs import LogThresholds
from tests.support.loggen import USER_TEXT, LogGen, write_rotated

T = LogThresholds()


def analyze(gen: LogGen) -> LogAnalysis:
    return Analyzer().feed_lines(iter_lines(io.BytesIO(gen.data())))


def healthy(level: str = "INFO") -> LogGen:
    return LogGen(start=time.time() - 3000).start(level=level).chat(80, every=20)


def test_level_logged_at_start_wins_over_env():
    """The unit's Environment= overrides .env: the level the bot logged is what runs."""
    debug_run = analyze(healthy(level="DEBUG"))
    assert debug_run.logged_level == "DEBUG"
    found = rules.debug_logging("INFO", ".env", debug_run, T)
    assert found and "logged 'Level=DEBUG'" in found[0].detail
    info_run = analyze(healthy(level="INFO"))
    assert rules.debug_logging("DEBUG", ".env", info_run, T) == []
    assert rules.debug_logging("DEBUG", ".env", None, T)[0].detail.endswith("(from .env)")


def test_debug_share_warns_when_the_level_is_unknown():
    gen = LogGen(start=time.time() - 3000).chat(40, every=20).heartbeats(60, every=5)
    analysis = analyze(gen)  # no start in the window: only the share is evidence
    assert analysis.logged_level is None
    # launcher.py ignores LOG_LEVEL (env_level None): the share is all there is
    found = rules.debug_logging(None, ".env", analysis, T)
    assert found and "are DEBUG (above 10 %)" in found[0].detail
    strict = rules.debug_logging(None, ".env", analysis, LogThresholds(log_debug_share_percent=90))
    assert strict == []


def test_any_debug_record_since_the_start_at_info_warns_with_its_count():
    """Issue 18 point 7: at LOG_LEVEL=INFO the bot cannot write one DEBUG record."""
    gen = LogGen(start=time.time() - 3000).heartbeats(30, every=2)  # before the start: old run
    gen.start(level="INFO").chat(50, every=20).heartbeats(5, every=30)  # 5 of ~105: under 10 %
    analysis = analyze(gen)
    assert analysis.debug_since_last_start == 5 and analysis.records_by_level["DEBUG"] == 35
    found = rules.debug_logging("INFO", ".env", analysis, T)
    assert found and "5 DEBUG record(s) since the last start at" in found[0].detail
    assert "the bot logged 'Level=INFO' at its start" in found[0].detail
    # no start in the window: every DEBUG record of it counts, against .env's level
    window = analyze(LogGen(start=time.time() - 3000).chat(50, every=20).heartbeats(5, every=30))
    found = rules.debug_logging("WARNING", ".env", window, T)
    assert found and "5 DEBUG record(s) in the window although LOG_LEVEL=WARNING in .env" in (
        found[0].detail
    )
    # none since the start (the old run's DEBUG lines are before it): nothing to say
    clean = LogGen(start=time.time() - 3000).heartbeats(30, every=2)
    assert rules.debug_logging("INFO", ".env", analyze(clean.start().chat(20)), T) == []


def test_debug_records_before_a_restart_at_info_are_no_evidence():
    gen = LogGen(start=time.time() - 3000).start(level="DEBUG").heartbeats(80, every=5)
    gen.start(level="INFO").chat(20, every=20)  # restarted at INFO: 80 of ~130 are old DEBUG
    analysis = analyze(gen)
    assert rules.debug_share(analysis) > 0.5 and analysis.debug_since_last_start == 0
    assert rules.debug_logging("INFO", ".env", analysis, T) == []


def test_debug_since_start_counts_the_same_across_batches_and_files():
    gen = LogGen(start=time.time() - 3000).heartbeats(7000, every=0.1).start().heartbeats(3)
    analyzer = Analyzer()
    data = gen.data()
    cut = data.index(b"\n", len(data) // 3) + 1
    analyzer.feed_lines(iter_lines(io.BytesIO(data[:cut])))
    analyzer.feed_lines(iter_lines(io.BytesIO(data[cut:])))
    assert analyzer.result.debug_since_last_start == 3
    assert analyze(gen).debug_since_last_start == 3


def test_crash_loop_flood_and_share_rules():
    gen = LogGen(start=time.time() - 1800).crash_loop(5).flood(300, 30)
    analysis = analyze(gen)
    keys = [p.key for p in rules.assess(analysis, "the window", T)]
    assert keys[:3] == ["crash_loop", "fatal_since_last_start", "error_flood"]
    assert "error_share" in keys
    crash = rules.crash_loop(analysis, "the window", T)[0]
    assert crash.detail.startswith("expected at most 3 starts in 10 min, found 5")
    quiet = analyze(healthy())
    assert rules.assess(quiet, "the window", T) == []


def test_signature_cause_is_read_from_the_line():
    persona = SIGNATURES_BY_KEY["persona_not_found"]
    command = LogGen(start=time.time() - 600).signature("persona_not_found")
    found = rules.signature_hits(analyze(command), persona, "w")
    assert "a user command started a bot-to-bot conversation" in found[0].detail
    mapping = LogGen(start=time.time() - 600).line(
        "services.persona.router", "WARNING", "Persona goth_mommy not found for channel 1234"
    )
    found = rules.signature_hits(analyze(mapping), persona, "w")
    assert "a channel mapping names a persona id" in found[0].detail


def test_parakeet_and_avatar_signatures():
    gen = LogGen(start=time.time() - 600)
    gen.signature("parakeet_unreachable").signature("avatar_fetch_failed")
    keys = {p.key for p in rules.assess(analyze(gen), "w", T)}
    assert {"parakeet_unreachable", "avatar_fetch_failed"} <= keys


def test_world_readable_log_with_user_content(tmp_path: Path):
    logs = tmp_path / "logs"
    gen = healthy().line("services.persona.system", "ERROR", f"Response preview: {USER_TEXT}")
    write_rotated(logs, [gen])
    live = logs / "bot.log"
    live.chmod(0o644)
    analysis = analyze(gen)
    evidence = rules.user_content_evidence(analysis, env_debug=False)
    assert evidence and USER_TEXT not in evidence and "Response preview: <CONTENT>" in evidence
    found = rules.logs_private(find_log_files(live).modes(), evidence)
    assert found and "found bot.log 0644" in found[0].detail
    live.chmod(0o600)
    assert rules.logs_private(find_log_files(live).modes(), evidence) == []
    live.chmod(0o644)
    no_content = rules.user_content_evidence(analyze(healthy()), env_debug=False)
    assert no_content is None
    assert rules.logs_private(find_log_files(live).modes(), no_content) == []
    assert stat.S_IMODE(os.stat(live).st_mode) == 0o644


def test_a_world_readable_rotated_gz_with_user_objects_warns(tmp_path: Path):
    """Issue 18 point 7: the newest hour is clean, an old 0644 segment holds DEBUG payloads."""
    logs = tmp_path / "logs"
    old = LogGen(start=time.time() - 30 * 3600).start(level="DEBUG")
    for _ in range(5):
        old.huge_payload(2000)
    write_rotated(logs, [old, healthy()])
    files = find_log_files(logs / "bot.log")
    for path in logs.iterdir():
        path.chmod(0o600)
    segment = logs / "bot.log.1.gz"
    segment.chmod(0o644)
    files = find_log_files(logs / "bot.log")
    window = analyze(healthy())
    evidence = rules.user_content_evidence(window, env_debug=False)
    assert evidence is None
    assert rules.logs_private(files.modes(), evidence) == []  # what the check said before
    sampled = world_readable_content(files.every_file())
    assert sampled == {"bot.log.1.gz": "Discord user objects in a sample of the file"}
    found = rules.logs_private(files.modes(), evidence, sampled)
    assert found and "found bot.log.1.gz 0644" in found[0].detail
    assert "Discord user objects" in found[0].detail and USER_TEXT not in found[0].detail
    segment.chmod(0o640)
    files = find_log_files(logs / "bot.log")
    assert world_readable_content(files.every_file()) == {}


def test_an_uncompressed_rotated_file_is_sampled_too(tmp_path: Path):
    logs = tmp_path / "logs"
    logs.mkdir()
    LogGen(start=time.time() - 3600).start().chat(3).write(logs / "bot.log")
    leftover = LogGen(start=time.time() - 7200).line(
        "services.persona.system", "INFO", f"Response preview: {USER_TEXT}"
    )
    leftover.write(logs / "bot.log.2")
    (logs / "bot.log").chmod(0o600)
    (logs / "bot.log.2").chmod(0o604)
    files = find_log_files(logs / "bot.log")
    assert world_readable_content(files.every_file()) == {
        "bot.log.2": "conversation text in a sample of the file"
    }
    assert ("bot.log.2", files.modes()[-1][1]) == files.modes()[-1]


def test_rotation_and_staleness_rules():
    assert rules.rotation_interval(1.1, "bot.log.3.gz holds ...", T)[0].detail.startswith(
        "expected at least 6 h between rotations, found 1.1 h"
    )
    assert rules.rotation_interval(17.0, "", T) == []
    stale = rules.log_stale(3 * 86400 + 7200, debug=False, thresholds=T)
    assert stale and "3d 2h old" in stale[0].detail
    assert rules.log_stale(600, debug=False, thresholds=T) == []
    assert rules.log_stale(1200, debug=True, thresholds=T)  # DEBUG writes every ~41 s
