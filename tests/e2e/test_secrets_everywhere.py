"""Every kind of secret, planted everywhere a deployment can hold one, reaches no byte that
acore-doctor writes or prints: the suite with every output switched on, ``logs`` (text and
JSON, twice so the saved state is reused), ``watch --once`` alerting the simulator's webhook
receiver with a diagnostic bundle, ``serve`` and ``backup``. Hostile control bytes in a log
line reach no output raw either."""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import pytest

from acore_doctor.demo import start_standin_bot, stop_standin_bot
from tests.support.builder import DeploymentBuilder, make_token
from tests.support.runs import SUITE_ROOT, clean_env, everything_on, run_suite_process

#: Token shapes nobody configured: they come in through log lines, data and persona text.
SHAPED = {
    "github": "ghp_" + "R7kQ2mZx9" * 4,
    "github_pat": "github_pat_11AAAAAAA0" + "bC4dE5fG6h" * 5,
    "openai": "sk-proj-" + "Tq8Lw3Nz5" * 5,
    "openrouter": "sk-or-v1-" + "9f8e7d6c5b4a" * 5,
    "slack_bot": "xoxb-2048-4096-PlantedSlackBotToken42",
    "slack_user": "xoxp-2048-4096-PlantedSlackUserToken42",
    "aws": "AKIAPLANTEDKEY7EXAMP",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwbGFudGVkLWp3dCJ9.c2lnbmF0dXJlLXBsYW50ZWQtand0",
    "discord_token": make_token("555555555555555555", secret="UnconfiguredDiscordHmacPart0987654"),
    "bearer": "PlantedBearerValue-0a1b2c3d4e",
    "webhook": "https://discord.com/api/webhooks/444444444444444444/PlantedWebhookToken_abcdef0123",
    "url_password": "PlantedUrlPassw0rd-in-a-log",
    # issue 20 point 3: shapes from gitleaks' rule set, and those only their context gives away
    "huggingface": "hf_" + "PlAnTeDhUgGiNgFaCe" * 2,
    "slack_app": "xapp-1-A0PLANTED42-2048409600000-abcdef0123456789planted",
    "stripe_live": "sk_live_" + "51PlAnTeD" * 3,
    "stripe_restricted": "rk_live_" + "51PlAnTeD" * 3,
    "gitlab": "glpat-" + "PlAnTeD-GiTlAb_x" * 2,
    "telegram": "AAPlantedTelegramBotTokenSecret0123",
    "aws_secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYPLANTED01",
    "libpq_password": "PlantedPgPass-7",
    "discord_after_percent_3d": make_token(
        "666666666666666666", secret="PercentEncodedDiscordHmacPart0123"
    ),
    "google_api_key": "AIzaSyD-" + "PlAnTeDgOoGlEkEy" * 2 + "0",
}

#: Configured in .env under secret names (the webhook is the simulator's, added per test).
CONFIGURED = {
    "DISCORD_TOKEN": make_token("777777777777777777", secret="ConfiguredDiscordHmacPart12345678"),
    "ANALYTICS_PASSWORD": "analytics-pass-conf-8271",
    "GESTALT_API_TOKEN": "gst_gestalt_conf_4f5e6d7c8b9a",
    "CLIENT_SECRET": "client-secret-conf-0x77",
    "CACHE_DB_PASS": "cachedb-pass-conf-5151",
    "REDIS_PW": "redis-pw-conf-6262",
    "GOOGLE_CREDENTIALS": "google-credentials-blob-7373",
    # URL-encoded in a log line (p%40ss%2Fw0rd...): masked in that form too
    "SIGNING_SECRET": "p@ss/w0rd+conf=7&x-3131",
}
#: Wrapped over two log lines (issue 20): the head ends one line, the tail starts the next.
WRAPPED = ("DISCORD_TOKEN", 35)

#: Passwords inside URL settings (and one in a CI variable pytest-html shows).
URL_PASSWORDS = {"OLLAMA_HOST": "ollamaUrlPw-3141", "DATABASE_URL": "dbUrlPw-2718"}
CI_URL_PASSWORD = "ciGitUrlPw-1618"


def _fragments(name: str, secret: str) -> list[str]:
    """What must not appear. pytest shortens long strings in the middle, so the ends of a
    configured secret must not leak either (a URL's head is its scheme and host); a shape
    nobody configured is recognised whole, so it is looked for whole."""
    if name in SHAPED or len(secret) < 20:
        return [secret]
    return [secret, secret[-10:]] if "://" in secret else [secret, secret[:10], secret[-10:]]


