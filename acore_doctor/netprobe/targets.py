"""Which services a deployment uses and where, read from its settings as the bot reads them."""

from __future__ import annotations

from acore_doctor import catalog
from acore_doctor.probes.token import token_shape
from acore_doctor.settings import BotSettings, llm_provider

#: TTS_ENGINE value -> the probed (and simulated) service: the engine without its ``_api``
TTS_ENGINES = {engine: engine.removesuffix("_api") for engine in catalog.TTS_ENGINE_URL_KEYS}
#: voice service -> its URL setting (defaults from the catalog, or the bot's own code)
VOICE_URL_KEYS = {
    **{TTS_ENGINES[engine]: key for engine, key in catalog.TTS_ENGINE_URL_KEYS.items()},
    "rvc": "RVC_WEBUI_URL",
    "parakeet": "PARAKEET_API_URL",
}


def _url(settings: BotSettings, key: str) -> str:
    """``key``'s URL without a trailing slash; empty reads as its default, as the bot reads it."""
    return (settings.get(key).strip() or str(settings.setting(key).default)).rstrip("/")


def discord_api(settings: BotSettings) -> str:
    """``DISCORD_API_BASE`` (a proxy or a simulator), else Discord's v10 API."""
    return _url(settings, "DISCORD_API_BASE")


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
    host = _url(settings, "OLLAMA_HOST")
    # The runtime path appends /v1 itself; some .env files already carry it.
    return host[: -len("/v1")] if host.endswith("/v1") else host


def ollama_not_applicable(settings: BotSettings) -> str | None:
    provider = llm_provider(settings)
    if provider in ("openrouter", "openai", "openai_compat"):
        return f"LLM_PROVIDER={provider}, not Ollama"
    return None


def openrouter_url(settings: BotSettings) -> str:
    return _url(settings, "OPENROUTER_URL")


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
    return (
        settings.get("TTS_ENGINE").strip() or str(settings.setting("TTS_ENGINE").default)
    ).lower()


def voice_url(settings: BotSettings, service: str) -> str:
    return _url(settings, VOICE_URL_KEYS[service])


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
