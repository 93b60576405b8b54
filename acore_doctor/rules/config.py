"""Configuration rules: the bot's settings (and auth.json facts) -> problems (§2).

Pure functions: every one returns a list of plain-text problems (empty when there is none),
reads no file and never raises on bad values. None of them prints a secret's value. What a
key means (kind, default, crash at import) comes from ``settings.known``: the bundled catalog
merged with the deployment's own config source.
"""

from __future__ import annotations

import ast
import difflib
import math
from urllib.parse import urlsplit

from acore_doctor import catalog
from acore_doctor.probes.auth_file import AuthFile
from acore_doctor.probes.bot_source import BotSource, ValidateRule
from acore_doctor.probes.token import is_placeholder
from acore_doctor.redact import is_secret_name
from acore_doctor.settings import BotSettings, llm_provider, parse_number


def _is_set(settings: BotSettings, key: str) -> bool:
    return settings.raw(key) is not None


def _empty(settings: BotSettings, key: str) -> bool:
    value = settings.raw(key)
    return value is not None and value.strip() == ""


def missing_required(settings: BotSettings, entrypoint: str | None) -> list[str]:
    """Settings the bot cannot work without, for the provider it is configured for."""
    problems = []
    if not settings.get("DISCORD_TOKEN").strip():
        problems.append("DISCORD_TOKEN is not set (every Discord surface needs it)")
    provider = llm_provider(settings)
    compat_key = settings.get("OPENAI_COMPAT_API_KEY").strip()
    if provider == "openrouter":
        if not settings.get("OPENROUTER_API_KEY").strip() and not compat_key:
            problems.append(
                "LLM_PROVIDER=openrouter but OPENROUTER_API_KEY is not set"
                + (
                    " (nor OPENAI_COMPAT_API_KEY or an auth.json secret)"
                    if entrypoint == "runtime"
                    else ""
                )
            )
    elif provider in ("openai", "openai_compat") and entrypoint == "runtime":
        if not settings.get("OPENAI_COMPAT_BASE_URL").strip():
            problems.append(f"LLM_PROVIDER={provider} but OPENAI_COMPAT_BASE_URL is not set")
    else:
        for key in ("OLLAMA_HOST", "OLLAMA_MODEL"):
            if _empty(settings, key):
                problems.append(f"{key} is set to an empty value; the bot uses it as-is")
    return problems


def bot_settings(settings: BotSettings) -> list[catalog.Setting]:
    """The bot's own keys (not the suite's) as this deployment's bot reads them."""
    return [s for s in settings.known.values() if not isinstance(s, catalog.SuiteSetting)]


def _placeholder_candidate(key: str) -> bool:
    return is_secret_name(key) or key.endswith(("_URL", "_HOST", "_MODEL"))


def required_keys(settings: BotSettings, entrypoint: str | None) -> set[str]:
    """Keys the configuration the bot actually runs needs real values in (§2.3).

    DISCORD_TOKEN always; the selected LLM provider's credential, URL and model; a thinking
    model's provider; the URLs of the voice services that are switched on.
    """
    keys = {"DISCORD_TOKEN"}
    provider = llm_provider(settings)
    compat = entrypoint == "runtime" and bool(settings.get("OPENAI_COMPAT_BASE_URL").strip())
    if compat:  # overrides every provider on the runtime path (§2.1)
        keys |= {"OPENAI_COMPAT_BASE_URL", "OPENAI_COMPAT_API_KEY", "OPENAI_COMPAT_MODEL"}
    elif provider == "openrouter":
        keys |= {"OPENROUTER_API_KEY", "OPENROUTER_URL", "OPENROUTER_MODEL"}
    elif provider in ("openai", "openai_compat") and entrypoint == "runtime":
        keys |= {"OPENAI_COMPAT_BASE_URL", "OPENAI_COMPAT_API_KEY", "OPENAI_COMPAT_MODEL"}
    else:
        keys |= {"OLLAMA_HOST", "OLLAMA_MODEL"}
    thinking = settings.get("THINKING_MODEL_PROVIDER").strip().lower() or provider
    if settings.get("THINKING_MODEL").strip() and thinking == "openrouter" and not compat:
        keys |= {"OPENROUTER_API_KEY", "OPENROUTER_URL"}
    if settings.get("DISCORD_VOICE_ENABLED"):
        tts_url = catalog.TTS_URL_KEYS.get(settings.get("TTS_ENGINE").strip().lower())
        if tts_url:
            keys.add(tts_url)
        if settings.get("RVC_ENABLED"):
            keys.add("RVC_WEBUI_URL")
        stt = settings.get("STT_ENGINE").strip().lower()
        if stt == "parakeet" and settings.get("PARAKEET_ENABLED"):
            keys.add("PARAKEET_API_URL")
    if settings.get("IMAGE_GENERATION_ENABLED"):
        keys.add("IMAGE_GENERATION_API_KEY")
    if settings.get("ANALYTICS_DASHBOARD_ENABLED"):
        keys.add("ANALYTICS_PASSWORD")
    return keys


