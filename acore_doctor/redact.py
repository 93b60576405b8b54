"""Keep the deployment's secrets and hostile control bytes out of every output.

One :class:`Redactor` per run masks, in a single pass of one compiled pattern:

- the values of the deployment's secret-named settings (``*TOKEN*``, ``*KEY*``, ``*SECRET*``,
  ``*PASSWORD*``, ``*PASS``, ``*_PW``, credentials, webhooks), and the passwords found in the
  userinfo of any URL setting. Fragments of long values are masked too: pytest's ``saferepr``
  truncates long strings in the middle, which would otherwise leak their ends;
- the userinfo password of any URL in any text: ``scheme://user:pass@`` -> ``scheme://user:***@``;
- well-known token shapes (:data:`SHAPES`), configured or not: GitHub, OpenAI/OpenRouter,
  Slack, AWS access keys, JWTs, Discord bot tokens (bare or after ``Bot``), ``Authorization``
  header values and Discord webhook URLs.

The same call replaces control characters other than newline and tab with a visible escape
(``\\x1b``), so a log line a Discord user influenced cannot retitle or clear the operator's
terminal (:func:`terminal_safe`). Apply the redactor before a string is printed, written,
hashed or stored; :meth:`Redactor.document` does it for a whole JSON-like document.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

MASK = "***REDACTED***"
#: What replaces the password of ``scheme://user:password@host``.
USERINFO_MASK = "***"

#: Names whose values are secrets. ``*TOKENS*`` (OLLAMA_MAX_TOKENS) are counts, not tokens.
_SECRET_NAME = re.compile(
    r"TOKEN(?!S)|KEY|SECRET|PASSWORD|PASSWD|PASSPHRASE|PASS$|_PW$|CREDENTIAL|WEBHOOK",
    re.IGNORECASE,
)

#: Well-known token shapes, masked wherever they appear: kind -> its alternatives.
#: Every alternative starts with a literal character, so that the one compiled pattern lets
#: the regex engine skip positions that cannot start a match (sre's charset prefix); a
#: ``(?<!\w.)`` right after the first character plays the part of a leading ``\b``. Text
#: up to the end of a group named ``keep_...`` is kept in front of the mask.
_SPLIT = r"(?:['\"]\s*['\"])?"
SHAPES: dict[str, tuple[str, ...]] = {
    "discord_webhook": (
        r"h(?i:ttps?://(?:[a-z0-9-]+\.)?discord(?:app)?\.com/api(?:/v\d+)?/webhooks/\d+/[\w-]+)",
    ),
    # Authorization: Bearer x / Basic x / Bot x / token; also 'Authorization': 'Bearer x',
    # and split by pprint at a space into two literals: 'Authorization: Bearer '\n   'x'
    "authorization": tuple(
        rf"{first}(?<!\w.)(?P<keep_{name}>{rest}['\"]?\s*[:=]\s*{_SPLIT}['\"]?"
        rf"(?:(?:Bearer|Basic|Bot|Token|Digest|ApiKey)\s+{_SPLIT})?)[^\s'\",;}}:=][^\s'\",;}}]*"
        for first, name, rest in (
            ("A", "auth", "uthorization"),
            ("a", "auth_lower", "uthorization"),
            ("P", "proxy", "roxy-[Aa]uthorization"),
            ("p", "proxy_lower", "roxy-[Aa]uthorization"),
        )
    ),
    # 'Bot <token>' whatever the token's first letter; the bare shape below is stricter.
    "bot_token": (
        r"B(?<!\w.)(?P<keep_bot>ot\s+)[A-Za-z0-9_-]{20,40}\.[A-Za-z0-9_-]{5,8}\.[A-Za-z0-9_-]{20,50}",
    ),
    # A Discord bot token: base64 snowflake, a timestamp part, an HMAC part.
    "discord_token": tuple(
        rf"{first}(?<!\w.)[A-Za-z0-9_-]{{20,30}}\.[A-Za-z0-9_-]{{5,8}}\.[A-Za-z0-9_-]{{25,45}}\b"
        for first in "MNO"
    ),
    "github": (r"g(?<!\w.)(?:h[pousr]_[A-Za-z0-9]{36,255}|ithub_pat_[A-Za-z0-9_]{50,255})\b",),
    # OpenAI and OpenRouter (sk-or-v1-...): random base62, so at least one digit.
    "openai": (r"s(?<!\w.)k-(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9_-]{20,}",),
    "slack": (r"x(?<!\w.)ox[abposr]-[A-Za-z0-9-]{10,}",),
    "aws_access_key": (r"A(?<!\w.)(?:KIA|SIA)[0-9A-Z]{16}\b",),
    "jwt": (r"e(?<!\w.)yJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",),
    # scheme://user:password@ -> scheme://user:***@ (the user helps a reader, the password not)
    # (a password already masked as a whole stays as it is: masking twice changes nothing)
    "userinfo": (
        r":(?<=\w:)(?P<keep_userinfo>//[^\s:/@'\"<>]*:)"
        r"(?!\*\*\*(?:REDACTED\*\*\*)?@)[^\s@/'\"<>]+(?=@)",
    ),
}
_KEEP_GROUPS = ("auth", "auth_lower", "proxy", "proxy_lower", "bot", "userinfo")

#: Discord webhook URLs carry their own credential in the path.
WEBHOOK_URL = re.compile(SHAPES["discord_webhook"][0])

#: Values shorter than this are not treated as secrets: masking "1" or "true" everywhere
#: would destroy the report without protecting anything.
MIN_SECRET_LEN = 6
#: Length of the leading and trailing fragments masked for long secrets.
FRAGMENT_LEN = 10

#: Control characters a terminal acts on: C0 but newline and tab, DEL, and C1 (CSI is 0x9b).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

_USERINFO_PASSWORD = re.compile(SHAPES["userinfo"][0])


def _escape_control(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def terminal_safe(text: str) -> str:
    """``text`` with control characters other than newline and tab shown as ``\\xNN``."""
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(_escape_control, text)


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name))


def url_passwords(value: str) -> list[str]:
    """The passwords in the userinfo of every URL in ``value``."""
    return [
        m.group(0)[m.end("keep_userinfo") - m.start() :] for m in _USERINFO_PASSWORD.finditer(value)
    ]


#: ``--token X``, ``--api-key=X``, ``-password X`` and ``DISCORD_TOKEN=X`` in a command line.
_OPTION = re.compile(
    r"(?<![\w-])(?:(?P<option>--?[A-Za-z][\w-]*)(?P<sep>=|\s+)|(?P<variable>[A-Za-z_]\w*)=)"
    r"(?P<value>[^\s'\"-][^\s'\"]*)"
)


def mask_command_line(command: str | Sequence[str]) -> str:
    """A command line with the value of every secret-named option or variable masked.

    Tokens passed as arguments (``main.py --token X``, ``env DISCORD_TOKEN=X python ...``)
    match no configured value and, when unconfigured, may match no known shape either.
    """
    text = command if isinstance(command, str) else " ".join(command)

    def hide(match: re.Match[str]) -> str:
        name = match.group("option") or match.group("variable")
        if not is_secret_name(name.lstrip("-").replace("-", "_")):
            return match.group()
        return match.group()[: match.start("value") - match.start()] + MASK

    return _OPTION.sub(hide, text)


def secret_values(settings: Mapping[str, str | None]) -> list[str]:
    """Values of every secret-named key, every webhook URL, and every URL's password."""
    found = []
    for key, value in settings.items():
        if not value:
            continue
        if is_secret_name(key) or WEBHOOK_URL.search(value):
            found.append(value)
        found.extend(url_passwords(value))
    return found


