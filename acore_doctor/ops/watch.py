"""Run the suite again and again: each run in its own process, never two at once.

A lock file in the report directory keeps a ``watch`` loop, a systemd timer's
``watch --once`` and ``serve`` from running the suite over each other on the same reports.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from acore_doctor import catalog
from acore_doctor.fsio import PRIVATE_DIR, open_private, private_dir
from acore_doctor.ops.alerts import Alerter, Delivery
from acore_doctor.ops.follow import ErrorEvent, Follower, checks_for
from acore_doctor.ops.switches import Switches
from acore_doctor.saferead import OWN_FILE_MAX, read_text_bounded
from acore_doctor.suite import pytest_command, suite_cwd

log = logging.getLogger("acore_doctor.watch")

LOCK_FILE = ".suite-run.lock"
OUTPUT_FILE = ".last-run-output.txt"
DIAGNOSTICS_DIR = "diagnostics"
KEEP_DIAGNOSTICS = 20
DEFAULT_INTERVAL_S = float(catalog.SUITE_SETTINGS["HEALTH_CHECK_INTERVAL"].default)  # type: ignore[arg-type]
#: Error-triggered runs keep their reports apart: they are subsets, not the deployment's verdict.
TRIGGERED_DIR = "triggered"
POLL_S = 0.5
DEFAULT_ERROR_COOLDOWN_S = 60.0


@dataclass
class RunResult:
    code: int
    report: dict[str, Any]
    fresh: bool  # False when the suite left no new report and ``report`` is made up
    seconds: float


class Busy(Exception):  # noqa: N818 - a state, like Blocked
    """Another run holds the lock."""


@contextmanager
def run_lock(report_dir: Path, wait: bool = False) -> Iterator[IO[str]]:
    private_dir(report_dir)
    handle = os.fdopen(os.open(report_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600), "a+")
    try:
        flags = fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB
        try:
            fcntl.flock(handle, flags)
        except BlockingIOError as exc:
            raise Busy(f"another suite run holds {report_dir / LOCK_FILE}") from exc
        yield handle
    finally:
        handle.close()


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def placeholder_report(code: int, reason: str, bot_dir: Path | None) -> dict[str, Any]:
    """What a run that wrote no report is worth: UNKNOWN, with the reason."""
    return {
        "timestamp": datetime.now().isoformat(timespec="seconds"),
        "summary": {
            "total_issues": 0,
            "total_warnings": 0,
            "total_info": 0,
            "overall_status": "unknown",
            "exit_code": 3,
            "reason": reason,
        },
        "issues": [],
        "warnings": [],
        "info": [],
        "recommendations": [],
        "checks": [],
        "environment": {"bot_dir": str(bot_dir) if bot_dir else "", "host": os.uname().nodename},
        "suite_exit_code": code,
    }


def _stop_run(proc: subprocess.Popen[bytes]) -> None:
    """Interrupt the suite run and whatever it started (its own process group), as Ctrl-C
    would have, and wait for it to write its interrupted report; kill it if it will not."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def run_suite_once(
    bot_dir: Path | None,
    report_dir: Path,
    extra: Sequence[str] = (),
    timeout: float = 600.0,
    env: dict[str, str] | None = None,
    output: Path | None = None,
) -> RunResult:
    """One suite run in a child process; its report (or an UNKNOWN stand-in).

    The child's console output goes to ``output`` (kept for a diagnostic bundle) or nowhere.
    """
    latest = report_dir / "latest.json"
    before = _mtime(latest)
    cmd = pytest_command(bot_dir, ["-q", "-p", "no:cacheprovider", *extra], report_dir=report_dir)
    log.debug("suite run: %s", " ".join(cmd))
    started = time.monotonic()
    sink = open_private(output) if output is not None else subprocess.DEVNULL
    try:
        proc = subprocess.Popen(
            cmd,
            cwd=suite_cwd(),
            env={**os.environ, **(env or {})},
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a timeout kills the suite and whatever it started
        )
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            code = None
        except BaseException:  # Ctrl-C (its own session never sees it): stop the run too
            _stop_run(proc)
            raise
    finally:
        if output is not None:
            sink.close()  # type: ignore[union-attr]
    if code is None:
        seconds = time.monotonic() - started
        reason = f"the suite run timed out after {timeout:g} s"
        return RunResult(3, placeholder_report(3, reason, bot_dir), False, seconds)
    seconds = time.monotonic() - started
    fresh = latest if _mtime(latest) != before else _newest_report(report_dir, before)
    if fresh is not None:
        try:
            report = json.loads(read_text_bounded(fresh, OWN_FILE_MAX, "strict"))
            return RunResult(code, report, True, seconds)
        except (OSError, ValueError):
            pass
    reason = f"the suite exited {code} without writing a report"
    return RunResult(3, placeholder_report(code, reason, bot_dir), False, seconds)