def _in_context() -> dict[str, str]:
    """Each shaped secret in a sentence; a bearer value or a URL password is one by context."""
    return {
        kind: {
            "bearer": f"request failed, headers {{'Authorization': 'Bearer {secret}'}}",
            "url_password": f"cannot reach redis://cache:{secret}@127.0.0.1:6379/0",
            "discord_token": f"login with Bot {secret} refused",
            "telegram": f"GET https://api.telegram.org/bot110201543:{secret}/getMe failed",
            "aws_secret": f"boto3 config aws_secret_access_key = {secret} rejected",
            "libpq_password": f"connect failed: host=db user=bot password={secret} dbname=acore",
            "discord_after_percent_3d": f"GET /oauth?state=x&token%3D{secret}%26next failed",
        }.get(kind, f"{kind.replace('_', ' ')} credential rejected: {secret}")
        for kind, secret in SHAPED.items()
    }


def _log_line(level: str, logger: str, message: str, when: float | None = None) -> str:
    stamp = datetime.fromtimestamp(when or time.time()).strftime("%Y-%m-%d %H:%M:%S")
    return f"{stamp} - {logger} - {level} - {message}\n"


#: What a service's error body carries back (an LLM endpoint echoing the request): it is copied
#: into finding messages, cut to fit.
ECHO_MARKER = "EchoedErrorBody"
#: The bot's own command line: a Hugging Face token passed as an argument.
COMMAND_LINE_TOKEN = "hf_" + "CoMmAnDlInEtOkEnHf" * 2


def _plant(bot: DeploymentBuilder, sim, webhook_url: str) -> dict[str, str]:
    """Put every secret in place; returns everything that must never come out, by name."""
    settings = everything_on(sim)
    echoed = " ".join([*_in_context().values(), *CONFIGURED.values()])
    sim.set_fault(
        "openrouter",
        "401",
        error_text=json.dumps({"error": {"message": f"{ECHO_MARKER}: key rejected, {echoed}"}}),
    )
    ollama = settings["OLLAMA_HOST"]
    settings["OLLAMA_HOST"] = ollama.replace("://", f"://ollama:{URL_PASSWORDS['OLLAMA_HOST']}@")
    settings["DATABASE_URL"] = f"postgres://bot:{URL_PASSWORDS['DATABASE_URL']}@127.0.0.1:9/acore"
    bot.set_env(
        **settings,
        **CONFIGURED,
        ERROR_REPORT_WEBHOOK=webhook_url,
        AUTO_DIAGNOSTIC_ON_ERROR="true",
    )
    lines = []
    now = time.time()
    for n, message in enumerate(_in_context().values()):
        for repeat in range(3):
            lines.append(_log_line("ERROR", "services.leaky", message, now - 600 + n * 10 + repeat))
    for name, value in CONFIGURED.items():
        lines.append(_log_line("WARNING", "config", f"{name} in use: {value}", now - 60))
    signing = quote(CONFIGURED["SIGNING_SECRET"], safe="")
    lines.append(_log_line("ERROR", "services.web", f"GET /verify?sig={signing} failed", now - 50))
    name, cut = WRAPPED
    wrapped = CONFIGURED[name]
    lines.append(_log_line("ERROR", "config", f"settings dump: {name}={wrapped[:cut]}", now - 40))
    lines.append(f"{wrapped[cut:]} (the dump wrapped here)\n")
    lines.append(
        _log_line("ERROR", "services.llm", f"POST {settings['OLLAMA_HOST']}/api/chat failed")
    )
    log = bot.root / "logs" / "bot.log"
    log.write_text(log.read_text() + "".join(lines))
    everything = " ".join(_in_context().values())
    bot.write_json(
        "data/chat_history/1431878519016915099.json",
        {"messages": [{"role": "user", "content": f"here are my keys {everything}"}]},
    )
    bot.write("data/rl/leaky_state.json", '{"token": "' + SHAPED["github"] + '", "cut": ')
    card = json.loads((bot.root / "prompts/characters/dagoth_ur.json").read_text())
    card["data"]["description"] = f"Knows {everything} and {CONFIGURED['DISCORD_TOKEN']}"
    bot.write_json("prompts/characters/leaky.json", card)
    secrets = {**SHAPED, **CONFIGURED, "ERROR_REPORT_WEBHOOK": webhook_url}
    secrets.update({f"{k} password": v for k, v in URL_PASSWORDS.items()})
    secrets["GIT_URL metadata password"] = CI_URL_PASSWORD
    secrets["bot command line token"] = COMMAND_LINE_TOKEN
    secrets["SIGNING_SECRET url-encoded"] = quote(CONFIGURED["SIGNING_SECRET"], safe="")
    name, cut = WRAPPED
    secrets[f"{name} head of a wrapped line"] = CONFIGURED[name][:cut]
    secrets[f"{name} tail on the next line"] = CONFIGURED[name][cut:]
    return secrets


