"""The streaming analyzer, the tail window, rotated segments, the template state and the
demo's timestamp rebasing, on real files written by the log generator."""

from __future__ import annotations

import gzip
import io
import json
import os
import random
import time
from pathlib import Path

import pytest

from acore_doctor.logs import analyze_paths, find_log_files
from acore_doctor.logs import analyzer as analyzer_module
from acore_doctor.logs.analyzer import Analyzer
from acore_doctor.logs.parse import ParseStats, iter_lines, iter_records
from acore_doctor.logs.rebase import newest_time, rebase_log_times
from acore_doctor.logs.rotation import rotation_facts
from acore_doctor.logs.state import load_state, new_keys, save_state, state_path
from acore_doctor.logs.window import (
    first_offset_at_or_after,
    line_time,
    read_file_span,
    read_file_window,
)
from tests.support.loggen import (
    CHANNEL,
    USER,
    USER_TEXT,
    LogGen,
    info_heavy_mix,
    production_mix,
    write_rotated,
)


def mixed_log(start: float) -> LogGen:
    gen = LogGen(start=start, seed=5)
    gen.start().heartbeats(30).chat(10).huge_payload(50_000).binary_junk().invalid_utf8()
    gen.dns_outage(2).crash_loop(5).flood(300, 30).signature("on_message_exception")
    gen.signature("webhook_limit", 2).start().heartbeats(5)
    gen.line("cogs.chat.main", "WARNING", f"Message from {USER}: '{USER_TEXT}'", dt=1)
    return gen


def test_flood_of_17600_identical_errors_is_one_template():
    gen = LogGen(start=time.time() - 3600).start().flood(17_600, 60)
    analysis = Analyzer().feed_lines(iter_lines(io.BytesIO(gen.data())))
    (template,) = analysis.top_templates("ERROR", 10)
    assert template.count == 17_600 and template.peak_per_minute > 100
    assert template.template.startswith("Failed to generate/send message")
    assert [t.template for t in analysis.flooding_templates(100)] == [template.template]
    assert analysis.records_by_level["WARNING"] == 17_600
    assert analysis.error_share > 0.4


def test_crash_loop_counts_starts_and_fatal_errors_since_the_last_start():
    gen = LogGen(start=time.time() - 3600).crash_loop(6)
    analysis = Analyzer(crash_window_s=600).feed_lines(iter_lines(io.BytesIO(gen.data())))
    assert len(analysis.starts) == 6 and analysis.max_starts_in_crash_window == 6
    assert analysis.ready_markers == 0 and analysis.fatal_since_last_start.count == 1
    healthy = LogGen(start=time.time() - 3600).start().heartbeats(3)
    fine = Analyzer().feed_lines(iter_lines(io.BytesIO(healthy.data())))
    assert fine.max_starts_in_crash_window == 1 and fine.ready_since_last_start is not None
    assert fine.fatal_since_last_start.count == 0


@pytest.mark.parametrize("since_offset", [None, 45.0])
def test_fast_line_path_equals_the_record_path(since_offset):
    gen = mixed_log(time.time() - 3600)
    data = gen.data()
    since = None if since_offset is None else time.time() - 3600 + since_offset
    fast = Analyzer().feed_lines(iter_lines(io.BytesIO(data)), since=since)
    stats = ParseStats()
    records = iter_records(iter_lines(io.BytesIO(data)), stats)
    slow_analyzer = Analyzer()
    slow_analyzer.result.parse = stats
    slow = slow_analyzer.feed_all(
        r for r in records if since is None or (r.time is not None and r.time >= int(since))
    )
    assert fast.to_dict() == slow.to_dict()
    assert fast.records > 100


def test_output_never_carries_user_text_or_user_ids():
    gen = mixed_log(time.time() - 3600)
    analysis = Analyzer().feed_lines(iter_lines(io.BytesIO(gen.data())))
    text = json.dumps(analysis.to_dict(top=50))
    assert USER_TEXT not in text and USER not in text and CHANNEL not in text
    assert "Message from <ID>: <CONTENT>" in text  # the whole message goes, not only quotes