def _placeholder_keys(settings: BotSettings) -> list[str]:
    keys = sorted(set(settings.keys_in_file()) | {k for k in settings.known if k in settings})
    return [
        key
        for key in keys
        if _placeholder_candidate(key)
        and (settings.raw(key) or "").strip()
        and is_placeholder(settings.raw(key) or "")
    ]


def placeholders(settings: BotSettings, entrypoint: str | None = None) -> list[str]:
    """Placeholders in keys the running configuration requires: the bot cannot work (critical).

    A placeholder elsewhere is not this rule's: in a dead key it is part of the dead-key
    warning (:func:`dead_keys`), in a key of an unused provider it is information
    (:func:`unused_placeholders`). See docs/severity.md.
    """
    required = required_keys(settings, entrypoint)
    return [
        f"{key} holds a placeholder, not a real value"
        for key in _placeholder_keys(settings)
        if key in required
    ]


def unused_placeholders(settings: BotSettings, entrypoint: str | None = None) -> list[str]:
    """Placeholders in keys the bot reads but the running configuration does not use."""
    required = required_keys(settings, entrypoint)
    return [
        f"{key} holds a placeholder (not used by the running configuration)"
        for key in _placeholder_keys(settings)
        if key not in required and _reads(settings, key)
    ]


def _reads(settings: BotSettings, key: str) -> bool:
    return key in settings.known or key in catalog.OTHER_READERS or catalog.is_suite_key(key)


def silently_replaced(settings: BotSettings) -> list[str]:
    """Values the bot replaces by its default without a word (bad numbers, yes/1 for bools)."""
    for setting in bot_settings(settings):
        if setting.kind in ("bool", "int", "float") and not setting.crashes_at_import:
            getattr(settings, setting.kind)(setting.key, setting.default)
    problems = [p.describe() for p in settings.problems]
    for setting in bot_settings(settings):
        if setting.kind != "intlist":
            continue
        raw = settings.raw(setting.key)
        if raw is None or not raw.strip():
            continue
        bad = [
            item.strip()
            for item in raw.split(",")
            if item.strip() and not item.strip().lstrip("-").isdigit()
        ]
        if bad:
            problems.append(
                f"{setting.key}: {bad[0]!r} is not a number, so the bot drops the whole list "
                f"and uses {setting.default or 'an empty list'!r}"
            )
    return problems


def import_crashes(settings: BotSettings) -> list[str]:
    """Values read with a raw int()/float() at import: the bot does not start at all."""
    problems = []
    for setting in bot_settings(settings):
        if not setting.crashes_at_import:
            continue
        raw = settings.raw(setting.key)
        if raw is None:
            continue
        kind = int if setting.kind == "int" else float
        _, problem = parse_number(setting.key, raw, 0, kind)
        if problem is not None:
            problems.append(
                f"{setting.key}={raw!r} is not a valid {kind.__name__}: config/__init__.py "
                f"raises ValueError on import"
            )
    return problems


def _number(settings: BotSettings, key: str) -> float | None:
    setting = settings.known.get(key)
    raw = settings.raw(key)
    if setting is None or raw is None or raw.strip() == "":
        return None
    kind = int if setting.kind == "int" else float
    value, problem = parse_number(key, raw, 0, kind)
    return None if problem else float(value)