def _cli(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "acore_doctor.cli", *args],
        cwd=SUITE_ROOT,
        env=clean_env(),
        capture_output=True,
        timeout=timeout,
    )


def _serve(bot_dir: Path, report_dir: Path) -> list[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "acore_doctor.cli", "serve", f"--bot-dir={bot_dir}",
         f"--report-dir={report_dir}", "--port=0", "--cache-seconds=60"],
        cwd=SUITE_ROOT, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    printed = []
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        printed.append(line)
        base = re.search(rb"http://127\.0\.0\.1:\d+", line)
        assert base, line
        for path in ("/healthz", "/metrics"):
            try:
                with urllib.request.urlopen(base.group().decode() + path, timeout=200) as reply:
                    printed.append(reply.read())
            except urllib.error.HTTPError as exc:
                printed.append(exc.read())
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=20)
    return [*printed, out, err]


@pytest.mark.timeout(900)
def test_no_secret_reaches_any_byte_written_or_printed(bot, sim, tmp_path: Path):
    hook = sim.discord.add_webhook()
    webhook_url = sim.discord.webhook_url(hook.id)
    secrets = _plant(bot, sim, webhook_url)
    (tmp_path / "out").mkdir()
    # the bot runs, with a token on its command line (process checks and profiles show it)
    standin = start_standin_bot(bot.root, seconds=600, args=("--hf", COMMAND_LINE_TOKEN))
    try:
        _everything_written_and_printed(bot, sim, hook, tmp_path, secrets)
    finally:
        stop_standin_bot(standin)


