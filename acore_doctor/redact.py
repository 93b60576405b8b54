"""Keep the deployment's secrets and hostile control bytes out of every output.

One :class:`Redactor` per run masks, in a single pass of one compiled pattern:

- the values of the deployment's secret-named settings (``*TOKEN*``, ``*KEY*``, ``*SECRET*``,
  ``*PASSWORD*``, ``*PASS``, ``*_PW``, credentials, webhooks), and the passwords found in the
  userinfo of any URL setting, each whole and URL-encoded. A placeholder
  (:func:`is_placeholder_value`: ``change_me*``, ``your_*_here``, the stock ``.env.example``
  values) is no secret and never masked: masking it would only break the report. A value is
  masked whole; a part of it only where the rest was cut off (:meth:`Redactor._cut_parts`):
  pytest's ``saferepr`` shortens long strings in the middle (``abc...xyz``), and a value
  wrapped over two log lines leaves a head at a line's end and a tail at the next line's start;
- the userinfo password of any URL in any text: ``scheme://user:pass@`` -> ``scheme://user:***@``;
- well-known token shapes (:data:`SHAPES`), configured or not, most adapted from gitleaks'
  default rule set (see :data:`SHAPES`), also right after a URL-encoded separator (``%3D``).

The same call replaces control characters other than newline and tab with a visible escape
(``\\x1b``), so a log line a Discord user influenced cannot retitle or clear the operator's
terminal (:func:`terminal_safe`). Apply the redactor before a string is printed, written,
hashed or stored; :meth:`Redactor.document` does it for a whole JSON-like document.
"""

from __future__ import annotations

import re
import urllib.parse
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


def _at(prefix: str) -> str:
    """``prefix`` (literal text) where it starts a word: no word character stands right
    before it, or a URL-encoded separator does (``token%3DMTIz...``: the ``D`` of ``%3D`` is
    a word character). The check comes after the whole prefix, so the engine looks behind
    only where the prefix matched, not at every position holding its first letter."""
    n = len(prefix)
    return re.escape(prefix) + rf"(?:(?<!\w.{{{n}}})|(?<=%[0-9A-Fa-f]{{2}}.{{{n}}}))"


#: A quote, also escaped as a repr shows one inside a string (``{\\'Authorization\\': ...}``).
_QUOTE = r"(?:\\?['\"])?"
#: Two string literals pprint made of one long string it wrapped at a space: ``'a '\n 'b'``.
_SPLIT = r"(?:\\?['\"]\s*\\?['\"])?"
#: ``name = value``, ``'name': 'value'``, ``name: 'value`` ...
_ASSIGN = rf"{_QUOTE}\s*[:=]\s*{_SPLIT}{_QUOTE}"


def _named(words: tuple[str, ...], name: str, rest: str, end: str) -> tuple[str, ...]:
    """A secret by the name in front of it: each of ``words`` as written, UPPER and
    Capitalised, then ``rest`` (any case) kept in front of the mask, then the secret ``end``;
    one alternative per spelling, each with its own keep group."""
    spellings = sorted({form for word in words for form in (word, word.upper(), word.title())})
    return tuple(
        rf"{_at(spelling)}(?P<keep_{name}_{n}>(?i:{rest})){end}"
        for n, spelling in enumerate(spellings)
    )


#: What follows a secret's name (``aws_secret_access_key = ...``): the name says it is a
#: secret, so the value is masked whatever its length (40 base64 characters for AWS).
_CONTEXT_VALUE = r"(?![*(<])[^\s'\",;}\\]{8,}"
#: A value in a header or a key/value string, up to the next separator.
_HEADER_VALUE = r"[^\s'\",;}:=\\][^\s'\",;}\\]*"