def range_violations(settings: BotSettings) -> list[str]:
    """The range rules of the shadowed config.py, the allowed values of mode strings, and
    finiteness: NaN and the infinities are out of range for every float setting."""
    problems = []
    not_finite = set()
    for setting in bot_settings(settings):
        value = _number(settings, setting.key) if setting.kind == "float" else None
        if value is not None and not math.isfinite(value):
            not_finite.add(setting.key)
            problems.append(
                f"{setting.key}={settings.raw(setting.key)!r} is not a finite number "
                "(NaN and infinities are out of range for every float setting)"
            )
    for rule in catalog.RANGE_RULES:
        value = _number(settings, rule.key)
        if value is None or rule.key in not_finite:
            continue
        if rule.at_least_key:
            other = _number(settings, rule.at_least_key)
            if other is None:
                other_setting = settings.known.get(rule.at_least_key)
                other = float(other_setting.default) if other_setting else None  # type: ignore[arg-type]
            if other is not None and value < other:
                problems.append(
                    f"{rule.key}={value:g} should be >= {rule.at_least_key} ({other:g})"
                )
            continue
        if (rule.low is not None and value < rule.low) or (
            rule.high is not None and value > rule.high
        ):
            problems.append(f"{rule.key}={value:g} should be {rule.describe()}")
    for key, allowed in catalog.CHOICES.items():
        raw = settings.raw(key)
        if raw is None or raw.strip() == "":
            continue
        candidate = raw.strip().upper() if key == "LOG_LEVEL" else raw.strip().lower()
        if candidate not in allowed:
            problems.append(f"{key}={raw!r} should be one of {', '.join(sorted(allowed))}")
    return problems


def dead_keys(settings: BotSettings) -> list[str]:
    """Keys in `.env` that no code of the bot reads: documented-but-dead, or misspelled."""
    problems = []
    known = sorted(set(settings.known) | catalog.OTHER_READERS)
    for key in settings.keys_in_file():
        if _reads(settings, key):
            continue
        reason = (
            catalog.DEAD_KEYS.get(key)
            or settings.unread.get(key)
            or next(
                (why for prefix, why in catalog.DEAD_PREFIXES.items() if key.startswith(prefix)),
                None,
            )
        )
        if key == "ANALYTICS_API_KEY" and (settings.raw("ANALYTICS_PASSWORD") or "").strip():
            reason = "the dashboard reads ANALYTICS_PASSWORD (set here), not this key"
        if reason is None:
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.8)
            reason = f"did you mean {close[0]}?" if close else "unknown to the bot"
        if is_placeholder(settings.raw(key) or ""):
            reason += " (it still holds the example's placeholder)"
        problems.append(f"{key}: {reason}")
    return problems


def _port(url: str) -> tuple[str, int] | None:
    try:
        parts = urlsplit(url.strip())
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return None
    host = (parts.hostname or "").replace("localhost", "127.0.0.1")
    return (host, port) if host and port else None


def selector_crashes(settings: BotSettings, entrypoint: str | None) -> list[str]:
    """Provider selectors that make the bot raise at startup (§2.2, §2.6)."""
    problems = []
    tts = settings.get("TTS_ENGINE").strip().lower()
    if tts in catalog.TTS_ENGINES_CRASHING and entrypoint != "runtime":
        problems.append(
            f"TTS_ENGINE={tts}: its module was deleted; the legacy bot builds TTS at every "
            "start (even with voice off) and raises RuntimeError"
        )
    if tts in ("luxtts", "qwen3tts") and _empty(settings, catalog.TTS_URL_KEYS[tts]):
        problems.append(f"TTS_ENGINE={tts} with an empty {catalog.TTS_URL_KEYS[tts]}: RuntimeError")
    fallback_models = settings.get("LLM_FALLBACK_MODELS")
    if entrypoint != "runtime" and settings.get("LLM_FALLBACK_ENABLED") and fallback_models:
        problems.append(
            "LLM_FALLBACK_ENABLED=true with LLM_FALLBACK_MODELS set: the legacy factory calls "
            ".split(',') on the parsed list and raises AttributeError before the bot starts"
        )
    return problems


def selector_warnings(settings: BotSettings, entrypoint: str | None) -> list[str]:
    """Provider selectors that silently give less than asked for (§2.2, §2.6)."""
    problems = []
    provider = llm_provider(settings)
    known = catalog.LLM_PROVIDERS.get(entrypoint or "legacy", catalog.LLM_PROVIDERS["legacy"])
    if provider not in known:
        problems.append(f"LLM_PROVIDER={provider!r} is unknown; the bot silently uses ollama")
    tts = settings.get("TTS_ENGINE").strip().lower()
    voice = settings.get("DISCORD_VOICE_ENABLED")
    if tts and tts not in catalog.TTS_ENGINES_WORKING | catalog.TTS_ENGINES_CRASHING:
        problems.append(f"TTS_ENGINE={tts!r} is unknown: the bot builds no TTS at all")
    if voice and settings.get("STT_ENGINE").strip().lower() != "parakeet":
        problems.append(
            "DISCORD_VOICE_ENABLED=true but STT_ENGINE is not parakeet: no speech "
            "recognition at all (whisper is help text only)"
        )
    if settings.get("RVC_ENABLED") and settings.get("RVC_MODE").strip() != "webui":
        problems.append(f"RVC_MODE={settings.raw('RVC_MODE')!r}: only webui works, RVC is off")
    active_url_key = catalog.TTS_URL_KEYS.get(tts)
    if active_url_key:
        active = _port(settings.get(active_url_key))
        for engine, key in catalog.TTS_URL_KEYS.items():
            if engine == tts or not _is_set(settings, key):
                continue
            other = _port(settings.str(key))
            if active and other == active:
                problems.append(
                    f"{active_url_key} and {key} both point at {active[0]}:{active[1]}: two TTS "
                    "engines cannot serve one port"
                )
    return problems


