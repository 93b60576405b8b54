"""The log parser: every format the bot writes, and inputs that must never stop it."""

from __future__ import annotations

import calendar
import io
import json
import time

import pytest

from acore_doctor.logs.analyzer import Analyzer
from acore_doctor.logs.masking import sample_of, template_of
from acore_doctor.logs.parse import ParseStats, iso_time, iter_lines, iter_records
from acore_doctor.logs.signatures import SIGNATURES, SIGNATURES_BY_KEY
from acore_doctor.logs.state import load_state, save_state
from tests.support.loggen import (
    CHANNEL,
    DNS_TRACEBACK,
    SIGNATURE_LINES,
    USER,
    USER_TEXT,
    LogGen,
)


def records_of(data: bytes, fmt: str = "auto") -> tuple[list, ParseStats]:
    stats = ParseStats()
    return list(iter_records(iter_lines(io.BytesIO(data)), stats, fmt=fmt)), stats


def test_text_line_without_milliseconds_and_with_trace_suffix():
    line = (
        b"2026-01-21 23:17:54 - services.memory.rag - ERROR - Re-ranking failed: Cannot run the "
        b"event loop while another loop is running [trace_id=msg_1443_1769000000, user_id=22334, "
        b"channel_id=14318, persona_id=dagoth_ur]\n"
    )
    (record,), _ = records_of(line)
    assert record.level == "ERROR" and record.logger == "services.memory.rag"
    assert record.message.endswith("another loop is running")
    assert record.trace["persona_id"] == "dagoth_ur" and record.trace["user_id"] == "22334"
    assert record.time == time.mktime((2026, 1, 21, 23, 17, 54, 0, 0, -1))


def test_text_line_with_milliseconds():
    line = b"2025-12-10 22:31:18,691 - __main__ - ERROR - Fatal error: 'ChatCog' object\n"
    (record,), _ = records_of(line)
    assert record.time == pytest.approx(time.mktime((2025, 12, 10, 22, 31, 18, 0, 0, -1)) + 0.691)
    assert record.message == "Fatal error: 'ChatCog' object"


def test_json_line_with_the_bots_plus_zero_z_quirk():
    line = json.dumps(
        {
            "timestamp": "2026-02-04T16:56:18.250000+00:00Z",
            "level": "ERROR",
            "logger": "services.conversation.orchestrator",
            "message": "Failed to generate/send message",
            "trace_id": "msg_1_2",
            "context": {"user_id": USER, "channel_id": CHANNEL},
            "exception": {"type": "TypeError", "message": "missing 1 required"},
        }
    ).encode()
    (record,), _ = records_of(line + b"\n")
    assert record.fmt == "json" and record.level == "ERROR"
    assert record.time == pytest.approx(calendar.timegm((2026, 2, 4, 16, 56, 18)) + 0.25)
    assert record.trace["trace_id"] == "msg_1_2"
    assert record.traceback_type() == "TypeError"


def test_iso_time_accepts_plain_and_quirky_forms():
    assert iso_time("2026-02-04T16:56:18+00:00Z") == iso_time("2026-02-04T16:56:18+00:00")
    assert iso_time("2026-02-04T16:56:18Z") == calendar.timegm((2026, 2, 4, 16, 56, 18))
    assert iso_time("yesterday") is None


def test_continuation_lines_belong_to_their_record_and_name_the_exception():
    gen = LogGen(start=time.time() - 60).dns_outage(1).heartbeats(1)
    records, stats = records_of(gen.data())
    assert [r.logger for r in records] == ["discord.client", "discord.gateway"]
    assert records[0].continuation_count == len(DNS_TRACEBACK)
    assert records[0].traceback_type() == "aiohttp.client_exceptions.ClientConnectorDNSError"
    assert stats.continuation_lines == len(DNS_TRACEBACK)


def test_huge_binary_and_invalid_utf8_lines_never_stop_the_parser():
    gen = LogGen(start=time.time() - 60)
    gen.heartbeats(1).huge_payload(3_000_000).binary_junk().invalid_utf8().heartbeats(1)
    records, stats = records_of(gen.data())
    assert [r.level for r in records] == ["DEBUG", "DEBUG", "WARNING", "DEBUG"]
    assert len(records[1].message) <= 8192
    assert stats.huge_lines >= 1 and stats.binary_lines == 1 and stats.invalid_utf8_lines == 1
    assert "\ufffd" in records[2].message


def test_lines_before_any_record_are_orphans():
    records, stats = records_of(b"garbage first\n2026-01-01 00:00:00 - x - INFO - hi\n")
    assert len(records) == 1 and stats.orphan_lines == 1


def test_journalctl_json_entries_with_tracebacks_and_byte_messages():
    base = 1_770_000_000_000_000

    def entry(n: int, message: object) -> bytes:
        return json.dumps(
            {"__REALTIME_TIMESTAMP": str(base + n), "PRIORITY": "6", "MESSAGE": message}
        ).encode()

    lines = [
        entry(0, "2026-02-02 10:00:00,123 - launcher - INFO - Starting Gestalt runtime surfaces"),
        entry(1, "2026-02-02 10:00:01,000 - discord.client - ERROR - Attempting a reconnect"),
        entry(2, "Traceback (most recent call last):"),
        entry(3, "socket.gaierror: [Errno -3] Temporary failure in name resolution"),
        entry(4, list(b"2026-02-02 10:00:02,000 - x - WARNING - bad \xff byte")),
        b"not json at all",
    ]
    stats = ParseStats()
    records = list(iter_records(lines, stats, fmt="journal"))
    assert [r.level for r in records] == ["INFO", "ERROR", "WARNING"]
    assert records[1].traceback_type() == "socket.gaierror"
    assert all(r.fmt == "journal" for r in records)
    assert stats.orphan_lines == 1 and stats.invalid_utf8_lines == 1


