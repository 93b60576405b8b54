"""Settings are read as the bot reads them, without touching os.environ."""

from __future__ import annotations

import os

import pytest

from acore_doctor.deployment import resolve_bot_dir
from acore_doctor.settings import load_settings, parse_bool, parse_number


@pytest.mark.parametrize(
    ("raw", "value", "flagged"),
    [
        ("true", True, False),
        ("TRUE", True, False),
        ("True", True, False),
        ("false", False, False),
        ("yes", False, True),
        ("1", False, True),
        ("on", False, True),
        ("", True, False),
        (None, True, False),
    ],
)
def test_bool_is_true_only_for_the_word_true(raw, value, flagged):
    parsed, problem = parse_bool("X", raw, True)
    assert parsed is value
    assert (problem is not None) is flagged


def test_bad_numbers_fall_back_to_default_and_are_reported():
    assert parse_number("N", "42", 7, int) == (42, None)
    value, problem = parse_number("N", "forty", 7, int)
    assert value == 7 and "not a valid int" in problem.reason
    value, problem = parse_number("F", "0.5s", 1.0, float)
    assert value == 1.0 and problem.used == 1.0


def test_env_file_read_without_changing_os_environ(tmp_path):
    env = tmp_path / ".env"
    env.write_text("ACORE_TEST_ONLY_KEY=from-file\nOTHER=x # comment\nQUOTED='a b'\n")
    before = dict(os.environ)
    settings = load_settings(env, environ={})
    assert dict(os.environ) == before
    assert settings.raw("ACORE_TEST_ONLY_KEY") == "from-file"
    assert settings.raw("OTHER") == "x"
    assert settings.raw("QUOTED") == "a b"


def test_process_environment_wins_over_env_file(tmp_path):
    env = tmp_path / ".env"
    env.write_text("OLLAMA_MODEL=from-file\nLOG_LEVEL=INFO\n")
    settings = load_settings(env, environ={"OLLAMA_MODEL": "from-env"})
    assert settings.raw("OLLAMA_MODEL") == "from-env"
    assert settings.source("OLLAMA_MODEL") == "environment"
    assert settings.source("LOG_LEVEL") == ".env"
    assert settings.source("MISSING") is None


def test_typed_accessors_record_what_the_bot_would_replace(tmp_path):
    env = tmp_path / ".env"
    env.write_text("A=yes\nB=12\nC=twelve\nD=true\nE=a, b ,,c\n")
    settings = load_settings(env, environ={})
    assert settings.bool("A") is False
    assert settings.int("B", 1) == 12
    assert settings.int("C", 1) == 1
    assert settings.bool("D") is True
    assert settings.list("E") == ["a", "b", "c"]
    assert [p.key for p in settings.problems] == ["A", "C"]


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"\x00\x01binary\xff", "binary content"),
        (b"TOKEN=caf\xe9\n", "not valid UTF-8"),
    ],
)
def test_hostile_env_files_give_a_state_not_an_exception(tmp_path, content, error):
    env = tmp_path / ".env"
    env.write_bytes(content)
    settings = load_settings(env, environ={})
    assert settings.env_file.exists
    assert error in settings.env_file.error
    assert settings.file_values == {}


def test_unparseable_lines_are_recorded(tmp_path):
    env = tmp_path / ".env"
    env.write_text('GOOD=1\nthis is not a setting\nBAD="unterminated\nLATER=2\n')
    settings = load_settings(env, environ={})
    assert settings.raw("GOOD") == "1"
    assert settings.env_file.unparsed_lines


def test_missing_and_unreadable_env_files(tmp_path):
    assert load_settings(tmp_path / "nope", environ={}).env_file.exists is False
    directory = tmp_path / "dir.env"
    directory.mkdir()
    state = load_settings(directory, environ={}).env_file
    assert state.exists and state.error


def test_bot_dir_resolution_order(tmp_path, monkeypatch):
    monkeypatch.delenv("ACORE_BOT_DIR", raising=False)
    assert resolve_bot_dir(None, None, tmp_path) == tmp_path
    assert resolve_bot_dir(None, str(tmp_path / "ini"), tmp_path) == tmp_path / "ini"
    monkeypatch.setenv("ACORE_BOT_DIR", str(tmp_path / "env"))
    assert resolve_bot_dir(None, str(tmp_path / "ini"), tmp_path) == tmp_path / "env"
    assert resolve_bot_dir(str(tmp_path / "opt"), "x", tmp_path) == tmp_path / "opt"
