"""Turn log messages into templates and into samples that are safe to show.

A *template* masks everything that varies between copies of one message: URLs, quoted text,
paths, e-mail addresses, Discord mentions and ids, hex, numbers and JSON payloads, so that
17 600 copies of one error are one template. A *sample* keeps numbers and code identifiers
(they help a reader) but masks what may be user data: quoted free text, ids, mentions,
e-mail addresses, payloads, URL queries, and every secret the :mod:`acore_doctor.redact`
patterns know. Neither ever carries the text a user wrote, as far as the bot's log lines let
us tell it apart.

Lines whose message is conversation content (reply previews, generated text, message payloads:
:data:`CONTENT_PREFIXES`) keep their prefix and lose the rest as a whole (``<CONTENT>``).
Templates also mask persona names where the bot's lines put them (``Persona <PERSONA> not
found``), so one message family stays one template whichever persona it names. Quoted code
identifiers stay readable in both (``argument: 'prompt'``, ``attribute 'behavior_engine'``):
they are what the fix needs.
"""

from __future__ import annotations

import re

from acore_doctor.redact import run_redactor

MAX_TEMPLATE_CHARS = 300
MAX_SAMPLE_CHARS = 300

#: Message prefixes after which the bot logs what a user wrote or what the model answered
#: (from the bot's own logger calls); everything after the prefix is conversation content.
CONTENT_PREFIXES = (
    "Response preview: ",
    "Sent message from ",
    "Message from ",
    "Generating response for voice input: ",
    "Sent voice response: ",
    "Speaking in voice: ",
    "Asked curious follow-up: ",
    "Image generation request: ",
    "Response was: ",
    "Raw response: ",
    "Decision cache hit for message ",
    "Starting streaming TTS for: ",
    "Generated response: ",
    "User message: ",
)
CONTENT = "<CONTENT>"
#: ``Sent message from <speaker>: <text>``: the speaker (a persona) stays, the text goes.
_CONTENT_LINE = re.compile(
    r"^(?P<head>Sent message from [^:\n]{1,80}: |Message from [^:\n]{1,80}: |"
    + "|".join(re.escape(p) for p in CONTENT_PREFIXES if not p.endswith("from "))
    + r").*",
    re.DOTALL,
)


def mask_content(message: str) -> str:
    """The message with its conversation content replaced as a whole (see module docstring)."""
    if not message.startswith(CONTENT_PREFIXES):
        return message
    match = _CONTENT_LINE.match(message)
    if match is None:  # "Sent message from" without a speaker and colon: mask all after it
        for prefix in CONTENT_PREFIXES:
            if message.startswith(prefix):
                return prefix + CONTENT
        return CONTENT
    return match.group("head") + CONTENT


#: Where the bot's lines name a persona; masked in templates so one family is one template.
_PERSONA_SLOTS = re.compile(
    "|".join(
        (
            r"(?<=\bPersona )'?[^\s']{1,80}'?(?= (?:was )?not found)",
            r"(?<=\bmessage for )[\w.-]{1,80}(?:/[\w.-]{1,80})*",
            r"(?<=^Sent message from )[^:\n]{1,80}(?=: )",
            r"(?<=\bload persona )\S{1,80}(?=:)",
            r"(?<=^Character )[^:\n]{1,80}(?=: )",
            r"(?<=\bpersona_id=)[\w.-]{1,80}",
        )
    )
)
PERSONA = "<PERSONA>"

#: Words before a quoted name that make it a code identifier (``argument: 'prompt'``).
_CODE_CONTEXT = re.compile(
    r"\b(?:arguments?|attribute|module(?: named)?|name|keyword|key|field|column|table|"
    r"function|method|type|class)\s*:?\s*$",
    re.IGNORECASE,
)
_IDENTIFIER = re.compile(r"^[A-Za-z_][\w.]*$")


def _is_code_name(match: re.Match[str]) -> bool:
    """A quoted identifier that reads as code (a dotted or snake/Camel name, or one that an
    'argument:' / 'attribute' / 'module named' introduces): keep it, the fix needs it."""
    inner = match.group(0)[1:-1]
    if not _IDENTIFIER.match(inner):
        return False
    if any(c in inner for c in "_.") or any(c.isupper() for c in inner[1:]):
        return True
    before = match.string[max(0, match.start() - 40) : match.start()]
    return _CODE_CONTEXT.search(before) is not None


_QUOTED = r"(?<![\w])'[^'\n]{0,400}'(?![\w])|(?<![\w])\"[^\"\n]{0,400}\"(?![\w])|`[^`\n]{0,400}`"

_TEMPLATE_MASKS = re.compile(
    "|".join(
        (
            r"(?P<OBJ>\{(?:.*\}|.*$))",
            r"(?P<URL>\b(?:https?|wss?)://[^\s'\"<>]+)",
            rf"(?P<STR>{_QUOTED})",
            r"(?P<EMAIL>[\w.+-]+@[\w-]+\.[\w.-]+)",
            r"(?P<MENTION><[@#][!&]?\d+>)",
            r"(?P<KEEP><(?:CONTENT|PERSONA)>)",
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
    kind = match.lastgroup or "NUM"
    if kind == "KEEP" or (kind == "STR" and _is_code_name(match)):
        return match.group(0)
    return _PLACEHOLDER[kind]


def template_of(message: str) -> str:
    """The message with every varying part masked (see module docstring)."""
    # Redacted first: a template is a key that is stored, and masking its numbers first
    # would hide a token from its shape (github_pat_<NUM>AAAA...).
    text = mask_content(run_redactor()(message[: MAX_TEMPLATE_CHARS * 4]))
    text = _PERSONA_SLOTS.sub(PERSONA, text)
    text = _TEMPLATE_MASKS.sub(_template_part, text)
    text = " ".join(text.split())
    return text[:MAX_TEMPLATE_CHARS]


# -- samples --------------------------------------------------------------------------------
_SAMPLE_MASKS = re.compile(
    "|".join(
        (
            r"(?P<OBJ>\{(?:.*\}|.*$))",
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
        # Code names help ('ChatCog', 'behavior_engine'); plain words may be what a user typed.
        if _is_code_name(match):
            return text
        return f"{text[0]}<STR>{text[-1]}"
    if kind == "URL":
        base = re.split(r"[?#]", text, maxsplit=1)[0]
        host_path = base.split("://", 1)[-1]
        if "@" in host_path.split("/", 1)[0]:  # user:password@host
            base = base.split("://", 1)[0] + "://<USER>@" + host_path.split("@", 1)[1]
        return re.sub(r"(?<![\w.])\d{15,21}(?!\d)", "<ID>", base)
    return _PLACEHOLDER[kind or "ID"]


def sample_of(message: str) -> str:
    """The message with user data and secrets masked, cut to a readable length."""
    # Redacted first: masking numbers or content first would hide a token from its shape.
    text = mask_content(run_redactor()(message[: MAX_SAMPLE_CHARS * 4]))
    text = _SAMPLE_MASKS.sub(_sample_part, text)
    text = " ".join(text.split())
    if len(text) > MAX_SAMPLE_CHARS:
        text = text[: MAX_SAMPLE_CHARS - 1] + "…"
    return text
