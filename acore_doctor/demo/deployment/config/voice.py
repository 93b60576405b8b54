"""Text to speech, RVC and speech recognition (demo copy of acore_bot's config/voice.py)."""

from __future__ import annotations

from pathlib import Path

from .base import BaseConfig


class VoiceConfig(BaseConfig):
    """Text to speech, RVC and speech recognition."""

    TTS_ENGINE: str = BaseConfig._get_env("TTS_ENGINE", "kokoro_api")
    AUDIO_BITRATE: int = BaseConfig._get_env_int("AUDIO_BITRATE", 96)
    AUDIO_SAMPLE_RATE: int = BaseConfig._get_env_int("AUDIO_SAMPLE_RATE", 48000)
    KOKORO_VOICE: str = BaseConfig._get_env("KOKORO_VOICE", "am_adam")
    KOKORO_SPEED: float = BaseConfig._get_env_float("KOKORO_SPEED", 1.0)
    KOKORO_API_URL: str = BaseConfig._get_env("KOKORO_API_URL", "http://localhost:8880")
    KOKORO_VOICE_CHIEF: str = BaseConfig._get_env("KOKORO_VOICE_CHIEF", "am_onyx")
    KOKORO_VOICE_ARBY: str = BaseConfig._get_env("KOKORO_VOICE_ARBY", "bm_george")
    SUPERTONIC_VOICE: str = BaseConfig._get_env("SUPERTONIC_VOICE", "M1")
    SUPERTONIC_STEPS: int = BaseConfig._get_env_int("SUPERTONIC_STEPS", 5)
    SUPERTONIC_SPEED: float = BaseConfig._get_env_float("SUPERTONIC_SPEED", 1.05)
    RVC_ENABLED: bool = BaseConfig._get_env_bool("RVC_ENABLED", False)
    RVC_MODE: str = BaseConfig._get_env("RVC_MODE", "webui")
    RVC_DEVICE: str = BaseConfig._get_env("RVC_DEVICE", "cpu")
    RVC_MODEL_PATH: Path = BaseConfig._get_env_path("RVC_MODEL_PATH", "./data/voice_models")
    DEFAULT_RVC_MODEL: str = BaseConfig._get_env("DEFAULT_RVC_MODEL", "GOTHMOMMY")
    RVC_WEBUI_URL: str = BaseConfig._get_env("RVC_WEBUI_URL", "http://localhost:7865")
    RVC_PITCH_SHIFT: int = BaseConfig._get_env_int("RVC_PITCH_SHIFT", 0)
    RVC_PROTECT: float = BaseConfig._get_env_float("RVC_PROTECT", 0.33)
    RVC_INDEX_RATE: float = BaseConfig._get_env_float("RVC_INDEX_RATE", 0.75)
    STT_ENGINE: str = BaseConfig._get_env("STT_ENGINE", "whisper")
    WHISPER_ENABLED: bool = BaseConfig._get_env_bool("WHISPER_ENABLED", False)
    WHISPER_MODEL_SIZE: str = BaseConfig._get_env("WHISPER_MODEL_SIZE", "base")
    WHISPER_DEVICE: str = BaseConfig._get_env("WHISPER_DEVICE", "auto")
    WHISPER_LANGUAGE: str = BaseConfig._get_env("WHISPER_LANGUAGE", "en")
    WHISPER_SILENCE_THRESHOLD: float = BaseConfig._get_env_float("WHISPER_SILENCE_THRESHOLD", 1.0)
    MAX_RECORDING_DURATION: int = BaseConfig._get_env_int("MAX_RECORDING_DURATION", 30)
    PARAKEET_ENABLED: bool = BaseConfig._get_env_bool("PARAKEET_ENABLED", False)
    PARAKEET_API_URL: str = BaseConfig._get_env("PARAKEET_API_URL", "http://localhost:8890")
    PARAKEET_MODEL: str = BaseConfig._get_env("PARAKEET_MODEL", "nvidia/parakeet-tdt-0.6b-v3")
    PARAKEET_DEVICE: str = BaseConfig._get_env("PARAKEET_DEVICE", "auto")
    PARAKEET_LANGUAGE: str = BaseConfig._get_env("PARAKEET_LANGUAGE", "en")
    VOICE_ENERGY_THRESHOLD: int = BaseConfig._get_env_int("VOICE_ENERGY_THRESHOLD", 500)
    VOICE_BOT_TRIGGER_WORDS: list[str] = BaseConfig._get_env_list(
        "VOICE_BOT_TRIGGER_WORDS", ["bot", "assistant", "hey", "help", "question"]
    )
    LUXTTS_API_URL: str = BaseConfig._get_env("LUXTTS_API_URL", "http://localhost:9999")
    LUXTTS_VOICE: str = BaseConfig._get_env("LUXTTS_VOICE", "default")
    LUXTTS_SPEED: float = BaseConfig._get_env_float("LUXTTS_SPEED", 1.0)
    QWEN3TTS_API_URL: str = BaseConfig._get_env("QWEN3TTS_API_URL", "http://localhost:8880")
    QWEN3TTS_VOICE: str = BaseConfig._get_env("QWEN3TTS_VOICE", "Vivian")
    QWEN3TTS_LANGUAGE: str = BaseConfig._get_env("QWEN3TTS_LANGUAGE", "Auto")
    QWEN3TTS_SPEED: float = BaseConfig._get_env_float("QWEN3TTS_SPEED", 1.0)
