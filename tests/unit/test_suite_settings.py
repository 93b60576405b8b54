"""One table per concept: the bot's catalog, the suite's own keys, and get(KEY) reading both."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from acore_doctor import catalog
from acore_doctor.rules import config as config_rules
from acore_doctor.settings import environ_settings, llm_provider, load_settings
from tests.support.sources import suite_sources, tree_of

ROOT = Path(__file__).resolve().parents[2]
TYPED_READERS = {"str", "int", "float", "bool", "list"}
KEY_NAME = re.compile(r"[A-Z][A-Z0-9_]+")


def _typed_reads_with_a_literal_key(path: Path) -> list[str]:
    found = []
    for node in ast.walk(tree_of(path)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in TYPED_READERS
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and KEY_NAME.fullmatch(node.args[0].value)
        ):
            where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
            found.append(f"{where}:{node.lineno}: {ast.unparse(node)}")
    return found


def _suite_files() -> list[Path]:
    """Our code that reads settings: not the catalog, the bot stand-in or the simulator."""
    package = ROOT / "acore_doctor"
    skipped = (package / "simulate", package / "demo")
    return [
        path
        for path in suite_sources()
        if path not in (package / "settings.py", package / "catalog.py")
        and not any(path.is_relative_to(s) for s in skipped)
    ]


def test_no_check_or_probe_repeats_a_key_s_kind_or_default() -> None:
    """settings.<kind>("KEY", default) repeats the catalog by hand: use settings.get("KEY")."""
    offenders = [hit for path in _suite_files() for hit in _typed_reads_with_a_literal_key(path)]
    assert not offenders, "use settings.get(KEY):\n" + "\n".join(offenders)


def _same(value: object, default: object) -> bool:
    return isinstance(value, str | int | float) and str(value) == str(default) and value != ""


def _default_literals(path: Path) -> list[str]:
    """A setting's default written as data: a URL default anywhere, or ``"KEY": default`` /
    ``("KEY", default)`` next to each other in a dict or tuple literal."""
    urls = {str(s.default) for s in catalog.KNOWN.values() if "://" in str(s.default)}
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    found = []
    for node in ast.walk(tree_of(path)):
        pairs: list[tuple[ast.expr | None, ast.expr]] = []
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if any(url in node.value for url in urls):
                found.append(f"{where}:{node.lineno}: {node.value!r}")
        elif isinstance(node, ast.Dict):
            pairs = list(zip(node.keys, node.values, strict=True))
        elif isinstance(node, ast.Tuple | ast.List):
            pairs = list(zip(node.elts, node.elts[1:], strict=False))
        for key, value in pairs:
            if (
                isinstance(key, ast.Constant)
                and isinstance(key.value, str)
                and key.value in catalog.KNOWN
                and isinstance(value, ast.Constant)
                and _same(value.value, catalog.KNOWN[key.value].default)
            ):
                found.append(f"{where}:{node.lineno}: {ast.unparse(node)[:120]}")
    return found


def test_no_default_is_repeated_as_data() -> None:
    """The catalog (or the bot's own code) says each default once: read it with
    settings.get(KEY) or settings.setting(KEY).default, never as a literal beside the key."""
    offenders = [hit for path in _suite_files() for hit in _default_literals(path)]
    assert not offenders, "take the default from the catalog:\n" + "\n".join(offenders)


def test_the_data_scan_finds_a_hand_written_default(tmp_path: Path) -> None:
    sample = tmp_path / "targets.py"
    sample.write_text(
        'URLS = {"kokoro": ("KOKORO_API_URL", "http://localhost:8880")}\n'
        'VOICES = {"KOKORO_VOICE": "am_adam"}\n'
        'HOST = "http://localhost:11434/api"\n'
        'OK = {"KOKORO_VOICE": "af_bella", "OLLAMA_HOST": ""}\n'
    )
    assert sorted(hit.split(": ", 1)[0].rsplit(":", 1)[1] for hit in _default_literals(sample)) == [
        "1",
        "1",
        "2",
        "3",
    ]


def test_the_ast_scan_finds_a_hand_written_default(tmp_path: Path) -> None:
    sample = tmp_path / "reader.py"
    sample.write_text('model = settings.str("OLLAMA_MODEL", "llama3.2")\nok = settings.get("X")\n')
    assert len(_typed_reads_with_a_literal_key(sample)) == 1


def test_readme_variable_table_is_the_suite_table() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration variables", 1)[1].split("\n## ", 1)[0]
    table = "\n".join(line for line in section.splitlines() if line.startswith("|")) + "\n"
    assert table == catalog.suite_settings_markdown()


def test_suite_keys_and_bot_keys_are_separate_tables() -> None:
    assert not set(catalog.SUITE_SETTINGS) & set(catalog.SETTINGS)
    assert not set(catalog.SUITE_SETTINGS) & set(catalog.DEAD_KEYS)
    for key in catalog.SUITE_SETTINGS:
        assert not any(key.startswith(prefix) for prefix in catalog.DEAD_PREFIXES), key


def test_get_takes_kind_and_default_from_the_catalog(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text(
        "OLLAMA_TEMPERATURE=hot\nRAG_ENABLED=yes\nAUTO_REPLY_CHANNELS=1,2\n"
        "IGNORED_USERS=1,x\nLLM_FALLBACK_MODELS=a, b\nHEALTH_CHECK_INTERVAL=60\n"
    )
    settings = load_settings(env, environ={})
    assert settings.get("OLLAMA_MODEL") == "llama3.2"
    assert settings.get("OLLAMA_TEMPERATURE") == 1.17
    assert settings.get("OLLAMA_TOP_K") == 50
    assert settings.get("RAG_ENABLED") is False
    assert settings.get("AUTO_REPLY_CHANNELS") == [1, 2]
    assert settings.get("IGNORED_USERS") == []
    assert settings.get("PERSONA_EVOLUTION_MILESTONES") == [50, 100, 500, 1000, 5000]
    assert settings.get("LLM_FALLBACK_MODELS") == ["a", "b"]
    assert settings.get("HEALTH_CHECK_INTERVAL") == 60.0
    assert settings.get("MAX_RECOVERY_ATTEMPTS") == 3
    assert {p.key for p in settings.problems} == {"OLLAMA_TEMPERATURE", "RAG_ENABLED"}
    with pytest.raises(KeyError, match="NOT_A_KEY"):
        settings.get("NOT_A_KEY")


def test_one_llm_provider_rule() -> None:
    assert llm_provider(environ_settings({})) == "ollama"
    assert llm_provider(environ_settings({"LLM_PROVIDER": " OpenRouter "})) == "openrouter"
    assert llm_provider(environ_settings({"LLM_PROVIDER": ""})) == "ollama"


def test_suite_keys_are_never_dead_keys(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    lines = [f"{key}=1" for key in catalog.SUITE_SETTINGS]
    lines += [
        "AUTO_RECOVERY_STRATEGY=restart",
        "DIAGNOSTIC_BUNDLE_DIR=x",
        "BEHAVIOR_COOLDOWN_SECONDS=5",
    ]
    env.write_text("\n".join(lines) + "\n")
    dead = config_rules.dead_keys(load_settings(env, environ={}))
    assert dead == ["BEHAVIOR_COOLDOWN_SECONDS: the bot reads COOLDOWN_SECONDS"]