#: Well-known token shapes, masked wherever they appear: kind -> its alternatives.
#: Every alternative starts with literal text, so that the one compiled pattern lets the
#: regex engine skip positions that cannot start a match (sre's charset prefix) and fail
#: fast where they can; :func:`_at` plays the part of a leading ``\b``. Text up to the end of
#: a group named ``keep_...`` is kept in front of the mask.
#:
#: Kinds marked "gitleaks" are adapted from gitleaks' default rule set (config/gitleaks.toml,
#: https://github.com/gitleaks/gitleaks at b58d3f102cf3a2c84cb7f923d05c25c9b1aed84b, MIT
#: licence, Copyright (c) 2019 Zachary Rice), rule id in the comment: the same token bodies,
#: rewritten to start with literal text, and without gitleaks' keyword context where the
#: prefix alone is distinctive (a token in a log line has no ``KEY=`` in front of it).
SHAPES: dict[str, tuple[str, ...]] = {
    "discord_webhook": tuple(
        rf"{scheme}(?i:(?:[a-z0-9-]+\.)?discord(?:app)?\.com/api(?:/v\d+)?/webhooks/\d+/[\w-]+)"
        for scheme in ("https?://", "HTTPS?://")
    ),
    # gitleaks slack-webhook-url
    "slack_webhook": (
        r"h(?:ttps?://h)?ooks\.slack\.com/(?:services|workflows|triggers)/[\w+/-]{20,}",
    ),
    # Authorization: Bearer x / Basic x / Bot x / token; also 'Authorization': 'Bearer x',
    # and split by pprint at a space into two literals: 'Authorization: Bearer '\n   'x'
    "authorization": tuple(
        rf"{_at(word)}(?P<keep_{name}>{_ASSIGN}"
        rf"(?:(?:Bearer|Basic|Bot|Token|Digest|ApiKey)\s+{_SPLIT})?){_HEADER_VALUE}"
        for word, name in (
            ("Authorization", "auth"),
            ("authorization", "auth_lower"),
            ("Proxy-Authorization", "proxy"),
            ("Proxy-authorization", "proxy_mixed"),
            ("proxy-authorization", "proxy_lower"),
            ("proxy-Authorization", "proxy_lower_mixed"),
        )
    ),
    # 'Bot <token>' whatever the token's first letter; the bare shape below is stricter.
    "bot_token": (
        rf"{_at('Bot')}(?P<keep_bot>\s+)"
        r"[A-Za-z0-9_-]{20,40}\.[A-Za-z0-9_-]{5,8}\.[A-Za-z0-9_-]{20,50}",
    ),
    # A Discord bot token: base64 snowflake, a timestamp part, an HMAC part.
    "discord_token": tuple(
        rf"{_at(first)}[A-Za-z0-9_-]{{20,30}}\.[A-Za-z0-9_-]{{5,8}}\.[A-Za-z0-9_-]{{25,45}}\b"
        for first in "MNO"
    ),
    # gitleaks github-pat, github-oauth, github-app-token, github-refresh-token,
    # github-fine-grained-pat; gitlab-pat, gitlab-pat-routable
    "github": (
        *(rf"{_at(f'gh{kind}_')}[A-Za-z0-9]{{36,255}}\b" for kind in "pousr"),
        rf"{_at('github_pat_')}[A-Za-z0-9_]{{50,255}}\b",
    ),
    "gitlab": (rf"{_at('glpat-')}[\w-]{{20,300}}(?:\.[0-9a-z]{{9}})?\b",),
    # OpenAI and OpenRouter (sk-or-v1-...), Anthropic (sk-ant-...): random base62, so at
    # least one digit.
    "openai": (rf"{_at('sk-')}(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9_-]{{20,}}",),
    # gitleaks stripe-access-token: sk_live_, rk_live_ (and _test_, _prod_)
    "stripe": tuple(
        rf"{_at(kind + '_')}(?:test|live|prod)_[A-Za-z0-9]{{10,99}}\b" for kind in ("rk", "sk")
    ),
    # gitleaks huggingface-access-token, huggingface-organization-api-token (34 letters there;
    # a little room either way here)
    "huggingface": (
        rf"{_at('hf_')}[A-Za-z]{{30,40}}\b",
        rf"{_at('api_org_')}[A-Za-z]{{30,40}}\b",
    ),
    # gitleaks slack-bot-token, slack-user-token, slack-legacy-*; slack-app-token (xapp-)
    "slack": (
        rf"{_at('xox')}[abposre]-[A-Za-z0-9-]{{10,}}",
        rf"{_at('xapp-')}\d-[A-Za-z0-9-]{{10,}}",
    ),
    # gitleaks aws-access-token
    "aws_access_key": (rf"{_at('A')}(?:KIA|SIA|BIA|CCA|3T[A-Z0-9])[0-9A-Z]{{16}}\b",),
    # An AWS secret access key is 40 characters of base64 with no prefix of its own: only the
    # name in front of it tells (aws_secret_access_key = ..., "SecretAccessKey": "...").
    "aws_secret_key": (
        *_named(("aws",), "aws_secret", r"_?secret_?access_?key" + _ASSIGN, _CONTEXT_VALUE),
        *_named(("secret",), "aws_secret_json", r"_?access_?key" + _ASSIGN, _CONTEXT_VALUE),
    ),
    # gitleaks gcp-api-key (Google API keys: Gemini, Maps, ...)
    "google_api_key": (rf"{_at('AIza')}[\w-]{{33,45}}(?![\w-])",),
    # gitleaks telegram-bot-api-token, without its 'telegr' context: <bot id>:A<34>. The bot
    # id in front is public; the secret starts at the colon (the pattern's literal).
    "telegram": (r":(?<=\d:)(?P<keep_telegram>)A[A-Za-z0-9_-]{32,40}(?![\w-])",),
    # gitleaks npm-access-token, pypi-upload-token, sendgrid-api-token
    "npm": (rf"{_at('npm_')}[A-Za-z0-9]{{36}}\b",),
    "pypi": (rf"{_at('pypi-AgEIcHlwaS5vcmc')}[\w-]{{50,1000}}",),
    "sendgrid": (rf"{_at('SG.')}[\w.=-]{{66}}",),
    # gitleaks private-key: the whole PEM block
    "private_key": (
        r"-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----[\s\S]{64,}?KEY(?: BLOCK)?-----",
    ),
    "jwt": (rf"{_at('eyJ')}[A-Za-z0-9_-]{{8,}}\.eyJ[A-Za-z0-9_-]{{8,}}\.[A-Za-z0-9_-]{{8,}}",),
    # libpq key/value connection strings: host=db user=bot password=s3cret dbname=acore
    "libpq_password": _named(
        ("password",), "libpq", r"\s*=\s*", r"(?![*(<])(?:'(?:[^'\\]|\\.)*'|[^\s'\"]+)"
    ),
    # scheme://user:password@ -> scheme://user:***@ (the user helps a reader, the password not)
    # (a password already masked as a whole stays as it is: masking twice changes nothing)
    "userinfo": (
        r":(?<=\w:)(?P<keep_userinfo>//[^\s:/@'\"<>]*:)"
        r"(?!\*\*\*(?:REDACTED\*\*\*)?@)[^\s@/'\"<>]+(?=@)",
    ),
}
#: Keep groups, in the order :func:`_mask` tries them.
_KEEP_GROUPS = tuple(
    name
    for alternatives in SHAPES.values()
    for pattern in alternatives
    for name in re.findall(r"\(\?P<keep_(\w+)>", pattern)
)

