"""Turn log messages into templates and into samples that are safe to show.

A *template* masks everything that varies between copies of one message: URLs, quoted text,
paths, e-mail addresses, Discord mentions and ids, hex, numbers and JSON payloads, so that
17 600 copies of one error are one template. A *sample* keeps numbers and code identifiers
(they help a reader) but masks what may be user data: quoted free text, ids, mentions,
e-mail addresses, payloads, URL queries, and every secret the :mod:`acore_doctor.redact`
patterns know. Neither ever carries the text a user wrote, as far as the bot's log lines let
us tell it apart.
"""

from __future__ import annotations

import re

from acore_doctor.redact import Redactor

MAX_TEMPLATE_CHARS = 300
MAX_SAMPLE_CHARS = 300

_QUOTED = r"(?<![\w])'[^'\n]{0,400}'(?![\w])|(?<![\w])\"[^\"\n]{0,400}\"(?![\w])|`[^`\n]{0,400}`"

_TEMPLATE_MASKS = re.compile(
    "|".join(
        (
            r"(?P<OBJ>\{.*\})",
            r"(?P<URL>\b(?:https?|wss?)://[^\s'\"<>]+)",
            rf"(?P<STR>{_QUOTED})",
            r"(?P<EMAIL>[\w.+-]+@[\w-]+\.[\w.-]+)",
            r"(?P<MENTION><[@#][!&]?\d+>)",
            r"(?P<PATH>(?<![\w/])(?:[A-Za-z]:)?(?:[/\\][\w.@~+-]+){2,}[/\\]?)",
            r"(?P<UUID>\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b)",
            r"(?P<HEX>\b0x[0-9a-fA-F]+\b|\b(?=[0-9a-fA-F]*[a-fA-F])(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{8,}\b)",
            r"(?P<ID>(?<![\w.])\d{15,21}(?![\d]))",
            r"(?P<NUM>(?<![A-Za-z\d.])-?\d+(?:[.,]\d+)*)",
        )
    )
)

_PLACEHOLDER = {
    "OBJ": "<OBJ>",
    "URL": "<URL>",
    "STR": "<STR>",
    "EMAIL": "<EMAIL>",
    "MENTION": "<ID>",
    "PATH": "<PATH>",
    "UUID": "<HEX>",
    "HEX": "<HEX>",
    "ID": "<ID>",
    "NUM": "<NUM>",
}


def _template_part(match: re.Match[str]) -> str:
    return _PLACEHOLDER[match.lastgroup or "NUM"]


def template_of(message: str) -> str:
    """The message with every varying part masked (see module docstring)."""
    text = _TEMPLATE_MASKS.sub(_template_part, message[: MAX_TEMPLATE_CHARS * 4])
    text = " ".join(text.split())
    return text[:MAX_TEMPLATE_CHARS]


# -- samples --------------------------------------------------------------------------------
_IDENTIFIER = re.compile(r"^[A-Za-z_][\w.]*$")

_SAMPLE_MASKS = re.compile(
    "|".join(
        (
            r"(?P<OBJ>\{.*\})",
            r"(?P<URL>\b(?:https?|wss?)://[^\s'\"<>]+)",
            rf"(?P<STR>{_QUOTED})",
            r"(?P<EMAIL>[\w.+-]+@[\w-]+\.[\w.-]+)",
            r"(?P<MENTION><[@#][!&]?\d+>)",
            r"(?P<ID>(?<![\w.])\d{15,21}(?![\d]))",
        )
    )
)


def _sample_part(match: re.Match[str]) -> str:
    kind = match.lastgroup
    text = match.group(0)
    if kind == "STR":
        inner = text[1:-1]
        # Code names help ('ChatCog', 'behavior_engine'); plain words may be what a user typed.
        looks_like_code = any(c in inner for c in "_.") or any(c.isupper() for c in inner[1:])
        if _IDENTIFIER.match(inner) and looks_like_code:
            return text
        return f"{text[0]}<STR>{text[-1]}"
    if kind == "URL":
        base = re.split(r"[?#]", text, maxsplit=1)[0]
        host_path = base.split("://", 1)[-1]
        if "@" in host_path.split("/", 1)[0]:  # user:password@host
            base = base.split("://", 1)[0] + "://<USER>@" + host_path.split("@", 1)[1]
        return re.sub(r"(?<![\w.])\d{15,21}(?!\d)", "<ID>", base)
    return _PLACEHOLDER[kind or "ID"]


#: Token shapes only: the deployment's own secrets are masked where the sample leaves us.
_SHAPES = Redactor()


def sample_of(message: str) -> str:
    """The message with user data and secrets masked, cut to a readable length."""
    text = message[: MAX_SAMPLE_CHARS * 4]
    text = _SHAPES(text)
    text = _SAMPLE_MASKS.sub(_sample_part, text)
    text = " ".join(text.split())
    if len(text) > MAX_SAMPLE_CHARS:
        text = text[: MAX_SAMPLE_CHARS - 1] + "…"
    return text
