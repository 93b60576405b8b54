"""Voice servers (TTS, voice conversion, STT): only those the deployment has selected."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from acore_doctor import catalog, check, roots
from acore_doctor.netprobe.roots import require_answer
from acore_doctor.netprobe.targets import voice_services_in_use, voice_url
from acore_doctor.netprobe.transport import HttpResult
from acore_doctor.netprobe.voice import kokoro_voice_parts, status_of, voice_names
from acore_doctor.settings import BotSettings

GUIDE = "guides/integration_issues.md#tts-server-down"


def _answers(result: HttpResult, what: str) -> None:
    foreign = result.answered and (400 <= (result.status or 0) < 500 or not result.is_json)
    port = urlsplit(result.url).port
    assert result.ok and result.is_json, (
        f"port {port} answers, but not as the server for {what}: " if foreign and port else ""
    ) + f"expected {result.target()} to answer 200 with JSON ({what}), found {result.describe()}"


@pytest.mark.critical
@check(
    "Kokoro TTS answers",
    "Start Kokoro-FastAPI (docker run -p 8880:8880 ghcr.io/remsky/kokoro-fastapi-cpu) and point "
    "KOKORO_API_URL at it, or set DISCORD_VOICE_ENABLED=false.",
    guide=GUIDE,
    root=roots.KOKORO,
)
def test_kokoro_answers(kokoro_health: HttpResult) -> None:
    _answers(kokoro_health, "Kokoro's health")


@pytest.mark.warning
@check(
    "Kokoro has every configured voice",
    "Set KOKORO_VOICE (and the persona voices) to names GET /v1/audio/voices lists, e.g. am_adam.",
    guide="guides/integration_issues.md#tts-voice-missing",
)
def test_kokoro_voices(kokoro_voices: HttpResult, settings: BotSettings) -> None:
    require_answer(kokoro_voices, roots.KOKORO)
    voices = voice_names(kokoro_voices)
    assert voices is not None, f"expected a voice list, found {kokoro_voices.describe()}"
    missing = [
        f"{key}={settings.get(key)}"
        for key in catalog.KOKORO_VOICE_KEYS
        if any(part not in voices for part in kokoro_voice_parts(settings.get(key)))
    ]
    assert not missing, (
        f"expected {', '.join(missing)} among Kokoro's {len(voices)} voices, found no such voice"
    )


@pytest.mark.warning
@check(
    "Supertonic TTS is ready",
    "Start 'supertonic serve' (default 127.0.0.1:7788) and wait until /v1/health says ok; set "
    "SUPERTONIC_API_URL if it runs elsewhere.",
    guide=GUIDE,
    root=roots.SUPERTONIC,
)
def test_supertonic_ready(supertonic_health: HttpResult) -> None:
    assert supertonic_health.status != 503, (
        f"expected Supertonic ready, found {supertonic_health.describe()} (still loading the model)"
    )
    _answers(supertonic_health, "Supertonic's health")


@pytest.mark.critical
@check(
    "LuxTTS answers",
    "Start the LuxTTS server and point LUXTTS_API_URL at it (default :9999).",
    guide=GUIDE,
    root=roots.LUXTTS,
)
def test_luxtts_answers(luxtts_health: HttpResult) -> None:
    _answers(luxtts_health, "LuxTTS's health")


@pytest.mark.warning
@check(
    "LuxTTS has the configured voice",
    "LuxTTS has no built-in voices: upload one and set LUXTTS_VOICE to its id.",
    guide="guides/integration_issues.md#tts-voice-missing",
)
def test_luxtts_voice(luxtts_voices: HttpResult, settings: BotSettings) -> None:
    require_answer(luxtts_voices, roots.LUXTTS)
    voices = voice_names(luxtts_voices)
    wanted = settings.get("LUXTTS_VOICE")
    assert voices is not None and wanted in voices, (
        f"expected LUXTTS_VOICE={wanted} in /v1/voices, found "
        + (", ".join(voices) or "no voice" if voices is not None else luxtts_voices.describe())
    )


@pytest.mark.critical
@check(
    "Qwen3-TTS answers",
    "Start the Qwen3-TTS server and point QWEN3TTS_API_URL at it (its default port 8880 is "
    "Kokoro's too).",
    guide=GUIDE,
    root=roots.QWEN3TTS,
)
def test_qwen3tts_answers(qwen3tts_health: HttpResult) -> None:
    _answers(qwen3tts_health, "Qwen3-TTS's health")


@pytest.mark.warning
@check(
    "RVC WebUI answers",
    "Start the RVC WebUI with '--api --port 7865' and point RVC_WEBUI_URL at it, or set "
    "RVC_ENABLED=false (the bot then speaks with plain TTS).",
    guide="guides/integration_issues.md#rvc-or-stt-down",
)
def test_rvc_answers(rvc_config: HttpResult) -> None:
    _answers(rvc_config, "Gradio's /config")
    data = rvc_config.data if isinstance(rvc_config.data, dict) else {}
    assert data.get("title") == "RVC WebUI", (
        f"expected the RVC WebUI's Gradio app at {rvc_config.target()}, found "
        f"{data.get('title')!r} (another app on this port?)"
    )


@pytest.mark.warning
@check(
    "Parakeet STT is ready",
    "Start the Parakeet server and point PARAKEET_API_URL at it (default :8890); it must answer "
    "/healthz with status ok.",
    guide="guides/integration_issues.md#rvc-or-stt-down",
)
def test_parakeet_ready(parakeet_health: HttpResult) -> None:
    _answers(parakeet_health, "Parakeet's /healthz")
    assert status_of(parakeet_health) == "ok", (
        f"expected status 'ok' from /healthz, found {status_of(parakeet_health)!r}"
    )


@pytest.mark.warning
@check(
    "Voice servers do not share a port",
    "Give each voice server its own port (Kokoro and Qwen3-TTS both default to 8880) and "
    "update the *_API_URL settings.",
    guide=GUIDE,
)
def test_voice_ports_distinct(settings: BotSettings) -> None:
    used = voice_services_in_use(settings)
    if len(used) < 2:
        pytest.skip("not applicable: fewer than two voice servers in use")
    where: dict[str, list[str]] = {}
    for service in used:
        parts = urlsplit(voice_url(settings, service))
        host = (
            "localhost" if parts.hostname in ("127.0.0.1", "::1", "localhost") else parts.hostname
        )
        where.setdefault(f"{host}:{parts.port}", []).append(service)
    shared = {addr: names for addr, names in where.items() if len(names) > 1}
    assert not shared, "expected one server per port, found " + "; ".join(
        f"{' and '.join(names)} on {addr}" for addr, names in shared.items()
    )