#: Discord webhook URLs carry their own credential in the path.
WEBHOOK_URL = re.compile("|".join(SHAPES["discord_webhook"]))

#: Values shorter than this are not treated as secrets: masking "1" or "true" everywhere
#: would destroy the report without protecting anything.
MIN_SECRET_LEN = 6
#: The shortest part of a secret masked where the rest of it was cut off (see
#: :meth:`Redactor._cut_parts`); a shorter part is no use to anyone.
MIN_CUT_PART = 6
#: A part of letters only shorter than this is taken for a word, not for a cut secret.
WORD_PART = 12

#: Values that are no secret: left in ``.env`` from ``.env.example`` or the docs. Masking them
#: protects nothing and breaks the report ("LOG_LEVEL is not DEBUG in ***REDACTED***").
#: Narrower than the config checks' placeholder test (:mod:`acore_doctor.probes.token`): a
#: real password such as ``my-dog-rex-2019`` must stay masked.
STOCK_PLACEHOLDERS = frozenset(
    {
        "change_me_in_production",  # ANALYTICS_API_KEY in the bot's .env.example
        "your_token_here",
        "your_discord_token",
        "your_discord_bot_token",
        "your_bot_token",
        "your_api_key",
        "your_openrouter_api_key",
        "insert_token_here",
        "not-needed",
        "dummy",
        "admin",
        "password",
        "changeme",
        "none",
        "null",
        "todo",
        "xxxxxx",
    }
)
_PLACEHOLDER = re.compile(
    r"change[_ -]?me(?:[_ -][a-z_ -]*)?"  # change_me, CHANGE-ME, change_me_in_production
    r"|your[_ -][\w -]*[_ -]here"  # your_api_key_here
    r"|<[^<>]*>|x{3,}|\*{3,}.*|\.{3}"  # <token>, xxxx, ***REDACTED***
    r"|sk-[a-z0-9-]*?(?:x{3,}|\.{3}|\u2026|\*{3,})",  # sk-or-v1-xxxx: documentation keys
    re.IGNORECASE,
)


