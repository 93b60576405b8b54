"""Reinforcement learning (demo copy of acore_bot's config/rl.py)."""

from __future__ import annotations

from pathlib import Path

from .base import BaseConfig


class RLConfig(BaseConfig):
    """Reinforcement learning."""

    RL_ENABLED: bool = BaseConfig._get_env_bool("RL_ENABLED", False)
    RL_DATA_DIR: Path = BaseConfig._get_env_path("RL_DATA_DIR", "./data/rl")
    RL_EPSILON_START: float = BaseConfig._get_env_float("RL_EPSILON_START", 1.0)
    RL_EPSILON_END: float = BaseConfig._get_env_float("RL_EPSILON_END", 0.01)
    RL_EPSILON_DECAY: float = BaseConfig._get_env_float("RL_EPSILON_DECAY", 0.9995)
    RL_Q_INIT: float = BaseConfig._get_env_float("RL_Q_INIT", 10.0)
    RL_LEARNING_RATE: float = BaseConfig._get_env_float("RL_LEARNING_RATE", 0.1)
    RL_DISCOUNT_FACTOR: float = BaseConfig._get_env_float("RL_DISCOUNT_FACTOR", 0.9)
    RL_PERSIST_INTERVAL: int = BaseConfig._get_env_int("RL_PERSIST_INTERVAL", 60)
    RL_LOCK_TIMEOUT: float = BaseConfig._get_env_float("RL_LOCK_TIMEOUT", 0.05)
    RL_MAX_LATENCY_SEC: float = BaseConfig._get_env_float("RL_MAX_LATENCY_SEC", 0.05)
    RL_REWARD_SPEED_THRESHOLD: float = BaseConfig._get_env_float("RL_REWARD_SPEED_THRESHOLD", 60.0)
    RL_REWARD_LONG_MSG_CHAR: int = BaseConfig._get_env_int("RL_REWARD_LONG_MSG_CHAR", 100)
    RL_CONTEXT_MAX_AGE: int = BaseConfig._get_env_int("RL_CONTEXT_MAX_AGE", 3600)
    RL_MAX_AGENTS_PER_CHANNEL: int = BaseConfig._get_env_int("RL_MAX_AGENTS_PER_CHANNEL", 100)
    RL_ALGORITHM: str = BaseConfig._get_env("RL_ALGORITHM", "tabular")
    RL_REPLAY_BUFFER_SIZE: int = BaseConfig._get_env_int("RL_REPLAY_BUFFER_SIZE", 10000)
    RL_BATCH_SIZE: int = BaseConfig._get_env_int("RL_BATCH_SIZE", 32)
    RL_WARMUP_STEPS: int = BaseConfig._get_env_int("RL_WARMUP_STEPS", 1000)
    RL_TRAIN_EVERY: int = BaseConfig._get_env_int("RL_TRAIN_EVERY", 4)
    RL_STATE_DIM: int = BaseConfig._get_env_int("RL_STATE_DIM", 128)
    RL_USE_HIERARCHICAL: bool = BaseConfig._get_env_bool("RL_USE_HIERARCHICAL", True)
    RL_USE_TRANSFER: bool = BaseConfig._get_env_bool("RL_USE_TRANSFER", True)
    RL_USE_MULTI_OBJECTIVE: bool = BaseConfig._get_env_bool("RL_USE_MULTI_OBJECTIVE", True)
    RL_OFFLINE_PRETRAINING: bool = BaseConfig._get_env_bool("RL_OFFLINE_PRETRAINING", False)
    # Also read (with raw conversions) by config/__init__.py, which wins.
    RL_EXPLORATION_MODE: bool = BaseConfig._get_env_bool("RL_EXPLORATION_MODE", False)
    RL_EXPLORATION_ACTIVITY_THRESHOLD: int = BaseConfig._get_env_int(
        "RL_EXPLORATION_ACTIVITY_THRESHOLD", 5
    )
    RL_EXPLORATION_BONUS_MAX: float = BaseConfig._get_env_float("RL_EXPLORATION_BONUS_MAX", 3.0)
    RL_EPSILON_BOOST_FACTOR: float = BaseConfig._get_env_float("RL_EPSILON_BOOST_FACTOR", 2.0)
    RL_EPSILON_BOOST_DECAY: float = BaseConfig._get_env_float("RL_EPSILON_BOOST_DECAY", 0.999)
