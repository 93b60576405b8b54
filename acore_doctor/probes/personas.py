"""Persona cards (SillyTavern Character Card V2) and frameworks, and which of them each of the
bot's two loaders loads (reference §3.2). Every bad file becomes a fact naming it; nothing
raises. Judging the cards' content is :mod:`acore_doctor.rules.personas`.

* **legacy** ``main.py``: the ``PersonaRouter`` compiles a fixed list of file names,
  ``ACTIVE_PERSONAS`` (hard-coded in the bot's ``config/persona.py``, not an environment
  variable): each must exist in ``CHARACTERS_DIR`` and is then loaded by its stem from
  ``CHARACTERS_DIR``'s parent's ``characters/`` (``<stem>.json``, else ``<stem>.png``). The
  factory compiles ``CHARACTER`` the same way from ``./prompts/characters`` (``PersonaSystem()``'s
  default base). A JSON card without ``spec`` and ``data`` is rejected ("Legacy character format
  not supported"); ids are file stems.
* **runtime** ``launcher.py``: ``load_persona_catalog`` reads every ``*.json`` (never a PNG) in
  sorted order, skips a file that fails silently, and keys each by ``data.id``, else
  ``data.name``, else the stem, lower-cased with ``_`` for spaces; a later duplicate id
  overwrites the earlier one.
"""

from __future__ import annotations

import ast
import base64
import binascii
import json
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acore_doctor.catalog import FRAMEWORK_KEYS
from acore_doctor.probes.bot_source import MAX_SOURCE_BYTES
from acore_doctor.saferead import NotARegularFile, read_bounded

#: A real card, even with an embedded lorebook, is well under this.
MAX_CARD_BYTES = 5 * 1024 * 1024
MAX_PNG_BYTES = 20 * 1024 * 1024
MAX_CARDS = 2000
#: ``config/persona.py::PersonaConfig.ACTIVE_PERSONAS`` at the bot's HEAD (reference §2.3),
#: used when the deployment's own source does not say.
BUNDLED_ACTIVE_PERSONAS = (
    "dagoth_ur.json",
    "scav.json",
    "zenos.json",
    "maury.json",
    "hal9000.json",
    "toad.json",
    "jc.json",
    "toadette.json",
    "joseph_stalin.json",
    "Biblical_Jesus_Christ.json",
    "arbiter.json",
    "chief.json",
    "fred.json",
    "gothmommy.json",
    "tom.json",
)
#: ``PersonaSystem()`` without a base path (how the legacy factory compiles CHARACTER).
LEGACY_DEFAULT_CHARACTERS = "prompts/characters"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CARD_CHUNK_KEYS = (b"chara", b"ccv3")


@dataclass
class Card:
    path: Path
    error: str | None = None  # why the file cannot be read as a card at all
    raw: Any = None

    @property
    def is_v2(self) -> bool:
        return (
            isinstance(self.raw, dict)
            and "spec" in self.raw
            and isinstance(self.raw.get("data"), dict)
        )

    @property
    def body(self) -> dict[str, Any]:
        if self.is_v2:
            return self.raw["data"]
        return self.raw if isinstance(self.raw, dict) else {}

    @property
    def name(self) -> str:
        value = self.body.get("name")
        return value.strip() if isinstance(value, str) else ""

    @property
    def legacy_id(self) -> str:
        return self.path.stem

    @property
    def is_png(self) -> bool:
        return self.path.suffix == ".png"

    def runtime_data(self) -> dict[str, Any] | None:
        """What ``_normalize_persona`` reads: ``raw["data"]`` if present, else ``raw``."""
        if not isinstance(self.raw, dict):
            return None
        data = self.raw.get("data", self.raw)
        return data if isinstance(data, dict) else None

    @property
    def runtime_id(self) -> str | None:
        """``personas/loader.py::_normalize_persona``: data.id, else data.name, else the file
        stem; stripped, spaces to '_', lower-cased."""
        data = self.runtime_data()
        if data is None:
            return None
        name = str(data.get("name") or data.get("id") or self.path.stem)
        return str(data.get("id") or name).strip().replace(" ", "_").lower()


