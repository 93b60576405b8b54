"""The Redactor in process: every token shape, its near-misses, URL userinfo, a fuzz test,
documents, terminal safety and the log analyzer's saved state."""

from __future__ import annotations

import json
import random
import string
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from acore_doctor.logs.state import load_state, new_keys, save_state, state_path
from acore_doctor.redact import (
    MASK,
    Redactor,
    is_placeholder_value,
    is_secret_name,
    secret_values,
    terminal_safe,
    url_passwords,
)
from tests.support.builder import make_token

DISCORD = make_token("123456789012345678", secret="HmacPartHmacPartHmacPart0123456789")

#: kind -> (a secret of that shape, text that embeds it)
SHAPES = {
    "ghp": ("ghp_" + "aB3" * 12, "git clone with {}"),
    "gho": ("gho_" + "Zx9" * 12, "oauth={}"),
    "github_pat": ("github_pat_11ABCDEFG0" + "x7Y" * 20, "GH_TOKEN {} set"),
    "openai": ("sk-" + "Ab1" * 16, "key: {}"),
    "openai_project": ("sk-proj-" + "Q9w" * 15, "key={}."),
    "openrouter": ("sk-or-v1-" + "0a" * 32, "Bearer? no: {}"),
    "slack_bot": ("xoxb-1234567890-0987654321-AbCdEfGhIjKl", "slack {}"),
    "slack_user": ("xoxp-1234567890-0987654321-AbCdEfGhIjKl", "slack {}"),
    "aws": ("AKIAIOSFODNN7EXAMPLE", "aws_access_key_id = {}"),
    "aws_session": ("ASIAIOSFODNN7EXAMPLE", "id={}"),
    "jwt": (
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9P",
        "cookie session={}; path=/",
    ),
    "discord_token": (DISCORD, "logging in with {}"),
    "discord_webhook": (
        "https://discord.com/api/webhooks/123456789012345678/Ab-Cd_Ef0123456789",
        "posting to {} failed",
    ),
    "discord_webhook_ptb": (
        "https://ptb.discordapp.com/api/v10/webhooks/1/zzzZZZ999",
        "<{}>",
    ),
    # issue 20: shapes from gitleaks' default rule set, and the ones it needs context for
    "huggingface": ("hf_" + "AbCdEfGhIj" * 3 + "KlMn", "HF_TOKEN={} python main.py --hf"),
    "huggingface_org": ("api_org_" + "qWeRtYuIoP" * 3 + "aSdF", "org token {}"),
    "slack_app": ("xapp-1-A0123456789-1234567890123-abcdef0123456789", "socket mode with {}"),
    "stripe_live": ("sk_live_" + "51HxYz" * 5, "stripe key {} rejected"),
    "stripe_restricted": ("rk_live_" + "51HxYz" * 5, "stripe key '{}'"),
    "gitlab": ("glpat-" + "xY9-zW8_vU7t" * 2, "git push with {}"),
    "telegram": (
        "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0",
        "GET https://api.telegram.org/bot110201543:{}/getMe",
    ),
    "aws_secret_key": ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_access_key = {}"),
    "aws_secret_key_json": (
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEZ",
        '{{"SecretAccessKey": "{}"}}',
    ),
    "aws_secret_key_env": ("wJalrXUtnFEMI+K7MDENG+bPxRfiCYEXAMPLEKEW", "AWS_SECRET_ACCESS_KEY={}"),
    "libpq": ("s3cr3t-pg-pass", "connect: host=db user=bot password={} dbname=acore"),
    "libpq_quoted": ("'pg pass with space'", "dsn host=db password={} port=5432"),
    "discord_after_percent_3d": (DISCORD, "GET /login?token%3D{}&x=1"),
    "google_api_key": ("AIzaSyD-" + "9tSrke72PouQMnMX7agH" + "z4mYx0bYj0p", "gemini key={}"),
    "npm": ("npm_" + "aB3dE6gH9j" * 3 + "kL2mN5", "//registry.npmjs.org/:_authToken={}"),
    "slack_webhook": (
        "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
        "alerting {}",
    ),
    "private_key": (
        "-----BEGIN RSA PRIVATE KEY-----\n"
        + "MIIEowIBAAKCAQEA1x2y3z" * 4
        + "\n-----END RSA PRIVATE KEY-----",
        "loaded key {} from disk",
    ),
}