def test_rotated_segments_are_read_oldest_first_with_the_live_file(tmp_path: Path):
    start = time.time() - 4 * 3600
    first = LogGen(start=start).start().heartbeats(10)
    second = LogGen(start=first.clock + 600).heartbeats(10).signature("webhook_limit")
    live = LogGen(start=second.clock + 600).heartbeats(10)
    write_rotated(tmp_path / "logs", [first, second, live])
    files = find_log_files(tmp_path / "logs" / "bot.log")
    assert [s.path.name for s in files.in_time_order()] == [
        "bot.log.2.gz",
        "bot.log.1.gz",
        "bot.log",
    ]
    analysis = analyze_paths([s.path for s in files.in_time_order()])
    assert analysis.first_time == pytest.approx(start + 1, abs=1)
    assert analysis.last_time == pytest.approx(live.clock, abs=1)
    assert analysis.records == 5 + 30 + 1  # a start's 5 lines, 30 heartbeats, the webhook error
    assert analysis.signatures["webhook_limit"].count == 1


def test_template_cap_keeps_memory_flat(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(analyzer_module, "MAX_TEMPLATES", 5)
    gen = LogGen(start=time.time() - 60)
    for n in range(20):
        gen.line("x", "ERROR", f"distinct failure kind{chr(65 + n)} here", dt=0.1)
    analysis = Analyzer().feed_lines(iter_lines(io.BytesIO(gen.data())))
    assert len(analysis.templates) == 5 and analysis.other_template_records == 15


# -- the tail window -------------------------------------------------------------------------
def big_old_then_recent(path: Path, now: float) -> tuple[LogGen, LogGen]:
    old = LogGen(start=now - 30 * 86400).start().heartbeats(20_000, every=60)
    recent = LogGen(start=now - 1800).start().heartbeats(10).flood(300, 20)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(old.data() + recent.data())
    return old, recent


def test_window_reads_only_the_tail_and_equals_a_full_filtered_analysis(tmp_path: Path):
    log = tmp_path / "logs" / "bot.log"
    old, recent = big_old_then_recent(log, time.time())
    facts = read_file_window(find_log_files(log), minutes=60)
    assert facts.problem is None
    assert facts.bytes_read < len(recent.data()) + 64 * 1024 < log.stat().st_size / 5
    full = analyze_paths([log], since=facts.start)
    window_dict, full_dict = facts.analysis.to_dict(), full.to_dict()
    for differs in ("parse", "sources"):  # lines read and file names, by design
        window_dict.pop(differs), full_dict.pop(differs)
    assert window_dict == full_dict
    assert len(facts.analysis.starts) == 1
    assert facts.analysis.flooding_templates(100)


def test_binary_search_finds_the_first_record_at_or_after_a_time(tmp_path: Path):
    gen = LogGen(start=1_760_000_000).heartbeats(3000, every=7).dns_outage(3).heartbeats(500)
    path = tmp_path / "bot.log"
    gen.write(path)
    data = path.read_bytes()
    rng = random.Random(3)
    with path.open("rb") as f:
        for _ in range(25):
            target = 1_760_000_000 + rng.uniform(-100, 3600 * 7)
            offset = first_offset_at_or_after(f, len(data), target)
            expected, pos = len(data), 0
            for line in data.split(b"\n"):
                when = line_time(line)
                if when is not None and when >= target:
                    expected = pos
                    break
                pos += len(line) + 1
            assert offset == expected


def test_window_reaches_into_the_newest_rotated_segment_only_when_needed(tmp_path: Path):
    now = time.time()
    older = LogGen(start=now - 3 * 3600).start().heartbeats(100, every=60)  # ends ~now-80min
    rotated = LogGen(start=now - 50 * 60).heartbeats(20, every=60).signature("rate_limited")
    live = LogGen(start=now - 25 * 60).heartbeats(20, every=60)
    write_rotated(tmp_path / "logs", [older, rotated, live])
    facts = read_file_window(find_log_files(tmp_path / "logs" / "bot.log"), minutes=60)
    assert facts.segments_read == ["bot.log.1.gz", "bot.log"]
    assert facts.analysis.signatures["rate_limited"].count == 1


def test_just_rotated_empty_live_file_takes_the_end_from_the_newest_segment(tmp_path: Path):
    rotated = LogGen(start=time.time() - 600).start().heartbeats(5)
    write_rotated(tmp_path / "logs", [rotated, LogGen()])
    facts = read_file_window(find_log_files(tmp_path / "logs" / "bot.log"), minutes=60)
    assert facts.problem is None and facts.analysis.records == 10


def test_missing_log_is_a_fact_not_an_error(tmp_path: Path):
    facts = read_file_window(find_log_files(tmp_path / "logs" / "bot.log"), minutes=60)
    assert facts.problem and "no log file" in facts.problem


def test_span_after_a_process_start_finds_the_ready_marker(tmp_path: Path):
    now = time.time()
    gen = LogGen(start=now - 7200).heartbeats(50).start().heartbeats(100)
    gen.write(tmp_path / "bot.log")
    facts = read_file_span(find_log_files(tmp_path / "bot.log"), now - 7200 + 50 * 41, now)
    assert facts.analysis.first_ready is not None and len(facts.analysis.starts) == 1


# -- rotation facts ----------------------------------------------------------------------------
def test_rotation_facts_name_extra_uncompressed_and_broken_segments(tmp_path: Path):
    logs = tmp_path / "logs"
    gens = [LogGen(start=time.time() - 3600 * (8 - n)).heartbeats(3) for n in range(4)]
    write_rotated(logs, gens)
    (logs / "bot.log.9.gz").write_bytes(gzip.compress(b"x\n")[:-6])  # truncated + beyond count
    (logs / "bot.log.4").write_bytes(b"old\n")
    facts = rotation_facts(find_log_files(logs / "bot.log"), backup_count=5, max_bytes=10_485_760)
    text = "; ".join(facts.problems)
    assert "beyond LOG_BACKUP_COUNT=5 (bot.log.9.gz)" in text
    assert "uncompressed bot.log.4" in text
    assert "bot.log.9.gz is not a valid gzip file" in text


def test_rotation_interval_comes_from_record_times_not_file_mtimes(tmp_path: Path):
    """Each segment filled in about an hour (90 heartbeats 40 s apart); copied files have fresh
    mtimes, which must not change the answer. A segment far below LOG_MAX_BYTES was not
    rotated by size, so its span is no interval."""
    clean = tmp_path / "clean"
    start = time.time() - 8 * 3600
    gens = [LogGen(start=start + 3700 * n).heartbeats(90, every=40) for n in range(3)]
    write_rotated(clean, [*gens, LogGen(start=start + 3700 * 3).heartbeats(5)])
    for path in clean.iterdir():
        os.utime(path, None)  # a copy or restore: every mtime is now
    good = rotation_facts(find_log_files(clean / "bot.log"), 5, max_bytes=9000)
    assert good.problems == []
    assert good.shortest_interval_h == pytest.approx(1.0, abs=0.05)
    assert "bot.log." in good.shortest_interval_between
    big_limit = rotation_facts(find_log_files(clean / "bot.log"), 5, max_bytes=10_485_760)
    assert big_limit.shortest_interval_h is None


# -- state and rebasing ------------------------------------------------------------------------
def test_new_templates_state_lives_in_the_report_dir(tmp_path: Path):
    bot_dir, report_dir = tmp_path / "bot", tmp_path / "reports"
    state = load_state(report_dir, bot_dir)
    assert state.previous_run is None and new_keys(state, {"ERROR a"}) == ["ERROR a"]
    save_state(state, {"ERROR a"})
    assert state_path(report_dir, bot_dir).is_file() and not bot_dir.exists()
    again = load_state(report_dir, bot_dir)
    assert again.previous_run is not None
    assert new_keys(again, {"ERROR a", "WARNING b"}) == ["WARNING b"]
    state_path(report_dir, bot_dir).write_text("{not json")
    broken = load_state(report_dir, bot_dir)
    assert broken.problem and broken.known == {}


def test_rebase_moves_the_newest_record_to_now_and_keeps_intervals(tmp_path: Path):
    logs = tmp_path / "logs"
    old = LogGen(start=1_700_000_000, millis=True).start().heartbeats(5)
    live = LogGen(start=old.clock + 100).heartbeats(5)
    json_gen = LogGen(start=live.clock + 1, fmt="json").line("x", "INFO", "json record")
    write_rotated(logs, [old, live])
    with (logs / "bot.log").open("ab") as out:
        out.write(json_gen.data())
    before = [
        line_time(x)
        for x in gzip.decompress((logs / "bot.log.1.gz").read_bytes()).split(b"\n")
        if line_time(x)
    ]
    now = time.time()
    delta = rebase_log_times(logs, now=now, age_s=60)
    after = [
        line_time(x)
        for x in gzip.decompress((logs / "bot.log.1.gz").read_bytes()).split(b"\n")
        if line_time(x)
    ]
    assert [round(b - a) for a, b in zip(before, after, strict=True)] == [delta] * len(before)
    assert newest_time((logs / "bot.log").read_bytes()) == pytest.approx(now - 60, abs=1.5)
    assert os.stat(logs / "bot.log").st_mtime == pytest.approx(now - 60, abs=1.5)
    assert rebase_log_times(tmp_path / "logs", now=now) == pytest.approx(0, abs=1)


def test_rebase_leaves_a_log_larger_than_its_read_limit_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Bounded reads: a file (or a .gz inflating) past the limit is not read whole."""
    from acore_doctor.logs import rebase

    logs = tmp_path / "logs"
    old = LogGen(start=1_700_000_000).start().heartbeats(200)
    live = LogGen(start=old.clock + 100).heartbeats(5)
    write_rotated(logs, [old, live])
    packed = (logs / "bot.log.1.gz").read_bytes()
    assert len(packed) < 4096 < len(gzip.decompress(packed))
    monkeypatch.setattr(rebase, "REBASE_MAX", 4096)
    delta = rebase_log_times(logs, now=time.time(), age_s=60)
    assert delta != 0, "the small live log was rebased"
    assert (logs / "bot.log.1.gz").read_bytes() == packed, "the large one was left as it was"


def test_window_on_json_format_logs(tmp_path: Path):
    now = time.time()
    old = LogGen(start=now - 6 * 3600, fmt="json").start().heartbeats(200, every=60)
    recent = LogGen(start=now - 900, fmt="json").crash_loop(5).signature("webhook_limit")
    log = tmp_path / "bot.log"
    log.write_bytes(old.data() + recent.data())
    facts = read_file_window(find_log_files(log), minutes=30)
    assert facts.problem is None and facts.bytes_read <= len(recent.data()) + 64 * 1024
    assert facts.analysis.max_starts_in_crash_window == 5
    assert facts.analysis.signatures["webhook_limit"].count == 1


def test_hostile_input_never_raises_and_both_paths_agree():
    rng = random.Random(9)
    pieces = [
        b"2026-01-01 00:00:0",
        b"2026-13-45 99:99:99 - x - ERROR - bad date",
        b"2026-01-01 00:00:00,12 - x - INFO - short millis",
        b"2026-01-01 00:00:00 - - ERROR - ",
        b"2026-01-01 00:00:01 - a - b - WARNING - dashes in logger",
        b'{"level": "ERROR", "message": "no time"}',
        b'{"timestamp": "bad", "level": "NOPE", "message": 1}',
        b"{not json",
        b"[trace_id=x, user_id=1]",
        b"Traceback (most recent call last):",
        b"\xff\xfe\x00\x01",
        b"Starting Discord Ollama Bot...",
        b"2026-01-01 00:00:02 - __main__ - INFO - Starting Discord Ollama Bot...",
    ]
    for _ in range(20):
        data = b"\n".join(
            rng.choice(pieces) + bytes(rng.randrange(256) for _ in range(rng.randrange(5)))
            for _ in range(200)
        )
        fast = Analyzer().feed_lines(iter_lines(io.BytesIO(data)))
        stats = ParseStats()
        slow_analyzer = Analyzer()
        slow_analyzer.result.parse = stats
        slow = slow_analyzer.feed_all(iter_records(iter_lines(io.BytesIO(data)), stats))
        assert fast.to_dict() == slow.to_dict()


@pytest.mark.parametrize("mix", ["info_heavy", "production"])
def test_counted_runs_equal_the_record_path_on_the_benchmark_mixes(mix: str):
    """The fast path counts runs of DEBUG/INFO lines at once: over several batches, with
    huge payload lines, storms and starts, it must agree with feeding every record."""
    make = info_heavy_mix if mix == "info_heavy" else production_mix
    data = b"\n".join(make(12_000, time.time() - 86400, storm=600)) + b"\n"
    fast = Analyzer().feed_lines(iter_lines(io.BytesIO(data)))
    stats = ParseStats()
    slow_analyzer = Analyzer()
    slow_analyzer.result.parse = stats
    slow = slow_analyzer.feed_all(iter_records(iter_lines(io.BytesIO(data)), stats))
    assert fast.to_dict() == slow.to_dict()
    assert fast.records > 11_000 and fast.parse.huge_lines == slow.parse.huge_lines
