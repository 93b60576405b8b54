"""The bot's settings, read the way acore_bot reads them.

The `.env` file is parsed with python-dotenv into a plain dict; ``os.environ`` is never
changed. As in the bot (``load_dotenv(override=False)``), a variable set in the process
environment wins over the file. The typed accessors follow ``config/base.py``: a bool is
true only for the literal ``true`` (any case), a bad int or float silently becomes the
default. Every such silent replacement is recorded in :attr:`BotSettings.problems` so a
check can report it.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from acore_doctor import catalog
from acore_doctor.changes.inputs import note_setting
from acore_doctor.saferead import FileTooLarge, NotARegularFile, read_bounded

#: A file this large is not a real `.env`; reading it whole would only hurt.
MAX_ENV_BYTES = 1024 * 1024


@dataclass(frozen=True)
class SettingProblem:
    """A value the bot would not use as written."""

    key: str
    raw: str
    used: object
    reason: str

    def describe(self) -> str:
        return f"{self.key}={self.raw!r}: {self.reason}; the bot uses {self.used!r}"


@dataclass(frozen=True)
class EnvFileState:
    """What reading the `.env` file found, before any value is interpreted."""

    path: Path
    exists: bool
    readable: bool = True
    error: str | None = None
    #: line numbers python-dotenv could not parse (the bot skips them silently)
    unparsed_lines: tuple[int, ...] = ()
    size: int = 0


@dataclass
class BotSettings:
    """Read-only view of the deployment's configuration."""

    file_values: dict[str, str | None]
    env_file: EnvFileState
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    problems: list[SettingProblem] = field(default_factory=list)
    #: what each key means to the bot (kind, default): the bundled catalog unless the
    #: deployment's own config/ source said otherwise
    known: Mapping[str, catalog.Setting] = field(default_factory=lambda: catalog.KNOWN)
    #: bundled keys that this deployment's (whole) source never reads: key -> why
    unread: Mapping[str, str] = field(default_factory=dict)

    # -- raw access -------------------------------------------------------------------
    def raw(self, key: str) -> str | None:
        """The string the bot would see for ``key``: process environment first, then `.env`."""
        note_setting(key)  # which settings a check read (what changed since it passed)
        if key in self.environ:
            return self.environ[key]
        return self.file_values.get(key)

    def source(self, key: str) -> str | None:
        """Where ``key`` comes from: ``"environment"``, ``".env"`` or None when unset."""
        if key in self.environ:
            return "environment"
        if key in self.file_values:
            return ".env"
        return None

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.raw(key) is not None

    def keys_in_file(self) -> Iterator[str]:
        return iter(self.file_values)

    def str(self, key: str, default: str = "") -> str:
        value = self.raw(key)
        return default if value is None else value

    # -- typed access, with the bot's parse rules --------------------------------------
    def setting(self, key: str) -> catalog.Setting:
        """What ``key`` is (kind, default); a key in no table is a bug in the caller.

        A key this bot's source no longer reads is still answered from the bundled catalog:
        checks keep working on a newer bot (the dead-key check uses ``known`` alone).
        """
        setting = self.known.get(key) or catalog.KNOWN.get(key)
        if setting is None:
            raise KeyError(f"{key} is in neither the bot's catalog nor the suite's table")
        return setting

    def get(self, key: str) -> Any:
        """``key`` read with the kind and default the bot (or the suite's table) gives it."""
        setting = self.setting(key)
        kind, default = setting.kind, setting.default
        if kind == "bool":
            return self.bool(key, bool(default))
        if kind == "int":
            return self.int(key, default)  # type: ignore[arg-type]
        if kind == "float":
            return self.float(key, default)  # type: ignore[arg-type]
        if kind == "list":
            return self.list(key, _csv(str(default)))
        if kind == "intlist":
            return self.intlist(key, [int(item) for item in _csv(str(default))])
        return self.str(key, str(default))

    def bool(self, key: str, default: bool = False) -> bool:
        value = self.raw(key)
        parsed, problem = parse_bool(key, value, default)
        self._note(problem)
        return parsed

    def int(self, key: str, default: int) -> int:
        value = self.raw(key)
        parsed, problem = parse_number(key, value, default, int)
        self._note(problem)
        return parsed  # type: ignore[return-value]

    def float(self, key: str, default: float) -> float:
        value = self.raw(key)
        parsed, problem = parse_number(key, value, default, float)
        self._note(problem)
        return parsed  # type: ignore[return-value]

    def list(self, key: str, default: list[str] | None = None) -> list[str]:
        value = self.raw(key)
        if value is None or value.strip() == "":
            return list(default or [])
        return _csv(value)

    def intlist(self, key: str, default: list[int] | None = None) -> list[int]:
        """``config/base.py``: a list of ints falls back to the default when any item is bad."""
        items = self.list(key)
        if not items:
            return list(default or [])
        try:
            return [int(item) for item in items]
        except ValueError:
            return list(default or [])

    def _note(self, problem: SettingProblem | None) -> None:
        if problem is not None and problem not in self.problems:
            self.problems.append(problem)

    def __repr__(self) -> str:
        # Never show values: a repr ends up in tracebacks and --showlocals output.
        return f"<BotSettings {self.env_file.path} ({len(self.file_values)} keys)>"


