"""LLM provider, sampling and chat context (demo copy of acore_bot's config/llm.py)."""

from __future__ import annotations

from .base import BaseConfig


class LLMConfig(BaseConfig):
    """LLM provider, sampling and chat context."""

    LLM_PROVIDER: str = BaseConfig._get_env("LLM_PROVIDER", "ollama").lower()
    USE_FUNCTION_CALLING: bool = BaseConfig._get_env_bool("USE_FUNCTION_CALLING", False)
    LLM_CACHE_ENABLED: bool = BaseConfig._get_env_bool("LLM_CACHE_ENABLED", True)
    LLM_CACHE_MAX_SIZE: int = BaseConfig._get_env_int("LLM_CACHE_MAX_SIZE", 1000)
    LLM_CACHE_TTL_SECONDS: int = BaseConfig._get_env_int("LLM_CACHE_TTL_SECONDS", 3600)
    LLM_FALLBACK_ENABLED: bool = BaseConfig._get_env_bool("LLM_FALLBACK_ENABLED", False)
    LLM_FALLBACK_MODELS: list[str] = BaseConfig._get_env_list("LLM_FALLBACK_MODELS")
    LLM_FREQUENCY_PENALTY: float = BaseConfig._get_env_float("LLM_FREQUENCY_PENALTY", 0.0)
    LLM_PRESENCE_PENALTY: float = BaseConfig._get_env_float("LLM_PRESENCE_PENALTY", 0.0)
    LLM_TOP_P: float = BaseConfig._get_env_float("LLM_TOP_P", 1.0)
    OLLAMA_HOST: str = BaseConfig._get_env("OLLAMA_HOST", "http://localhost:11434")
    OLLAMA_MODEL: str = BaseConfig._get_env("OLLAMA_MODEL", "llama3.2")
    OLLAMA_TEMPERATURE: float = BaseConfig._get_env_float("OLLAMA_TEMPERATURE", 1.17)
    OLLAMA_MAX_TOKENS: int = BaseConfig._get_env_int("OLLAMA_MAX_TOKENS", 500)
    OLLAMA_MIN_P: float = BaseConfig._get_env_float("OLLAMA_MIN_P", 0.075)
    OLLAMA_TOP_K: int = BaseConfig._get_env_int("OLLAMA_TOP_K", 50)
    OLLAMA_REPEAT_PENALTY: float = BaseConfig._get_env_float("OLLAMA_REPEAT_PENALTY", 1.1)
    OPENROUTER_API_KEY: str = BaseConfig._get_env("OPENROUTER_API_KEY", "")
    OPENROUTER_MODEL: str = BaseConfig._get_env(
        "OPENROUTER_MODEL", "nousresearch/hermes-3-llama-3.1-405b"
    )
    OPENROUTER_URL: str = BaseConfig._get_env("OPENROUTER_URL", "https://openrouter.ai/api/v1")
    OPENROUTER_TIMEOUT: int = BaseConfig._get_env_int("OPENROUTER_TIMEOUT", 180)
    OPENROUTER_STREAM_TIMEOUT: int = BaseConfig._get_env_int("OPENROUTER_STREAM_TIMEOUT", 180)
    THINKING_MODEL: str = BaseConfig._get_env("THINKING_MODEL", "")
    THINKING_MODEL_PROVIDER: str = BaseConfig._get_env("THINKING_MODEL_PROVIDER", "")
    CLEAN_THINKING_OUTPUT: bool = BaseConfig._get_env_bool("CLEAN_THINKING_OUTPUT", True)
    CHAT_HISTORY_ENABLED: bool = BaseConfig._get_env_bool("CHAT_HISTORY_ENABLED", True)
    CHAT_HISTORY_MAX_MESSAGES: int = BaseConfig._get_env_int("CHAT_HISTORY_MAX_MESSAGES", 100)
    CONTEXT_MESSAGE_LIMIT: int = BaseConfig._get_env_int("CONTEXT_MESSAGE_LIMIT", 20)
    MAX_CONTEXT_TOKENS: int = BaseConfig._get_env_int("MAX_CONTEXT_TOKENS", 8192)
    RESPONSE_STREAMING_ENABLED: bool = BaseConfig._get_env_bool("RESPONSE_STREAMING_ENABLED", True)
    STREAM_UPDATE_INTERVAL: float = BaseConfig._get_env_float("STREAM_UPDATE_INTERVAL", 1.0)
    RESPONSE_TOKENS_VERY_SHORT: int = BaseConfig._get_env_int("RESPONSE_TOKENS_VERY_SHORT", 50)
    RESPONSE_TOKENS_SHORT: int = BaseConfig._get_env_int("RESPONSE_TOKENS_SHORT", 100)
    RESPONSE_TOKENS_MEDIUM: int = BaseConfig._get_env_int("RESPONSE_TOKENS_MEDIUM", 200)
    RESPONSE_TOKENS_LONG: int = BaseConfig._get_env_int("RESPONSE_TOKENS_LONG", 350)
    RESPONSE_TOKENS_VERY_LONG: int = BaseConfig._get_env_int("RESPONSE_TOKENS_VERY_LONG", 500)
