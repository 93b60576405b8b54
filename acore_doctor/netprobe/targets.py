"""Which services a deployment uses and where, read from its settings as the bot reads them."""

from __future__ import annotations

from acore_doctor.probes.token import token_shape
from acore_doctor.settings import BotSettings, llm_provider

DISCORD_API = "https://discord.com/api/v10"
OPENROUTER_URL = "https://openrouter.ai/api/v1"

#: url setting, its default, and the engine/flag that selects it (deployment §2.3-2.4)
VOICE_URLS = {
    "kokoro": ("KOKORO_API_URL", "http://localhost:8880"),
    "supertonic": ("SUPERTONIC_API_URL", "http://127.0.0.1:7788"),
    "luxtts": ("LUXTTS_API_URL", "http://localhost:9999"),
    "qwen3tts": ("QWEN3TTS_API_URL", "http://localhost:8880"),
    "rvc": ("RVC_WEBUI_URL", "http://localhost:7865"),
    "parakeet": ("PARAKEET_API_URL", "http://localhost:8890"),
}
#: TTS_ENGINE value -> simulated/probed service
TTS_ENGINES = {
    "kokoro_api": "kokoro",
    "supertonic": "supertonic",
    "luxtts": "luxtts",
    "qwen3tts": "qwen3tts",
}


def _url(settings: BotSettings, key: str, default: str) -> str:
    return (settings.str(key).strip() or default).rstrip("/")


def discord_api(settings: BotSettings) -> str:
    """``DISCORD_API_BASE`` (a proxy or a simulator), else Discord's v10 API."""
    return _url(settings, "DISCORD_API_BASE", DISCORD_API)


def discord_token(settings: BotSettings) -> str:
    return settings.get("DISCORD_TOKEN").strip()


def discord_not_applicable(settings: BotSettings) -> str | None:
    shape = token_shape(settings.raw("DISCORD_TOKEN"))
    if not shape.ok:
        return (
            "DISCORD_TOKEN " + "; ".join(shape.problems) + ", so it is not sent to Discord "
            "(see the token-shape check)"
        )
    return None


def ollama_host(settings: BotSettings) -> str:
    host = _url(settings, "OLLAMA_HOST", "http://localhost:11434")
    # The runtime path appends /v1 itself; some .env files already carry it.
    return host[: -len("/v1")] if host.endswith("/v1") else host


def ollama_not_applicable(settings: BotSettings) -> str | None:
    provider = llm_provider(settings)
    if provider in ("openrouter", "openai", "openai_compat"):
        return f"LLM_PROVIDER={provider}, not Ollama"
    return None


def openrouter_url(settings: BotSettings) -> str:
    return _url(settings, "OPENROUTER_URL", OPENROUTER_URL)


def openrouter_not_applicable(settings: BotSettings) -> str | None:
    if llm_provider(settings) == "openrouter":
        return None
    if settings.get("THINKING_MODEL_PROVIDER").strip().lower() == "openrouter":
        return None
    return f"LLM_PROVIDER={llm_provider(settings)} and no thinking model on OpenRouter"


def compat_base(settings: BotSettings) -> str:
    return settings.get("OPENAI_COMPAT_BASE_URL").strip().rstrip("/")


def compat_root(settings: BotSettings) -> str:
    base = compat_base(settings)
    return base[: -len("/v1")] if base.endswith("/v1") else base


def compat_not_applicable(settings: BotSettings) -> str | None:
    if compat_base(settings):
        return None
    if llm_provider(settings) in ("openai", "openai_compat"):
        return None
    return "no OPENAI_COMPAT_BASE_URL and LLM_PROVIDER is not openai/openai_compat"


def voice_enabled(settings: BotSettings) -> bool:
    return settings.get("DISCORD_VOICE_ENABLED")


def tts_engine(settings: BotSettings) -> str:
    return settings.get("TTS_ENGINE").strip().lower() or "kokoro_api"


def voice_url(settings: BotSettings, service: str) -> str:
    key, default = VOICE_URLS[service]
    return _url(settings, key, default)


def voice_services_in_use(settings: BotSettings) -> list[str]:
    """The voice servers this deployment talks to (empty when voice is off)."""
    if not voice_enabled(settings):
        return []
    used = []
    engine = TTS_ENGINES.get(tts_engine(settings))
    if engine:
        used.append(engine)
    if settings.get("RVC_ENABLED") and settings.get("RVC_MODE").strip().lower() == "webui":
        used.append("rvc")
    stt = settings.get("STT_ENGINE").strip().lower()
    if stt == "parakeet" and settings.get("PARAKEET_ENABLED"):
        used.append("parakeet")
    return used


def voice_not_applicable(settings: BotSettings, service: str) -> str | None:
    if not voice_enabled(settings):
        return "voice is disabled (DISCORD_VOICE_ENABLED is not true)"
    if service in voice_services_in_use(settings):
        return None
    why = {
        "rvc": "RVC_ENABLED is not true (or RVC_MODE is not webui)",
        "parakeet": "STT_ENGINE is not parakeet with PARAKEET_ENABLED=true",
    }.get(service, f"TTS_ENGINE={tts_engine(settings)}, not {service}")
    return why


def on_this_host(url: str) -> bool:
    """Whether ``url`` names this machine (loopback, an address of ours, our hostname)."""
    import ipaddress
    import socket
    from urllib.parse import urlsplit

    host = (urlsplit(url).hostname or "").lower()
    if host in ("localhost", "0.0.0.0", "::", socket.gethostname().lower()):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