def _csv(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def llm_provider(settings: BotSettings) -> str:
    """The LLM provider the bot selects: ``LLM_PROVIDER`` lower-cased, empty means ollama."""
    default = str(settings.setting("LLM_PROVIDER").default)
    return settings.get("LLM_PROVIDER").strip().lower() or default


def parse_bool(key: str, value: str | None, default: bool) -> tuple[bool, SettingProblem | None]:
    """``config/base.py``: true only for ``true`` in any case; unset means the default."""
    if value is None or value == "":
        return default, None
    parsed = value.strip().lower() == "true"
    if not parsed and value.strip().lower() not in ("false",):
        return parsed, SettingProblem(key, value, parsed, "only 'true' or 'false' is understood")
    return parsed, None


def parse_number(
    key: str, value: str | None, default: float, kind: type
) -> tuple[float, SettingProblem | None]:
    """A bad number is swallowed by the bot and the default used silently."""
    if value is None or value == "":
        return default, None
    try:
        return kind(value), None
    except ValueError:
        return default, SettingProblem(key, value, default, f"not a valid {kind.__name__}")


def read_env_file(path: Path) -> tuple[dict[str, str | None], EnvFileState]:
    """Parse a `.env` file without touching ``os.environ``; never raises for bad content."""
    if not path.exists():
        return {}, EnvFileState(path, exists=False)
    try:
        size = path.stat().st_size
        data = read_bounded(path, MAX_ENV_BYTES)
    except NotARegularFile as exc:
        return {}, EnvFileState(path, exists=True, error=str(exc))
    except FileTooLarge:
        return {}, EnvFileState(
            path, exists=True, error=f"{size} bytes, larger than any real .env", size=size
        )
    except OSError as exc:
        return {}, EnvFileState(path, exists=True, readable=False, error=exc.strerror or str(exc))
    if b"\x00" in data:
        return {}, EnvFileState(path, exists=True, error="binary content (NUL bytes)", size=size)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return {}, EnvFileState(
            path, exists=True, error=f"not valid UTF-8 at byte {exc.start}", size=size
        )
    unparsed: list[int] = []
    handler = _DotenvWarnings(unparsed)
    dotenv_logger = logging.getLogger("dotenv.main")
    dotenv_logger.addHandler(handler)
    previous_propagate = dotenv_logger.propagate
    dotenv_logger.propagate = False
    try:
        values = dotenv_values(stream=io.StringIO(text), interpolate=True)
    except Exception as exc:  # python-dotenv has no documented exception set
        return {}, EnvFileState(path, exists=True, error=f"unparseable: {exc}", size=size)
    finally:
        dotenv_logger.removeHandler(handler)
        dotenv_logger.propagate = previous_propagate
    return dict(values), EnvFileState(path, exists=True, unparsed_lines=tuple(unparsed), size=size)


class _DotenvWarnings(logging.Handler):
    """python-dotenv reports bad lines only as log warnings; collect their line numbers."""

    def __init__(self, sink: list[int]) -> None:
        super().__init__(logging.WARNING)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        for arg in args:
            if isinstance(arg, int):
                self.sink.append(arg)
                return


def environ_settings(environ: Mapping[str, str]) -> BotSettings:
    """Settings from a process environment alone (no `.env`), for tools run without a bot dir."""
    return BotSettings(
        file_values={}, env_file=EnvFileState(Path(".env"), exists=False), environ=dict(environ)
    )


def load_settings(env_file: Path, environ: Mapping[str, str] | None = None) -> BotSettings:
    values, state = read_env_file(env_file)
    return BotSettings(
        file_values=values,
        env_file=state,
        environ=dict(os.environ if environ is None else environ),
    )
