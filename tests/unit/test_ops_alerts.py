"""Discord webhook alerts, delivered over loopback to the simulator's webhook receiver."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from acore_doctor.ops.alerts import (
    LIMITS,
    STATE_FILE,
    AlertConfig,
    Alerter,
    AlertState,
    embed_size,
)
from acore_doctor.redact import Redactor
from acore_doctor.simulate import FaultState
from tests.support import webhooks

# The Discord-only simulator and a fresh webhook per test (tests/support/webhooks.py).
sim, hook = webhooks.sim, webhooks.hook

SECRET = "sk-or-v1-0123456789abcdefghijklmnopqrstuv"


def report(*issues: tuple[str, str], warnings: int = 0, code: int | None = None) -> dict[str, Any]:
    entries = [
        {
            "check": check,
            "title": title,
            "severity": "critical",
            "message": f"expected {title}, found otherwise",
            "recommendation": "Fix it.",
        }
        for check, title in issues
    ]
    exit_code = code if code is not None else (2 if entries else (1 if warnings else 0))
    status = {0: "healthy", 1: "warning", 2: "critical", 3: "unknown"}[exit_code]
    return {
        "timestamp": "2026-01-01T00:00:00",
        "summary": {
            "overall_status": status,
            "exit_code": exit_code,
            "total_issues": len(entries),
            "total_warnings": warnings,
            "reason": "collection failed" if exit_code == 3 else "",
        },
        "issues": entries,
        "environment": {"host": "bothost", "bot_dir": "/srv/acore_bot"},
    }


TOKEN = ("t::test_token", "Discord token valid")
OLLAMA = ("t::test_ollama", "Ollama reachable")


def alerter(tmp_path: Path, url: str, redact: Redactor | None = None, **options: Any) -> Alerter:
    config = AlertConfig(webhook_url=url, **{"min_interval_s": 0, **options})
    return Alerter(config, tmp_path / STATE_FILE, redact or Redactor())


def messages(sim, hook) -> list[dict[str, Any]]:
    return sim.discord.webhook_messages(hook[0])


def test_alert_after_consecutive_failures_then_recovery(sim, hook, tmp_path):
    watch = alerter(tmp_path, hook[1], alert_after=2)
    assert watch.after_run(report(TOKEN)) is None
    assert messages(sim, hook) == []
    assert watch.after_run(report(TOKEN)).outcome == "sent"
    assert watch.after_run(report(TOKEN)) is None  # announced once, not every run
    assert watch.after_run(report(warnings=1)).outcome == "sent"
    first, recovered = messages(sim, hook)
    embed = first["embeds"][0]
    assert first["allowed_mentions"] == {"parse": []}
    assert embed["title"].startswith("CRITICAL: 1 new critical issue")
    assert embed["fields"][0]["name"] == "Discord token valid"
    assert "Fix: Fix it." in embed["fields"][0]["value"]
    assert recovered["embeds"][0]["title"].startswith("RECOVERED: no critical issue left")
    assert sim.discord.webhook_rejections(hook[0]) == []


def test_flapping_never_alerts(sim, hook, tmp_path):
    watch = alerter(tmp_path, hook[1], alert_after=2)
    for run in (report(TOKEN), report(), report(TOKEN), report(), report(TOKEN)):
        watch.after_run(run)
    assert messages(sim, hook) == []


def test_new_critical_while_down_is_announced(sim, hook, tmp_path):
    watch = alerter(tmp_path, hook[1], alert_after=1)
    watch.after_run(report(TOKEN))
    watch.after_run(report(TOKEN, OLLAMA))
    watch.after_run(report())
    titles = [m["embeds"][0]["title"] for m in messages(sim, hook)]
    assert len(titles) == 3 and titles[2] == "RECOVERED: back to healthy on bothost"
    second = messages(sim, hook)[1]["embeds"][0]
    assert [f["name"] for f in second["fields"]] == ["Ollama reachable"]
    assert "Still open: Discord token valid" in second["description"]


def test_state_survives_between_processes(sim, hook, tmp_path):
    alerter(tmp_path, hook[1], alert_after=2).after_run(report(TOKEN))
    assert alerter(tmp_path, hook[1], alert_after=2).after_run(report(TOKEN)).outcome == "sent"
    assert hook[1] not in (tmp_path / STATE_FILE).read_text()


def test_suite_that_cannot_decide_alerts_as_such(sim, hook, tmp_path):
    watch = alerter(tmp_path, hook[1], alert_after=1)
    watch.after_run(report(code=3))
    embed = messages(sim, hook)[0]["embeds"][0]
    assert embed["fields"][0]["name"] == "The health suite could not decide"
    assert "collection failed" in embed["fields"][0]["value"]


def test_huge_reports_fit_discord_limits(sim, hook, tmp_path):
    issues = [(f"t::test_{n}", f"Check number {n} " + "x" * 400) for n in range(40)]
    big = report(*issues)
    for entry in big["issues"]:
        entry["message"] = "y" * 5000
    watch = alerter(tmp_path, hook[1], alert_after=1)
    assert watch.after_run(big).outcome == "sent"
    assert sim.discord.webhook_rejections(hook[0]) == []
    embed = messages(sim, hook)[0]["embeds"][0]
    assert len(embed["fields"]) <= LIMITS["fields"]
    assert embed_size(embed) <= LIMITS["total"]
    assert all(len(f["value"]) <= LIMITS["field.value"] for f in embed["fields"])
    assert embed["fields"][-1]["name"] == "More"


def test_secrets_and_the_webhook_url_never_reach_the_message(sim, hook, tmp_path):
    leaky = report(TOKEN)
    leaky["issues"][0]["message"] = f"key {SECRET} rejected; webhook {hook[1]} ok"
    watch = alerter(tmp_path, hook[1], Redactor([SECRET]), alert_after=1)
    watch.after_run(leaky)
    sent = json.dumps(messages(sim, hook))
    assert SECRET not in sent and SECRET[:10] not in sent
    assert hook[1] not in sent and hook[1].rsplit("/", 1)[1] not in sent
    assert "***REDACTED***" in sent


def test_rate_limit_holds_alerts_back_then_sends_with_a_note(sim, hook, tmp_path):
    watch = alerter(tmp_path, hook[1], alert_after=1, min_interval_s=600)
    assert watch.after_run(report(TOKEN), now=1000.0).outcome == "sent"
    assert watch.after_run(report(TOKEN, OLLAMA), now=1010.0).outcome == "held_back"
    assert len(messages(sim, hook)) == 1
    assert watch.after_run(report(TOKEN, OLLAMA), now=1700.0).outcome == "sent"
    late = messages(sim, hook)[1]["embeds"][0]
    assert [f["name"] for f in late["fields"]] == ["Ollama reachable"]
    assert "1 alert(s) held back" in late["footer"]["text"]


def test_hourly_cap(sim, hook, tmp_path):
    watch = alerter(tmp_path, hook[1], alert_after=1, max_per_hour=2)
    outcomes = [
        watch.after_run(run, now=2000.0 + i).outcome
        for i, run in enumerate([report(TOKEN), report(), report(TOKEN)])
    ]
    assert outcomes == ["sent", "sent", "held_back"]


def test_dead_webhook_is_reported_once_and_not_hammered(sim, hook, tmp_path):
    sim.set_fault("discord", FaultState("webhook_deleted", only="/webhooks"))
    watch = alerter(tmp_path, hook[1], alert_after=1)
    first = watch.after_run(report(TOKEN))
    assert first.outcome == "dead" and first.first_report and first.status == 404
    assert "deleted" in first.detail and hook[1] not in first.detail
    before = len(sim.discord.requests)
    for _ in range(3):
        again = watch.after_run(report(TOKEN))
        assert again.outcome == "dead" and not again.first_report
    assert len(sim.discord.requests) == before, "a dead webhook must not be called again"
    sim.set_fault("discord", "ok")
    other = sim.discord.add_webhook()
    watch.config.webhook_url = sim.discord.webhook_url(other.id)
    assert watch.after_run(report(TOKEN)).outcome == "sent"


def test_discord_429_backs_off(sim, hook, tmp_path):
    sim.set_fault("discord", FaultState("webhook_429", retry_after=30.0))
    watch = alerter(tmp_path, hook[1], alert_after=1)
    assert watch.after_run(report(TOKEN), now=5000.0).outcome == "backoff"
    before = len(sim.discord.requests)
    assert watch.after_run(report(TOKEN), now=5010.0).outcome == "backoff"
    assert len(sim.discord.requests) == before
    sim.set_fault("discord", "ok")
    assert watch.after_run(report(TOKEN), now=5031.0).outcome == "sent"


def test_unreachable_webhook_is_retried_next_run(tmp_path):
    watch = alerter(tmp_path, "http://127.0.0.1:9/api/webhooks/1/x", alert_after=1)
    assert watch.after_run(report(TOKEN)).outcome == "failed"
    assert AlertState.load(tmp_path / STATE_FILE).announced == {}


def test_settings_switches(tmp_path):
    from acore_doctor.settings import load_settings

    env = tmp_path / ".env"
    env.write_text("ERROR_REPORT_WEBHOOK=http://127.0.0.1:1/api/webhooks/1/x\n")
    assert AlertConfig.from_settings(load_settings(env, {})).enabled
    env.write_text(env.read_text() + "ERROR_REPORTING_ENABLED=false\n")
    config = AlertConfig.from_settings(load_settings(env, {}))
    assert not config.enabled and config.why_disabled == "ERROR_REPORTING_ENABLED=false"
    env.write_text("CRITICAL_ERROR_NOTIFICATIONS=true\n")
    assert AlertConfig.from_settings(load_settings(env, {})).why_disabled == (
        "ERROR_REPORT_WEBHOOK is not set"
    )


def test_performance_alerts_switch_makes_resource_warnings_alert(sim, hook, tmp_path):
    from acore_doctor.ops.switches import RESOURCE_CHECKS, Switches

    memory = RESOURCE_CHECKS[1]
    run = report()
    run["summary"].update(exit_code=1, overall_status="warning", total_warnings=1)
    run["warnings"] = [
        {"check": memory, "title": "Memory has headroom", "severity": "warning",
         "message": "expected < 90 %, found 97 %", "recommendation": "Find the leak."}
    ]  # fmt: skip
    quiet = alerter(tmp_path / "off", hook[1], alert_after=1)
    quiet.config.alerting_warnings = Switches(performance_alerts=False).alerting_warnings()
    assert quiet.after_run(run) is None and messages(sim, hook) == []
    loud = alerter(tmp_path / "on", hook[1], alert_after=1)
    loud.config.alerting_warnings = Switches(performance_alerts=True).alerting_warnings()
    assert loud.after_run(run).outcome == "sent"
    (sent,) = messages(sim, hook)
    assert sent["embeds"][0]["title"].startswith("PERFORMANCE: 1 new resource warning")


def warning_report() -> dict[str, Any]:
    run = report()
    run["summary"].update(exit_code=1, overall_status="warning", total_warnings=1)
    run["warnings"] = [
        {"check": "t::test_log_level", "title": "LOG_LEVEL is not DEBUG", "severity": "warning",
         "message": "expected INFO, found DEBUG", "recommendation": "Set LOG_LEVEL=INFO."}
    ]  # fmt: skip
    return run


def test_error_reporting_reports_warnings_and_critical_switch_gates_only_criticals(
    sim, hook, tmp_path
):
    from acore_doctor.settings import load_settings

    env = tmp_path / ".env"
    env.write_text(f"ERROR_REPORT_WEBHOOK={hook[1]}\nCRITICAL_ERROR_NOTIFICATIONS=false\n")
    config = AlertConfig.from_settings(load_settings(env, {}), alert_after=1, min_interval_s=0)
    assert config.enabled and not config.critical
    watch = Alerter(config, tmp_path / STATE_FILE, Redactor())
    assert watch.after_run(report(TOKEN)) is None  # a critical: not with the switch off
    assert watch.after_run(warning_report()).outcome == "sent"
    (sent,) = messages(sim, hook)
    assert sent["embeds"][0]["title"].startswith("WARNING: 1 new warning")
    assert watch.after_run(warning_report()) is None  # announced once

    env.write_text(f"ERROR_REPORT_WEBHOOK={hook[1]}\nERROR_REPORTING_ENABLED=false\n")
    off = AlertConfig.from_settings(load_settings(env, {}))
    assert not off.enabled and off.why_disabled == "ERROR_REPORTING_ENABLED=false"


def test_a_triggered_run_alerts_at_once_and_resolves_nothing_it_did_not_run(sim, hook, tmp_path):
    watch = alerter(tmp_path, hook[1], alert_after=2, min_interval_s=3600)
    full = report(TOKEN, OLLAMA)
    full["checks"] = [{"nodeid": TOKEN[0]}, {"nodeid": OLLAMA[0]}]
    assert watch.after_run(full) is None  # one full run: no streak yet
    subset = report(TOKEN)
    subset["checks"] = [{"nodeid": TOKEN[0]}]
    delivery = watch.after_triggered_run(subset, "an ERROR from discord.client in the log")
    assert delivery is not None and delivery.outcome == "sent"  # no streak, no min interval
    (sent,) = messages(sim, hook)
    assert sent["embeds"][0]["description"].startswith(
        "Triggered by an ERROR from discord.client in the log."
    )
    state = AlertState.load(tmp_path / STATE_FILE)
    assert set(state.announced) == {TOKEN[0]} and state.streaks[OLLAMA[0]] == 1
    assert watch.after_triggered_run(subset, "again") is None  # announced once