def _everything_written_and_printed(bot, sim, hook, tmp_path: Path, secrets) -> None:
    reports, outputs, backups = tmp_path / "reports", tmp_path / "out", tmp_path / "backups"
    watched = tmp_path / "watch-reports"
    printed: dict[str, bytes] = {}
    run = run_suite_process(
        bot.root, reports, "-vv", "--showlocals", "-rA", "--tb=long",
        f"--html={outputs / 'report.html'}", "--self-contained-html",
        f"--junitxml={outputs / 'junit.xml'}", f"--prometheus={outputs / 'doctor.prom'}",
        f"--log-file={outputs / 'suite.log'}", "--log-level=DEBUG",
        "--metadata", "GIT_URL", f"https://ci:{CI_URL_PASSWORD}@git.example/acore_bot.git",
    )  # fmt: skip
    assert run.code == 2, run.stdout[-3000:]
    printed["run"] = (run.stdout + run.stderr).encode()
    # The secrets rotate: the next run's fingerprint, its history line, its `changes` and
    # `acore-doctor changes` see secret changes, and must hold neither the old nor the new value.
    rotated = {k: v[::-1] + "-rotated" for k, v in CONFIGURED.items() if k != "DISCORD_TOKEN"}
    bot.set_env(**rotated)
    secrets.update({f"{k} (rotated)": v for k, v in rotated.items()})

    def stamps() -> dict[Path, int]:
        return {f: f.stat().st_mtime_ns for f in reports.rglob("*") if f.is_file()}

    before_rotation = stamps()
    again = run_suite_process(
        bot.root, reports, "-vv", f"--html={outputs / 'again.html'}", "--self-contained-html"
    )
    written_while_rotated = {
        str(f) for f, mtime in stamps().items() if before_rotation.get(f) != mtime
    }
    printed["run after rotation"] = (again.stdout + again.stderr).encode()
    for mode in ([], ["--json"]):
        shown = _cli("changes", f"--bot-dir={bot.root}", f"--report-dir={reports}", *mode)
        assert shown.returncode == 0, shown.stderr
        printed[f"changes {mode}"] = shown.stdout + shown.stderr
    assert b"CLIENT_SECRET changed (secret, value not shown)" in printed["changes []"]
    # Back to the secrets the log lines quote: a redactor masks the values configured now.
    bot.set_env(**{k: CONFIGURED[k] for k in rotated})
    nagios = run_suite_process(bot.root, tmp_path / "nagios-reports", "--nagios")
    printed["nagios"] = (nagios.stdout + nagios.stderr).encode()
    assert nagios.stdout.startswith("ACORE-DOCTOR CRITICAL"), nagios.stdout[:500]
    console = _cli("console", f"--bot-dir={bot.root}", "--no-banner", "-c",
                   "settings.get('DISCORD_TOKEN'), settings.get('ANALYTICS_PASSWORD')")  # fmt: skip
    printed["console"] = console.stdout + console.stderr
    profile = _cli("profile", f"--bot-dir={bot.root}", f"--report-dir={reports}",
                   "--duration=2", "--interval=0.5", "--json")  # fmt: skip
    printed["profile"] = profile.stdout + profile.stderr
    for n in range(2):
        for mode in ("text", "json"):
            extra = ["--json"] if mode == "json" else []
            proc = _cli("logs", f"--bot-dir={bot.root}", f"--report-dir={reports}", "--all", *extra)
            assert proc.returncode in (1, 2), proc.stderr
            printed[f"logs {mode} {n}"] = proc.stdout + proc.stderr
    state_files = list((reports / "log-state").glob("templates-*.json"))
    assert state_files, "the log analyzer saved no state"
    # its own report directory: a bundle is kept when a run turns critical, not after `run`
    watch = _cli("watch", "--once", f"--bot-dir={bot.root}", f"--report-dir={watched}",
                 "--alert-after=1", "--alert-min-interval=0")  # fmt: skip
    printed["watch"] = watch.stdout + watch.stderr
    assert watch.returncode == 2, printed["watch"]
    assert b"alert sent" in watch.stdout and b"diagnostic saved" in watch.stdout
    printed["serve"] = b"\n".join(_serve(bot.root, tmp_path / "serve-reports"))
    backup = _cli("backup", f"--bot-dir={bot.root}", f"--backup-dir={backups}")
    assert backup.returncode in (0, 1), backup.stderr  # 1: some state files were invalid
    printed["backup"] = backup.stdout + backup.stderr
    printed["alerts"] = json.dumps(sim.discord.webhook_messages(hook.id)).encode()
    assert sim.discord.webhook_messages(hook.id), "the alert never reached the receiver"

    written = {
        path: path.read_bytes()
        for root in (
            reports,
            watched,
            outputs,
            backups,
            tmp_path / "serve-reports",
            tmp_path / "nagios-reports",
        )  # fmt: skip
        for path in root.rglob("*")
        if path.is_file() and not path.name.endswith(".tar.gz")  # a backup of .env holds .env
    }
    assert len(list((watched / "diagnostics").glob("critical_*/*"))) == 3
    assert {p.suffix for p in written} >= {".json", ".html", ".xml", ".log", ".prom", ".jsonl"}
    everything = {**printed, **{str(p): data for p, data in written.items()}}
    # While rotated, the values the old log lines quote are configured nowhere: a value the
    # deployment no longer holds is recognised only by its shape (SHAPED, checked everywhere).
    while_rotated = {"run after rotation", str(outputs / "again.html"), *written_while_rotated}
    unconfigured = {
        name for name in secrets if name.split(" ")[0] in rotated and not name.endswith("(rotated)")
    }
    leaks = [
        f"{name} in {where}"
        for where, data in everything.items()
        for name, secret in secrets.items()
        if not (where in while_rotated and name in unconfigured)
        for fragment in _fragments(name, secret)
        if fragment.encode() in data
    ]
    assert leaks == [], "\n".join(leaks)
    # who may read them: the Prometheus textfile is for node-exporter, everything else private
    modes = {str(p): stat.S_IMODE(p.stat().st_mode) for p in written}
    assert modes.pop(str(outputs / "doctor.prom")) == 0o644
    assert {p: m for p, m in modes.items() if m != 0o600} == {}
    for directory in (reports, watched, backups, reports / "log-state", watched / "diagnostics"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    assert str(tmp_path).encode() not in printed["serve"]  # /healthz names no absolute path
    assert b"***REDACTED***" in printed["run"] and b"***REDACTED***" in printed["logs text 0"]
    # the surfaces were reached: the error body and the bot's command line are in the report
    latest = (reports / "latest.json").read_bytes()
    assert ECHO_MARKER.encode() in latest and b"main.py --hf ***REDACTED***" in latest
    # and nothing that is no secret was masked: check ids, titles and guide anchors whole
    for check in json.loads(latest)["checks"]:
        named = " ".join(str(check.get(k) or "") for k in ("nodeid", "title", "guide"))
        assert "REDACTED" not in named, named
    assert b"***REDACTED***" in printed["console"], printed["console"][-2000:]


HOSTILE = "user said \x1b]0;pwned-title\x07 then \x1b[2J\x1b[31mred\x1b[0m and \x00 nul"


def test_control_bytes_from_a_log_line_reach_no_output_raw(bot, tmp_path: Path):
    now = time.time()
    lines = [
        _log_line("ERROR", "cogs.chat", f"{HOSTILE} #{n % 2}", now - 300 + n) for n in range(400)
    ]
    log = bot.root / "logs" / "bot.log"
    log.write_text(log.read_text() + "".join(lines))
    run = run_suite_process(bot.root, tmp_path / "reports", "-vv", "-rA")
    logs = _cli("logs", f"--bot-dir={bot.root}", "--all", "--no-state")
    logs_json = _cli("logs", f"--bot-dir={bot.root}", "--all", "--no-state", "--json")
    outputs = {
        "run": (run.stdout + run.stderr).encode(),
        "logs": logs.stdout + logs.stderr,
        "logs --json": logs_json.stdout + logs_json.stderr,
    }
    for path in (tmp_path / "reports").rglob("*"):
        if path.is_file():
            outputs[str(path)] = path.read_bytes()
    for name, data in outputs.items():
        assert b"\x1b" not in data and b"\x00" not in data and b"\x07" not in data, name
    # the line was shown, escaped: the check is not passing for want of showing it
    assert rb"\x1b]0;pwned-title\x07" in outputs["logs"]
    assert rb"\\x1b]<NUM>;pwned-title\\x07" in (tmp_path / "reports" / "latest.json").read_bytes()


#: Issue 18 point 8: the stock .env.example's ANALYTICS_API_KEY, a placeholder, not a secret.
PLACEHOLDER_KEY = "change_me_in_production"


@pytest.mark.timeout(600)
def test_a_placeholder_api_key_leaves_production_readable_everywhere(bot, tmp_path: Path):
    """Its fragments ("production") were masked in every output: the debug check's title read
    'LOG_LEVEL is not DEBUG in ***REDACTED***' and its guide anchor broke."""
    bot.set_env(ANALYTICS_API_KEY=PLACEHOLDER_KEY, LOG_LEVEL="DEBUG")
    reports, outputs = tmp_path / "reports", tmp_path / "out"
    outputs.mkdir()
    run = run_suite_process(
        bot.root, reports, "-vv", "--showlocals", "-rA", "--tb=long",
        f"--html={outputs / 'report.html'}", "--self-contained-html",
        f"--junitxml={outputs / 'junit.xml'}", f"--prometheus={outputs / 'doctor.prom'}",
        "--offline",
    )  # fmt: skip
    assert run.code in (1, 2), run.stdout[-3000:]
    printed = {"run": (run.stdout + run.stderr).encode()}
    for mode in ("text", "json"):
        extra = ["--json"] if mode == "json" else []
        proc = _cli("logs", f"--bot-dir={bot.root}", "--all", "--no-state", *extra)
        printed[f"logs {mode}"] = proc.stdout + proc.stderr
    written = {
        str(path): path.read_bytes()
        for root in (reports, outputs)
        for path in root.rglob("*")
        if path.is_file()
    }
    everything = {**printed, **written}
    title, anchor = b"LOG_LEVEL is not DEBUG in ", b"#debug-logging-in-"
    for where, data in everything.items():
        # wherever the title or the anchor is shown, it is shown whole
        assert data.count(title) == data.count(title + b"production"), where
        assert data.count(anchor) == data.count(anchor + b"production"), where
        # and no word was masked because it is part of the placeholder
        assert b"in ***REDACTED***" not in data and b"_***REDACTED***" not in data, where
    shown_in = [w for w, data in everything.items() if title + b"production" in data]
    assert {"run", str(reports / "latest.json"), str(outputs / "junit.xml")} <= set(shown_in)
    assert any(w.endswith("report.html") for w in shown_in), shown_in
    latest = json.loads((reports / "latest.json").read_text())
    guides = [c.get("guide") or "" for c in latest["checks"]]
    assert "guides/common_issues.md#debug-logging-in-production" in guides