def is_placeholder_value(value: str) -> bool:
    """Whether ``value`` is a placeholder the suite recognises, never a secret to mask."""
    stripped = value.strip().strip("'\"").strip()
    return (
        not stripped
        or stripped.lower() in STOCK_PLACEHOLDERS
        or _PLACEHOLDER.fullmatch(stripped) is not None
    )


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


def settings_redactor(
    file_values: Mapping[str, str | None], environ: Mapping[str, str | None]
) -> Redactor:
    """The redactor of a deployment's settings: its ``.env`` values and the environment's."""
    redact = Redactor(secret_values(file_values))
    redact.add(secret_values(dict(environ)))
    return redact


class Redactor:
    """Masks secrets and neutralizes control characters; see the module docstring."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        # compiled when first needed (a big pattern takes tens of ms to compile, and a run
        # whose texts hold no configured secret never needs the one with the literals)
        self._pattern: re.Pattern[str] | None = None
        self._probes: tuple[str, ...] = ()
        #: secrets long enough for a cut-off part of them to be masked (see _cut_parts)
        self._cuttable: tuple[str, ...] = ()
        #: every MIN_CUT_PART-character window of those secrets -> the secrets holding it
        self._windows: dict[str, tuple[str, ...]] = {}
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        before = len(self._secrets)
        for secret in secrets:
            secret = secret.strip()
            if len(secret) < MIN_SECRET_LEN or is_placeholder_value(secret):
                continue
            self._secrets.add(secret)
            # as a URL's query or form carries it: token=MTIz...%3D%3D, pass%21word
            for encoded in (urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)):
                self._secrets.add(encoded)
        if len(self._secrets) != before:
            self._pattern = None
            # plain 'in' tests are far faster than the literal alternatives in the regex at
            # every position, and most texts hold no configured secret at all
            ordered = sorted(self._secrets, key=len)
            probes: list[str] = []
            for secret in ordered:
                if not any(probe in secret for probe in probes):
                    probes.append(secret)
            self._probes = tuple(probes)
            self._cuttable = tuple(s for s in ordered if len(s) > MIN_CUT_PART)
            windows: dict[str, list[str]] = {}
            for secret in self._cuttable:
                for at in range(len(secret) - MIN_CUT_PART + 1):
                    holders = windows.setdefault(secret[at : at + MIN_CUT_PART], [])
                    if secret not in holders:
                        holders.append(secret)
            self._windows = {window: tuple(held) for window, held in windows.items()}

    def __call__(self, text: str) -> str:
        """``text`` fit to leave the process: secrets masked, control characters escaped."""
        if not text:
            return text
        has_literal = any(probe in text for probe in self._probes)
        if has_literal:
            if self._pattern is None:
                self._pattern = _compile(self._secrets)
            text = self._pattern.sub(_mask, text)
        else:
            text = _shapes_pattern().sub(_mask, text)
        if self._cuttable:
            text = self._cut_parts(text)
        return terminal_safe(text)

    def _cut_parts(self, text: str) -> str:
        """``text`` with the parts of a secret masked that stand where the rest was cut off.

        A secret is masked whole everywhere; a part of one (at least :data:`MIN_CUT_PART`
        characters) only where the text shows that the rest was cut away: a head right
        before the text's end, a line's end or saferepr's ``...``, a tail right after the
        text's start, a line's start or ``...`` (quotes and indentation around a wrapped
        line count as the edge). A part anywhere else is an ordinary word.
        """
        ends = [len(text.rstrip("'\" "))]
        starts = [len(text) - len(text.lstrip("'\" "))]
        if "\n" in text or "..." in text:
            for match in _CUT.finditer(text):
                end = match.start()
                if text[end] == "\n":  # a wrapped literal's closing quote is before it
                    while end and text[end - 1] in "'\" ":
                        end -= 1
                ends.append(end)
                starts.append(match.end())
        spans: list[tuple[int, int]] = []
        floor = MIN_CUT_PART
        windows = self._windows
        # One look-up per cut point: only a secret holding the text's characters next to
        # the cut can have a part there (a text of many lines has many cut points).
        for end in ends:
            for secret in windows.get(text[end - floor : end], ()) if end >= floor else ():
                if "://" in secret:  # a URL's head is its scheme and host, not a secret
                    continue
                for size in range(min(len(secret) - 1, end), floor - 1, -1):
                    if text.startswith(secret[:size], end - size):
                        if not _ordinary_word(secret[:size]):
                            spans.append((end - size, end))
                        break
        for start in starts:
            for secret in windows.get(text[start : start + floor], ()):
                for size in range(min(len(secret) - 1, len(text) - start), floor - 1, -1):
                    if text.startswith(secret[-size:], start):
                        if not _ordinary_word(secret[-size:]):
                            spans.append((start, start + size))
                        break
        if not spans:
            return text
        pieces, done = [], 0
        for begin, end in sorted(spans):
            if end <= done:
                continue
            pieces += [text[done : max(begin, done)], MASK]
            done = end
        return "".join(pieces) + text[done:]

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


def _ordinary_word(part: str) -> bool:
    """A part of a secret that is an ordinary word ("production" of a key that ends in it):
    letters only and shorter than :data:`WORD_PART`. Left readable at a cut: a text that
    starts with "production" is far likelier a word than the rest of a wrapped key."""
    return len(part) < WORD_PART and part.isalpha()


#: Where a text was cut: saferepr's "...", or a line break (and the indentation and opening
#: quote of a wrapped literal after it). Literal first characters: a fast scan.
_CUT = re.compile(r"\.\.\.|\n[ '\"]*")


_SHAPES_PATTERN: re.Pattern[str] | None = None


def _shapes_pattern() -> re.Pattern[str]:
    """The shapes alone, compiled once per process on first use."""
    global _SHAPES_PATTERN
    if _SHAPES_PATTERN is None:
        _SHAPES_PATTERN = _compile(())
    return _SHAPES_PATTERN


def _compile(secrets: Iterable[str]) -> re.Pattern[str]:
    """One alternation: literal secrets (longest first), then every shape.

    At each position the first alternative that matches wins, and a match is never looked
    at again, so a fragment cannot hide the URL or token around it from its shape. Each
    alternative starts with a literal character (see :data:`SHAPES`), and alternatives with
    the same first character are grouped behind it (:func:`_by_first_character`): the
    engine then skips positions no alternative can start at, and tries at the others only
    the alternatives that start there, not all fifty.
    """
    ordered = sorted(secrets, key=len, reverse=True)
    parts = [re.escape(s) for s in ordered]
    parts += [pattern for alternatives in SHAPES.values() for pattern in alternatives]
    return re.compile(_by_first_character(parts))


def _first_character(pattern: str) -> tuple[str, str] | None:
    """(the literal first character as written, the rest) or None when it is not one."""
    if pattern[:1] == "\\" and len(pattern) > 2 and not pattern[1].isalnum():
        head, rest = pattern[:2], pattern[2:]
    elif pattern[:1] and (pattern[0].isalnum() or pattern[0] in "-:_%@#/!~'\"=<>,;& "):
        head, rest = pattern[0], pattern[1:]
    else:
        return None
    return None if not rest or rest[0] in "*+?{|)" else (head, rest)


def _by_first_character(parts: list[str]) -> str:
    """``parts`` as one alternation, those with the same first character grouped behind it
    (``a(?:ws...|pi_org_...)``). Two alternatives with different first characters never
    match at the same position, so only the order within a group matters, and it is kept."""
    groups: dict[str, list[str]] = {}
    alone: list[str] = []
    for part in parts:
        split = _first_character(part)
        if split is None:
            alone.append(part)
        else:
            groups.setdefault(split[0], []).append(split[1])
    joined = [
        head + rests[0] if len(rests) == 1 else f"{head}(?:{'|'.join(rests)})"
        for head, rests in groups.items()
    ]
    return "|".join(joined + alone)


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
