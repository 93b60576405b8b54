"""OpenAI-compatible LLM servers with their quirks (service-apis.md section 6).

Neither exports an environment variable by default (setting OPENAI_COMPAT_BASE_URL changes
which provider the runtime bot uses); point a deployment at ``sim.url("llamacpp")`` by hand.
"""

from __future__ import annotations

from aiohttp import web

from acore_doctor.simulate.core import ServiceSim, json_response


class LlamaCppSim(ServiceSim):
    """llama.cpp ``llama-server``: public /health (503 while loading), one model, object errors."""

    name = "llamacpp"
    base_path = "/v1"
    modes = {"loading": "/health answers 503 'Loading model' and /v1/models has null meta"}

    def __init__(self, model: str = "qwen2.5-7b-instruct", api_key: str | None = None) -> None:
        super().__init__()
        self.model = model
        self.api_key = api_key

    def error(self, status: int, request: web.Request) -> web.Response:
        kind = {401: "authentication_error", 404: "not_found_error"}.get(status, "server_error")
        return json_response(
            {"error": {"code": status, "message": f"error {status}", "type": kind}}, status
        )

    def routes(self, app: web.Application) -> None:
        for path in ("/health", "/v1/health"):
            app.router.add_get(path, self.health)
        for path in ("/models", "/v1/models"):
            app.router.add_get(path, self.models)

    async def health(self, request: web.Request) -> web.Response:
        if self.has(request, "loading"):
            return json_response(
                {"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}},
                503,
            )
        return json_response({"status": "ok"})

    async def models(self, request: web.Request) -> web.Response:
        if self.api_key and request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return json_response(
                {
                    "error": {
                        "code": 401,
                        "message": "Invalid API Key",
                        "type": "authentication_error",
                    }
                },
                401,
            )
        meta = None if self.has(request, "loading") else {"n_ctx_train": 32768, "n_vocab": 152064}
        return json_response(
            {
                "object": "list",
                "data": [
                    {
                        "id": self.model,
                        "object": "model",
                        "created": 1746405464,
                        "owned_by": "llamacpp",
                        "meta": meta,
                    }
                ],
                "models": [{"name": self.model, "model": self.model}],
            }
        )


class VllmSim(ServiceSim):
    """vLLM: /health 200 with an empty body, ModelCard entries, a *string* 401 error."""

    name = "vllm"
    base_path = "/v1"
    modes = {"engine_dead": "/health answers 503 with an empty body"}

    def __init__(
        self, model: str = "meta-llama/Llama-3.1-8B-Instruct", api_key: str | None = None
    ) -> None:
        super().__init__()
        self.model = model
        self.api_key = api_key

    def error(self, status: int, request: web.Request) -> web.Response:
        return json_response(
            {
                "object": "error",
                "message": f"error {status}",
                "type": "NotFoundError",
                "param": None,
                "code": status,
            },
            status,
        )

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/health", self.health)
        app.router.add_get("/version", self.version)
        app.router.add_get("/v1/models", self.models)

    async def health(self, request: web.Request) -> web.Response:
        return web.Response(status=503 if self.has(request, "engine_dead") else 200)

    async def version(self, request: web.Request) -> web.Response:
        return json_response({"version": "0.8.5"})

    async def models(self, request: web.Request) -> web.Response:
        if self.api_key and request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return json_response({"error": "Unauthorized"}, 401)
        card = {
            "id": self.model,
            "object": "model",
            "created": 1746405464,
            "owned_by": "vllm",
            "root": self.model,
            "parent": None,
            "max_model_len": 8192,
            "permission": [{}],
        }
        return json_response({"object": "list", "data": [card]})