class Redactor:
    """Masks secrets and neutralizes control characters; see the module docstring."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._pattern = self._shapes = _compile(())
        self._probes: tuple[str, ...] = ()
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        before = len(self._secrets)
        for secret in secrets:
            secret = secret.strip()
            if len(secret) < MIN_SECRET_LEN:
                continue
            self._secrets.add(secret)
            if len(secret) >= 2 * FRAGMENT_LEN:
                if "://" not in secret:  # a URL's head is its scheme and host, not a secret
                    self._secrets.add(secret[:FRAGMENT_LEN])
                self._secrets.add(secret[-FRAGMENT_LEN:])
        if len(self._secrets) != before:
            self._pattern = _compile(self._secrets)
            # A text holds a secret only if it holds its shortest part we mask (a fragment):
            # plain 'in' tests of those are far faster than the literal alternatives in the
            # regex at every position, and most texts hold no configured secret at all.
            ordered = sorted(self._secrets, key=len)
            probes: list[str] = []
            for secret in ordered:
                if not any(probe in secret for probe in probes):
                    probes.append(secret)
            self._probes = tuple(probes)

    def __call__(self, text: str) -> str:
        """``text`` fit to leave the process: secrets masked, control characters escaped."""
        if not text:
            return text
        has_literal = any(probe in text for probe in self._probes)
        return terminal_safe((self._pattern if has_literal else self._shapes).sub(_mask, text))

    def command_line(self, command: str | Sequence[str]) -> str:
        """A process's command line, fit for a report (see :func:`mask_command_line`)."""
        return self(mask_command_line(command))

    def document(self, value: Any) -> Any:
        """Every string in a JSON-like document (dicts, lists, tuples) through the redactor."""
        return self._document(value, {})

    def _document(self, value: Any, done: dict[str, str]) -> Any:
        # ``done``: strings already redacted in this document (its keys and most of its values
        # repeat from entry to entry).
        if isinstance(value, str):
            redacted = done.get(value)
            if redacted is None:
                redacted = done[value] = self(value)
            return redacted
        if isinstance(value, list | tuple):
            return [self._document(v, done) for v in value]
        if isinstance(value, dict):
            return {
                self._document(k, done) if isinstance(k, str) else k: self._document(v, done)
                for k, v in value.items()
            }
        return value

    def __repr__(self) -> str:
        return f"<Redactor {len(self._secrets)} values>"


