"""LLM probes (Ollama, OpenRouter, OpenAI-compatible servers) and readers of their answers.

Readers are plain functions over :class:`HttpResult`; they return None for an answer that
does not have the expected shape and never raise (service-apis.md sections 2, 3, 6).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from acore_doctor.netprobe import targets
from acore_doctor.netprobe.runner import NotApplicable, ProbeContext, probe
from acore_doctor.netprobe.transport import HttpResult
from acore_doctor.redact import run_redactor

CANARY_PROMPT = "Reply with the single word OK."


# -- Ollama -------------------------------------------------------------------------------
@probe("ollama.version", "ollama", targets.ollama_not_applicable)
async def ollama_version(ctx: ProbeContext) -> HttpResult:
    return await ctx.request("ollama", "GET", targets.ollama_host(ctx.settings) + "/api/version")


@probe("ollama.tags", "ollama", targets.ollama_not_applicable)
async def ollama_tags(ctx: ProbeContext) -> HttpResult:
    return await ctx.request("ollama", "GET", targets.ollama_host(ctx.settings) + "/api/tags")


@probe("ollama.ps", "ollama", targets.ollama_not_applicable)
async def ollama_ps(ctx: ProbeContext) -> HttpResult:
    return await ctx.request("ollama", "GET", targets.ollama_host(ctx.settings) + "/api/ps")


@probe("ollama.canary", "ollama", targets.ollama_not_applicable)
async def ollama_canary(ctx: ProbeContext) -> HttpResult | NotApplicable:
    if not ctx.canary:
        return NotApplicable("the canary generation is opt-in (run with --canary)")
    body = {
        "model": ctx.settings.get("OLLAMA_MODEL"),
        "prompt": CANARY_PROMPT,
        "stream": False,
        "options": {"num_predict": 8, "temperature": 0},
    }
    return await ctx.request(
        "ollama",
        "POST",
        targets.ollama_host(ctx.settings) + "/api/generate",
        json_body=body,
        total=ctx.timeouts.canary,
    )


def version_of(result: HttpResult) -> str | None:
    data = result.data if result.ok else None
    version = data.get("version") if isinstance(data, dict) else None
    return version if isinstance(version, str) and version else None


def ollama_model_key(name: str) -> str:
    """Ollama's matching form: implicit ``:latest``, default host/namespace dropped, any case.
    ``hf.co/...`` names are kept whole (service-apis.md 2.7)."""
    name = name.strip()
    if ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    lowered = name.lower()
    for prefix in ("registry.ollama.ai/library/", "registry.ollama.ai/", "library/"):
        if lowered.startswith(prefix):
            lowered = lowered[len(prefix) :]
            break
    return lowered


def model_names(result: HttpResult) -> list[str] | None:
    """Names in an /api/tags or /api/ps answer; None when the answer is not a model list."""
    data = result.data if result.ok else None
    models = data.get("models") if isinstance(data, dict) else None
    if models is None and isinstance(data, dict) and "models" in data:
        return []
    if not isinstance(models, list):
        return None
    return [str(m.get("name") or m.get("model")) for m in models if isinstance(m, dict)]


def has_model(names: list[str], wanted: str) -> bool:
    key = ollama_model_key(wanted)
    return any(ollama_model_key(n) == key for n in names)


@dataclass(frozen=True)
class LoadedModel:
    name: str
    size: int
    size_vram: int

    def describe(self) -> str:
        gib = 1024**3
        if self.size and self.size_vram >= self.size:
            where = "fully on GPU"
        elif self.size_vram == 0:
            where = "CPU only"
        else:
            where = f"{100 * self.size_vram / max(self.size, 1):.0f}% on GPU"
        return (
            f"{self.name} ({self.size / gib:.1f} GiB, {self.size_vram / gib:.1f} GiB VRAM, {where})"
        )


def loaded_models(result: HttpResult) -> list[LoadedModel] | None:
    data = result.data if result.ok else None
    models = data.get("models") if isinstance(data, dict) else None
    if not isinstance(models, list):
        return None
    out = []
    for m in models:
        if isinstance(m, dict):
            out.append(
                LoadedModel(str(m.get("name")), _int(m.get("size")), _int(m.get("size_vram")))
            )
    return out


@dataclass(frozen=True)
class CanaryStats:
    latency_s: float
    tokens: int
    tokens_per_s: float | None


def canary_stats(result: HttpResult) -> CanaryStats | None:
    data = result.data if result.ok else None
    if not isinstance(data, dict) or not data.get("done"):
        return None
    tokens = _int(data.get("eval_count"))
    duration_ns = _int(data.get("eval_duration"))
    tps = tokens / duration_ns * 1e9 if tokens and duration_ns else None
    return CanaryStats(result.elapsed_s, tokens, tps)


# -- OpenRouter ------------------------------------------------------------------------------
def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"} if key else {}


@probe("openrouter.key", "openrouter", targets.openrouter_not_applicable)
async def openrouter_key(ctx: ProbeContext) -> HttpResult:
    base = targets.openrouter_url(ctx.settings)
    headers = _bearer(ctx.settings.get("OPENROUTER_API_KEY").strip())
    result = await ctx.request("openrouter", "GET", base + "/key", headers=headers)
    if result.status == 404:
        # Older deployments of the API only had the /auth/key path.
        result = await ctx.request("openrouter", "GET", base + "/auth/key", headers=headers)
    return result


@probe("openrouter.models", "openrouter", targets.openrouter_not_applicable)
async def openrouter_models(ctx: ProbeContext) -> HttpResult:
    return await ctx.request("openrouter", "GET", targets.openrouter_url(ctx.settings) + "/models")


def key_data(result: HttpResult) -> dict[str, Any] | None:
    data = result.data if result.ok else None
    inner = data.get("data") if isinstance(data, dict) else None
    return inner if isinstance(inner, dict) else None


def model_contexts(result: HttpResult) -> dict[str, int | None] | None:
    """model id -> context length, from OpenRouter's or an OpenAI-style /models answer."""
    data = result.data if result.ok else None
    if not isinstance(data, dict) or "data" not in data:
        return None
    entries = data.get("data") or []  # Ollama's /v1/models says null for no models
    if not isinstance(entries, list):
        return None
    out: dict[str, int | None] = {}
    for entry in entries:
        if isinstance(entry, dict) and entry.get("id"):
            context = entry.get("context_length") or entry.get("max_model_len")
            out[str(entry["id"])] = _int(context) or None
    return out


