"""TTS, STT and voice conversion servers (service-apis.md sections 4 and 5, deployment §5)."""

from __future__ import annotations

import struct
from typing import Any

from aiohttp import web

from acore_doctor.simulate.core import ServiceSim, json_response

KOKORO_VOICES = (
    "af_alloy",
    "af_bella",
    "af_heart",
    "af_sky",
    "am_adam",
    "am_michael",
    "am_onyx",
    "bf_emma",
    "bf_isabella",
    "bm_george",
    "jf_alpha",
    "zf_xiaoxiao",
)


def tiny_wav(samples: int = 240, rate: int = 24000) -> bytes:
    data = b"\x00\x00" * samples
    header = b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt "
    header += struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    return header + b"data" + struct.pack("<I", len(data)) + data


class FastApiSim(ServiceSim):
    """FastAPI servers answer errors in a ``detail`` envelope."""

    def error(self, status: int, request: web.Request) -> web.Response:
        detail: Any = {401: "Not authenticated", 403: "Forbidden", 404: "Not Found"}.get(status)
        if detail is None:
            detail = {
                "error": "processing_error",
                "message": "simulated failure",
                "type": "server_error",
            }
        return json_response({"detail": detail}, status)


class KokoroSim(FastApiSim):
    name = "kokoro"
    modes = {
        "missing_voice": "/v1/audio/voices lists only af_bella and af_sky",
        "legacy_voices": "/v1/audio/voices answers the v0.2.x shape (a list of strings)",
    }

    def __init__(self, voices: tuple[str, ...] | list[str] = KOKORO_VOICES) -> None:
        super().__init__()
        self.voices = list(voices)

    def env(self, url: str) -> dict[str, str]:
        return {"KOKORO_API_URL": url}

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/health", self.health)
        app.router.add_get("/v1/test", self.test)
        app.router.add_get("/v1/models", self.models)
        app.router.add_get("/v1/audio/voices", self.list_voices)
        app.router.add_post("/v1/audio/speech", self.speech)

    async def health(self, request: web.Request) -> web.Response:
        return json_response({"status": "healthy"})

    async def test(self, request: web.Request) -> web.Response:
        return json_response({"status": "ok"})

    async def models(self, request: web.Request) -> web.Response:
        ids = ("tts-1", "tts-1-hd", "kokoro", "gpt-4o-mini-tts")
        return json_response(
            {
                "object": "list",
                "data": [
                    {"id": i, "object": "model", "created": 1686935002, "owned_by": "kokoro"}
                    for i in ids
                ],
            }
        )

    def listed(self, request: web.Request) -> list[str]:
        return ["af_bella", "af_sky"] if self.has(request, "missing_voice") else sorted(self.voices)

    async def list_voices(self, request: web.Request) -> web.Response:
        voices = self.listed(request)
        if self.has(request, "legacy_voices") or request.query.get("legacy") == "true":
            return json_response({"voices": voices})
        return json_response({"voices": [{"id": v, "name": v} for v in voices]})

    async def speech(self, request: web.Request) -> web.Response:
        body = await request.json()
        voice = body.get("voice", "af_heart")
        if voice not in self.listed(request):
            return json_response(
                {
                    "detail": {
                        "error": "validation_error",
                        "message": f"Voice '{voice}' not found. Available voices: {', '.join(self.listed(request))}",
                        "type": "invalid_request_error",
                    }
                },
                400,
            )
        return web.Response(
            body=tiny_wav(),
            content_type="audio/wav",
            headers={"Content-Disposition": "attachment; filename=speech.wav"},
        )


