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


def test_debug_share_warns_even_when_env_says_info():
    gen = LogGen(start=time.time() - 3000).chat(40, every=20).heartbeats(60, every=5)
    analysis = analyze(gen)  # no start in the window: only the share is evidence
    assert analysis.logged_level is None
    found = rules.debug_logging("INFO", ".env", analysis, T)
    assert found and "are DEBUG (above 10 %; LOG_LEVEL=INFO in .env)" in found[0].detail
    strict = rules.debug_logging(
        "INFO", ".env", analysis, LogThresholds(log_debug_share_percent=90)
    )
    assert strict == []


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


def test_rotation_and_staleness_rules():
    assert rules.rotation_interval(1.1, "bot.log.3.gz holds ...", T)[0].detail.startswith(
        "expected at least 6 h between rotations, found 1.1 h"
    )
    assert rules.rotation_interval(17.0, "", T) == []
    stale = rules.log_stale(3 * 86400 + 7200, debug=False, thresholds=T)
    assert stale and "3d 2h old" in stale[0].detail
    assert rules.log_stale(600, debug=False, thresholds=T) == []
    assert rules.log_stale(1200, debug=True, thresholds=T)  # DEBUG writes every ~41 s
