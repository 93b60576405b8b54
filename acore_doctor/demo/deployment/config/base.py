"""Parsing helpers shared by the config modules (demo copy of acore_bot's config/base.py).

The rules acore-doctor reproduces: a bool is true only for the word "true" (any case); a bad
int or float silently becomes the default; lists are comma-separated and an empty value means
the default; an int list falls back to its default when any item is not an int.
"""

from __future__ import annotations

import os
from pathlib import Path


class BaseConfig:
    @staticmethod
    def _get_env(key: str, default: str = "") -> str:
        return os.getenv(key, default)

    @staticmethod
    def _get_env_bool(key: str, default: bool = False) -> bool:
        return os.getenv(key, str(default).lower()).lower() == "true"

    @staticmethod
    def _get_env_int(key: str, default: int = 0) -> int:
        try:
            return int(os.getenv(key, str(default)))
        except ValueError:
            return default

    @staticmethod
    def _get_env_float(key: str, default: float = 0.0) -> float:
        try:
            return float(os.getenv(key, str(default)))
        except ValueError:
            return default

    @staticmethod
    def _get_env_list(key: str, default: list[str] | None = None) -> list[str]:
        value = os.getenv(key, "")
        if not value:
            return list(default or [])
        return [item.strip() for item in value.split(",") if item.strip()]

    @staticmethod
    def _get_env_int_list(key: str, default: list[int] | None = None) -> list[int]:
        value = os.getenv(key, "")
        if not value:
            return list(default or [])
        try:
            return [int(item.strip()) for item in value.split(",") if item.strip()]
        except ValueError:
            return list(default or [])

    @staticmethod
    def _get_env_path(key: str, default: str = ".") -> Path:
        return Path(os.getenv(key, default))