class SupertonicSim(ServiceSim):
    name = "supertonic"
    modes = {"loading": "/v1/health answers 503 status loading"}

    def env(self, url: str) -> dict[str, str]:
        return {"SUPERTONIC_API_URL": url}

    def error(self, status: int, request: web.Request) -> web.Response:
        kind = "server_error" if status >= 500 else "invalid_request_error"
        return json_response(
            {"error": {"message": f"error {status}", "type": kind, "code": str(status)}}, status
        )

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/v1/health", self.health)
        app.router.add_get("/v1/styles", self.styles)

    async def health(self, request: web.Request) -> web.Response:
        if self.has(request, "loading"):
            return json_response(
                {
                    "status": "loading",
                    "model": "supertonic-3",
                    "sample_rate": None,
                    "version": "1.3.1",
                    "voices_loaded": 0,
                },
                503,
            )
        return json_response(
            {
                "status": "ok",
                "model": "supertonic-3",
                "sample_rate": 44100,
                "version": "1.3.1",
                "voices_loaded": 10,
            }
        )

    async def styles(self, request: web.Request) -> web.Response:
        names = [f"{g}{i}" for g in "MF" for i in range(1, 6)]
        return json_response(
            {"styles": [{"name": n, "kind": "builtin", "path": None} for n in names]}
        )


class ParakeetSim(FastApiSim):
    name = "parakeet"
    modes = {"loading": "/healthz answers 200 with status 'loading'"}

    def env(self, url: str) -> dict[str, str]:
        return {"PARAKEET_API_URL": url}

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/healthz", self.healthz)
        app.router.add_post("/transcribe", self.transcribe)

    async def healthz(self, request: web.Request) -> web.Response:
        status = "loading" if self.has(request, "loading") else "ok"
        return json_response({"status": status, "model": "nvidia/parakeet-tdt-0.6b-v3"})

    async def transcribe(self, request: web.Request) -> web.Response:
        return json_response({"text": "ok"})


class RvcSim(ServiceSim):
    """RVC WebUI on Gradio 3.34: no health route, ``GET /config`` proves the UI is up."""

    name = "rvc"
    modes = {"not_rvc": "/config belongs to another Gradio app"}

    def env(self, url: str) -> dict[str, str]:
        return {"RVC_WEBUI_URL": url}

    def error(self, status: int, request: web.Request) -> web.Response:
        return json_response(
            {"error": f"error {status}"} if status >= 500 else {"detail": "Not Found"}, status
        )

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/", self.index)
        app.router.add_get("/config", self.config)
        app.router.add_get("/info", self.info)

    async def index(self, request: web.Request) -> web.Response:
        return web.Response(
            text="<!doctype html><html><title>RVC WebUI</title></html>", content_type="text/html"
        )

    async def config(self, request: web.Request) -> web.Response:
        title = "Gradio" if self.has(request, "not_rvc") else "RVC WebUI"
        deps = [
            {"api_name": n}
            for n in ("infer_refresh", "infer_convert", "infer_change_voice", "infer_clean")
        ]
        return json_response(
            {
                "version": "3.34.0",
                "mode": "blocks",
                "title": title,
                "enable_queue": True,
                "components": [],
                "dependencies": deps,
            }
        )

    async def info(self, request: web.Request) -> web.Response:
        return json_response({"named_endpoints": {"/infer_convert": {}}, "unnamed_endpoints": {}})


class LuxTtsSim(FastApiSim):
    name = "luxtts"
    modes = {"missing_voice": "/v1/voices lists no voice"}

    def env(self, url: str) -> dict[str, str]:
        return {"LUXTTS_API_URL": url}

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/health", self.health)
        app.router.add_get("/v1/voices", self.voices)

    async def health(self, request: web.Request) -> web.Response:
        return json_response({"status": "ok"})

    async def voices(self, request: web.Request) -> web.Response:
        voices = (
            []
            if self.has(request, "missing_voice")
            else [{"voice_id": "default", "name": "default"}]
        )
        return json_response({"voices": voices})


class Qwen3TtsSim(FastApiSim):
    name = "qwen3tts"

    def env(self, url: str) -> dict[str, str]:
        return {"QWEN3TTS_API_URL": url}

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/health", self.health)

    async def health(self, request: web.Request) -> web.Response:
        return json_response({"status": "ok"})
