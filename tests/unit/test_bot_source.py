"""Settings knowledge from the bot's own config/ source, parsed with ast and never imported."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from acore_doctor import catalog
from acore_doctor.demo import DEPLOYMENT
from acore_doctor.deployment import load_deployment
from acore_doctor.probes import bot_source
from acore_doctor.rules import config as config_rules


@pytest.fixture
def bot(tmp_path: Path) -> Path:
    """A copy of the demo checkout (its config/ package follows the reference §2.4)."""
    copy = tmp_path / "acore_bot"
    shutil.copytree(DEPLOYMENT, copy)
    return copy


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def test_demo_config_source_agrees_with_the_bundled_catalog(bot: Path) -> None:
    source = bot_source.derive_bot_source(bot)
    assert source.unparsed == []
    assert source.origin.startswith("bot source at ")
    derived = bot_source.as_settings(source, catalog.SETTINGS)
    for key, setting in derived.items():
        bundled = catalog.SETTINGS[key]
        assert setting.kind == bundled.kind or {setting.kind, bundled.kind} == {"str", "path"}
        assert str(setting.default) == str(bundled.default), key
        assert setting.crashes_at_import == bundled.crashes_at_import, key
    # Every key config/ reads in the reference (§2.4) is found, with its parse kind.
    assert len(derived) == 288
    assert derived["KOBOLDCPP_STEPS"].crashes_at_import  # raw int() in config/__init__.py
    assert derived["RL_EPSILON_BOOST_FACTOR"].crashes_at_import  # __init__ shadows rl.py
    assert not derived["OLLAMA_TOP_K"].crashes_at_import
    assert derived["RAG_KEYWORD_WEIGHT"].default == 0.3  # the first read is the live one
    assert derived["PERSONA_EVOLUTION_MILESTONES"].kind == "intlist"
    assert derived["IMAGE_GENERATION_ENABLED"] == catalog.Setting(
        "IMAGE_GENERATION_ENABLED", "bool", False
    )
    assert source.created_at_start[:5] == (
        "data",
        "data/chat_history",
        "data/voice_models",
        "data/temp",
        "data/conversation_summaries",
    )
    knowledge = bot_source.merge_with_bundled(source, catalog.SETTINGS, catalog.SUITE_SETTINGS)
    assert knowledge.disagreements == []


def test_the_source_is_never_imported(bot: Path) -> None:
    (bot / "config" / "base.py").write_text("raise SystemExit('imported!')\n")
    before = set(sys.modules)
    bot_source.derive_bot_source(bot)
    assert not {name for name in set(sys.modules) - before if name.startswith("config")}


def test_a_changed_default_in_the_bot_source_is_followed(bot: Path) -> None:
    _edit(
        bot / "config" / "llm.py",
        'BaseConfig._get_env("OLLAMA_MODEL", "llama3.2")',
        'BaseConfig._get_env("OLLAMA_MODEL", "qwen2.5:7b")',
    )
    _edit(bot / ".env", "OLLAMA_MODEL=llama3.2\n", "")
    deployment = load_deployment(bot)
    assert deployment.settings.get("OLLAMA_MODEL") == "qwen2.5:7b"
    assert any(
        "OLLAMA_MODEL: the bot's default is 'qwen2.5:7b'" in line
        for line in deployment.knowledge.disagreements
    )


def test_a_raw_conversion_in_the_bot_source_makes_a_bad_value_crash(bot: Path) -> None:
    _edit(
        bot / "config" / "llm.py",
        'OLLAMA_TOP_K: int = BaseConfig._get_env_int("OLLAMA_TOP_K", 50)',
        'OLLAMA_TOP_K: int = int(__import__("os").getenv("OLLAMA_TOP_K", "50"))',
    )
    with (bot / ".env").open("a") as env:
        env.write("OLLAMA_TOP_K=fifty\n")
    settings = load_deployment(bot).settings
    assert any("OLLAMA_TOP_K='fifty'" in p for p in config_rules.import_crashes(settings))
    assert not any("OLLAMA_TOP_K" in p for p in config_rules.silently_replaced(settings))


def test_a_new_key_in_the_bot_source_is_not_a_dead_key(bot: Path) -> None:
    _edit(
        bot / "config" / "llm.py",
        "    LLM_TOP_P: float",
        '    LLM_SEED: int = BaseConfig._get_env_int("LLM_SEED", 7)\n    LLM_TOP_P: float',
    )
    with (bot / ".env").open("a") as env:
        env.write("LLM_SEED=seven\n")
    settings = load_deployment(bot).settings
    assert config_rules.dead_keys(settings) == [
        "ANALYTICS_API_KEY: the dashboard reads ANALYTICS_PASSWORD (default 'admin'), not this key"
    ]
    assert "LLM_SEED='seven': not a valid int; the bot uses 7" in config_rules.silently_replaced(
        settings
    )


def test_keys_read_outside_config_count_as_read(bot: Path) -> None:
    services = bot / "services" / "memory"
    services.mkdir(parents=True)
    (services / "rag.py").write_text(
        'import os\nTELEMETRY = os.getenv("ANONYMIZED_TELEMETRY", "false")\n'
        'EXTRA = os.environ.get("ACORE_EXPERIMENT")\n'
    )
    with (bot / ".env").open("a") as env:
        env.write("ACORE_EXPERIMENT=1\nGESTALT_MCP_ENABLED=true\n")
    deployment = load_deployment(bot)
    dead = config_rules.dead_keys(deployment.settings)
    # services/ makes the checkout whole: a bundled key no code reads is dead now.
    assert any(line.startswith("GESTALT_MCP_ENABLED: ") for line in dead), dead
    assert not any(line.startswith("ACORE_EXPERIMENT") for line in dead), dead
    assert "GESTALT_MCP_ENABLED" in deployment.knowledge.unread
    # Checks that still ask for a key this bot no longer reads get the bundled answer.
    assert "OPENAI_COMPAT_BASE_URL" not in deployment.settings.known
    assert deployment.settings.get("OPENAI_COMPAT_BASE_URL") == ""


def test_without_source_the_bundled_catalog_is_used(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("DISCORD_TOKEN=x\n")
    deployment = load_deployment(tmp_path)
    assert deployment.settings_source == "bundled catalog"
    assert deployment.settings.get("OLLAMA_MODEL") == "llama3.2"


def test_config_py_is_read_only_when_no_package_shadows_it(bot: Path) -> None:
    (bot / "config.py").write_text('import os\nX = int(os.getenv("OLLAMA_TOP_K", "99"))\n')
    assert bot_source.derive_bot_source(bot).reads["OLLAMA_TOP_K"].default == 50
    shutil.rmtree(bot / "config")
    alone = bot_source.derive_bot_source(bot)
    assert alone.config_files == ("config.py",)
    assert alone.reads["OLLAMA_TOP_K"].default == 99
    assert alone.reads["OLLAMA_TOP_K"].crashes_at_import


def test_a_broken_config_file_is_a_fact_not_a_crash(bot: Path) -> None:
    (bot / "config" / "voice.py").write_text("def broken(:\n")
    source = bot_source.derive_bot_source(bot)
    assert source.unparsed and source.unparsed[0].startswith("config/voice.py:1: SyntaxError")
    assert "OLLAMA_MODEL" in source.reads


def test_a_syntax_error_in_an_imported_config_file_stops_the_bot_naming_file_and_line(
    bot: Path,
) -> None:
    voice = bot / "config" / "voice.py"
    lines = voice.read_text().splitlines()
    lines.insert(9, "    BROKEN = (")  # an unclosed parenthesis, as a half-done edit leaves it
    voice.write_text("\n".join(lines) + "\n")
    source = bot_source.derive_bot_source(bot)
    assert source.loaded is not None and "config/voice.py" in source.loaded
    errors = config_rules.config_load_errors(source)
    assert len(errors) == 1 and errors[0].startswith("config/voice.py:"), errors
    assert "SyntaxError" in errors[0]
    # Its keys stay live: no "dead key" because the file cannot be parsed.
    (bot / ".env").write_text((bot / ".env").read_text() + "KOKORO_VOICE=af_bella\n")
    deployment = load_deployment(bot)
    dead = config_rules.dead_keys(deployment.settings)
    assert not [line for line in dead if line.startswith("KOKORO_VOICE")], dead
    assert deployment.settings.get("KOKORO_VOICE") == "af_bella"


def test_a_broken_config_file_nothing_imports_does_not_stop_the_bot(bot: Path) -> None:
    (bot / "config" / "old_backup.py").write_text("def broken(:\n")
    source = bot_source.derive_bot_source(bot)
    assert source.unparsed
    assert config_rules.config_load_errors(source) == []


def test_what_only_the_compiler_rejects_is_a_load_error_too(bot: Path) -> None:
    (bot / "config" / "rl.py").write_text("return 1\n")
    errors = config_rules.config_load_errors(bot_source.derive_bot_source(bot))
    assert errors and errors[0].startswith("config/rl.py:1: SyntaxError"), errors


OLD_CONFIG = """import os


