"""OpenRouter's key and model routes (service-apis.md section 3)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from acore_doctor.simulate.core import ServiceSim, json_response

DEFAULT_MODELS: dict[str, int] = {
    "nousresearch/hermes-3-llama-3.1-405b": 131072,
    "openai/gpt-4o-mini": 128000,
    "meta-llama/llama-3.1-8b-instruct": 131072,
    "deepseek/deepseek-r1": 163840,
    "mistralai/mistral-7b-instruct:free": 32768,
}


class OpenRouterSim(ServiceSim):
    name = "openrouter"
    base_path = "/api/v1"
    modes = {
        "low_credit": "the key has 0.40 of 10 credits left",
        "no_credit": "the key has 0 credits left",
        "missing_model": "/models lists only openai/gpt-4o-mini",
        "small_context": "every model has a 4096-token context",
    }

    def __init__(self, key: str | None = None, models: dict[str, int] | None = None) -> None:
        super().__init__()
        self.key = key
        self.models = dict(models or DEFAULT_MODELS)

    def env(self, url: str) -> dict[str, str]:
        return {"OPENROUTER_URL": url}

    def error(self, status: int, request: web.Request) -> web.Response:
        messages = {
            401: "User not found.",
            403: "Key is disabled",
            404: "Not Found",
            500: "Internal Server Error",
        }
        return json_response(
            {"error": {"code": status, "message": messages.get(status, str(status))}}, status
        )

    def rate_limited(self, request: web.Request) -> web.Response:
        return json_response(
            {
                "error": {
                    "code": 429,
                    "message": "Rate limit exceeded",
                    "metadata": {"error_type": "rate_limit_exceeded"},
                }
            },
            429,
            {
                "Retry-After": str(round(self.fault.retry_after)),
                "X-RateLimit-Limit": "20",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": "0",
            },
        )

    def routes(self, app: web.Application) -> None:
        v = self.base_path
        app.router.add_get(f"{v}/key", self.key_info)
        app.router.add_get(f"{v}/auth/key", self.key_info)
        app.router.add_get(f"{v}/models", self.list_models)
        app.router.add_post(f"{v}/chat/completions", self.chat)

    def _authorised(self, request: web.Request) -> web.Response | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or not header[7:].strip():
            return json_response(
                {"error": {"message": "No auth credentials found", "code": 401}}, 401
            )
        given = header[7:].strip()
        if (self.key is not None and given != self.key) or not given.startswith("sk-or-"):
            return json_response({"error": {"message": "User not found.", "code": 401}}, 401)
        return None

    async def key_info(self, request: web.Request) -> web.Response:
        refused = self._authorised(request)
        if refused is not None:
            return refused
        remaining = 7.5
        if self.has(request, "low_credit"):
            remaining = 0.4
        if self.has(request, "no_credit"):
            remaining = 0.0
        data: dict[str, Any] = {
            "label": "sk-or-v1-abc...xyz",
            "limit": 10,
            "limit_reset": "monthly",
            "limit_remaining": remaining,
            "include_byok_in_limit": False,
            "usage": 10 - remaining,
            "usage_daily": 0.1,
            "is_free_tier": False,
            "rate_limit": {"requests": -1, "interval": "10s", "note": "deprecated"},
        }
        return json_response({"data": data})

    def listed(self, request: web.Request) -> dict[str, int]:
        if self.has(request, "missing_model"):
            return {"openai/gpt-4o-mini": 128000}
        if self.has(request, "small_context"):
            return dict.fromkeys(self.models, 4096)
        return self.models

    async def list_models(self, request: web.Request) -> web.Response:
        data = [
            {
                "id": model_id,
                "canonical_slug": model_id,
                "name": model_id,
                "created": 1721260800,
                "context_length": context,
                "pricing": {"prompt": "0.00000015", "completion": "0.0000006"},
                "architecture": {"modality": "text->text"},
                "top_provider": {
                    "context_length": context,
                    "max_completion_tokens": 4096,
                    "is_moderated": False,
                },
                "per_request_limits": None,
                "supported_parameters": ["max_tokens", "temperature"],
            }
            for model_id, context in self.listed(request).items()
        ]
        return json_response({"data": data})

    async def chat(self, request: web.Request) -> web.Response:
        refused = self._authorised(request)
        if refused is not None:
            return refused
        if self.has(request, "no_credit"):
            return json_response(
                {
                    "error": {
                        "code": 402,
                        "message": "Insufficient credits.",
                        "metadata": {"limit_source": "openrouter_key_limit"},
                    }
                },
                402,
            )
        body = await request.json()
        return json_response(
            {
                "id": "gen-sim",
                "model": body.get("model"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "OK"},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
            }
        )