@pytest.mark.parametrize("kind", sorted(SHAPES))
def test_each_token_shape_is_masked_unconfigured(kind: str):
    secret, template = SHAPES[kind]
    clean = Redactor()(template.format(secret))
    assert secret not in clean
    assert MASK in clean
    assert clean.replace(MASK, "").strip() == template.format("").strip()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer abc.def-ghi", "Authorization: Bearer " + MASK),
        ("authorization=Basic dXNlcjpwYXNz", "authorization=Basic " + MASK),
        ("{'Authorization': 'Bot xyz123abc'}", "{'Authorization': 'Bot " + MASK + "'}"),
        ('"Proxy-Authorization": "token123"', '"Proxy-Authorization": "' + MASK + '"'),
        (f"Bot {DISCORD}", "Bot " + MASK),
        # 'Bot ' with a token whose first letter the bare shape does not know
        ("Bot Xjk2NDU2Nzg5MDEyMzQ1Njc4.GaBcDe.abcdefghijklmnopqrstuvwxyz01", "Bot " + MASK),
        ("postgres://bot:hunter2hunter@db:5432/x", "postgres://bot:***@db:5432/x"),
        ("redis://:s3cret@cache", "redis://:***@cache"),
        (
            "see http://user:pw@host and https://u2:p2@h2",
            "see http://user:***@host and https://u2:***@h2",
        ),
    ],
)
def test_headers_bot_prefix_and_url_userinfo(text: str, expected: str):
    assert Redactor()(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "ghp_short and gho_ and ghp_" + "a" * 20,
        "xghp_" + "a" * 40,  # not a word start
        "github_pat_tooShort",
        "sk-learn, disk-usage-report, task-queue-worker-pool-size",
        "sk-abcdefghijklmnopqrstuvwxyz (no digit: a slug, not a key)",
        "xoxb- and xoxb-123",
        "AKIAshort AKIA1234 AKIAIOSFODNN7EXAMPLEX",
        "eyJhbGciOiJIUzI1NiJ9 alone, no payload",
        "Bot started; Bot ready in 3.2s; bot.cogs.chat",
        "Authorization failed for user 42",
        "http://localhost:11434/api/tags https://host:8080/x?y=1 mailto:a@b.c",
        "user@example.com 10:30:00 a:b@c ::1 [::1]:8080",
        "https://discord.com/api/v10/users/@me https://discord.com/api/webhooks/",
        "acore_doctor.plugin.pytest_runtest_makereport MTIz.short.parts",
        "0123456789abcdef0123456789abcdef 2026-12-01 06:35:16,123",
        "ANALYTICS_PASSWORD is unset; DISCORD_TOKEN=" + MASK,
        # issue 20: what the new shapes must leave alone
        "hf_hub_download failed; sk_live_ is unset; glpat- prefix; xapp-1 only",
        "at 12:34:56, 10:AAAA, ratio 3:1 and 110201543:short",
        "password= (empty); password=" + MASK + "; the password is wrong",
        "AIza is short AIzaSy; aws_secret_access_key is unset",
        "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 matches",
        "guides/common_issues.md#debug-logging-in-production test_logs.py::test_log_level_not_debug",
        "/home/bot/acore_bot/data/chat_history/1431878519016915099.json (0644)",
        "-----BEGIN PUBLIC KEY----- is no private key",
    ],
)
def test_near_misses_stay(text: str):
    assert Redactor()(text) == text


def test_secret_names():
    for name in (
        "DISCORD_TOKEN",
        "GESTALT_API_TOKEN",
        "OPENROUTER_API_KEY",
        "KEY",
        "CLIENT_SECRET",
        "ANALYTICS_PASSWORD",
        "DB_PASS",
        "REDIS_PW",
        "GOOGLE_CREDENTIALS",
        "ERROR_REPORT_WEBHOOK",
    ):
        assert is_secret_name(name), name
    for name in ("OLLAMA_MAX_TOKENS", "RESPONSE_TOKENS_LONG", "LOG_LEVEL", "PASSTHROUGH_MODE"):
        assert not is_secret_name(name), name