class Config:
    DISCORD_TOKEN: str = os.getenv("DISCORD_TOKEN", "")
    OLLAMA_TEMPERATURE: float = float(os.getenv("OLLAMA_TEMPERATURE", "1.17"))
    NATURAL_TIMING_MIN_DELAY: float = float(os.getenv("NATURAL_TIMING_MIN_DELAY", "0.5"))
    NATURAL_TIMING_MAX_DELAY: float = float(os.getenv("NATURAL_TIMING_MAX_DELAY", "2.0"))

    @classmethod
    def validate(cls) -> bool:
        if not cls.DISCORD_TOKEN:
            raise ValueError("DISCORD_TOKEN is required")
        if not (0.0 <= cls.OLLAMA_TEMPERATURE <= 2.0):
            raise ValueError(f"OLLAMA_TEMPERATURE must be between 0.0 and 2.0, got {cls.X}")
        if cls.NATURAL_TIMING_MAX_DELAY < cls.NATURAL_TIMING_MIN_DELAY:
            raise ValueError("NATURAL_TIMING_MAX_DELAY must be >= NATURAL_TIMING_MIN_DELAY")
        if cls.DATA_DIR.exists() is None:
            raise ValueError("not judged: a call")
        return True


Config.validate()
"""


def test_the_config_py_only_layout_is_judged_by_its_own_validate(bot: Path) -> None:
    shutil.rmtree(bot / "config")
    (bot / "config.py").write_text(OLD_CONFIG)
    source = bot_source.derive_bot_source(bot)
    assert [rule.where for rule in source.validate_rules] == [
        "config.py:12",
        "config.py:14",
        "config.py:16",
        "config.py:18",
    ]
    (bot / ".env").write_text("DISCORD_TOKEN=x\nOLLAMA_TEMPERATURE=1.0\n")
    assert (
        config_rules.validator_failures(load_deployment(bot).settings, source.validate_rules) == []
    )
    (bot / ".env").write_text("DISCORD_TOKEN=x\nOLLAMA_TEMPERATURE=2.5\n")
    failures = config_rules.validator_failures(load_deployment(bot).settings, source.validate_rules)
    assert len(failures) == 1
    assert "OLLAMA_TEMPERATURE must be between 0.0 and 2.0" in failures[0]
    assert "config.py:14" in failures[0] and "OLLAMA_TEMPERATURE=2.5" in failures[0]
    text = "DISCORD_TOKEN=x\nNATURAL_TIMING_MIN_DELAY=3\nNATURAL_TIMING_MAX_DELAY=1\n"
    (bot / ".env").write_text(text)
    failures = config_rules.validator_failures(load_deployment(bot).settings, source.validate_rules)
    assert failures and "config.py:16" in failures[0]


def test_the_commit_names_the_source_when_there_is_one(bot: Path) -> None:
    git = bot / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text("ref: refs/heads/master\n")
    (git / "refs" / "heads" / "master").write_text("8d3fcc0aa1b2c3d4e5f60718293a4b5c6d7e8f90\n")
    assert bot_source.derive_bot_source(bot).origin == "bot source at 8d3fcc0"


def test_derivation_is_cached_per_source_state(bot: Path) -> None:
    first = bot_source.read_bot_source(bot)
    assert bot_source.read_bot_source(bot) is first
    llm = bot / "config" / "llm.py"
    llm.write_text(llm.read_text() + "\n# edited\n")
    assert bot_source.read_bot_source(bot) is not first


def test_a_secrets_default_is_never_shown(bot: Path) -> None:
    _edit(
        bot / "config" / "__init__.py",
        'os.getenv("LITELLM_API_KEY", "dummy")',
        'os.getenv("LITELLM_API_KEY", "sk-live-0123456789abcdef")',
    )
    knowledge = load_deployment(bot).knowledge
    line = next(d for d in knowledge.disagreements if d.startswith("LITELLM_API_KEY"))
    assert "sk-live" not in line and "not shown" in line


def test_an_import_of_a_missing_config_module_or_name_stops_the_bot(bot: Path) -> None:
    assert config_rules.config_load_errors(bot_source.derive_bot_source(bot)) == []
    (bot / "config" / "voice.py").rename(bot / "config" / "voice_old.py")
    errors = config_rules.config_load_errors(bot_source.derive_bot_source(bot))
    assert len(errors) == 1 and errors[0].startswith("config/__init__.py:"), errors
    assert "config.voice does not exist" in errors[0]
    (bot / "config" / "voice_old.py").rename(bot / "config" / "voice.py")
    _edit(bot / "config" / "voice.py", "class VoiceConfig", "class VoiceSettings")
    errors = config_rules.config_load_errors(bot_source.derive_bot_source(bot))
    assert len(errors) == 1 and "cannot import name 'VoiceConfig'" in errors[0], errors