def _newest_report(report_dir: Path, since_ns: int) -> Path | None:
    """A run's own report file newer than ``since_ns`` (a subset run may leave latest.json to
    the full runs)."""
    newest = max(
        ((_mtime(p), p) for p in report_dir.glob("diagnostic_*.json")),
        default=(0, None),
        key=lambda pair: pair[0],
    )
    return newest[1] if newest[0] > since_ns else None


def turned_critical(report: dict[str, Any]) -> bool:
    """This run is critical and the previous one was not (or there was none)."""
    if report.get("summary", {}).get("exit_code") != 2:
        return False
    return (report.get("history") or {}).get("previous_status") != "critical"


def save_diagnostic(
    report: dict[str, Any],
    report_dir: Path,
    bot_dir: Path | None,
    redact: Callable[[str], str],
    keep: int = KEEP_DIAGNOSTICS,
    kind: str = "critical",
) -> Path:
    """AUTO_DIAGNOSTIC_ON_ERROR: keep what explains a new critical verdict, before it is gone.

    The run's report, its console output and the log analyzer's view of the last hour go to
    ``<report_dir>/diagnostics/critical_<stamp>/``; the newest ``keep`` bundles are kept.
    """
    stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
    target = report_dir / DIAGNOSTICS_DIR / f"{kind}_{stamp}"
    suffix = 1
    while target.exists():
        suffix += 1
        target = report_dir / DIAGNOSTICS_DIR / f"{kind}_{stamp}_{suffix}"
    private_dir(target.parent)
    target.mkdir(mode=PRIVATE_DIR)
    # Owner-only like the reports they copy; redacted again: the report may be an old one.
    _write_private(target / "report.json", redact(json.dumps(report, indent=2)) + "\n")
    try:
        output = read_text_bounded(report_dir / OUTPUT_FILE, OWN_FILE_MAX)
    except OSError:
        output = "(no console output kept)\n"
    _write_private(target / "suite_output.txt", redact(output))
    cmd = [sys.executable, "-m", "acore_doctor.cli", "logs", "--since", "1h", "--no-state"]
    if bot_dir is not None:
        cmd.append(f"--bot-dir={bot_dir}")
    try:
        logs = subprocess.run(
            cmd, cwd=suite_cwd(), capture_output=True, text=True, timeout=120, check=False
        )
        text = logs.stdout + logs.stderr
    except (OSError, subprocess.TimeoutExpired) as exc:
        text = f"(log analysis not run: {exc})\n"
    _write_private(target / "logs.txt", redact(text))
    bundles = sorted((report_dir / DIAGNOSTICS_DIR).glob(f"{kind}_*"))
    for old in bundles[:-keep] if len(bundles) > keep else []:
        shutil.rmtree(old, ignore_errors=True)
    return target


def _write_private(path: Path, text: str) -> None:
    with open_private(path) as out:
        out.write(text)


def describe(result: RunResult) -> str:
    summary = result.report["summary"]
    text = (
        f"{summary['overall_status'].upper()} (exit {result.code}) in {result.seconds:.1f} s: "
        f"{summary['total_issues']} critical, {summary['total_warnings']} warning(s)"
    )
    if summary.get("reason"):
        text += f" - {summary['reason']}"
    history = result.report.get("history") or {}
    if history.get("new") or history.get("resolved"):
        text += f"; since last run {len(history['new'])} new, {len(history['resolved'])} resolved"
    return text


def describe_delivery(delivery: Delivery) -> str | None:
    """A line for the log, or None for states already reported (a dead webhook, after once)."""
    if delivery.outcome == "sent":
        return "alert sent"
    if delivery.outcome == "dead":
        return f"alert not sent: {delivery.detail}" if delivery.first_report else None
    if delivery.outcome == "disabled":
        return None
    return f"alert {delivery.outcome.replace('_', ' ')}: {delivery.detail}"


