"""acore_doctor.jsonstream agrees with json.loads on validity, at every block size, and keeps
the complete items of a cut-off document."""

from __future__ import annotations

import io
import json

import pytest

from acore_doctor.jsonstream import salvage, scan

CASES = [
    b"",
    b"  ",
    b"[1,2",
    b"[1,2]x",
    b'{"a":1,"b":',
    b'{"a": [1,2], "b": tr',
    b"123",
    b'"abc',
    b"[true, fals]",
    b"\xff\xfe",
    b'{"a":1}',
    b"[]",
    b"{}",
    b"[1 2]",
    b' [ "a" , {"b": 1.5e3} ] ',
    b'{"a" 1}',
    b"{1:2}",
    b"[1,]",
    b'{"a":1,}',
    b'["\\u00e9", "\\ud83d\\ude00", 12345678901234567890]',
]


@pytest.mark.parametrize("chunk", [1, 3, 64, 1 << 20])
@pytest.mark.parametrize("document", CASES)
def test_valid_exactly_when_json_loads_says_so(document: bytes, chunk: int) -> None:
    try:
        json.loads(document)
        valid = True
    except ValueError:
        valid = False
    assert scan(io.BytesIO(document), chunk=chunk).ok == valid


def test_items_are_counted_and_a_cut_document_keeps_its_complete_items() -> None:
    messages = [{"role": "user", "content": 'hé "x" ' * i} for i in range(300)]
    document = json.dumps(messages).encode()
    for chunk in (7, 1000, 1 << 20):
        result = scan(io.BytesIO(document), chunk=chunk)
        assert result.ok and result.items == 300 and result.container == "list"
    kept, result = salvage(io.BytesIO(document[: len(document) // 2]))
    assert result.error and 50 < len(kept) < 300
    assert kept == messages[: len(kept)]
    members, result = salvage(io.BytesIO(b'{"short_term": [1, 2], "state": {"a"'))
    assert members == {"short_term": [1, 2]} and result.container == "object"


def test_an_item_over_the_limit_is_unchecked_not_corrupt() -> None:
    result = scan(io.BytesIO(json.dumps(["x" * 5000]).encode()), chunk=100, max_item=1000)
    assert result.too_large and not result.ok


def test_every_single_byte_damage_keeps_the_rest_and_invents_nothing() -> None:
    """0xFF at every position of a ten-message history: what is kept is the original's
    messages in order (nothing invented or altered), at least eight of them, and the kept
    plus the counted losses cover all ten."""
    from acore_doctor.jsonstream import salvage_entries
    from acore_doctor.recovery.jsonmerge import merge

    history = [{"role": "user", "content": f"msg {i}", "n": [i, i + 1]} for i in range(10)]
    data = json.dumps(history).encode()
    for at in range(1, len(data) - 1):
        damaged = data[:at] + b"\xff" + data[at + 1 :]
        entries = salvage_entries(damaged)
        assert entries is not None, at
        result = merge(entries)
        kept = result.document
        remaining = iter(history)
        assert all(any(item == h for h in remaining) for item in kept), f"invented at {at}"
        assert len(kept) >= 8, f"byte {at}: kept only {len(kept)}"
        assert len(kept) + result.maybe_lost >= len(history), f"byte {at}: losses not counted"