def test_bare_journal_lines_become_records_at_their_priority():
    line = json.dumps(
        {"__REALTIME_TIMESTAMP": "1770000000000000", "PRIORITY": "3", "MESSAGE": "boom"}
    ).encode()
    (record,) = list(iter_records([line], ParseStats(), fmt="journal"))
    assert record.level == "ERROR" and record.time == 1_770_000_000


# -- templates and samples ------------------------------------------------------------------
def test_copies_that_differ_only_in_ids_numbers_and_quotes_share_a_template():
    a = template_of(f"Responding in channel {CHANNEL} to <@{USER}> in 5.4s: 'hello there'")
    b = template_of("Responding in channel 1431878519016915000 to <@99> in 12s: 'other text'")
    assert a == b == "Responding in channel <ID> to <ID> in <NUM>s: <STR>"
    assert template_of("GET https://x.io/a?b=1 at /root/acore_bot/data/x.json 0xdeadbeef") == (
        "GET <URL> at <PATH> <HEX>"
    )


def test_samples_keep_code_names_but_never_user_text_or_ids():
    sample = sample_of(
        f'user {USER} said \'{USER_TEXT}\' in <#{CHANNEL}>: payload {{"content": "{USER_TEXT}"}} '
        "AttributeError 'ChatCog' has no 'behavior_engine'"
    )
    assert USER not in sample and CHANNEL not in sample and USER_TEXT not in sample
    assert "'ChatCog'" in sample and "'behavior_engine'" in sample


def test_samples_mask_webhook_urls_and_tokens():
    sample = sample_of(
        "posting to https://discord.com/api/webhooks/123456789012345678/abcDEF_ghi-jkl with "
        "MTMwOTg3NjU0MzIxMDk4NzY1NA.GdEmO1.dEm0t0kEnNotReal_xxxxxxxxxxxxxxxxxxxxx"
    )
    assert "abcDEF_ghi" not in sample and "dEm0t0kEn" not in sample


# -- signatures -------------------------------------------------------------------------------
@pytest.mark.parametrize("signature", SIGNATURES, ids=lambda s: s.key)
def test_each_signature_matches_its_production_line_and_only_that(signature):
    logger, level, message = SIGNATURE_LINES[signature.key]
    assert signature.pattern.search(message), f"{signature.key} misses {message!r}"
    others = [
        key
        for key, (_, _, text) in SIGNATURE_LINES.items()
        if key != signature.key and signature.pattern.search(text)
    ]
    # A 'Fatal error: ... PrivilegedIntentsRequired' line is rightly both.
    assert set(others) <= {"privileged_intents"} if signature.key == "fatal_error" else not others


def test_signature_table_entries_are_complete():
    assert set(SIGNATURES_BY_KEY) == set(SIGNATURE_LINES)
    for signature in SIGNATURES:
        assert signature.severity in ("critical", "warning")
        assert (
            signature.cause and signature.recommendation and signature.guide.startswith("guides/")
        )


def test_conversation_content_is_replaced_as_a_whole_everywhere(tmp_path):
    """Reply previews and generated text: gone from templates, samples and saved state keys,
    while the prefix (what kind of line it is) stays readable."""
    gen = LogGen(start=1_800_000_000)
    gen.line("utils.response_validator", "ERROR", f"Response preview: {USER_TEXT} 42 'ok'")
    gen.line(
        "services.conversation.orchestrator", "WARNING", f"Sent message from scav: {USER_TEXT}"
    )
    analysis = Analyzer().feed_lines(iter(gen.data().splitlines(True)))
    keys = analysis.template_keys()
    assert "ERROR Response preview: <CONTENT>" in keys
    assert "WARNING Sent message from <PERSONA>: <CONTENT>" in keys
    samples = [t.sample for t in analysis.templates.values()]
    assert samples and all(USER_TEXT not in s and "<CONTENT>" in s for s in samples)
    state = load_state(tmp_path / "reports", tmp_path / "bot")
    save_state(state, keys)
    assert USER_TEXT not in state.path.read_text()


def test_persona_names_are_one_template_and_code_names_stay_readable():
    assert template_of("Persona goth_mommy not found") == template_of("Persona scav not found")
    assert template_of("Failed to generate message for scav/dagoth_ur (attempt 3)") == (
        "Failed to generate message for <PERSONA> (attempt <NUM>)"
    )
    flood = template_of(
        "Failed to generate/send message: OpenRouterService.generate() missing 1 required "
        "positional argument: 'prompt'"
    )
    assert flood.endswith("argument: 'prompt'")
    fatal = template_of("Fatal error: 'ChatCog' object has no attribute 'behavior_engine'")
    assert "'ChatCog'" in fatal and "'behavior_engine'" in fatal
    assert template_of("User typed 'hello there'") == "User typed <STR>"
    assert "'hello'" not in sample_of("User typed 'hello'")