@dataclass
class Watcher:
    bot_dir: Path | None
    report_dir: Path
    interval: float
    alerter: Alerter | None
    extra: Sequence[str] = ()
    run_timeout: float = 600.0
    log: Callable[[str], None] = print
    env: dict[str, str] | None = None
    auto_diagnostic: bool = False
    redact: Callable[[str], str] = str
    #: the bot's switches, read again before every run (None: everything on)
    switches: Callable[[], Switches] | None = None
    #: follows the bot's log between full runs; an ERROR runs its area's checks at once
    follower: Follower | None = None
    error_cooldown: float = DEFAULT_ERROR_COOLDOWN_S
    poll_s: float = POLL_S

    def __post_init__(self) -> None:
        self.stop = threading.Event()
        self.idle = False
        self.last_triggered: dict[str, float] = {}
        self.pending: dict[str, ErrorEvent] = {}
        if self.follower is not None:
            self.follower.start_at_end()

    def _switches_now(self) -> Switches | None:
        """The switches for this run; None (after saying so once) when diagnostics are off."""
        switches = self.switches() if self.switches is not None else Switches()
        if not switches.diagnostics:
            if not self.idle:
                self.log(f"{_now()} idle: {switches.idle_reason()} until it is true")
            self.idle = True
            return None
        if self.idle:
            self.log(f"{_now()} DIAGNOSTIC_ENABLED is true again: running")
            self.idle = False
        if self.alerter is not None:
            self.alerter.config.alerting_warnings = switches.alerting_warnings()
        return switches

    def one(self) -> RunResult | None:
        """One run (None when diagnostics are off or another run holds the lock)."""
        switches = self._switches_now()
        if switches is None:
            return None
        try:
            with run_lock(self.report_dir):
                result = run_suite_once(
                    self.bot_dir,
                    self.report_dir,
                    [*self.extra, *switches.suite_args()],
                    self.run_timeout,
                    self.env,
                    output=self.report_dir / OUTPUT_FILE,
                )
        except Busy as exc:
            self.log(f"{_now()} skipped: {exc}")
            return None
        self.log(f"{_now()} {describe(result)}")
        if self.auto_diagnostic and turned_critical(result.report):
            try:
                path = save_diagnostic(result.report, self.report_dir, self.bot_dir, self.redact)
                self.log(f"{_now()} diagnostic saved to {path}")
            except OSError as exc:
                self.log(f"{_now()} diagnostic not saved: {exc}")
        if self.alerter is not None:
            delivery = self.alerter.after_run(result.report)
            line = None if delivery is None else describe_delivery(delivery)
            if line:
                self.log(f"{_now()} {line}")
        return result

    def loop(self, count: int | None = None) -> RunResult | None:
        """Run every ``interval`` seconds (start to start); a long run delays, never overlaps."""
        try:
            return self._loop(count)
        finally:
            if self.follower is not None:
                self.follower.close()  # a journalctl child must not outlive watch

    def _loop(self, count: int | None) -> RunResult | None:
        last = None
        done = 0
        next_start = time.monotonic()
        while not self.stop.is_set():
            last = self.one() or last
            done += 1
            if count is not None and done >= count:
                break
            next_start += self.interval
            delay = next_start - time.monotonic()
            if delay < 0:
                if self.interval > 0:
                    self.log(f"{_now()} the run took longer than the {self.interval:g} s interval")
                next_start = time.monotonic()
                delay = 0
            if self._wait(delay):
                break
        return last

    def _wait(self, delay: float) -> bool:
        """Wait ``delay`` seconds, following the log meanwhile; True when told to stop."""
        if self.follower is None:
            return self.stop.wait(delay)
        end = time.monotonic() + delay
        while True:
            remaining = end - time.monotonic()
            if remaining <= 0:
                return False
            if self.stop.wait(min(self.poll_s, remaining)):
                return True
            self.on_errors(self.follower.errors())

    def on_errors(self, events: list[ErrorEvent]) -> RunResult | None:
        """Run the checks of the areas new errors concern, at most once per area per
        ``error_cooldown``; alert on what they find, keep a bundle when asked to."""
        now = time.monotonic()
        for event in events:
            if now - self.last_triggered.get(event.area, -1e18) >= self.error_cooldown:
                self.pending.setdefault(event.area, event)
        if not self.pending or self._switches_now() is None:
            return None
        areas = dict(self.pending)
        triggered_dir = self.report_dir / TRIGGERED_DIR
        trigger = "; ".join(e.describe() for e in areas.values())
        self.log(f"{_now()} error in the bot's log: {trigger}; checking {', '.join(areas)}")
        try:
            with run_lock(self.report_dir):
                result = run_suite_once(
                    self.bot_dir,
                    triggered_dir,
                    [*self.extra, *checks_for(areas)],
                    self.run_timeout,
                    self.env,
                    output=self.report_dir / OUTPUT_FILE,
                )
        except Busy:
            return None  # a full run is on: the areas stay pending for the next poll
        self.pending.clear()
        for area in areas:
            self.last_triggered[area] = now
        self.log(f"{_now()} triggered run: {describe(result)}")
        if self.alerter is not None:
            delivery = self.alerter.after_triggered_run(result.report, f"an {trigger} in the log")
            line = None if delivery is None else describe_delivery(delivery)
            if line:
                self.log(f"{_now()} {line}")
        summary = result.report.get("summary", {})
        if self.auto_diagnostic and (summary.get("total_issues") or summary.get("total_warnings")):
            try:
                path = save_diagnostic(
                    result.report, self.report_dir, self.bot_dir, self.redact, kind="error"
                )
                self.log(f"{_now()} diagnostic saved to {path}")
            except OSError as exc:
                self.log(f"{_now()} diagnostic not saved: {exc}")
        return result


def _now() -> str:
    return datetime.now().isoformat(timespec="seconds")