def test_secret_values_take_url_passwords_from_any_setting():
    settings = {
        "OLLAMA_HOST": "http://ollama:pw-in-url-123@gpu:11434",
        "DATABASE_URL": "postgres://u:db-pass-456@h/db",
        "LOG_LEVEL": "DEBUG",
        "OLLAMA_MAX_TOKENS": "123456789",
    }
    assert url_passwords(settings["OLLAMA_HOST"]) == ["pw-in-url-123"]
    assert sorted(secret_values(settings)) == ["db-pass-456", "pw-in-url-123"]
    redact = Redactor(secret_values(settings))
    # the password alone, out of its URL (a log line that printed it) is masked too
    assert redact("auth with pw-in-url-123 failed") == f"auth with {MASK} failed"
    assert redact("123456789 tokens") == "123456789 tokens"


def test_configured_values_and_their_cut_off_parts_are_masked():
    secret = "zz-top-secret-value-42-and-more"
    redact = Redactor([secret])
    for text in (secret, f"'{secret[:10]}...{secret[-10:]}'"):
        clean = redact(text)
        assert secret[:10] not in clean and secret[-10:] not in clean
    assert Redactor(["short"])("short") == "short"


def test_a_secret_is_masked_whole_never_by_a_fragment_in_ordinary_text():
    secret = "Qx7-unique-value-in-production"
    redact = Redactor([secret])
    title = "LOG_LEVEL is not DEBUG in production (guides/common_issues.md#value-in-production)"
    assert redact(title) == title
    # a word at a text's edge or a line's start is a word, not the rest of a wrapped key
    for text in ("production", "production ready", "unique\nproduction", "in production"):
        assert redact(text) == text
    assert redact(f"key {secret} used") == f"key {MASK} used"


@pytest.mark.parametrize(
    "value",
    ["change_me_in_production", "change_me", "CHANGE-ME", "your_api_key_here", "your_token_here",
     "", "   ", "dummy", "not-needed", "<token>", "xxxxxxxx", "sk-or-v1-xxxx"],
)  # fmt: skip
def test_placeholders_are_no_secret(value: str):
    assert is_placeholder_value(value)
    redact = Redactor(secret_values({"ANALYTICS_API_KEY": value, "DISCORD_TOKEN": value}))
    text = f"LOG_LEVEL is not DEBUG in production; ANALYTICS_API_KEY={value}"
    assert redact(text) == text


@pytest.mark.parametrize(
    "value", ["my-dog-rex-2019", "changeme123!", "your-real-key-7f3a", "production-pass-42"]
)
def test_real_values_that_look_a_little_like_placeholders_stay_secret(value: str):
    assert not is_placeholder_value(value)
    assert Redactor([value])(f"pw {value}") == f"pw {MASK}"


def test_a_configured_secret_wrapped_over_two_log_lines_is_masked_in_both_halves():
    secret = "cfg-Wr4pPedSecretValue-0123456789"
    redact = Redactor([secret])
    head, tail = secret[:13], secret[13:]
    # one text holding both lines, and each line on its own (two samples, two templates)
    for text in (
        f"2026 - ERROR - dump token={head}\n{tail} (end)",
        f"dump token={head}",
        f"{tail} (end)",
    ):
        clean = redact(text)
        assert head not in clean and tail not in clean, clean
    # pprint's wrapped literals: the quote and indentation count as the edge
    wrapped = f"{{'message': 'token {head}'\n            '{tail} end'}}"
    assert head not in redact(wrapped) and tail not in redact(wrapped)


def test_saferepr_truncation_of_a_configured_secret_leaks_neither_end():
    from _pytest._io.saferepr import saferepr

    secret = "cfg-" + "LongSecretPart0123" * 20
    shown = saferepr({"token": secret, "other": "x" * 50}, maxsize=120)
    assert "..." in shown
    clean = Redactor([secret])(shown)
    assert all(secret[i : i + 8] not in clean for i in range(len(secret) - 8)), clean


def test_a_configured_secret_url_encoded_is_masked():
    secret = "p@ss/w0rd+with=chars&more"
    redact = Redactor([secret])
    for encoded in (quote(secret, safe=""), quote_plus(secret)):
        assert redact(f"GET /login?pw={encoded}&x=1") == f"GET /login?pw={MASK}&x=1"


def test_document_redacts_every_string_and_key():
    redact = Redactor(["the-configured-secret"])
    doc = {
        "a": ["x the-configured-secret", ("t", 3)],
        "the-configured-secret": {"n": 1, "b": None, "s": f"Bot {DISCORD}"},
    }
    assert redact.document(doc) == {
        "a": [f"x {MASK}", ["t", 3]],
        MASK: {"n": 1, "b": None, "s": f"Bot {MASK}"},
    }


