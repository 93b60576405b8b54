"""Configuration rules over real .env files, read with the bot's parse rules."""

from __future__ import annotations

from pathlib import Path

from acore_doctor import catalog
from acore_doctor.probes import auth_file as auth_probe
from acore_doctor.rules import config as config_rules
from acore_doctor.settings import BotSettings, load_settings


def settings_from(tmp_path: Path, text: str) -> BotSettings:
    path = tmp_path / ".env"
    path.write_text(text)
    return load_settings(path, environ={})


def test_catalog_covers_the_reference_keys() -> None:
    assert len(catalog.SETTINGS) > 300
    assert catalog.SETTINGS["KOBOLDCPP_STEPS"].crashes_at_import
    assert not catalog.SETTINGS["OLLAMA_MAX_TOKENS"].crashes_at_import
    assert catalog.SETTINGS["CHAT_HISTORY_MAX_MESSAGES"].default == 100
    assert catalog.SETTINGS["KOBOLDCPP_SAMPLER"].default == "Euler a"
    assert not set(catalog.DEAD_KEYS) & set(catalog.SETTINGS)


def test_bools_and_numbers_the_bot_replaces(tmp_path: Path) -> None:
    s = settings_from(
        tmp_path,
        "RL_ENABLED=1\nVISION_ENABLED=True\nOLLAMA_TOP_K=50.5\n"
        "IGNORED_USERS=1,2,bob\nLLM_FALLBACK_MODELS=a,b\n",
    )
    problems = config_rules.silently_replaced(s)
    assert any(p.startswith("RL_ENABLED='1'") for p in problems)
    assert any(p.startswith("OLLAMA_TOP_K='50.5'") for p in problems)
    assert any(p.startswith("IGNORED_USERS: 'bob'") for p in problems)
    assert not any("VISION_ENABLED" in p or "LLM_FALLBACK_MODELS" in p for p in problems)


def test_import_crash_keys(tmp_path: Path) -> None:
    s = settings_from(tmp_path, "KOBOLDCPP_CFG_SCALE=7,5\nCODE_EXECUTION_TIMEOUT=30\n")
    crashes = config_rules.import_crashes(s)
    assert len(crashes) == 1 and crashes[0].startswith("KOBOLDCPP_CFG_SCALE='7,5'")
    assert config_rules.silently_replaced(s) == []  # crash keys are not "silently replaced"


def test_ranges_and_choices(tmp_path: Path) -> None:
    s = settings_from(
        tmp_path,
        "NATURAL_TIMING_MIN_DELAY=3\nNATURAL_TIMING_MAX_DELAY=1\n"
        "HESITATION_CHANCE=1.5\nLOG_LEVEL=debug\nLOG_FORMAT=xml\n",
    )
    problems = config_rules.range_violations(s)
    assert "NATURAL_TIMING_MAX_DELAY=1 should be >= NATURAL_TIMING_MIN_DELAY (3)" in problems
    assert "HESITATION_CHANCE=1.5 should be in [0, 1]" in problems
    assert any(p.startswith("LOG_FORMAT='xml'") for p in problems)
    assert not any("LOG_LEVEL" in p for p in problems)  # the level is case-insensitive
    assert config_rules.range_violations(settings_from(tmp_path, "OLLAMA_TEMPERATURE=2\n")) == []


def test_dead_keys_prefixes_and_spelling(tmp_path: Path) -> None:
    s = settings_from(
        tmp_path,
        "AMBIENT_CHANNELS=1\nOLLAMA_HSOT=x\nDIAGNOSTIC_REPORTS_PATH=r\n"
        "TOTALLY_UNRELATED_THING=1\nOLLAMA_HOST=x\n",
    )
    dead = config_rules.dead_keys(s)
    assert any(d.startswith("AMBIENT_CHANNELS: the AMBIENT_*") for d in dead)
    assert "OLLAMA_HSOT: did you mean OLLAMA_HOST?" in dead
    assert "TOTALLY_UNRELATED_THING: unknown to the bot" in dead
    assert len(dead) == 3


def test_selector_crashes_depend_on_the_entrypoint(tmp_path: Path) -> None:
    s = settings_from(
        tmp_path, "TTS_ENGINE=supertonic\nLLM_FALLBACK_ENABLED=true\nLLM_FALLBACK_MODELS=a,b\n"
    )
    assert len(config_rules.selector_crashes(s, "legacy")) == 2
    assert config_rules.selector_crashes(s, "runtime") == []
    lux = settings_from(tmp_path, "TTS_ENGINE=luxtts\nLUXTTS_API_URL=\n")
    assert "empty LUXTTS_API_URL" in config_rules.selector_crashes(lux, "legacy")[0]