def _json_error(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply to parse"
    if isinstance(exc, UnicodeDecodeError):
        return f"not valid UTF-8 at byte {exc.start}"
    if isinstance(exc, json.JSONDecodeError):
        return f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
    return f"invalid JSON: {exc}"


def parse_json_bytes(data: bytes) -> tuple[Any, str | None]:
    try:
        return json.loads(data), None
    except (ValueError, RecursionError) as exc:
        return None, _json_error(exc)


def png_card_json(data: bytes) -> tuple[Any, str | None]:
    """The card a PNG carries in its `chara`/`ccv3` text chunk (base64 JSON)."""
    if not data.startswith(PNG_SIGNATURE):
        return None, "not a PNG file"
    offset = len(PNG_SIGNATURE)
    while offset + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        chunk = data[offset + 8 : offset + 8 + length]
        if len(chunk) < length:
            return None, "truncated PNG chunk"
        if kind in (b"tEXt", b"iTXt"):
            keyword, _, text = chunk.partition(b"\x00")
            if kind == b"iTXt":  # compression flag, method, language, translated keyword
                if text[:1] != b"\x00":
                    offset += 12 + length
                    continue
                text = text[2:].split(b"\x00", 2)[-1]
            if keyword in CARD_CHUNK_KEYS:
                try:
                    decoded = base64.b64decode(text, validate=False)
                except (binascii.Error, ValueError):
                    return None, f"{keyword.decode()} chunk is not base64"
                return parse_json_bytes(decoded)
        if kind == b"IEND":
            break
        offset += 12 + length
    return None, "no chara/ccv3 card chunk in the PNG"


def read_card(path: Path) -> Card:
    card = Card(path)
    limit = MAX_PNG_BYTES if path.suffix.lower() == ".png" else MAX_CARD_BYTES
    try:
        size = path.stat().st_size
        if size > limit:
            card.error = f"{size / 2**20:.1f} MiB, larger than any real card ({limit // 2**20} MiB)"
            return card
        data = read_bounded(path, limit)
    except NotARegularFile as exc:
        card.error = f"{path.name} is {exc.strerror}"
        return card
    except OSError as exc:
        card.error = f"unreadable: {exc.strerror or exc}"
        return card
    if path.suffix.lower() == ".png":
        card.raw, card.error = png_card_json(data)
    else:
        card.raw, card.error = parse_json_bytes(data)
    if card.error is None and not isinstance(card.raw, dict):
        card.error = f"a JSON {type(card.raw).__name__}, not a card object"
    return card


@dataclass
class Catalog:
    directory: Path
    exists: bool
    cards: list[Card] = field(default_factory=list)
    error: str | None = None
    truncated: bool = False

    def by_stem(self, stem: str) -> Card | None:
        """``<stem>.json``, else ``<stem>.png``: the file the legacy loader opens for an id."""
        for suffix in (".json", ".png"):
            for card in self.cards:
                if card.path.name == stem + suffix:
                    return card
        return None


def read_catalog(directory: Path) -> Catalog:
    try:
        if not directory.is_dir():
            return Catalog(directory, exists=False)
        paths = sorted(p for p in directory.iterdir() if p.suffix.lower() in (".json", ".png"))
    except OSError as exc:
        return Catalog(directory, exists=True, error=exc.strerror or str(exc))
    catalog = Catalog(directory, exists=True, truncated=len(paths) > MAX_CARDS)
    catalog.cards = [read_card(p) for p in paths[:MAX_CARDS]]
    return catalog


@dataclass(frozen=True)
class Framework:
    path: Path
    error: str | None = None
    missing_keys: tuple[str, ...] = ()


def read_framework(path: Path) -> Framework:
    try:
        if path.stat().st_size > MAX_CARD_BYTES:
            return Framework(path, "too large to be a framework")
        data, error = parse_json_bytes(read_bounded(path, MAX_CARD_BYTES))
    except FileNotFoundError:
        return Framework(path, "does not exist")
    except NotARegularFile as exc:
        return Framework(path, f"{path.name} is {exc.strerror}")
    except OSError as exc:
        return Framework(path, f"unreadable: {exc.strerror or exc}")
    if error:
        return Framework(path, error)
    if not isinstance(data, dict):
        return Framework(path, f"a JSON {type(data).__name__}, not an object")
    return Framework(path, None, tuple(k for k in FRAMEWORK_KEYS if k not in data))


# -- the two loaders ------------------------------------------------------------------------
@dataclass(frozen=True)
class ActivePersonas:
    """The legacy router's fixed list of card file names, and where it was read."""

    names: tuple[str, ...]
    source: str


def _list_of_strings(node: ast.AST | None) -> tuple[str, ...] | None:
    if not isinstance(node, ast.List | ast.Tuple):
        return None
    values = [e.value for e in node.elts if isinstance(e, ast.Constant)]
    if len(values) != len(node.elts) or not all(isinstance(v, str) for v in values):
        return None
    return tuple(values)


def legacy_active_personas(bot_dir: Path) -> ActivePersonas:
    """``ACTIVE_PERSONAS`` from the bot's own source (parsed, never imported): the package
    ``config/`` shadows ``config.py`` when both exist. The bundled HEAD list otherwise."""
    package = bot_dir / "config"
    candidates = (
        [package / "persona.py", package / "__init__.py"]
        if (package / "__init__.py").is_file()
        else [bot_dir / "config.py"]
    )
    for path in candidates:
        try:
            tree = ast.parse(read_bounded(path, MAX_SOURCE_BYTES))
        except (OSError, SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            target = node.target if isinstance(node, ast.AnnAssign) else None
            targets = node.targets if isinstance(node, ast.Assign) else [target]
            if any(isinstance(t, ast.Name) and t.id == "ACTIVE_PERSONAS" for t in targets):
                names = _list_of_strings(node.value)  # type: ignore[union-attr]
                if names is not None:
                    return ActivePersonas(names, str(path.relative_to(bot_dir)))
    return ActivePersonas(BUNDLED_ACTIVE_PERSONAS, "the bundled list of the bot's HEAD")


@dataclass
class PersonaLoad:
    """What one loader does with the files: which it reads, which load, under which ids."""

    loader: str  # "legacy" | "runtime"
    directory: Path
    #: persona id -> the card that gives it (the last one for a runtime duplicate)
    loaded: dict[str, Card] = field(default_factory=dict)
    #: files this loader reads that do not load, and why
    failed: list[tuple[Path, str]] = field(default_factory=list)
    #: files in CHARACTERS_DIR this loader never reads, and why
    not_read: list[tuple[Path, str]] = field(default_factory=list)
    #: persona id -> every file giving it (runtime: all but the last are overwritten)
    duplicates: dict[str, list[Path]] = field(default_factory=dict)
    #: legacy: ACTIVE_PERSONAS names with no file ("Character file not found")
    missing: list[str] = field(default_factory=list)
    active_source: str = ""
    #: CHARACTER as the loader looks it up, and the card it resolves to
    character: str = ""
    character_card: Card | None = None
    character_where: str = ""

    @property
    def loaded_files(self) -> list[Path]:
        """Distinct files that load, in directory order."""
        seen: dict[Path, None] = {}
        for card in self.loaded.values():
            seen.setdefault(card.path, None)
        if self.character_card is not None:
            seen.setdefault(self.character_card.path, None)
        return list(seen)


def _legacy_failure(card: Card | None, stem: str, directory: Path) -> str | None:
    """Why ``PersonaSystem.load_character(stem)`` fails on this card, or None."""
    if card is None:
        return f"no {stem}.json or {stem}.png in {directory} ('Character not found')"
    if card.error:
        return card.error
    if not card.is_png and not ("spec" in card.raw and "data" in card.raw):
        return "not a Character Card V2 ('Legacy character format not supported')"
    if not isinstance(card.raw.get("data", card.raw), dict):
        return "its 'data' is not an object"
    return None


def legacy_load(
    catalog: Catalog,
    active: ActivePersonas,
    character: str,
    use_persona_system: bool,
    bot_dir: Path,
    read: Callable[[Path], Catalog] | None = None,
) -> PersonaLoad:
    """The legacy path: the router's ACTIVE_PERSONAS plus the factory's CHARACTER."""
    read = read or read_catalog
    load = PersonaLoad("legacy", catalog.directory, active_source=active.source)
    router_dir = catalog.directory
    load_dir = router_dir.parent / "characters"
    source = catalog if _same(load_dir, router_dir) else read(load_dir)
    names = list(active.names) or ["dagoth_ur.json"]  # the router's own fallback
    for name in names:
        if not _exists(router_dir / name):
            load.missing.append(name)
            continue
        stem = Path(name).stem
        card = source.by_stem(stem)
        problem = _legacy_failure(card, stem, load_dir)
        if problem:
            load.failed.append((card.path if card else router_dir / name, problem))
        else:
            load.loaded[stem] = card  # type: ignore[assignment]
    load.character = character
    if use_persona_system and character:
        char_dir = bot_dir / LEGACY_DEFAULT_CHARACTERS
        char_catalog = catalog if _same(char_dir, router_dir) else read(char_dir)
        card = char_catalog.by_stem(character)
        load.character_where = str(char_dir)
        if _legacy_failure(card, character, char_dir) is None:
            load.character_card = card
    wanted = {Path(n).stem for n in names} | ({character} if use_persona_system else set())
    read_paths = {c.path for c in load.loaded.values()} | {p for p, _ in load.failed}
    for card in catalog.cards:
        if card.path in read_paths or card is load.character_card:
            continue
        if card.is_png and catalog.by_stem(card.path.stem) is not card:
            load.not_read.append((card.path, f"{card.path.stem}.json is read instead"))
        elif card.path.stem not in wanted:
            load.not_read.append((card.path, f"not in ACTIVE_PERSONAS ({active.source})"))
    return load


def runtime_load(catalog: Catalog, character: str) -> PersonaLoad:
    """The runtime path: every ``*.json``, sorted; bad ones skipped; duplicate ids overwrite."""
    load = PersonaLoad("runtime", catalog.directory)
    givers: dict[str, list[Path]] = {}
    for card in sorted(catalog.cards, key=lambda c: c.path.name):
        if card.path.suffix != ".json":
            load.not_read.append((card.path, "the runtime loader reads only *.json"))
            continue
        persona_id = None if card.error else card.runtime_id
        if persona_id is None:
            load.failed.append((card.path, card.error or "not a card object (skipped silently)"))
            continue
        load.loaded[persona_id] = card
        givers.setdefault(persona_id, []).append(card.path)
    load.duplicates = {k: v for k, v in givers.items() if len(v) > 1}
    load.character = character.strip().replace(" ", "_").lower()
    load.character_card = load.loaded.get(load.character)
    load.character_where = "the loaded persona ids"
    return load


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop (Python < 3.13)
        return a == b


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:
        return False
