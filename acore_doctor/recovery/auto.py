"""Guarded auto-recovery the bot can import::

    from acore_doctor.recovery import AutoRecovery

    recovery = AutoRecovery(bot_dir=Path("/root/acore_bot"), notifier=alert_owner)
    recovery.register_reconnect("ollama", ollama_client.reconnect)
    ...
    except Exception as error:
        result = await recovery.attempt_recovery(error, {"operation": "on_message"})
        if result.handled:
            ...retry once...

The strategy is chosen by the exception's class hierarchy (its MRO), matching class names
within module families, so discord.py's errors are recognised without importing discord
and a subclass is handled like its parent. Guards, after tenacity/pybreaker and systemd's
start limit: ``AUTO_RECOVERY_ENABLED``; at most ``MAX_RECOVERY_ATTEMPTS`` acting attempts per
circuit within ``RECOVERY_COOLDOWN`` seconds, after which that circuit is open and the
notifier is told instead of trying again. A circuit is one strategy for one service (the
context's ``service``) or, without one, for one error type: three Ollama reconnects open
Ollama's circuit, not Discord's. With ``AUTO_BACKUP_ON_ERROR=true`` a data repair first takes
a backup and verifies it (at most one per ``RECOVERY_COOLDOWN``), and does not write when that
fails; exponential backoff with jitter; and every
attempt in a bounded JSON-lines log, read back at start so a crash loop across restarts
counts against the same limit.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import json
import logging
import os
import random
import shlex
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from acore_doctor.fsio import write_atomic
from acore_doctor.recovery.common import (
    ATTEMPTS_LOG,
    HOME_DIR,
    read_jsonl,
)
from acore_doctor.recovery.control import ACTING, CONTROL_FILE, RecoveryControl, record_key
from acore_doctor.redact import Redactor, secret_values
from acore_doctor.settings import environ_settings

log = logging.getLogger("acore_doctor.recovery")

__all__ = ["ACTING", "AutoRecovery", "record_key"]

MAX_LOG_RECORDS = 1000
RESTART_TIMEOUT_S = 120.0

#: (module family, class name) -> strategy, searched along the exception's MRO, nearest
#: class first. A module family matches the class's module or any sub-module of it.
RULES: list[tuple[str, str, str]] = [
    # discord.py (discord/errors.py, discord/gateway.py); never imported.
    ("discord", "LoginFailure", "refuse"),
    ("discord", "PrivilegedIntentsRequired", "refuse"),
    ("discord", "Forbidden", "refuse"),
    ("discord", "RateLimited", "rate_limit"),
    ("discord", "DiscordServerError", "reconnect"),
    ("discord", "ConnectionClosed", "gateway_closed"),
    ("discord", "GatewayNotFound", "reconnect"),
    ("discord", "HTTPException", "http_status"),
    ("aiohttp", "ClientResponseError", "http_status"),
    ("aiohttp", "ClientConnectionError", "reconnect"),
    ("aiohttp", "ServerTimeoutError", "reconnect"),
    ("sqlite3", "OperationalError", "sqlite_operational"),
    ("sqlite3", "DatabaseError", "repair_data"),
    ("json", "JSONDecodeError", "repair_data"),
    ("builtins", "PermissionError", "refuse"),
    ("builtins", "FileNotFoundError", "recreate_missing"),
    ("builtins", "MemoryError", "clear_caches"),
    ("builtins", "ConnectionError", "reconnect"),
    ("builtins", "TimeoutError", "reconnect"),
]
#: Gateway close codes that mean "fix the configuration" (discord.com/developers/docs/topics/opcodes-and-status-codes).
GATEWAY_FATAL_CODES = {4004, 4010, 4011, 4012, 4013, 4014}


def _in_family(module: str, family: str) -> bool:
    return module == family or module.startswith(family + ".")


def classify(error: BaseException, rules: Iterable[tuple[str, str, str]] = RULES) -> str | None:
    """The rule-level strategy for ``error``, by its nearest matching ancestor class."""
    rules = list(rules)
    for cls in type(error).__mro__:
        module = getattr(cls, "__module__", "")
        for family, name, strategy in rules:
            if cls.__name__ == name and _in_family(module, family):
                return strategy
    return None


def http_status(error: BaseException) -> int | None:
    for attr in ("status", "status_code"):
        value = getattr(error, attr, None)
        if isinstance(value, int):
            return value
    response = getattr(error, "response", None)
    value = getattr(response, "status", None)
    return value if isinstance(value, int) else None


def retry_after(error: BaseException, context: Mapping[str, Any]) -> float | None:
    """Seconds to wait, from discord.py's RateLimited.retry_after or a Retry-After header."""
    for value in (getattr(error, "retry_after", None), context.get("retry_after")):
        if isinstance(value, int | float) and value >= 0:
            return float(value)
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None) or getattr(error, "headers", None) or {}
    try:
        raw = headers.get("Retry-After") or headers.get("retry-after")
        return float(raw) if raw is not None else None
    except (AttributeError, TypeError, ValueError):
        return None