def test_terminal_safe_escapes_control_bytes_keeps_newline_and_tab():
    hostile = "a\x1b]0;pwned\x07b\x1b[2Jc\x00d\re\x7ff\x9bg\n\th"
    assert terminal_safe(hostile) == "a\\x1b]0;pwned\\x07b\\x1b[2Jc\\x00d\\x0de\\x7ff\\x9bg\n\th"
    assert Redactor()(hostile) == terminal_safe(hostile)
    assert terminal_safe("plain ünïcode ✓\n") == "plain ünïcode ✓\n"


# -- fuzz -------------------------------------------------------------------------------------
_VOCABULARY = (
    "the bot ready cog chat voice error warning INFO discord.gateway heartbeat latency ms "
    "user said hello http://localhost:11434/api/tags /home/bot/data/x.json 10:31:02 "
    "Traceback (most recent call last): KeyError: 'persona' Bot started token key secret "
    "sk-learn ghp_short AKIA xoxb eyJ Authorization failed :: @ a:b@c 0x7f3a 42 3.14 "
    "acore_bot.services.llm ✓ ünï {json: [1, 2]} <@123456789012345678>"
)
_WORDS = _VOCABULARY.split(" ")


def _innocent(rng: random.Random, n: int) -> str:
    pieces = []
    for _ in range(n):
        if rng.random() < 0.8:
            pieces.append(rng.choice(_WORDS))
        else:
            pieces.append("".join(rng.choices(string.ascii_letters + string.digits + "._-", k=8)))
    return " ".join(pieces)


#: Shapes that are a secret only by what stands in front of them (a name, a bot id), or whose
#: end is fixed text: the fuzz plants bare values with varied tails.
_IN_CONTEXT_ONLY = {"libpq", "libpq_quoted", "telegram", "private_key"} | {
    kind for kind in SHAPES if kind.startswith("aws_secret")
}


def _random_secret(rng: random.Random) -> str:
    alnum = string.ascii_letters + string.digits
    kind = rng.choice(sorted(set(SHAPES) - _IN_CONTEXT_ONLY) + ["configured"] * 3)
    if kind == "configured":
        return "cfg-" + "".join(rng.choices(alnum, k=rng.randint(8, 40)))
    secret, _ = SHAPES[kind]
    # vary the tail (from its own characters, so the shape holds): no value is remembered
    return secret[:-8] + "".join(rng.choices(secret[-8:-2], k=6)) + secret[-2:]


def test_fuzz_nothing_leaks_and_clean_text_is_unchanged():
    rng = random.Random(12)
    for _ in range(400):
        text = _innocent(rng, rng.randint(0, 40))
        configured = [f"cfg-{rng.randrange(10**12, 10**13)}" for _ in range(3)]
        redact = Redactor(configured)
        assert redact(text) == text
        secrets = [_random_secret(rng) for _ in range(rng.randint(1, 5))] + configured[:1]
        redact.add(s for s in secrets if s.startswith("cfg-"))
        parts = text.split(" ")
        for secret in secrets:
            glue = rng.choice([" ", "=", ": ", "'", '"', "(", "\n", "\t"])
            parts.insert(rng.randint(0, len(parts)), glue + secret + glue.strip("=: ("))
            if rng.random() < 0.3:
                user = rng.choice(["bot", "", "admin"])
                parts.append(f"redis://{user}:{secret}@cache:6379/0")
        dirty = " ".join(parts)
        clean = redact(dirty)
        for secret in secrets:
            assert secret not in clean, (secret, dirty)
        assert redact(clean) == clean  # masking is stable: a mask is never masked again


# -- the log analyzer's saved state ------------------------------------------------------------
GHP = SHAPES["ghp"][0]


def test_state_stores_template_keys_only_after_redaction(tmp_path: Path):
    redact = Redactor(["configured-secret-value"])
    state = load_state(tmp_path, tmp_path / "bot", redact)
    keys = {f"ERROR login failed for {GHP}", "ERROR using configured-secret-value"}
    assert new_keys(state, keys) == sorted(redact(k) for k in keys)
    save_state(state, keys)
    path = state_path(tmp_path, tmp_path / "bot")
    text = path.read_text()
    assert GHP not in text and "configured-secret-value" not in text
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    again = load_state(tmp_path, tmp_path / "bot", redact)
    assert new_keys(again, keys) == []