def _compile(secrets: Iterable[str]) -> re.Pattern[str]:
    """One alternation: literal secrets (longest first), then every shape.

    At each position the first alternative that matches wins, and a match is never looked
    at again, so a fragment cannot hide the URL or token around it from its shape. No
    alternative is wrapped in a group: each must start with a literal character (see
    :data:`SHAPES`), or the engine would try every alternative at every position.
    """
    ordered = sorted(secrets, key=len, reverse=True)
    parts = [re.escape(s) for s in ordered]
    parts += [pattern for alternatives in SHAPES.values() for pattern in alternatives]
    return re.compile("|".join(parts))


def _mask(match: re.Match[str]) -> str:
    for name in _KEEP_GROUPS:
        end = match.end(f"keep_{name}")
        if end != -1:
            return match.group()[: end - match.start()] + (
                USERINFO_MASK if name == "userinfo" else MASK
            )
    return MASK


#: Masks token shapes only: what runs before (or without) a deployment's redactor gets.
SHAPES_ONLY = Redactor()
_run_redactor: Redactor | None = None


def set_run_redactor(redactor: Redactor | None) -> None:
    """Make ``redactor`` the one :func:`run_redactor` returns (None: shapes only again).

    For code that builds text from deployment data far from any place that could hand it a
    redactor: the log analyzer's templates and samples, made in every ``Analyzer``. A process
    checks one deployment at a time (a health run, one ``logs`` command), so one is enough.
    """
    global _run_redactor
    _run_redactor = redactor


def run_redactor() -> Redactor:
    """The redactor of this process's run (see :func:`set_run_redactor`)."""
    return _run_redactor if _run_redactor is not None else SHAPES_ONLY
