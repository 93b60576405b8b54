"""Which deployment is checked, and its settings."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from acore_doctor.redact import Redactor, secret_values
from acore_doctor.settings import BotSettings, load_settings

BOT_DIR_ENV = "ACORE_BOT_DIR"


@dataclass
class Deployment:
    """The acore_bot checkout being checked. Read-only by contract."""

    bot_dir: Path
    env_file: Path
    settings: BotSettings

    def path(self, value: str | os.PathLike[str]) -> Path:
        """Resolve a path setting the way the bot does: relative to its working directory."""
        candidate = Path(os.path.expanduser(str(value)))
        return candidate if candidate.is_absolute() else self.bot_dir / candidate

    def redactor(self, *extra: str) -> Redactor:
        """Masks this deployment's secrets, those of the process environment, and ``extra``."""
        redact = Redactor(secret_values(self.settings.file_values))
        redact.add(secret_values(dict(self.settings.environ)))
        redact.add(value for value in extra if value)
        return redact


def resolve_bot_dir(option: str | None, ini: str | None, cwd: Path) -> Path:
    """``--bot-dir``, else ``ACORE_BOT_DIR``, else the ``bot_dir`` ini option, else cwd."""
    for value in (option, os.environ.get(BOT_DIR_ENV), ini):
        if value:
            return Path(os.path.expanduser(value)).resolve()
    return cwd.resolve()


def load_deployment(bot_dir: Path, env_file: Path | None = None) -> Deployment:
    env_path = env_file if env_file is not None else bot_dir / ".env"
    if not env_path.is_absolute():
        env_path = (Path.cwd() / env_path).resolve()
    return Deployment(bot_dir=bot_dir, env_file=env_path, settings=load_settings(env_path))