def test_old_state_with_a_secret_is_rewritten_clean_on_read(tmp_path: Path):
    path = state_path(tmp_path, tmp_path / "bot")
    path.parent.mkdir(parents=True)
    old = {"analyzed_at": 1000.0, "templates": {f"ERROR token {GHP}": 900.0, "WARNING x": 950.0}}
    path.write_text(json.dumps(old))
    state = load_state(tmp_path, tmp_path / "bot", Redactor())
    assert GHP not in path.read_text()
    data = json.loads(path.read_text())
    assert data["templates"] == {f"ERROR token {MASK}": 900.0, "WARNING x": 950.0}
    assert state.previous_run == 1000.0
    assert new_keys(state, {f"ERROR token {GHP}"}) == []


# -- command lines and /healthz ----------------------------------------------------------------
def test_command_line_masks_secret_options_and_variables():
    argv = ["python", "main.py", "--token", "abc123xyz", "--api-key=k1234", "--max-tokens", "500"]
    assert Redactor().command_line(argv) == (
        f"python main.py --token {MASK} --api-key={MASK} --max-tokens 500"
    )
    line = "env DISCORD_TOKEN=plain LOG_LEVEL=DEBUG python3 main.py --verbose --password -x"
    assert Redactor().command_line(line) == (
        f"env DISCORD_TOKEN={MASK} LOG_LEVEL=DEBUG python3 main.py --verbose --password -x"
    )


def test_healthz_text_hides_absolute_paths():
    from acore_doctor.ops.serve import hide_paths

    assert hide_paths("no log file at /home/bot/acore_bot/logs/bot.log (journal)") == (
        "no log file at …/bot.log (journal)"
    )
    kept = "http://127.0.0.1:11434/api/tags answered 3/4 in ~/x"
    assert hide_paths(kept) == kept


def test_a_header_split_by_pprint_is_still_masked():
    import pprint

    text = "request failed with headers Authorization: Bearer PlantedBearerValue-0a1b2c3d4e " * 3
    shown = pprint.pformat({"message": text}, width=60)
    assert "'\n" in shown  # pprint split the string into literals at spaces
    assert "PlantedBearerValue" not in Redactor()(shown)


def test_named_values_inside_a_repr_or_split_by_pprint_are_masked():
    """showlocals prints reprs (quotes escaped inside a string); -vv diffs wrap with pprint."""
    import pprint

    bearer, aws = "PlantedBearerValue-0a1b", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYPLANTED01"
    escaped = repr("headers {'Authorization': 'Bearer " + bearer + '\'} and "x"')
    assert bearer not in Redactor()(escaped)
    assert Redactor()(r"text='{\'aws_secret_access_key\': \'" + aws + r"\'}'") == (
        r"text='{\'aws_secret_access_key\': \'" + MASK + r"\'}'"
    )
    wrapped = pprint.pformat(
        {"m": "boto3 config aws_secret_access_key = " + aws + " x" * 30}, width=50
    )
    assert "'\n" in wrapped and aws not in Redactor()(wrapped)


def test_a_token_on_the_bots_command_line_is_masked_by_its_shape():
    token = "hf_" + "CoMmAnDlInEtOkEnHf" * 2
    assert Redactor().command_line(["python", "main.py", "--hf", token]) == (
        f"python main.py --hf {MASK}"
    )


def test_audit_log_free_text_is_redacted_paths_are_kept(tmp_path: Path):
    from acore_doctor.recovery.common import AuditLog
    from acore_doctor.redact import set_run_redactor

    set_run_redactor(Redactor(["the-configured-secret"]))
    try:
        log = AuditLog(tmp_path / "audit" / "audit.jsonl")
        log.append(tool="t", what="data/the-configured-secret.json", detail="the-configured-secret")
    finally:
        set_run_redactor(None)
    [record] = log.read()
    assert record["detail"] == MASK
    assert record["what"] == "data/the-configured-secret.json"  # read back by later actions
    assert (tmp_path / "audit").stat().st_mode & 0o777 == 0o700
    assert log.path.stat().st_mode & 0o777 == 0o600


def test_bot_process_command_shown_without_its_token():
    from acore_doctor.probes.bot_process import BotProcess

    proc = BotProcess(
        pid=1, cmdline=("python", "main.py", "--token", "plain-token-123"), exe=None, cwd=None,
        username=None, uid=None, gids=(), entrypoint="legacy", create_time=0.0,
    )  # fmt: skip
    assert proc.command == f"python main.py --token {MASK}"
