"""Voice server probes (Kokoro, Supertonic, LuxTTS, Qwen3-TTS, RVC WebUI, Parakeet)."""

from __future__ import annotations

from functools import partial

from acore_doctor.netprobe import targets
from acore_doctor.netprobe.runner import ProbeContext, probe
from acore_doctor.netprobe.transport import HttpResult

#: probe name -> (service, path)
VOICE_PROBES = {
    "kokoro.health": ("kokoro", "/health"),
    "kokoro.voices": ("kokoro", "/v1/audio/voices"),
    "supertonic.health": ("supertonic", "/v1/health"),
    "luxtts.health": ("luxtts", "/health"),
    "luxtts.voices": ("luxtts", "/v1/voices"),
    "qwen3tts.health": ("qwen3tts", "/health"),
    "rvc.config": ("rvc", "/config"),
    "parakeet.health": ("parakeet", "/healthz"),
}


def _register(name: str, service: str, path: str) -> None:
    async def get(ctx: ProbeContext) -> HttpResult:
        return await ctx.request(service, "GET", targets.voice_url(ctx.settings, service) + path)

    get.__name__ = name.replace(".", "_")
    probe(name, service, partial(targets.voice_not_applicable, service=service))(get)


for _name, (_service, _path) in VOICE_PROBES.items():
    _register(_name, _service, _path)


def status_of(result: HttpResult) -> str | None:
    data = result.data if result.answered else None
    status = data.get("status") if isinstance(data, dict) else None
    return str(status) if status is not None else None


def voice_names(result: HttpResult) -> list[str] | None:
    """Voices in either Kokoro shape (strings, or ``{id, name}``) or LuxTTS's ``{voice_id}``."""
    data = result.data if result.ok else None
    voices = data.get("voices") if isinstance(data, dict) else data
    if not isinstance(voices, list):
        return None
    names = []
    for voice in voices:
        if isinstance(voice, str):
            names.append(voice)
        elif isinstance(voice, dict):
            name = voice.get("id") or voice.get("voice_id") or voice.get("name")
            if name:
                names.append(str(name))
    return names


def kokoro_voice_parts(voice: str) -> list[str]:
    """Kokoro combines voices as ``af_bella(2)+af_sky(1)``; each part must exist."""
    parts = []
    for chunk in voice.replace("-", "+").split("+"):
        name = chunk.split("(", 1)[0].strip()
        if name:
            parts.append(name)
    return parts
