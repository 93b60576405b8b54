"""The LLM the bot talks to: Ollama, OpenRouter, or an OpenAI-compatible server."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from acore_doctor import Blocked, check, roots
from acore_doctor.netprobe.llm import (
    canary_stats,
    error_message,
    has_model,
    key_data,
    loaded_models,
    model_contexts,
    model_names,
    pulled_models,
    version_of,
)
from acore_doctor.netprobe.roots import require_answer
from acore_doctor.netprobe.targets import compat_base, ollama_host, on_this_host, openrouter_url
from acore_doctor.netprobe.transport import HttpResult
from acore_doctor.probes.resources import HostMemory
from acore_doctor.rules.llm import PulledModel, model_fit_problem
from acore_doctor.settings import BotSettings, llm_provider

#: OpenRouter credit below this is a warning (credits are USD)
LOW_CREDIT = 1.0


# -- Ollama ---------------------------------------------------------------------------------
@pytest.mark.critical
@check(
    "Ollama answers",
    "Start Ollama ('systemctl start ollama' or 'ollama serve') and make sure OLLAMA_HOST points "
    "at it.",
    guide="guides/integration_issues.md#ollama-unreachable",
    root=roots.OLLAMA,
)
def test_ollama_answers(ollama_version: HttpResult, record_details) -> None:
    record_details(f"Ollama {version_of(ollama_version)}, {ollama_version.elapsed_s * 1000:.0f} ms")
    status = ollama_version.status or 0
    if ollama_version.answered and status < 500 and not version_of(ollama_version):
        # Some other program holds the port: one root finding, its dependents are symptoms.
        port = urlsplit(ollama_version.url).port or 11434
        raise AssertionError(
            f"port {port} answers, but not as Ollama: expected Ollama's version from "
            f"{ollama_version.target()}, found {ollama_version.describe()}"
        )
    assert version_of(ollama_version), (
        f"expected Ollama's version from {ollama_version.target()}, found {ollama_version.describe()}"
    )


def require_ollama(result: HttpResult) -> None:
    """A fact of Ollama's listing endpoints (/api/tags, /api/ps) means nothing when no Ollama
    answered it: the service is down, or another program holds the port (Ollama never
    answers these with a 4xx). The check is then a symptom of the root check, which names the
    cause once. (A generation's 404 is Ollama's own "model not found": not this.)"""
    require_answer(result, roots.OLLAMA)
    if 400 <= (result.status or 0) < 500:
        raise Blocked(roots.OLLAMA, f"{result.describe()}: the port answers, but not as Ollama")


@pytest.mark.critical
@check(
    "The Ollama model is pulled",
    "Run 'ollama pull <OLLAMA_MODEL>' on the Ollama host, or set OLLAMA_MODEL to a model "
    "'ollama list' shows.",
    guide="guides/integration_issues.md#model-not-pulled",
)
def test_model_pulled(ollama_tags: HttpResult, settings: BotSettings) -> None:
    require_ollama(ollama_tags)
    wanted = settings.get("OLLAMA_MODEL")
    names = model_names(ollama_tags)
    assert names is not None, f"expected a model list, found {ollama_tags.describe()}"
    assert has_model(names, wanted), (
        f"expected OLLAMA_MODEL={wanted} in {ollama_host(settings)}/api/tags, found "
        f"{', '.join(names) or 'no model at all'}"
    )


@pytest.mark.warning
@check(
    "The vision model is pulled",
    "Run 'ollama pull <VISION_MODEL>' (default llava), or set VISION_ENABLED=false.",
    guide="guides/integration_issues.md#model-not-pulled",
)
def test_vision_model_pulled(ollama_tags: HttpResult, settings: BotSettings) -> None:
    if not settings.get("VISION_ENABLED"):
        pytest.skip("not applicable: vision is disabled (VISION_ENABLED is not true)")
    require_ollama(ollama_tags)
    wanted = settings.get("VISION_MODEL")
    names = model_names(ollama_tags)
    assert names is not None, f"expected a model list, found {ollama_tags.describe()}"
    assert has_model(names, wanted), (
        f"expected VISION_MODEL={wanted} in /api/tags, found {', '.join(names) or 'no model'}"
    )


@pytest.mark.warning
@check(
    "The Ollama models fit the memory they run in",
    "Use a smaller or more quantised model (OLLAMA_MODEL / VISION_MODEL), or give the Ollama "
    "host more memory.",
    guide="guides/performance_issues.md#model-too-large",
)
def test_models_fit_memory(
    ollama_tags: HttpResult,
    ollama_ps: HttpResult,
    settings: BotSettings,
    host_memory: HostMemory,
    record_details,
) -> None:
    host = ollama_host(settings)
    if not on_this_host(host):
        pytest.skip(f"not applicable: Ollama runs on another host ({host}); its memory is unknown")
    require_ollama(ollama_tags)
    pulled = [PulledModel(name, size) for name, size in pulled_models(ollama_tags) or []]
    loaded = [m.name for m in loaded_models(ollama_ps) or []]
    keys = ["OLLAMA_MODEL"] + (["VISION_MODEL"] if settings.get("VISION_ENABLED") else [])
    problems = []
    for key in keys:
        wanted = settings.get(key)
        model = next((m for m in pulled if has_model([m.name], wanted)), None)
        if model is None or has_model(loaded, wanted):
            continue  # not pulled: the pull checks say so; loaded: it fits, by evidence
        problem = model_fit_problem(key, model, pulled, host_memory.ram, host_memory.gpu)
        if problem:
            problems.append(problem)
    record_details(
        f"{host_memory.ram / 2**30:.1f} GiB RAM, {host_memory.gpu / 2**30:.1f} GiB GPU memory "
        f"({host_memory.gpu_source})"
    )
    assert not problems, "; ".join(problems)


@pytest.mark.warning
@check(
    "Ollama reports its loaded models",
    "If /api/ps fails while Ollama answers, upgrade Ollama; a CPU-only model is slow: check the "
    "GPU driver and that the model fits in VRAM.",
    guide="guides/integration_issues.md#ollama-unreachable",
)
def test_loaded_models(ollama_ps: HttpResult, record_details) -> None:
    require_ollama(ollama_ps)
    loaded = loaded_models(ollama_ps)
    assert loaded is not None, f"expected a list of loaded models, found {ollama_ps.describe()}"
    record_details(
        "; ".join(m.describe() for m in loaded) or "none loaded (first reply will be slow)",
    )


@pytest.mark.warning
@check(
    "A tiny generation is fast enough",
    "Check GPU offload ('ollama ps'), a smaller or more quantised model, or other load on the "
    "host; raise --canary-max-latency if this latency is expected.",
    guide="guides/integration_issues.md#llm-slow",
)
def test_canary_generation(
    ollama_canary: HttpResult,
    settings: BotSettings,
    canary_bands: tuple[float, float],
    record_details,
) -> None:
    require_answer(ollama_canary, roots.OLLAMA)
    stats = canary_stats(ollama_canary)
    assert stats is not None, (
        f"expected a finished generation from {settings.get('OLLAMA_MODEL')}, found "
        f"{ollama_canary.describe()}"
    )
    max_latency, min_tps = canary_bands
    tps = f"{stats.tokens_per_s:.1f}" if stats.tokens_per_s is not None else "?"
    record_details(f"canary: {stats.latency_s:.2f} s, {stats.tokens} tokens, {tps} tokens/s")
    assert stats.latency_s <= max_latency, (
        f"expected the canary within {max_latency:g} s, found {stats.latency_s:.1f} s"
    )
    assert stats.tokens_per_s is None or stats.tokens_per_s >= min_tps, (
        f"expected at least {min_tps:g} tokens/s, found {stats.tokens_per_s:.1f}"
    )


# -- OpenRouter -----------------------------------------------------------------------------
@pytest.mark.critical
@check(
    "OpenRouter accepts the API key",
    "Create a key at https://openrouter.ai/settings/keys and put it in OPENROUTER_API_KEY; "
    "the bot's own health check only calls /models, which needs no key.",
    guide="guides/integration_issues.md#openrouter-key-or-credit",
    root=roots.OPENROUTER,
)
def test_openrouter_key_valid(openrouter_key: HttpResult) -> None:
    assert key_data(openrouter_key) is not None, (
        f"expected 200 with the key's data from {openrouter_key.target()}, found "
        + (
            f"HTTP {openrouter_key.status}: {error_message(openrouter_key)}"
            if openrouter_key.answered
            else openrouter_key.describe()
        )
    )


def _credit(openrouter_key: HttpResult) -> float | None:
    require_answer(openrouter_key, roots.OPENROUTER)
    data = key_data(openrouter_key)
    if data is None:
        from acore_doctor import Blocked

        raise Blocked(
            roots.OPENROUTER, f"HTTP {openrouter_key.status}: {error_message(openrouter_key)}"
        )
    remaining = data.get("limit_remaining")
    if remaining is None:
        pytest.skip("not applicable: the key has no credit limit")
    try:
        return float(remaining)
    except (TypeError, ValueError):
        raise AssertionError(
            f"expected limit_remaining to be a number, found {remaining!r}"
        ) from None


@pytest.mark.critical
@check(
    "OpenRouter credit is not used up",
    "Add credits at https://openrouter.ai/settings/credits or raise the key's limit; requests "
    "fail with 402 until then.",
    guide="guides/integration_issues.md#openrouter-key-or-credit",
)
def test_openrouter_credit_left(openrouter_key: HttpResult) -> None:
    remaining = _credit(openrouter_key)
    assert remaining > 0, f"expected credit left on the key, found {remaining:g}"


@pytest.mark.warning
@check(
    "OpenRouter credit is not running low",
    "Add credits or raise the key's limit before requests start failing with 402.",
    guide="guides/integration_issues.md#openrouter-key-or-credit",
)
def test_openrouter_credit_plenty(openrouter_key: HttpResult) -> None:
    remaining = _credit(openrouter_key)
    # Zero is the critical check's finding.
    assert remaining <= 0 or remaining >= LOW_CREDIT, (
        f"expected at least {LOW_CREDIT:g} credit left, found {remaining:g}"
    )


def _openrouter_models(settings: BotSettings) -> list[tuple[str, str]]:
    wanted = []
    if llm_provider(settings) == "openrouter":
        wanted.append(("OPENROUTER_MODEL", settings.get("OPENROUTER_MODEL")))
    thinking = settings.get("THINKING_MODEL").strip()
    provider = settings.get("THINKING_MODEL_PROVIDER").strip().lower() or llm_provider(settings)
    if thinking and provider == "openrouter":
        wanted.append(("THINKING_MODEL", thinking))
    return wanted


@pytest.mark.critical
@check(
    "OpenRouter lists the configured models",
    "Set OPENROUTER_MODEL (and THINKING_MODEL) to an id from https://openrouter.ai/models, "
    "exactly as listed (e.g. 'meta-llama/llama-3.1-8b-instruct').",
    guide="guides/integration_issues.md#openrouter-key-or-credit",
)
def test_openrouter_models_listed(openrouter_models: HttpResult, settings: BotSettings) -> None:
    require_answer(openrouter_models, roots.OPENROUTER)
    listed = model_contexts(openrouter_models)
    assert listed is not None, f"expected a model list, found {openrouter_models.describe()}"
    missing = [
        f"{key}={model}" for key, model in _openrouter_models(settings) if model not in listed
    ]
    assert not missing, (
        f"expected {', '.join(missing)} among the {len(listed)} models of "
        f"{openrouter_url(settings)}/models, found no such id"
    )


@pytest.mark.warning
@check(
    "OpenRouter models fit MAX_CONTEXT_TOKENS",
    "Lower MAX_CONTEXT_TOKENS to the model's context length, or pick a model with a larger one.",
    guide="guides/integration_issues.md#openrouter-key-or-credit",
)
def test_openrouter_context_length(openrouter_models: HttpResult, settings: BotSettings) -> None:
    require_answer(openrouter_models, roots.OPENROUTER)
    listed = model_contexts(openrouter_models) or {}
    budget = settings.get("MAX_CONTEXT_TOKENS")
    short = [
        f"{model} has {listed[model]}"
        for _, model in _openrouter_models(settings)
        if listed.get(model) and listed[model] < budget  # type: ignore[operator]
    ]
    assert not short, (
        f"expected context lengths >= MAX_CONTEXT_TOKENS={budget}, found " + "; ".join(short)
    )


# -- OpenAI-compatible ----------------------------------------------------------------------
@pytest.mark.critical
@check(
    "The OpenAI-compatible server answers",
    "Start the server behind OPENAI_COMPAT_BASE_URL (llama.cpp, vLLM, Ollama /v1 ...) and check "
    "the URL includes /v1.",
    guide="guides/integration_issues.md#openai-compatible-server",
    root=roots.OPENAI_COMPAT,
)
def test_compat_server_answers(compat_health: HttpResult, compat_models: HttpResult) -> None:
    # /health is optional (404 is fine); a 503 there means the model is still loading.
    assert compat_health.status != 503, (
        f"expected the server ready, found {compat_health.describe()} (still loading?)"
    )
    assert compat_models.answered and compat_models.status < 500, (  # type: ignore[operator]
        f"expected {compat_models.target()} to answer, found {compat_models.describe()}"
    )


@pytest.mark.critical
@check(
    "The OpenAI-compatible server serves the model",
    "Set OPENAI_COMPAT_MODEL to an id from GET <base>/models (with OPENAI_COMPAT_API_KEY if the "
    "server needs one).",
    guide="guides/integration_issues.md#openai-compatible-server",
)
def test_compat_model_served(compat_models: HttpResult, settings: BotSettings) -> None:
    require_answer(compat_models, roots.OPENAI_COMPAT)
    assert compat_models.status not in (401, 403), (
        f"expected the models list, found HTTP {compat_models.status}: {error_message(compat_models)} "
        "(check OPENAI_COMPAT_API_KEY)"
    )
    listed = model_contexts(compat_models)
    assert listed is not None, f"expected a model list, found {compat_models.describe()}"
    wanted = settings.get("OPENAI_COMPAT_MODEL").strip()
    if not wanted:
        pytest.skip("not applicable: OPENAI_COMPAT_MODEL is not set (the server's default is used)")
    assert wanted in listed or has_model(list(listed), wanted), (
        f"expected OPENAI_COMPAT_MODEL={wanted} in {compat_base(settings)}/models, found "
        f"{', '.join(listed) or 'no model'}"
    )
