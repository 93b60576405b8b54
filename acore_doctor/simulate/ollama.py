"""Ollama's REST API (service-apis.md section 2) and its OpenAI-compatible /v1/models."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from aiohttp import web

from acore_doctor.simulate.core import ServiceSim, json_response

DEFAULT_MODELS = (
    "llama3.2:latest",
    "llava:latest",
    "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M",
)
GIB = 1024**3


def normalise(name: str) -> str:
    """Ollama's matching rule: implicit ``:latest``, default namespace dropped, any case."""
    name = name.strip()
    last = name.rsplit("/", 1)[-1]
    if ":" not in last:
        name += ":latest"
    for prefix in ("registry.ollama.ai/library/", "library/"):
        if name.lower().startswith(prefix):
            name = name[len(prefix) :]
    return name.lower()


def _model_entry(name: str, index: int) -> dict[str, Any]:
    family = "llava" if name.startswith("llava") else "llama"
    return {
        "name": name,
        "model": name,
        "modified_at": "2026-05-04T17:37:44.706015396-07:00",
        "size": 2019393189 + index,
        "digest": f"{index:02x}" * 32,
        "details": {
            "parent_model": "",
            "format": "gguf",
            "family": family,
            "families": [family],
            "parameter_size": "3.2B",
            "quantization_level": "Q4_K_M",
        },
    }


class OllamaSim(ServiceSim):
    name = "ollama"
    modes = {
        "missing_model": "/api/tags lists only mistral:latest",
        "no_models": "/api/tags lists no model",
        "slow_generation": "generation answers after the slow delay, at 2 tokens/s",
        "cpu_only": "/api/ps shows the model loaded with 0 bytes in VRAM",
        "huge_model": "the first listed model weighs 400 GiB (more than any host here) and "
        "/api/ps shows nothing loaded",
    }

    def __init__(
        self, models: list[str] | tuple[str, ...] = DEFAULT_MODELS, version: str = "0.9.0"
    ) -> None:
        super().__init__()
        self.models = list(models)
        self.version = version

    def env(self, url: str) -> dict[str, str]:
        return {"OLLAMA_HOST": url}

    def error(self, status: int, request: web.Request) -> web.Response:
        text = {
            401: "unauthorized",
            403: "forbidden",
            404: "not found",
            500: "internal server error",
        }
        return json_response({"error": text.get(status, str(status))}, status)

    def rate_limited(self, request: web.Request) -> web.Response:
        return json_response(
            {"error": "too many requests"}, 429, {"Retry-After": str(round(self.fault.retry_after))}
        )

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/", self.root)
        app.router.add_get("/api/version", self.api_version)
        app.router.add_get("/api/tags", self.tags)
        app.router.add_get("/api/ps", self.ps)
        app.router.add_post("/api/show", self.show)
        app.router.add_post("/api/generate", self.generate)
        app.router.add_post("/api/chat", self.generate)
        app.router.add_get("/v1/models", self.v1_models)

    def listed(self, request: web.Request) -> list[str]:
        if self.has(request, "missing_model"):
            return ["mistral:latest"]
        if self.has(request, "no_models"):
            return []
        return list(self.models)

    def find(self, request: web.Request, wanted: str) -> str | None:
        return next((m for m in self.listed(request) if normalise(m) == normalise(wanted)), None)

    async def root(self, request: web.Request) -> web.Response:
        return web.Response(text="Ollama is running")

    async def api_version(self, request: web.Request) -> web.Response:
        return json_response({"version": self.version})

    async def tags(self, request: web.Request) -> web.Response:
        entries = [_model_entry(m, i) for i, m in enumerate(self.listed(request))]
        if entries and self.has(request, "huge_model"):
            entries[0]["size"] = 400 * GIB
            entries[0]["details"]["parameter_size"] = "405B"
        return json_response({"models": entries})

    async def ps(self, request: web.Request) -> web.Response:
        listed = self.listed(request)
        if not listed or self.has(request, "huge_model"):
            return json_response({"models": []})
        entry = _model_entry(listed[0], 0)
        entry["size"] = 3 * GIB
        entry["size_vram"] = 0 if self.has(request, "cpu_only") else 3 * GIB
        entry["expires_at"] = "2026-06-04T14:38:31.83753-07:00"
        entry["context_length"] = 4096
        return json_response({"models": [entry]})

    async def _body(self, request: web.Request) -> dict[str, Any] | web.Response:
        try:
            body = json.loads(await request.text() or "null")
        except ValueError:
            return json_response({"error": "invalid character in request body"}, 400)
        if not isinstance(body, dict):
            return json_response({"error": "missing request body"}, 400)
        if not (body.get("model") or body.get("name")):
            return json_response({"error": "model is required"}, 400)
        return body

    async def show(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        if isinstance(body, web.Response):
            return body
        wanted = body.get("model") or body.get("name")
        found = self.find(request, wanted)
        if found is None:
            return json_response({"error": f"model '{wanted}' not found"}, 404)
        caps = ["completion", "vision"] if found.startswith("llava") else ["completion", "tools"]
        return json_response(
            {
                "modelfile": f"FROM {found}",
                "parameters": "",
                "template": "{{ .Prompt }}",
                "details": _model_entry(found, 0)["details"],
                "model_info": {"general.architecture": "llama", "llama.context_length": 131072},
                "capabilities": caps,
                "modified_at": "2026-05-04T17:37:44.706015396-07:00",
            }
        )

    async def generate(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        if isinstance(body, web.Response):
            return body
        wanted = body["model"]
        if self.find(request, wanted) is None:
            return json_response({"error": f"model '{wanted}' not found"}, 404)
        slow = self.has(request, "slow_generation")
        if slow:
            await asyncio.sleep(self.fault.delay)
        eval_count = 8
        eval_ns = int(eval_count / (2.0 if slow else 80.0) * 1e9)
        answer = {
            "model": wanted,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            "done": True,
            "done_reason": "stop",
            "total_duration": eval_ns + 30_000_000,
            "load_duration": 5_025_959,
            "prompt_eval_count": 12,
            "prompt_eval_duration": 25_000_000,
            "eval_count": eval_count,
            "eval_duration": eval_ns,
        }
        if request.path.endswith("/chat"):
            answer["message"] = {"role": "assistant", "content": "OK"}
        else:
            answer["response"] = "OK"
            answer["context"] = [1, 2, 3]
        return json_response(answer)

    async def v1_models(self, request: web.Request) -> web.Response:
        listed = self.listed(request)
        data = [
            {
                "id": m,
                "object": "model",
                "created": 1746405464,
                "owned_by": m.split("/")[-2] if "/" in m else "library",
            }
            for m in listed
        ]
        return json_response({"object": "list", "data": data or None})