def credential_precedence(settings: BotSettings, auth: AuthFile) -> list[str]:
    """Where the runtime path really takes its provider credentials from (§2.1)."""
    problems = []
    if settings.get("OPENAI_COMPAT_BASE_URL").strip():
        problems.append(
            "OPENAI_COMPAT_BASE_URL is set: it overrides the ollama, openrouter and openai "
            "providers at once, whatever LLM_PROVIDER says"
        )
    if not auth.exists:
        return problems
    if auth.error:
        problems.append(f"{auth.path}: {auth.error}")
    if auth.mode is not None and auth.mode & 0o077:
        problems.append(f"{auth.path} has mode {auth.mode:04o}, expected 0600 (it holds secrets)")
    provider = llm_provider(settings)
    if provider in auth.secret_providers or "openai" in auth.secret_providers:
        source = provider if provider in auth.secret_providers else "openai (fallback)"
        env_key = {"openrouter": "OPENROUTER_API_KEY"}.get(provider)
        extra = f", not {env_key} from .env" if env_key and settings.str(env_key) else ""
        problems.append(
            f"{auth.path} holds a secret for {source}: the runtime uses it for {provider}{extra}"
        )
    return problems


def config_load_errors(source: BotSource | None) -> list[str]:
    """Config files the bot imports at start that cannot load (SyntaxError, unreadable):
    the bot dies before it logs a line (critical). A broken file nothing imports is not one."""
    if source is None:
        return []
    loaded = source.loaded
    return [
        f"{error.describe()} (the bot cannot 'import config')"
        for error in source.load_errors
        if loaded is None or error.file in loaded
    ]


class _Unknown(Exception):
    """A validate() test this evaluator cannot decide: the rule is not judged."""


_COMPARE = {
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
}


def _evaluate(node: ast.expr, settings: BotSettings) -> object:
    """A validate() test over the values the bot parsed: ``cls.KEY``, literals, comparisons,
    ``not``/``and``/``or`` and unary minus; anything else is unknown."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        if node.value.id in ("cls", "self", "Config") and node.attr in settings.known:
            return settings.get(node.attr)
        raise _Unknown
    if isinstance(node, ast.UnaryOp):
        value = _evaluate(node.operand, settings)
        if isinstance(node.op, ast.Not):
            return not value
        if isinstance(node.op, ast.USub) and isinstance(value, int | float):
            return -value
        raise _Unknown
    if isinstance(node, ast.BoolOp):
        values = [_evaluate(v, settings) for v in node.values]
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.Compare):
        left = _evaluate(node.left, settings)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _evaluate(comparator, settings)
            compare = _COMPARE.get(type(op))
            if compare is None:
                raise _Unknown
            try:
                if not compare(left, right):
                    return False
            except TypeError as exc:
                raise _Unknown from exc
            left = right
        return True
    raise _Unknown


def validator_failures(settings: BotSettings, rules: tuple[ValidateRule, ...]) -> list[str]:
    """The config.py-only layout: the first rule of its ``Config.validate()`` that raises for
    these settings (the bot stops there, so later rules are not reached); empty when none."""
    for rule in rules:
        try:
            raises = bool(_evaluate(rule.test, settings))
        except (_Unknown, RecursionError):
            continue
        if raises:
            keys = sorted(
                {
                    n.attr
                    for n in ast.walk(rule.test)
                    if isinstance(n, ast.Attribute) and n.attr in settings.known
                }
            )
            values = ", ".join(
                f"{key}={'(secret)' if is_secret_name(key) else repr(settings.get(key))}"
                for key in keys
            )
            return [
                f"Config.validate() raises '{rule.message}' ({rule.where}) for {values}: "
                "the bot stops at start"
            ]
    return []


def validated_keys(rules: tuple[ValidateRule, ...]) -> set[str]:
    """Keys a config.py validate() rule judges (their range problems are critical there)."""
    return {
        node.attr
        for rule in rules
        for node in ast.walk(rule.test)
        if isinstance(node, ast.Attribute)
    }
