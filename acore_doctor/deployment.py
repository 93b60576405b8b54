"""Which deployment is checked, and its settings."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from acore_doctor import catalog
from acore_doctor.probes.bot_source import BUNDLED, SettingsKnowledge, settings_knowledge
from acore_doctor.redact import Redactor, settings_redactor
from acore_doctor.settings import BotSettings, load_settings

BOT_DIR_ENV = "ACORE_BOT_DIR"


@dataclass
class Deployment:
    """The acore_bot checkout being checked. Read-only by contract."""

    bot_dir: Path
    env_file: Path
    settings: BotSettings
    #: what each key means to this bot: its own config source merged with the bundled catalog
    knowledge: SettingsKnowledge = field(
        default_factory=lambda: SettingsKnowledge(BUNDLED, dict(catalog.KNOWN))
    )
    #: why ``bot_dir`` is not an acore_bot deployment at all, or None when it is one
    not_a_deployment: str | None = None

    @property
    def settings_source(self) -> str:
        """``bot source at <commit or mtime>`` or ``bundled catalog``."""
        return self.knowledge.origin

    def path(self, value: str | os.PathLike[str]) -> Path:
        """Resolve a path setting the way the bot does: relative to its working directory."""
        candidate = Path(os.path.expanduser(str(value)))
        return candidate if candidate.is_absolute() else self.bot_dir / candidate

    def redactor(self, *extra: str) -> Redactor:
        """Masks this deployment's secrets, those of the process environment, and ``extra``."""
        redact = settings_redactor(self.settings.file_values, self.settings.environ)
        redact.add(value for value in extra if value)
        return redact


def resolve_bot_dir(option: str | None, ini: str | None, cwd: Path) -> Path:
    """``--bot-dir``, else ``ACORE_BOT_DIR``, else the ``bot_dir`` ini option, else cwd."""
    for value in (option, os.environ.get(BOT_DIR_ENV), ini):
        if value:
            return Path(os.path.expanduser(value)).resolve()
    return cwd.resolve()


#: What every acore_bot checkout has: an entrypoint, its config code (§1).
DEPLOYMENT_MARKERS = ("main.py", "launcher.py", "config", "config.py")


def not_a_deployment(bot_dir: Path, env_file: Path) -> str | None:
    """Why ``bot_dir`` is no acore_bot deployment (no entrypoint, no config code and no
    ``.env``), or None when it has any of them."""
    if any((bot_dir / name).exists() for name in DEPLOYMENT_MARKERS) or env_file.exists():
        return None
    return (
        f"{bot_dir} has no main.py, launcher.py, config/ or config.py, and no {env_file.name}: "
        "this is not an acore_bot deployment"
    )


def load_deployment(bot_dir: Path, env_file: Path | None = None) -> Deployment:
    env_path = env_file if env_file is not None else bot_dir / ".env"
    if not env_path.is_absolute():
        env_path = (Path.cwd() / env_path).resolve()
    settings = load_settings(env_path)
    knowledge = settings_knowledge(bot_dir)
    settings.known = knowledge.known
    settings.unread = knowledge.unread
    return Deployment(
        bot_dir=bot_dir,
        env_file=env_path,
        settings=settings,
        knowledge=knowledge,
        not_a_deployment=not_a_deployment(bot_dir, env_path),
    )
