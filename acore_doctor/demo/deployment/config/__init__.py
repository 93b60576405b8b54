"""Configuration package (demo copy of acore_bot's config/__init__.py).

``from config import Config`` resolves here: this package shadows the older ``config.py``.
The demo never imports it; acore-doctor reads it with ``ast`` to learn what the bot reads.
"""

from __future__ import annotations

import os
from pathlib import Path

from dotenv import load_dotenv

load_dotenv()

from .agents import AgentsConfig  # noqa: E402
from .analytics import AnalyticsConfig  # noqa: E402
from .discord import DiscordConfig  # noqa: E402
from .features import FeaturesConfig  # noqa: E402
from .llm import LLMConfig  # noqa: E402
from .logging import LoggingConfig  # noqa: E402
from .persona import PersonaConfig  # noqa: E402
from .rag import RAGConfig  # noqa: E402
from .rl import RLConfig  # noqa: E402
from .voice import VoiceConfig  # noqa: E402


class Config(
    DiscordConfig,
    LLMConfig,
    PersonaConfig,
    RAGConfig,
    VoiceConfig,
    RLConfig,
    AnalyticsConfig,
    LoggingConfig,
    AgentsConfig,
    FeaturesConfig,
):
    """Every setting as a flat class attribute, plus the extras read below."""

    DATA_DIR = Path("data")
    CHAT_HISTORY_DIR = DATA_DIR / "chat_history"
    VOICE_MODELS_DIR = DATA_DIR / "voice_models"
    TEMP_DIR = DATA_DIR / "temp"
    SUMMARY_DIR = DATA_DIR / "conversation_summaries"

    # Extras read directly. The raw int()/float() calls raise ValueError at import on a bad
    # value, unlike the BaseConfig helpers, which fall back to their default.
    RAG_COLLECTION_NAME: str = os.getenv("RAG_COLLECTION_NAME", "default")
    IMAGE_GENERATION_ENABLED: bool = (
        os.getenv("IMAGE_GENERATION_ENABLED", "false").lower() == "true"
    )
    IMAGE_GENERATION_API_KEY: str = os.getenv("IMAGE_GENERATION_API_KEY", "")
    IMAGE_PROVIDER: str = os.getenv("IMAGE_PROVIDER", "openai").lower()
    IMAGE_SIZE_DEFAULT: str = os.getenv("IMAGE_SIZE_DEFAULT", "1024x1024")
    IMAGE_QUALITY_DEFAULT: str = os.getenv("IMAGE_QUALITY_DEFAULT", "standard")
    IMAGE_STYLE_DEFAULT: str = os.getenv("IMAGE_STYLE_DEFAULT", "vivid")
    COMFYUI_SERVER_URL: str = os.getenv("COMFYUI_SERVER_URL", "http://127.0.0.1:8188")
    COMFYUI_WORKFLOW_ID: str | None = os.getenv("COMFYUI_WORKFLOW_ID")
    LITELLM_API_KEY: str = os.getenv("LITELLM_API_KEY", "dummy")
    LITELLM_BASE_URL: str = os.getenv("LITELLM_BASE_URL", "")
    LITELLM_IMAGE_MODEL: str = os.getenv("LITELLM_IMAGE_MODEL", "dall-e-3")
    KOBOLDCPP_URL: str = os.getenv("KOBOLDCPP_URL", "http://127.0.0.1:5001")
    KOBOLDCPP_STEPS: int = int(os.getenv("KOBOLDCPP_STEPS", "30"))
    KOBOLDCPP_CFG_SCALE: float = float(os.getenv("KOBOLDCPP_CFG_SCALE", "7.0"))
    KOBOLDCPP_SAMPLER: str = os.getenv("KOBOLDCPP_SAMPLER", "Euler a")
    CODE_EXECUTION_ENABLED: bool = os.getenv("CODE_EXECUTION_ENABLED", "false").lower() == "true"
    CODE_EXECUTION_TIMEOUT: int = int(os.getenv("CODE_EXECUTION_TIMEOUT", "30"))
    CODE_SANDBOX_ENABLED: bool = os.getenv("CODE_SANDBOX_ENABLED", "true").lower() == "true"
    CODE_MAX_OUTPUT_SIZE: int = int(os.getenv("CODE_MAX_OUTPUT_SIZE", "10000"))
    BOT_CONVERSATION_ENABLED: bool = os.getenv("BOT_CONVERSATION_ENABLED", "true").lower() == "true"
    BOT_CONVERSATION_MAX_TURNS: int = int(os.getenv("BOT_CONVERSATION_MAX_TURNS", "10"))
    BOT_CONVERSATION_TIMEOUT_MINUTES: int = int(os.getenv("BOT_CONVERSATION_TIMEOUT_MINUTES", "30"))
    BOT_CONVERSATION_DETAILED_METRICS: bool = (
        os.getenv("BOT_CONVERSATION_DETAILED_METRICS", "false").lower() == "true"
    )
    RL_EXPLORATION_MODE: bool = os.getenv("RL_EXPLORATION_MODE", "false").lower() == "true"
    RL_EXPLORATION_ACTIVITY_THRESHOLD: int = int(
        os.getenv("RL_EXPLORATION_ACTIVITY_THRESHOLD", "5")
    )
    RL_EXPLORATION_BONUS_MAX: float = float(os.getenv("RL_EXPLORATION_BONUS_MAX", "3.0"))
    RL_EPSILON_BOOST_FACTOR: float = float(os.getenv("RL_EPSILON_BOOST_FACTOR", "2.0"))
    RL_EPSILON_BOOST_DECAY: float = float(os.getenv("RL_EPSILON_BOOST_DECAY", "0.999"))

    @classmethod
    def validate(cls) -> bool:
        """Create the directories the bot writes to. Nothing else is checked."""
        cls.DATA_DIR.mkdir(parents=True, exist_ok=True)
        cls.CHAT_HISTORY_DIR.mkdir(parents=True, exist_ok=True)
        cls.VOICE_MODELS_DIR.mkdir(parents=True, exist_ok=True)
        cls.TEMP_DIR.mkdir(parents=True, exist_ok=True)
        cls.SUMMARY_DIR.mkdir(parents=True, exist_ok=True)
        if cls.RL_ENABLED:
            cls.RL_DATA_DIR.mkdir(parents=True, exist_ok=True)
        return True
