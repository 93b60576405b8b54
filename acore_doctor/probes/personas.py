"""Persona cards (SillyTavern Character Card V2) and frameworks, read as each entrypoint
reads them (§3.2). Every bad file becomes a fact naming it; nothing raises."""

from __future__ import annotations

import base64
import binascii
import json
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acore_doctor.catalog import FRAMEWORK_KEYS, PERSONA_MODES
from acore_doctor.saferead import NotARegularFile, read_bounded

#: A real card, even with an embedded lorebook, is well under this.
MAX_CARD_BYTES = 5 * 1024 * 1024
MAX_PNG_BYTES = 20 * 1024 * 1024
MAX_CARDS = 2000
RAG_CATEGORY = re.compile(r"^[a-z0-9_]+$")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CARD_CHUNK_KEYS = (b"chara", b"ccv3")


@dataclass
class Card:
    path: Path
    error: str | None = None  # why the file cannot be read as a card at all
    raw: Any = None
    problems: list[str] = field(default_factory=list)  # content problems (warnings)
    extension_problems: list[str] = field(default_factory=list)

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
    def runtime_id(self) -> str | None:
        """`personas/loader.py::_normalize_persona`: data.id else data.name, lower, '_'."""
        value = self.body.get("id") or self.body.get("name")
        if not isinstance(value, str) or not value.strip():
            return None
        return value.strip().lower().replace(" ", "_")

    def loadable(self, entrypoint: str | None) -> bool:
        if self.error or not self.name:
            return False
        if entrypoint != "runtime" and not self.is_v2:
            return False
        return not (entrypoint == "runtime" and self.path.suffix.lower() != ".json")


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
    if card.error is None:
        _judge_content(card)
    return card


def _judge_content(card: Card) -> None:
    body = card.body
    if not card.is_v2:
        card.problems.append(
            "not a Character Card V2 (no 'spec' and 'data'): the legacy loader "
            "rejects it ('Legacy character format not supported')"
        )
    if not card.name:
        card.problems.append("empty or missing name")
    if not any(
        isinstance(body.get(k), str) and body.get(k).strip()
        for k in ("description", "personality", "system_prompt")
    ):
        card.problems.append("no description, personality or system_prompt")
    extensions = body.get("extensions")
    if not isinstance(extensions, dict):
        return
    domain = extensions.get("knowledge_domain")
    categories = domain.get("rag_categories") if isinstance(domain, dict) else None
    if categories is not None:
        if not isinstance(categories, list):
            card.extension_problems.append("rag_categories is not a list")
        else:
            bad = [c for c in categories if not (isinstance(c, str) and RAG_CATEGORY.match(c))]
            if bad:
                card.extension_problems.append(
                    f"rag_categories {bad[:5]!r} are dropped (must match [a-z0-9_]+)"
                )
    modes = extensions.get("mode_profiles")
    mode = modes.get("default_mode") if isinstance(modes, dict) else None
    if mode is not None and mode not in PERSONA_MODES:
        card.extension_problems.append(
            f"default_mode {mode!r} is unknown and silently becomes 'default' "
            f"(valid: {', '.join(sorted(PERSONA_MODES))})"
        )


@dataclass
class Catalog:
    directory: Path
    exists: bool
    cards: list[Card] = field(default_factory=list)
    error: str | None = None
    truncated: bool = False

    def ids(self, entrypoint: str | None) -> dict[str, list[Path]]:
        """Persona id -> files giving it, among loadable cards."""
        ids: dict[str, list[Path]] = {}
        for card in self.cards:
            if not card.loadable(entrypoint):
                continue
            key = card.runtime_id if entrypoint == "runtime" else card.legacy_id
            if key:
                ids.setdefault(key, []).append(card.path)
        return ids


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