def resolve_strategy(error: BaseException, context: Mapping[str, Any]) -> str | None:
    """The final strategy: rule-level ones that depend on the error's details resolved."""
    strategy = classify(error)
    if strategy == "http_status":
        status = http_status(error)
        if status == 429:
            return "rate_limit"
        if status in (401, 403):
            return "refuse"
        if status is not None and status >= 500:
            return "reconnect"
        return None
    if strategy == "gateway_closed":
        code = getattr(error, "code", None)
        return "refuse" if code in GATEWAY_FATAL_CODES else "reconnect"
    if strategy == "sqlite_operational":
        text = str(error).lower()
        if "locked" in text or "busy" in text:
            return "backoff"
        return "repair_data" if "malformed" in text or "not a database" in text else "backoff"
    return strategy


@dataclass
class RecoveryOutcome:
    strategy: str | None
    outcome: str  # recovered | waited | backed_off | no_action | failed | refused | circuit_open | paused | disabled | no_strategy
    detail: str = ""
    attempt: int = 0
    delay_s: float = 0.0

    @property
    def handled(self) -> bool:
        """True when the caller may retry the operation that failed."""
        return self.outcome in ("recovered", "waited", "backed_off", "no_action")


@dataclass
class Escalation:
    """What the notifier is told: a human is needed."""

    error_type: str
    strategy: str | None
    reason: str
    attempts: int
    context: dict[str, Any] = field(default_factory=dict)


Notifier = Callable[[Escalation], Any]
Hook = Callable[[], Any]


def _default_notifier(escalation: Escalation) -> None:
    log.critical(
        "auto-recovery needs a human: %s (%s, strategy %s, %d attempts)",
        escalation.reason,
        escalation.error_type,
        escalation.strategy,
        escalation.attempts,
    )


async def _call(hook: Callable[..., Any], *args: Any) -> Any:
    result = hook(*args)
    if inspect.isawaitable(result):
        result = await result
    return result


