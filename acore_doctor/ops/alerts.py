"""Discord webhook alerts when the verdict changes (service-apis.md section 1.10).

Deciding and sending are apart. :func:`plan_alert` looks at one run's report and the kept
:class:`AlertState` and says what to announce: critical findings that failed
``alert_after`` runs in a row and were not announced yet (flap damping), or the recovery
once no critical finding is left. :class:`Notifier` sends it, unless the rate limit, a
Discord 429 back-off or a dead webhook says not now; only a delivered (or refused as
malformed) alert changes the state, so a held-back alert goes out on a later run. A
webhook that answers 404/401 is reported once and not called again until its URL changes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from acore_doctor.fsio import write_atomic
from acore_doctor.redact import Redactor
from acore_doctor.saferead import OWN_FILE_MAX, read_text_bounded
from acore_doctor.settings import BotSettings

STATE_FILE = "alert_state.json"
#: Discord's limits (service-apis.md 1.10).
LIMITS = {
    "title": 256,
    "description": 4096,
    "fields": 25,
    "field.name": 256,
    "field.value": 1024,
    "footer.text": 2048,
    "author.name": 256,
    "embeds": 10,
    "total": 6000,
}
RED, GREEN, PURPLE, AMBER = 0xC62828, 0x2E7D32, 0x6A1B9A, 0xF9A825
#: Pseudo-check for a run that could not decide (exit code 3): the suite itself is broken.
SUITE_BROKEN = "(suite)"
TIMEOUT_S = 10.0


@dataclass
class AlertConfig:
    webhook_url: str | None
    enabled: bool = True
    alert_after: int = 2
    recover_after: int = 1
    min_interval_s: float = 60.0
    max_per_hour: int = 10
    username: str = "acore-doctor"
    why_disabled: str = ""
    #: warning checks that alert as critical ones do (PERFORMANCE_ALERTS: the resource checks)
    alerting_warnings: frozenset[str] = frozenset()
    #: CRITICAL_ERROR_NOTIFICATIONS: critical findings (and a human-needed escalation) alert
    critical: bool = True
    #: warnings are reported too (ERROR_REPORTING_ENABLED gates every report); the resource
    #: checks' warnings only with PERFORMANCE_ALERTS (``alerting_warnings``)
    warnings: bool = True

    @classmethod
    def from_settings(cls, settings: BotSettings, **overrides: Any) -> AlertConfig:
        """``ERROR_REPORT_WEBHOOK``. ``ERROR_REPORTING_ENABLED=false`` turns every report off
        (criticals, warnings, auto-recovery's); ``CRITICAL_ERROR_NOTIFICATIONS=false`` turns
        off the critical ones only, the rest is still reported."""
        url = (settings.raw("ERROR_REPORT_WEBHOOK") or "").strip() or None
        why = ""
        if url is None:
            why = "ERROR_REPORT_WEBHOOK is not set"
        if not settings.get("ERROR_REPORTING_ENABLED"):
            why = "ERROR_REPORTING_ENABLED=false"
        critical = bool(settings.get("CRITICAL_ERROR_NOTIFICATIONS"))
        config = cls(webhook_url=url, enabled=not why, why_disabled=why, critical=critical)
        for key, value in overrides.items():
            if value is not None:
                setattr(config, key, value)
        return config


@dataclass
class AlertState:
    streaks: dict[str, int] = field(default_factory=dict)
    announced: dict[str, str] = field(default_factory=dict)  # check -> title
    down: bool = False  # a critical alert went out and no recovery since
    clear_streak: int = 0
    sent_at: list[float] = field(default_factory=list)
    held_back: int = 0
    dead_webhook: str | None = None  # fingerprint of a URL that answered 404/401
    dead_reason: str = ""
    backoff_until: float = 0.0
    last_error: str = ""

    @classmethod
    def load(cls, path: Path) -> AlertState:
        try:
            data = json.loads(read_text_bounded(path, OWN_FILE_MAX, "strict"))
            known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
            return cls(**known)
        except (OSError, ValueError, TypeError):
            return cls()

    def save(self, path: Path) -> None:
        write_atomic(path, json.dumps(asdict(self), indent=2) + "\n", make_parents=True)


@dataclass
class Alert:
    kind: str  # "critical" | "warning" | "recovered" | "recovery" (auto-recovery's news)
    checks: dict[str, dict[str, Any]]  # check -> report entry, the news of this alert
    still_open: list[str]
    payload: dict[str, Any]


def fingerprint(url: str) -> str:
    """Which webhook, without keeping its secret URL in the state file."""
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def critical_entries(
    report: dict[str, Any], alerting_warnings: frozenset[str] = frozenset()
) -> dict[str, dict[str, Any]]:
    """What alerts: the critical issues, and the warnings of ``alerting_warnings``."""
    entries = {e["check"]: e for e in report.get("issues", []) if e.get("check")}
    for entry in report.get("warnings", []):
        if entry.get("check") in alerting_warnings:
            entries[entry["check"]] = {**entry, "title": f"{entry['title']} (warning)"}
    summary = report.get("summary", {})
    if summary.get("exit_code") == 3:
        entries[SUITE_BROKEN] = {
            "check": SUITE_BROKEN,
            "title": "The health suite could not decide",
            "message": summary.get("reason") or "exit code 3 (unknown)",
            "recommendation": "Run 'acore-doctor run -v' by hand and fix what stops the suite.",
        }
    return entries


def warning_entries(report: dict[str, Any], config: AlertConfig) -> dict[str, dict[str, Any]]:
    """The warnings that are reported as such: every warning but the resource checks', whose
    warnings speak only with PERFORMANCE_ALERTS (and then as critical ones do)."""
    from acore_doctor.ops.switches import RESOURCE_CHECKS

    return {
        e["check"]: {**e, "title": f"{e['title']} (warning)"}
        for e in report.get("warnings", [])
        if e.get("check")
        and e["check"] not in RESOURCE_CHECKS
        and e["check"] not in config.alerting_warnings
    }


def reported_entries(
    report: dict[str, Any], config: AlertConfig
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """(the critical entries, every entry) this run reports as the switches say:
    CRITICAL_ERROR_NOTIFICATIONS=false keeps only "the suite could not decide" of the first."""
    critical = critical_entries(report, config.alerting_warnings)
    if not config.critical:
        critical = {c: e for c, e in critical.items() if c == SUITE_BROKEN}
    warned = warning_entries(report, config) if config.warnings else {}
    return critical, {**warned, **critical}


def plan_alert(
    report: dict[str, Any], state: AlertState, config: AlertConfig, redact: Redactor
) -> Alert | None:
    """Update the streaks for this run and return the alert to send now, if any."""
    if report.get("summary", {}).get("exit_code") == 130:
        return None  # an interrupted run says nothing about the bot
    critical, open_now = reported_entries(report, config)
    state.streaks = {c: state.streaks.get(c, 0) + 1 for c in open_now}
    for check in list(state.announced):
        if check not in open_now:
            del state.announced[check]  # resolved while others stay open: announced again if back
    state.clear_streak = 0 if critical else state.clear_streak + 1
    confirmed = {
        c: e
        for c, e in open_now.items()
        if state.streaks[c] >= config.alert_after and c not in state.announced
    }
    if confirmed:
        kind = "critical" if any(c in critical for c in confirmed) else "warning"
        still_open = [e["title"] for c, e in critical.items() if c in state.announced]
        payload = build_payload(kind, confirmed, still_open, report, config, redact)
        return Alert(kind, confirmed, still_open, payload)
    if state.down and not critical and state.clear_streak >= config.recover_after:
        payload = build_payload("recovered", {}, [], report, config, redact)
        return Alert("recovered", {}, [], payload)
    return None


def plan_triggered_alert(
    report: dict[str, Any], state: AlertState, config: AlertConfig, redact: Redactor, trigger: str
) -> Alert | None:
    """The alert for a run an error in the log triggered: its findings need no streak (the
    error in the log is the first signal, the failed check the second), and the checks it did
    not run keep their state (a subset never resolves anything)."""
    if report.get("summary", {}).get("exit_code") == 130:
        return None
    ran = {c.get("nodeid") for c in report.get("checks", [])}
    critical, reported = reported_entries(report, config)
    open_now = {c: e for c, e in reported.items() if c in ran or c == SUITE_BROKEN}
    for check in open_now:
        state.streaks[check] = max(state.streaks.get(check, 0), config.alert_after)
    new = {c: e for c, e in open_now.items() if c not in state.announced}
    if not new:
        return None
    kind = "critical" if any(c in critical for c in new) else "warning"
    still_open = [title for c, title in state.announced.items() if c not in new]
    payload = build_payload(kind, new, still_open, report, config, redact)
    embed = payload["embeds"][0]
    embed["description"] = redact(f"Triggered by {trigger}.\n") + embed["description"]
    fit_embed(embed)
    return Alert(kind, new, still_open, payload)


def commit(alert: Alert, state: AlertState) -> None:
    """What a delivered alert changes."""
    if alert.kind in ("critical", "warning"):
        state.announced.update({c: e["title"] for c, e in alert.checks.items()})
        state.down = state.down or alert.kind == "critical"
    elif alert.kind == "recovered":
        state.announced.clear()
        state.down = False


# -- the message ---------------------------------------------------------------------------
def _cut(text: str, limit: int) -> str:
    text = (text or "").strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def embed_size(embed: dict[str, Any]) -> int:
    size = len(embed.get("title", "")) + len(embed.get("description", ""))
    size += len(embed.get("footer", {}).get("text", ""))
    size += len(embed.get("author", {}).get("name", ""))
    size += sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields", []))
    return size


def fit_embed(embed: dict[str, Any]) -> dict[str, Any]:
    """Cut every part to its limit, then drop fields until the 6000 total fits."""
    embed["title"] = _cut(embed.get("title", ""), LIMITS["title"])
    embed["description"] = _cut(embed.get("description", ""), LIMITS["description"])
    if "footer" in embed:
        embed["footer"]["text"] = _cut(embed["footer"]["text"], LIMITS["footer.text"])
    fields = [
        {
            "name": _cut(f["name"], LIMITS["field.name"]) or "-",
            "value": _cut(f["value"], LIMITS["field.value"]) or "-",
            "inline": bool(f.get("inline", False)),
        }
        for f in embed.get("fields", [])
    ]
    dropped = 0
    if len(fields) > LIMITS["fields"]:
        dropped, fields = len(fields) - (LIMITS["fields"] - 1), fields[: LIMITS["fields"] - 1]
    embed["fields"] = fields
    while embed_size(embed) > LIMITS["total"] - 40 and embed["fields"]:
        embed["fields"].pop()
        dropped += 1
    if embed_size(embed) > LIMITS["total"] - 40:
        spare = LIMITS["total"] - 40 - (embed_size(embed) - len(embed["description"]))
        embed["description"] = _cut(embed["description"], max(1, spare))
    if dropped:
        embed["fields"].append({"name": "More", "value": f"{dropped} more not shown"})
    return embed


def build_payload(
    kind: str,
    checks: dict[str, dict[str, Any]],
    still_open: list[str],
    report: dict[str, Any],
    config: AlertConfig,
    redact: Redactor,
) -> dict[str, Any]:
    env = report.get("environment", {})
    where = f"{env.get('host', '?')}:{env.get('bot_dir', '?')}"
    summary = report.get("summary", {})
    if kind in ("critical", "warning"):
        title = f"CRITICAL: {len(checks)} new critical issue(s) on {env.get('host', '?')}"
        if all(c in config.alerting_warnings for c in checks):
            title = f"PERFORMANCE: {len(checks)} new resource warning(s) on {env.get('host', '?')}"
        elif kind == "warning":
            title = f"WARNING: {len(checks)} new warning(s) on {env.get('host', '?')}"
        colour = PURPLE if SUITE_BROKEN in checks else (RED if kind == "critical" else AMBER)
        description = "\n".join(f"- {e['title']}" for e in checks.values())
        if still_open:
            description += "\nStill open: " + "; ".join(still_open)
        fields = [
            {
                "name": e["title"],
                "value": (e.get("message") or "")
                + (f"\nFix: {e['recommendation']}" if e.get("recommendation") else ""),
            }
            for e in checks.values()
        ]
    else:
        status = summary.get("overall_status", "healthy")
        title = (
            f"RECOVERED: back to healthy on {env.get('host', '?')}"
            if status == "healthy"
            else f"RECOVERED: no critical issue left on {env.get('host', '?')} ({status})"
        )
        colour = GREEN
        description = f"{summary.get('total_warnings', 0)} warning(s) remain."
        fields = []
    embed = {
        "title": redact(title),
        "description": redact(description),
        "color": colour,
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "fields": [{"name": redact(f["name"]), "value": redact(f["value"])} for f in fields],
        "footer": {"text": redact(f"acore-doctor - {where}")},
    }
    return {
        "username": config.username,
        "allowed_mentions": {"parse": []},
        "embeds": [fit_embed(embed)],
    }


# -- delivery -------------------------------------------------------------------------------
@dataclass
class Delivery:
    outcome: str  # sent | held_back | backoff | dead | rejected | failed | disabled
    detail: str = ""
    status: int | None = None
    first_report: bool = False  # True the one time a dead webhook is found


def post_json(url: str, payload: dict[str, Any], timeout: float = TIMEOUT_S) -> tuple[int, str]:
    """POST ``payload``; the HTTP status and body, or (0, error) without a response."""
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "acore-doctor"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read(4096).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(4096).decode("utf-8", "replace")
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        return 0, str(getattr(exc, "reason", exc))


class Notifier:
    def __init__(self, config: AlertConfig, state: AlertState, redact: Redactor) -> None:
        self.config, self.state = config, state
        self.redact = redact
        if config.webhook_url:
            redact.add([config.webhook_url])

    def deliver(self, alert: Alert, now: float | None = None, urgent: bool = False) -> Delivery:
        """Send ``alert`` unless a limit says not now. ``urgent`` (an error seen in the log)
        skips the minimum interval, never the hourly cap or Discord's own back-off."""
        now = time.time() if now is None else now
        state, config = self.state, self.config
        if not config.enabled or not config.webhook_url:
            return Delivery("disabled", config.why_disabled)
        mark = fingerprint(config.webhook_url)
        if state.dead_webhook == mark:
            return Delivery("dead", state.dead_reason)
        if state.dead_webhook is not None:  # the URL changed: try the new one
            state.dead_webhook, state.dead_reason = None, ""
        if now < state.backoff_until:
            state.held_back += 1
            return Delivery("backoff", f"Discord asked to wait until {state.backoff_until:.0f}")
        state.sent_at = [t for t in state.sent_at if now - t < 3600]
        if not urgent and state.sent_at and now - state.sent_at[-1] < config.min_interval_s:
            state.held_back += 1
            return Delivery("held_back", f"less than {config.min_interval_s:g} s since the last")
        if len(state.sent_at) >= config.max_per_hour:
            state.held_back += 1
            return Delivery("held_back", f"{config.max_per_hour} alerts in the last hour")
        payload = alert.payload
        if state.held_back:
            embed = payload["embeds"][0]
            embed["footer"]["text"] += f" - {state.held_back} alert(s) held back by rate limit"
            fit_embed(embed)
        status, body = post_json(config.webhook_url, payload)
        body = self.redact(body[:300])
        if status in (200, 204):
            state.sent_at.append(now)
            state.held_back = 0
            state.last_error = ""
            commit(alert, state)
            return Delivery("sent", status=status)
        if status in (401, 404):
            state.dead_webhook, state.dead_reason = mark, _dead_reason(status, body)
            return Delivery("dead", state.dead_reason, status, first_report=True)
        if status == 429:
            state.backoff_until = now + _retry_after(body)
            return Delivery(
                "backoff", f"429 from Discord; retry after {_retry_after(body):g} s", 429
            )
        if status == 400:
            # Our message broke a limit: resending it would fail the same way.
            commit(alert, state)
            state.last_error = f"400 {body}"
            return Delivery("rejected", f"Discord refused the message: {body}", 400)
        state.last_error = f"{status or 'no response'}: {body}"
        return Delivery("failed", self.redact(state.last_error), status or None)


def _dead_reason(status: int, body: str) -> str:
    what = "deleted (404 Unknown Webhook)" if status == 404 else "token invalid (401)"
    return f"the alert webhook was {what}; alerts are off until ERROR_REPORT_WEBHOOK is changed" + (
        f" [{body}]" if body else ""
    )


def _retry_after(body: str) -> float:
    try:
        return min(3600.0, max(1.0, float(json.loads(body).get("retry_after", 5.0))))
    except (ValueError, AttributeError, TypeError):
        return 5.0


class Alerter:
    """Plan, deliver and persist: what ``watch`` calls after each run."""

    def __init__(self, config: AlertConfig, state_path: Path, redact: Redactor) -> None:
        self.config, self.state_path = config, state_path
        self.state = AlertState.load(state_path)
        self.notifier = Notifier(config, self.state, redact)
        self.redact = redact

    def after_triggered_run(
        self, report: dict[str, Any], trigger: str, now: float | None = None
    ) -> Delivery | None:
        alert = plan_triggered_alert(report, self.state, self.config, self.redact, trigger)
        delivery = None if alert is None else self.notifier.deliver(alert, now, urgent=True)
        with contextlib.suppress(OSError):
            self.state.save(self.state_path)
        return delivery

    def after_run(self, report: dict[str, Any], now: float | None = None) -> Delivery | None:
        alert = plan_alert(report, self.state, self.config, self.redact)
        delivery = None if alert is None else self.notifier.deliver(alert, now)
        # Losing the damping state costs at most one repeated alert: never fail a run for it.
        with contextlib.suppress(OSError):
            self.state.save(self.state_path)
        return delivery


RECOVERY_STATE_FILE = "recovery-alert-state.json"


class RecoveryReporter:
    """AutoRecovery's news for ``ERROR_REPORT_WEBHOOK``: each acting attempt and its outcome,
    and an escalation (a human is needed), through the same rate-limited, redacted
    :class:`Notifier` as ``watch``'s alerts. ``ERROR_REPORTING_ENABLED`` gates all of it;
    an escalation is a critical alert and also needs ``CRITICAL_ERROR_NOTIFICATIONS``."""

    def __init__(self, config: AlertConfig, state_path: Path, redact: Redactor) -> None:
        self.config, self.state_path = config, state_path
        self.state = AlertState.load(state_path)
        self.notifier = Notifier(config, self.state, redact)
        self.redact = redact

    def report(
        self, kind: str, title: str, fields: dict[str, str], now: float | None = None
    ) -> Delivery:
        """``kind``: "attempt" (amber), "failed" (red) or "escalation" (red, critical)."""
        if kind == "escalation" and not self.config.critical:
            return Delivery("disabled", "CRITICAL_ERROR_NOTIFICATIONS=false")
        embed = {
            "title": self.redact(f"AUTO-RECOVERY: {title}"),
            "description": "",
            "color": AMBER if kind == "attempt" else RED,
            "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
            "fields": [
                {"name": self.redact(k), "value": self.redact(str(v))} for k, v in fields.items()
            ],
            "footer": {"text": self.redact("acore-doctor auto-recovery")},
        }
        payload = {
            "username": self.config.username,
            "allowed_mentions": {"parse": []},
            "embeds": [fit_embed(embed)],
        }
        delivery = self.notifier.deliver(Alert("recovery", {}, [], payload), now)
        with contextlib.suppress(OSError):
            self.state.save(self.state_path)
        return delivery