def error_message(result: HttpResult) -> str:
    """The message in any of the error envelopes (object, string, FastAPI detail)."""
    data = result.data
    if isinstance(data, dict):
        error = data.get("error", data.get("detail", data.get("message")))
        if isinstance(error, dict):
            return str(error.get("message") or error)
        if error is not None:
            return str(error)
    # masked before it is cut (a token cut in half matches no shape any more), the cut marked
    text = run_redactor()(result.text.strip())
    return text if len(text) <= 160 else text[:157] + "..."


# -- OpenAI-compatible ---------------------------------------------------------------------
@probe("compat.health", "openai_compat", targets.compat_not_applicable)
async def compat_health(ctx: ProbeContext) -> HttpResult:
    return await ctx.request("openai_compat", "GET", targets.compat_root(ctx.settings) + "/health")


@probe("compat.models", "openai_compat", targets.compat_not_applicable)
async def compat_models(ctx: ProbeContext) -> HttpResult:
    headers = _bearer(ctx.settings.get("OPENAI_COMPAT_API_KEY").strip())
    return await ctx.request(
        "openai_compat", "GET", targets.compat_base(ctx.settings) + "/models", headers=headers
    )


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def pulled_models(result: HttpResult) -> list[tuple[str, int]] | None:
    """(name, bytes on disk) of each model in an /api/tags answer; None when not a list."""
    data = result.data if result.ok else None
    models = data.get("models") if isinstance(data, dict) else None
    if not isinstance(models, list):
        return None
    return [
        (str(m.get("name") or m.get("model")), _int(m.get("size")))
        for m in models
        if isinstance(m, dict)
    ]