class AutoRecovery:
    """Pick, guard and log recovery attempts for the bot's runtime errors."""

    def __init__(
        self,
        bot_dir: Path | str | None = None,
        *,
        enabled: bool | None = None,
        max_attempts: int | None = None,
        cooldown_s: float | None = None,
        log_path: Path | None = None,
        notifier: Notifier | None = None,
        base_delay_s: float = 1.0,
        max_delay_s: float = 60.0,
        max_rate_limit_wait_s: float = 300.0,
        max_log_records: int = MAX_LOG_RECORDS,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        environ: Mapping[str, str] | None = None,
        auto_backup: bool | None = None,
        restart_command: str | None = None,
    ) -> None:
        from acore_doctor.deployment import load_deployment
        from acore_doctor.recovery.common import recovery_config

        self.bot_dir = Path(bot_dir).resolve() if bot_dir is not None else None
        self.deployment = load_deployment(self.bot_dir) if self.bot_dir else None
        if self.deployment is not None and environ is not None:
            self.deployment.settings.environ = dict(environ)
        if self.deployment is not None:
            config = recovery_config(self.deployment)
            defaults = (config.auto_enabled, config.max_attempts, config.cooldown_s)
            self.auto_backup = config.auto_backup if auto_backup is None else auto_backup
            secrets = secret_values(self.deployment.settings.file_values)
            configured_restart = self.deployment.settings.get("RECOVERY_RESTART_COMMAND")
        else:
            env = environ_settings(os.environ if environ is None else environ)
            defaults = (
                env.get("AUTO_RECOVERY_ENABLED"),
                env.get("MAX_RECOVERY_ATTEMPTS"),
                env.get("RECOVERY_COOLDOWN"),
            )
            self.auto_backup = False  # nothing to back up without a deployment
            secrets = []
            configured_restart = env.get("RECOVERY_RESTART_COMMAND")
        self.enabled = defaults[0] if enabled is None else enabled
        self.max_attempts = max(1, defaults[1] if max_attempts is None else max_attempts)
        self.cooldown_s = max(0.0, defaults[2] if cooldown_s is None else cooldown_s)
        self.log_path = log_path or (
            self.bot_dir / HOME_DIR / ATTEMPTS_LOG
            if self.bot_dir
            else Path(HOME_DIR) / ATTEMPTS_LOG
        )
        self.control_path = self.log_path.parent / CONTROL_FILE
        self.restart_command = (
            restart_command if restart_command is not None else configured_restart
        ) or ""
        self.reporter = None if notifier is not None else self._webhook_reporter()
        self.notifier = notifier or self._escalation_notifier
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self.max_rate_limit_wait_s = max_rate_limit_wait_s
        self.max_log_records = max_log_records
        self.sleep = sleep
        self.clock = clock
        self.rng = rng or random.Random()
        self.redact = Redactor(secrets + secret_values(dict(os.environ)))
        self.reconnectors: dict[str, Hook] = {}
        self.cache_clearers: dict[str, Hook] = {}
        self.restarters: dict[str, Hook] = {}
        self.history: deque[dict[str, Any]] = deque(
            read_jsonl(self.log_path)[-max_log_records:], maxlen=max_log_records
        )
        self._lines_on_disk = len(self.history)
        self._escalated: dict[tuple[str | None, str], float] = {}
        self._lock = asyncio.Lock()

    # -- registration -------------------------------------------------------------------------
    def register_reconnect(self, name: str, hook: Hook) -> None:
        """A (sync or async) callable that re-establishes one service's connection."""
        self.reconnectors[name] = hook

    def register_cache(self, name: str, hook: Hook) -> None:
        """A callable that drops a cache; called on memory pressure."""
        self.cache_clearers[name] = hook

    def register_restart(self, name: str, hook: Hook) -> None:
        """A callable that restarts a memory-heavy component (TTS, RVC, the vector store);
        called when memory pressure comes back after the caches were cleared."""
        self.restarters[name] = hook

    # -- where the news goes ------------------------------------------------------------------
    def _webhook_reporter(self) -> Any:
        """``ERROR_REPORT_WEBHOOK`` through watch's damped notifier, when reporting is on."""
        if self.deployment is None:
            return None
        from acore_doctor.ops.alerts import RECOVERY_STATE_FILE, AlertConfig, RecoveryReporter

        # No minimum interval: an escalation right after an attempt must not be held back;
        # the circuits bound the attempts and the hourly cap still holds.
        config = AlertConfig.from_settings(self.deployment.settings, min_interval_s=0.0)
        if not config.enabled:
            return None
        redact = self.deployment.redactor(config.webhook_url or "")
        return RecoveryReporter(config, self.log_path.parent / RECOVERY_STATE_FILE, redact)

    async def _escalation_notifier(self, escalation: Escalation) -> None:
        _default_notifier(escalation)
        if self.reporter is not None:
            fields = {
                "Error": escalation.error_type,
                "Why": escalation.reason,
                "Strategy": str(escalation.strategy),
                "Attempts": str(escalation.attempts),
            }
            await asyncio.to_thread(
                self.reporter.report, "escalation", "a human is needed", fields, self.clock()
            )

    async def _report_attempt(self, error_type: str, outcome: RecoveryOutcome) -> None:
        if self.reporter is None or outcome.outcome not in ACTING:
            return
        kind = "failed" if outcome.outcome == "failed" else "attempt"
        fields = {
            "Error": error_type,
            "Strategy": str(outcome.strategy),
            "Outcome": outcome.outcome,
            "Detail": outcome.detail or "-",
            "Attempt": f"{outcome.attempt} of {self.max_attempts}",
        }
        try:
            await asyncio.to_thread(
                self.reporter.report, kind, outcome.outcome, fields, self.clock()
            )
        except Exception:  # reporting must never take the bot down
            log.exception("auto-recovery could not report to the webhook")

    def control(self) -> RecoveryControl:
        """The operator's pause and resets, read before every attempt (no restart needed)."""
        return RecoveryControl.load(self.control_path)

    # -- the entry point ----------------------------------------------------------------------
    async def attempt_recovery(
        self, error: BaseException, context: Mapping[str, Any] | None = None
    ) -> RecoveryOutcome:
        context = dict(context or {})
        async with self._lock:
            return await self._attempt(error, context)

    async def _attempt(self, error: BaseException, context: dict[str, Any]) -> RecoveryOutcome:
        error_type = f"{type(error).__module__}.{type(error).__qualname__}"
        if not self.enabled:
            return self._record(
                error, RecoveryOutcome(None, "disabled", "AUTO_RECOVERY_ENABLED is not true")
            )
        control = self.control()
        if control.paused:
            return self._record(
                error,
                RecoveryOutcome(
                    None,
                    "paused",
                    "paused by an operator ('acore-doctor recover --resume' to resume)"
                    + (f": {control.reason}" if control.reason else ""),
                ),
            )
        strategy = resolve_strategy(error, context)
        if strategy is None:
            return self._record(
                error, RecoveryOutcome(None, "no_strategy", f"no strategy for {error_type}")
            )
        if strategy == "refuse":
            outcome = RecoveryOutcome(
                strategy, "refused", "authentication or permission error: a human must fix it"
            )
            self._record(error, outcome)
            await self._escalate(error_type, strategy, outcome.detail, 0, context)
            return outcome
        key = circuit_key(strategy, error, context)
        context["circuit"] = key
        recent = self.recent_attempts(key, control)
        if len(recent) >= self.max_attempts:
            outcome = RecoveryOutcome(
                strategy,
                "circuit_open",
                f"{len(recent)} attempts within {self.cooldown_s:g}s "
                f"(MAX_RECOVERY_ATTEMPTS={self.max_attempts}); not trying again",
                attempt=len(recent),
            )
            self._record(error, outcome, key)
            await self._escalate(error_type, strategy, outcome.detail, len(recent), context)
            return outcome
        attempt = len(recent) + 1
        context["attempt"] = attempt
        if strategy == "rate_limit":
            wait = retry_after(error, context)
            if wait is None:
                wait = self.backoff(attempt)
            elif wait > self.max_rate_limit_wait_s:
                outcome = RecoveryOutcome(
                    strategy,
                    "circuit_open",
                    f"rate limited for {wait:.0f}s, longer than {self.max_rate_limit_wait_s:.0f}s",
                    attempt=attempt,
                )
                self._record(error, outcome, key)
                await self._escalate(error_type, strategy, outcome.detail, attempt, context)
                return outcome
            else:
                # A little jitter on top, never below Retry-After: many shards waking at
                # the same instant would hit the limit again together.
                wait += self.rng.uniform(0, min(1.0, wait * 0.1))
        else:
            wait = self.backoff(attempt)
        await self.sleep(wait)
        try:
            outcome_name, detail = await self._run(strategy, error, context)
        except Exception as exc:  # a failing hook is an outcome, not a crash of the bot
            outcome_name, detail = "failed", f"{type(exc).__name__}: {exc}"
        outcome = RecoveryOutcome(strategy, outcome_name, detail, attempt=attempt, delay_s=wait)
        self._record(error, outcome, key)
        await self._report_attempt(error_type, outcome)
        return outcome

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter: between half and all of base * 2^(attempt-1)."""
        ceiling = min(self.max_delay_s, self.base_delay_s * 2 ** max(0, attempt - 1))
        return ceiling * self.rng.uniform(0.5, 1.0)

    def recent_attempts(
        self, key: str, control: RecoveryControl | None = None
    ) -> list[dict[str, Any]]:
        """Acting attempts of one circuit (see circuit_key) within the cooldown and since
        an operator last reset it."""
        control = control or self.control()
        since = self.clock() - self.cooldown_s
        reset = control.reset_at(key)
        return [
            r
            for r in self.history
            if record_key(r) == key
            and r.get("outcome") in ACTING
            and isinstance(r.get("ts"), int | float)
            and r["ts"] >= since
            and r["ts"] > reset
        ]

    # -- strategies ---------------------------------------------------------------------------
    async def _run(
        self, strategy: str, error: BaseException, context: dict[str, Any]
    ) -> tuple[str, str]:
        if strategy == "reconnect":
            return await self._reconnect(context)
        if strategy == "rate_limit":
            return "waited", "waited out the rate limit"
        if strategy == "backoff":
            return "backed_off", "waited before a retry (busy resource)"
        if strategy == "clear_caches":
            return await self._clear_caches(context.get("attempt", 1))
        if strategy == "repair_data":
            return await self._repair(context)
        if strategy == "recreate_missing":
            return await asyncio.to_thread(self._recreate_missing, error, context)
        return "no_action", f"strategy {strategy} has no action"

    async def _reconnect(self, context: dict[str, Any]) -> tuple[str, str]:
        hooks: dict[str, Hook] = {}
        if callable(context.get("reconnect")):
            hooks["context"] = context["reconnect"]
        elif context.get("service") in self.reconnectors:
            hooks[context["service"]] = self.reconnectors[context["service"]]
        else:
            hooks = dict(self.reconnectors)
        if not hooks:
            return "backed_off", "no reconnect hook registered; waited before a retry"
        for name, hook in hooks.items():
            await _call(hook)
            log.info("auto-recovery reconnected %s", name)
        return "recovered", "reconnected " + ", ".join(hooks)

    async def _clear_caches(self, attempt: int = 1) -> tuple[str, str]:
        for hook in self.cache_clearers.values():
            await _call(hook)
        freed = gc.collect()
        names = ", ".join(self.cache_clearers) or "no registered caches"
        cleared = f"cleared {names}; gc freed {freed} objects"
        if attempt < 2 or not (self.restarters or self.restart_command):
            return "recovered", cleared
        # Memory pressure came back after the caches went: restart the heavy parts
        # (progressive, like the design's MemoryError recovery); the circuit is closed here.
        restarted = []
        for name, hook in self.restarters.items():
            await _call(hook)
            restarted.append(name)
        if self.restart_command:
            code, output = await self._run_restart_command()
            if code != 0:
                return "failed", f"{cleared}; restart command exited {code}: {output}"
            restarted.append(f"'{self.restart_command}'")
        log.info("auto-recovery restarted %s", ", ".join(restarted))
        return "recovered", f"{cleared}; restarted {', '.join(restarted)}"

    async def _run_restart_command(self) -> tuple[int, str]:
        """RECOVERY_RESTART_COMMAND, without a shell, bounded in time; (exit code, output)."""
        try:
            argv = shlex.split(self.restart_command)
            proc = await asyncio.create_subprocess_exec(
                *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
            )
        except (OSError, ValueError) as exc:
            return 127, f"{type(exc).__name__}: {exc}"
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), RESTART_TIMEOUT_S)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            return 124, f"timed out after {RESTART_TIMEOUT_S:g} s"
        text = self.redact(out.decode("utf-8", "replace").strip()[-300:])
        log.info("auto-recovery ran %r: exit %s %s", self.restart_command, proc.returncode, text)
        return proc.returncode or 0, text

    def _recreate_missing(self, error: BaseException, context: dict[str, Any]) -> tuple[str, str]:
        """Recreate a directory the bot's own layout expects (data/, chat_history/, the log
        directory...); a missing *file* is data, never invented."""
        name = getattr(error, "filename", None) or context.get("path")
        if not name or self.deployment is None:
            return "no_action", "no file name or no deployment: nothing known to recreate"
        from acore_doctor.probes.files import required_dirs

        path = Path(os.fsdecode(name))
        path = (path if path.is_absolute() else self.deployment.bot_dir / path).resolve()
        expected = {
            d.resolve(): why
            for entrypoint in ("legacy", "runtime")
            for d, why in required_dirs(self.deployment, entrypoint)
        }
        for candidate in (path, path.parent):
            why = expected.get(candidate)
            if why is None:
                continue
            if candidate.is_dir():
                break
            candidate.mkdir(parents=True, exist_ok=True)
            log.info("auto-recovery recreated %s (%s)", candidate, why)
            return "recovered", f"recreated the directory {candidate} ({why})"
        return (
            "no_action",
            f"{path} is missing and is not a directory the bot's layout names: not invented "
            "(restore it from a backup with 'acore-doctor restore' if it held data)",
        )

    async def _repair(self, context: dict[str, Any]) -> tuple[str, str]:
        if self.deployment is None:
            return "no_action", "no bot_dir given: data repair needs the deployment"
        from acore_doctor.recovery.repair import apply_repair

        deployment = self.deployment
        if self.auto_backup:
            problem = await asyncio.to_thread(self._backup_first)
            if problem:
                return "failed", f"not repairing: AUTO_BACKUP_ON_ERROR backup failed: {problem}"
        report = await asyncio.to_thread(apply_repair, deployment, None, None, lambda _l: None)
        if callable(context.get("reopen")):
            await _call(context["reopen"])
        if report.failed:
            return (
                "failed",
                f"repair failed for {len(report.failed)} item(s): {report.failed[0].get('detail')}",
            )
        if not report.actions:
            return "no_action", "data repair found nothing to repair"
        if report.incomplete:
            return (
                "failed",
                f"data repair made {len(report.actions)} change(s) but {report.maybe_lost} "
                "record(s) may be lost; the originals are in quarantine, see the audit log",
            )
        return "recovered", f"data repair made {len(report.actions)} change(s), see the audit log"

    def _backup_first(self) -> str | None:
        """A verified backup before a repair writes (AUTO_BACKUP_ON_ERROR), at most one per
        cooldown: a backup younger than that is recent enough. Why not, or None."""
        import tempfile

        from acore_doctor.recovery.backup import create_backup, newest_backup
        from acore_doctor.recovery.common import recovery_config
        from acore_doctor.recovery.restore import stage_backup

        assert self.deployment is not None
        config = recovery_config(self.deployment)
        newest = newest_backup(config.backup_dir)
        if newest is not None and newest.age.total_seconds() < self.cooldown_s:
            return None
        try:
            backup = create_backup(config, label="before-auto-repair")
            config.home.mkdir(parents=True, exist_ok=True, mode=0o700)
            with tempfile.TemporaryDirectory(prefix="verify-", dir=config.home) as scratch:
                staged = stage_backup(backup, Path(scratch) / "staged")
        except OSError as exc:
            return f"{type(exc).__name__}: {exc}"
        if not staged.ok:
            return "; ".join(staged.problems[:3])
        log.info("auto-recovery took and verified backup %s before repairing", backup.id)
        return None

    # -- escalation and the log -----------------------------------------------------------------
    async def _escalate(
        self,
        error_type: str,
        strategy: str | None,
        reason: str,
        attempts: int,
        context: dict[str, Any],
    ) -> None:
        key = (context.get("circuit", strategy), error_type)
        now = self.clock()
        last = self._escalated.get(key)
        if last is not None and now - last < self.cooldown_s:
            return  # already told within this cooldown: one page, not one per message
        self._escalated[key] = now
        safe_context = {k: self.redact(str(v)) for k, v in context.items() if not callable(v)}
        escalation = Escalation(error_type, strategy, self.redact(reason), attempts, safe_context)
        try:
            await _call(self.notifier, escalation)
        except Exception:  # the notifier failing must not take the bot down with it
            log.exception("auto-recovery notifier failed")

    def _record(
        self, error: BaseException, outcome: RecoveryOutcome, key: str | None = None
    ) -> RecoveryOutcome:
        outcome.detail = self.redact(outcome.detail)
        record = {
            "ts": self.clock(),
            **({"key": key} if key else {}),
            "pid": os.getpid(),
            "error": f"{type(error).__module__}.{type(error).__qualname__}",
            "message": self.redact(str(error))[:300],
            **{k: v for k, v in asdict(outcome).items()},
        }
        self.history.append(record)
        self._append(record)
        return outcome

    def _append(self, record: dict[str, Any]) -> None:
        try:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            if self._lines_on_disk >= 2 * self.max_log_records:
                # Bounded: rewrite to the newest records (atomic), instead of growing forever.
                data = "".join(json.dumps(r) + "\n" for r in self.history)
                write_atomic(self.log_path, data.encode(), mode=0o600)
                self._lines_on_disk = len(self.history)
                return
            fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, (json.dumps(record) + "\n").encode())
            finally:
                os.close(fd)
            self._lines_on_disk += 1
        except OSError as exc:
            log.warning("auto-recovery could not write its log %s: %s", self.log_path, exc)


def circuit_key(strategy: str, error: BaseException, context: Mapping[str, Any]) -> str:
    """The circuit an attempt counts against: the strategy for one service, named by the
    caller's ``context["service"]`` ("ollama", "discord"), else for one error type."""
    service = context.get("service")
    if isinstance(service, str) and service.strip():
        return f"{strategy}:{service.strip()}"
    return f"{strategy}:{type(error).__module__}.{type(error).__qualname__}"


def find_loops(
    records: Iterable[Mapping[str, Any]], max_attempts: int, cooldown_s: float, since: float = 0.0
) -> list[dict[str, Any]]:
    """Windows of ``cooldown_s`` holding more than ``max_attempts`` acting attempts of one
    circuit (see circuit_key): the guard did not hold (disabled, misconfigured, or several
    processes). ``strategy`` in each result names the circuit."""
    by_strategy: dict[str, list[float]] = {}
    for record in records:
        ts = record.get("ts")
        if record.get("outcome") in ACTING and isinstance(ts, int | float) and ts >= since:
            by_strategy.setdefault(record_key(record), []).append(float(ts))
    loops = []
    for strategy, stamps in by_strategy.items():
        stamps.sort()
        start = 0
        worst = (0, 0.0)
        for end, ts in enumerate(stamps):
            while ts - stamps[start] > cooldown_s:
                start += 1
            count = end - start + 1
            if count > worst[0]:
                worst = (count, stamps[start])
        if worst[0] > max_attempts:
            loops.append({"strategy": strategy, "attempts": worst[0], "window_start": worst[1]})
    return loops
