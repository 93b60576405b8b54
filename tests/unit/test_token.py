"""A Discord bot token's shape, judged offline."""

import pytest

from acore_doctor.probes.token import snowflake_from_segment, token_shape
from tests.support.builder import BOT_ID, make_token


def test_well_formed_token_passes_and_yields_the_bot_id():
    shape = token_shape(make_token())
    assert shape.ok, shape.problems
    assert shape.bot_id == BOT_ID


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        (None, "not set"),
        ("", "not set"),
        ("your_token_here", "placeholder"),
        ("YOUR_DISCORD_BOT_TOKEN", "placeholder"),
        ("<token>", "placeholder"),
        ("change_me_in_production", "placeholder"),
        ("abc.def", "2 dot-separated part(s)"),
        (f"Bot {make_token()}", "starts with 'Bot '"),
        (f"'{make_token()}'", "quotes"),
        (f"{make_token()} ", "spaces"),
        ("aGVsbG8gd29ybGQ.GaBcDe." + "x" * 38, "not base64 of a numeric Discord id"),
        (make_token().replace("GaBcDe", "Ga+cDe"), "URL-safe base64"),
    ],
)
def test_bad_tokens_are_described(token, problem):
    shape = token_shape(token)
    assert not shape.ok
    assert any(problem in p for p in shape.problems), shape.problems


def test_snowflake_decoding():
    assert snowflake_from_segment("MTIzNDU2Nzg5MDEyMzQ1Njc4") == "123456789012345678"
    assert snowflake_from_segment("!!!") is None
