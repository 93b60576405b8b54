"""Personas, evolution, mood, curiosity and lorebooks (demo copy of acore_bot's config/persona.py)."""

from __future__ import annotations

from pathlib import Path

from .base import BaseConfig


class PersonaConfig(BaseConfig):
    """Personas, evolution, mood, curiosity and lorebooks."""

    # Not an environment variable, whatever the README says: the legacy router loads these.
    ACTIVE_PERSONAS: list[str] = ["dagoth_ur.json", "gothmommy.json", "hal_9000.json"]

    CHARACTERS_DIR: Path = BaseConfig._get_env_path("CHARACTERS_DIR", "./prompts/characters")
    USE_PERSONA_SYSTEM: bool = BaseConfig._get_env_bool("USE_PERSONA_SYSTEM", True)
    CHARACTER: str = BaseConfig._get_env("CHARACTER", "dagoth_ur")
    FRAMEWORK: str = BaseConfig._get_env("FRAMEWORK", "neuro")
    SYSTEM_PROMPT_FILE: Path = BaseConfig._get_env_path(
        "SYSTEM_PROMPT_FILE", "./prompts/default.txt"
    )
    SYSTEM_PROMPT: str = BaseConfig._get_env("SYSTEM_PROMPT", "")
    PERSONA_EVOLUTION_ENABLED: bool = BaseConfig._get_env_bool("PERSONA_EVOLUTION_ENABLED", True)
    PERSONA_EVOLUTION_PATH: Path = BaseConfig._get_env_path(
        "PERSONA_EVOLUTION_PATH", "./data/persona_evolution"
    )
    PERSONA_EVOLUTION_MILESTONES: list[int] = BaseConfig._get_env_int_list(
        "PERSONA_EVOLUTION_MILESTONES", [50, 100, 500, 1000, 5000]
    )
    PERSONA_STICKY_TIMEOUT: int = BaseConfig._get_env_int("PERSONA_STICKY_TIMEOUT", 30)
    PERSONA_FOLLOWUP_COOLDOWN: int = BaseConfig._get_env_int("PERSONA_FOLLOWUP_COOLDOWN", 60)
    PERSONA_CONFLICTS_ENABLED: bool = BaseConfig._get_env_bool("PERSONA_CONFLICTS_ENABLED", True)
    CONFLICT_DECAY_RATE: float = BaseConfig._get_env_float("CONFLICT_DECAY_RATE", 0.1)
    CONFLICT_ESCALATION_AMOUNT: float = BaseConfig._get_env_float("CONFLICT_ESCALATION_AMOUNT", 0.2)
    ACTIVITY_ROUTING_ENABLED: bool = BaseConfig._get_env_bool("ACTIVITY_ROUTING_ENABLED", True)
    ACTIVITY_ROUTING_PRIORITY: int = BaseConfig._get_env_int("ACTIVITY_ROUTING_PRIORITY", 100)
    MOOD_SYSTEM_ENABLED: bool = BaseConfig._get_env_bool("MOOD_SYSTEM_ENABLED", True)
    MOOD_UPDATE_FROM_INTERACTIONS: bool = BaseConfig._get_env_bool(
        "MOOD_UPDATE_FROM_INTERACTIONS", True
    )
    MOOD_TIME_BASED: bool = BaseConfig._get_env_bool("MOOD_TIME_BASED", True)
    MOOD_DECAY_MINUTES: int = BaseConfig._get_env_int("MOOD_DECAY_MINUTES", 30)
    MOOD_MAX_INTENSITY_SHIFT: float = BaseConfig._get_env_float("MOOD_MAX_INTENSITY_SHIFT", 0.1)
    MOOD_CHECK_INTERVAL_SECONDS: int = BaseConfig._get_env_int("MOOD_CHECK_INTERVAL_SECONDS", 60)
    MOOD_BOREDOM_TIMEOUT_SECONDS: int = BaseConfig._get_env_int("MOOD_BOREDOM_TIMEOUT_SECONDS", 600)
    CURIOSITY_ENABLED: bool = BaseConfig._get_env_bool("CURIOSITY_ENABLED", True)
    CURIOSITY_INDIVIDUAL_COOLDOWN_SECONDS: int = BaseConfig._get_env_int(
        "CURIOSITY_INDIVIDUAL_COOLDOWN_SECONDS", 300
    )
    CURIOSITY_WINDOW_LIMIT_SECONDS: int = BaseConfig._get_env_int(
        "CURIOSITY_WINDOW_LIMIT_SECONDS", 900
    )
    CURIOSITY_TOPIC_MEMORY_SIZE: int = BaseConfig._get_env_int("CURIOSITY_TOPIC_MEMORY_SIZE", 20)
    SELF_AWARENESS_ENABLED: bool = BaseConfig._get_env_bool("SELF_AWARENESS_ENABLED", True)
    HESITATION_CHANCE: float = BaseConfig._get_env_float("HESITATION_CHANCE", 0.15)
    META_COMMENT_CHANCE: float = BaseConfig._get_env_float("META_COMMENT_CHANCE", 0.1)
    SELF_CORRECTION_ENABLED: bool = BaseConfig._get_env_bool("SELF_CORRECTION_ENABLED", True)
    SEMANTIC_LOREBOOK_ENABLED: bool = BaseConfig._get_env_bool("SEMANTIC_LOREBOOK_ENABLED", True)
    SEMANTIC_LOREBOOK_THRESHOLD: float = BaseConfig._get_env_float(
        "SEMANTIC_LOREBOOK_THRESHOLD", 0.65
    )
    SEMANTIC_LOREBOOK_CACHE_SIZE: int = BaseConfig._get_env_int(
        "SEMANTIC_LOREBOOK_CACHE_SIZE", 1000
    )