def test_two_tts_engines_on_one_port(tmp_path: Path) -> None:
    s = settings_from(tmp_path, "TTS_ENGINE=kokoro_api\nQWEN3TTS_API_URL=http://127.0.0.1:8880\n")
    assert any(
        "both point at 127.0.0.1:8880" in p for p in config_rules.selector_warnings(s, "legacy")
    )
    apart = settings_from(
        tmp_path, "TTS_ENGINE=kokoro_api\nQWEN3TTS_API_URL=http://127.0.0.1:8881\n"
    )
    assert config_rules.selector_warnings(apart, "legacy") == []
    provider = settings_from(tmp_path, "LLM_PROVIDER=openai\n")
    assert config_rules.selector_warnings(provider, "legacy")
    assert config_rules.selector_warnings(provider, "runtime") == []


def test_required_per_provider(tmp_path: Path) -> None:
    token = "DISCORD_TOKEN=x.y.z\n"
    assert config_rules.missing_required(settings_from(tmp_path, token), "legacy") == []
    empty_model = settings_from(tmp_path, token + "OLLAMA_MODEL=\n")
    assert config_rules.missing_required(empty_model, "legacy") == [
        "OLLAMA_MODEL is set to an empty value; the bot uses it as-is"
    ]
    compat = settings_from(tmp_path, token + "LLM_PROVIDER=openrouter\nOPENAI_COMPAT_API_KEY=k\n")
    assert config_rules.missing_required(compat, "runtime") == []


def test_placeholders_only_for_secret_url_and_model_keys(tmp_path: Path) -> None:
    s = settings_from(
        tmp_path,
        "OPENROUTER_API_KEY=your_openrouter_key_here\nOLLAMA_HOST=<ollama host>\nBOT_MODE=none\n",
    )
    found = config_rules.placeholders(s)
    # Ollama is the provider in use: its host is required, the OpenRouter key is not (info).
    assert found == ["OLLAMA_HOST holds a placeholder, not a real value"]
    assert config_rules.unused_placeholders(s) == [
        "OPENROUTER_API_KEY holds a placeholder (not used by the running configuration)"
    ]
    assert "your_openrouter" not in " ".join(found)


def test_placeholder_severity_follows_the_running_configuration(tmp_path: Path) -> None:
    """docs/severity.md: critical only in a required key; dead key: warning; unused: info."""
    example = (
        "DISCORD_TOKEN=your_discord_token_here\nOPENROUTER_API_KEY=sk-or-v1-xxxxxxxx\n"
        "ANALYTICS_API_KEY=change_me_in_production\nOPENAI_API_KEY=sk-...\n"
    )
    ollama = settings_from(tmp_path, example)
    assert config_rules.placeholders(ollama, "legacy") == [
        "DISCORD_TOKEN holds a placeholder, not a real value"
    ]
    assert config_rules.unused_placeholders(ollama, "legacy") == [
        "OPENAI_API_KEY holds a placeholder (not used by the running configuration)",
        "OPENROUTER_API_KEY holds a placeholder (not used by the running configuration)",
    ]
    dead = config_rules.dead_keys(ollama)
    assert dead == [
        "ANALYTICS_API_KEY: the dashboard reads ANALYTICS_PASSWORD (default 'admin'), not this "
        "key (it still holds the example's placeholder)"
    ]
    openrouter = settings_from(tmp_path, example + "LLM_PROVIDER=openrouter\n")
    assert "OPENROUTER_API_KEY holds a placeholder, not a real value" in config_rules.placeholders(
        openrouter, "legacy"
    )
    thinking = settings_from(
        tmp_path,
        example + "THINKING_MODEL=deepseek/deepseek-r1\nTHINKING_MODEL_PROVIDER=openrouter\n",
    )
    assert "OPENROUTER_API_KEY" in config_rules.required_keys(thinking, "legacy")


def test_auth_json_facts(tmp_path: Path) -> None:
    auth = tmp_path / "auth.json"
    assert not auth_probe.read_auth_json(auth).exists
    auth.write_text("{not json")
    assert "not readable JSON" in (auth_probe.read_auth_json(auth).error or "")
    auth.write_text('{"providers": {"openai": {"api_key": "sk-x"}, "ollama": {}}}')
    auth.chmod(0o600)
    facts = auth_probe.read_auth_json(auth)
    assert facts.secret_providers == ("openai",) and facts.mode == 0o600
    s = settings_from(tmp_path, "LLM_PROVIDER=openrouter\nOPENROUTER_API_KEY=sk-or-fresh\n")
    problems = config_rules.credential_precedence(s, facts)
    assert problems == [
        f"{auth} holds a secret for openai (fallback): the runtime uses it for "
        "openrouter, not OPENROUTER_API_KEY from .env"
    ]
