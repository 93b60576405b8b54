"""The pytest plugin: severities in, one report and one exit code out.

Hooks stay thin; judging lives in :mod:`acore_doctor.findings`, presenting in
:mod:`acore_doctor.report`. Health mode (our exit codes and reports) is on when the run
collects checks from ``health_tests/`` or ``recovery_tests/``; our own ``pytest tests``
keeps pytest's usual behaviour.
"""

from __future__ import annotations

import logging
import platform
import socket
import sys
from pathlib import Path
from typing import Any

import pytest
from _pytest.outcomes import Failed, Skipped

from acore_doctor import __version__, hookspecs
from acore_doctor.deployment import load_deployment, resolve_bot_dir
from acore_doctor.findings import (
    SEVERITIES,
    Blocked,
    ExitCode,
    Finding,
    attach_symptoms,
    decide,
)
from acore_doctor.redact import Redactor
from acore_doctor.report.console import format_summary, stream_takes_unicode
from acore_doctor.report.model import build_report
from acore_doctor.run_state import STATE, DoctorState, report_dir_of, state_of
from acore_doctor.suite import REPORTS_ENV

#: Fixture modules each area registers, and the plugins that enrich and write the report
#: (see ARCHITECTURE.md); each stays a plain pytest plugin module.
pytest_plugins = [
    "acore_doctor.fixtures",
    "acore_doctor.local_fixtures",
    "acore_doctor.service_fixtures",
    "acore_doctor.log_fixtures",
    "acore_doctor.recovery_fixtures",
    "acore_doctor.ops_fixtures",
    "acore_doctor.ops.metrics",
    "acore_doctor.ops.history_plugin",
    "acore_doctor.report.json_plugin",
    "acore_doctor.report.prometheus_plugin",
    "acore_doctor.report.nagios_plugin",
    "acore_doctor.report.html_plugin",
]

CHECK_DIRS = ("health_tests", "recovery_tests")


# -- options and configuration ---------------------------------------------------------------
def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("acore-doctor", "acore_bot deployment health checks")
    group.addoption("--bot-dir", help="the acore_bot deployment to check (default: cwd)")
    group.addoption("--env-file", help="the bot's .env file (default: <bot-dir>/.env)")
    group.addoption(
        "--report-dir",
        help=f"where JSON reports go (default: ${REPORTS_ENV}, else reports/)",
    )
    group.addoption(
        "--doctor",
        action="store_true",
        default=None,
        help="force health mode (exit codes 0/1/2/3, reports) whatever is collected",
    )
    group.addoption(
        "--no-doctor",
        action="store_false",
        dest="doctor",
        help="never switch to health mode",
    )
    parser.addini("bot_dir", "the acore_bot deployment to check", default="")


def pytest_configure(config: pytest.Config) -> None:
    for severity, meaning in (
        ("critical", "a failure means the bot is down or losing data (exit code 2)"),
        ("warning", "a failure means the bot is degraded or at risk (exit code 1)"),
    ):
        config.addinivalue_line("markers", f"{severity}: {meaning}")
    config.addinivalue_line(
        "markers", "doctor(title, recommendation, guide): a health check's declaration"
    )
    _refuse_split_path_options(config)
    bot_dir = resolve_bot_dir(
        config.getoption("bot_dir"), config.getini("bot_dir"), config.invocation_params.dir
    )
    env_option = config.getoption("env_file")
    deployment = load_deployment(bot_dir, Path(env_option) if env_option else None)
    redact = deployment.redactor()
    state = DoctorState(deployment=deployment, redact=redact, forced=config.getoption("doctor"))
    state.health_mode = state.forced is True or (
        state.forced is None and _args_in_check_dirs(config)
    )
    config.stash[STATE] = state
    config.pluginmanager.register(RunWatcher(state, config.rootpath), "acore-doctor-run-watcher")
    _redact_log_records(redact)


class RunWatcher:
    """Notes what pytest only tells hooks without a config: collection errors, Ctrl-C."""

    def __init__(self, state: DoctorState, rootpath: Path) -> None:
        self.state = state
        self.rootpath = rootpath

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if not report.failed:
            return
        self.state.collection_errors.append(report.nodeid or "<session>")
        if self.state.forced is None and is_check_path(Path(report.nodeid.split("::")[0])):
            self.state.health_mode = True

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_report_title(self, report: Any) -> None:
        # Called at session start, before collection tells whether this is a health run.
        if self.state.health_mode or (
            self.state.forced is None
            and any((self.rootpath / name).is_dir() for name in CHECK_DIRS)
        ):
            report.title = f"acore-doctor: {self.state.deployment.bot_dir}"

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        # pytest raises Session.Interrupted, a KeyboardInterrupt, for collection errors too.
        if not isinstance(excinfo.value, pytest.Session.Interrupted):
            self.state.interrupted = True


PATH_OPTIONS = ("--bot-dir", "--env-file", "--report-dir")


def _refuse_split_path_options(config: pytest.Config) -> None:
    """pytest picks its rootdir before plugins load, so it reads the PATH of a separate
    ``--bot-dir PATH`` as a test path and loses pytest.ini. Say so instead of running a
    misconfigured suite that might write into the deployment."""
    args = list(config.invocation_params.args)
    split = [a for a in args[:-1] if a in PATH_OPTIONS]
    if split and config.inipath is None:
        pytest.exit(
            f"write {split[0]}=PATH with '=' (or set ACORE_BOT_DIR): pytest takes a separate "
            "PATH for a test path before acore-doctor's options are known",
            returncode=int(ExitCode.UNKNOWN),
        )


def _args_in_check_dirs(config: pytest.Config) -> bool:
    for arg in config.args:
        path = Path(arg.split("::", 1)[0])
        if not path.is_absolute():
            path = config.invocation_params.dir / path
        if is_check_path(path):
            return True
    return False


def is_check_path(path: Path) -> bool:
    return any(part in CHECK_DIRS for part in path.parts)


def _redact_log_records(redact: Redactor) -> None:
    previous = logging.getLogRecordFactory()
    if getattr(previous, "acore_doctor", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the caller's bug, not a leak
            return record
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return record

    factory.acore_doctor = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


# -- collection ----------------------------------------------------------------------------
def is_check(item: pytest.Item) -> bool:
    return is_check_path(Path(str(item.path)))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    state = state_of(config)
    checks = [item for item in items if is_check(item)]
    if checks and state.forced is None:
        state.health_mode = True
    if not state.health_mode:
        return
    bot_dir = state.deployment.bot_dir
    if not bot_dir.is_dir():
        # Only a health run judges the deployment; other pytest runs never trip on this.
        raise pytest.UsageError(
            f"the deployment to check, {bot_dir}, is not a directory: give the bot's "
            "directory with --bot-dir=PATH or ACORE_BOT_DIR"
        )
    bad: list[tuple[pytest.Item, str]] = []
    for item in checks:
        problem = declaration_problem(item)
        if problem:
            bad.append((item, problem))
        else:
            item.user_properties.append(("severity", severity_of(item)))
    for item, problem in bad:
        items.remove(item)
        report = pytest.CollectReport(item.nodeid, "failed", longrepr=problem, result=[])
        item.ihook.pytest_collectreport(report=report)


def severity_of(item: pytest.Item) -> str:
    marks = [m.name for m in item.iter_markers() if m.name in SEVERITIES]
    return marks[0] if marks else "warning"


def declaration_problem(item: pytest.Item) -> str | None:
    """Why ``item`` is not a valid health check, or None."""
    severities = sorted({m.name for m in item.iter_markers() if m.name in SEVERITIES})
    if len(severities) != 1:
        found = ", ".join(severities) or "none"
        return (
            f"health check {item.nodeid} must carry exactly one severity marker, "
            f"@pytest.mark.critical or @pytest.mark.warning (found: {found})"
        )
    doctor = item.get_closest_marker("doctor")
    if doctor is None or not doctor.kwargs.get("title") or not doctor.kwargs.get("recommendation"):
        return (
            f"health check {item.nodeid} must declare a title and a recommendation with "
            "@check(title, recommendation) from acore_doctor"
        )
    return None


# -- running -------------------------------------------------------------------------------
@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> pytest.CollectReport:
    report: pytest.CollectReport = yield
    state = collector.config.stash.get(STATE, None)
    if state is not None and report.failed:
        _redact_report(report, state.redact)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport:
    report: pytest.TestReport = yield
    state = state_of(item.config)
    if not (state.health_mode and is_check(item)):
        return report
    finding = state.findings.get(item.nodeid)
    if finding is None:
        finding = state.findings[item.nodeid] = new_finding(item)
    finding.duration_s += report.duration
    for name, value in item.user_properties:
        if name == "details":  # info a passing check reports: record_property("details", ...)
            finding.details = state.redact(str(value))
    outcome, message = classify(call, report)
    if outcome is not None and _outranks(outcome, finding.outcome):
        finding.outcome = outcome
        finding.message = state.redact(message)
        if outcome == "blocked" and call.excinfo is not None:
            finding.blocked_by = call.excinfo.value.root  # type: ignore[attr-defined]
    if outcome == "blocked" and _root_failed(state, finding.blocked_by):
        # A symptom, not a failure of its own: pytest's lines and pytest-html say "skipped".
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, f"Skipped: {finding.message}")
    report.severity = finding.severity  # type: ignore[attr-defined]
    report.doctor_title = finding.title  # type: ignore[attr-defined]
    report.doctor_guide = finding.guide  # type: ignore[attr-defined]
    if report.failed and item.config.get_verbosity() < 1:
        # The finding says it all; the traceback is for -v.
        report.longrepr = f"{finding.title}: {finding.message}"
    _redact_report(report, state.redact)
    return report


def _root_failed(state: DoctorState, root: str | None) -> bool:
    return any(f.root == root and f.kind != "info" for f in state.findings.values())


_RANK = {"passed": 0, "skipped": 1, "blocked": 2, "failed": 3, "crashed": 4}


def _outranks(new: str, old: str) -> bool:
    return _RANK[new] >= _RANK[old]


def new_finding(item: pytest.Item) -> Finding:
    doctor = item.get_closest_marker("doctor")
    kwargs = doctor.kwargs if doctor else {}
    return Finding(
        nodeid=item.nodeid,
        title=kwargs.get("title") or item.name,
        severity=severity_of(item),
        outcome="passed",
        recommendation=kwargs.get("recommendation") or "",
        guide=kwargs.get("guide"),
        root=kwargs.get("root"),
    )


def classify(call: pytest.CallInfo[None], report: pytest.TestReport) -> tuple[str | None, str]:
    """Map one phase's result to a finding outcome and message."""
    if report.passed:
        return ("passed", "") if report.when == "call" else (None, "")
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        return "skipped", reason.removeprefix("Skipped: ")
    excinfo = call.excinfo
    if excinfo is None:
        return "crashed", "check crashed: no exception information"
    error = excinfo.value
    if isinstance(error, Blocked):
        return "blocked", str(error)
    if isinstance(error, AssertionError):
        return "failed", assertion_message(error, report)
    if isinstance(error, Failed):
        return "failed", str(error.msg)
    if isinstance(error, Skipped):
        return "skipped", str(error.msg)
    text = str(error).strip().splitlines()
    first = text[0] if text else ""
    where = "" if report.when == "call" else f" during {report.when}"
    return "crashed", f"check crashed{where}: {type(error).__name__}: {first}".rstrip(": ")


def assertion_message(error: AssertionError, report: pytest.TestReport) -> str:
    """The check's own message: pytest's rewrite explanation follows it after '\\nassert '."""
    text = str(error)
    own = text.split("\nassert ", 1)[0].strip()
    if own and not own.startswith("assert "):
        return own
    crash = getattr(report.longrepr, "reprcrash", None)
    return (crash.message if crash else text).strip()


def _redact_report(report: pytest.TestReport | pytest.CollectReport, redact: Redactor) -> None:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple):
        report.longrepr = (longrepr[0], longrepr[1], redact(longrepr[2]))
    elif longrepr is not None:
        report.longrepr = redact(str(longrepr))
    report.sections = [(title, redact(content)) for title, content in report.sections]
    # record_property values go straight into JUnit XML
    properties = getattr(report, "user_properties", None)
    if properties:
        report.user_properties = [
            (name, redact(value) if isinstance(value, str) else value) for name, value in properties
        ]


@pytest.hookimpl(wrapper=True)
def pytest_cmdline_main(config: pytest.Config) -> Any:
    """pytest ends a usage error (a missing test path) with exit 4, outside our 0-3.

    The run's report was already written as UNKNOWN at session finish; keep pytest's message.
    """
    try:
        return (yield)
    except pytest.UsageError as exc:
        state = config.stash.get(STATE, None)
        if state is None or not state.health_mode:
            raise
        sys.stderr.write(f"ERROR: {exc}\n")
        return int(ExitCode.UNKNOWN)


# -- finishing -----------------------------------------------------------------------------
@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = state_of(session.config)
    if not state.health_mode or session.config.option.collectonly:
        return  # listing checks is not a run: no verdict, no report, pytest's exit code
    findings = attach_symptoms(list(state.findings.values()))
    state.verdict = decide(
        findings,
        interrupted=state.interrupted,
        unknown_reason=unknown_reason(state, exitstatus),
    )
    state.report = build_report(findings, state.verdict, environment(session), state.started)
    state.report = redact_document(state.report, state.redact)
    report_dir = report_dir_of(session.config)
    hook = session.config.hook
    hook.pytest_doctor_enrich_report(
        report=state.report, report_dir=report_dir, config=session.config
    )
    session.exitstatus = int(state.verdict.code)
    written = hook.pytest_doctor_write_outputs(
        report=state.report, report_dir=report_dir, session=session
    )
    state.written = [line for lines in written for line in lines]


def unknown_reason(state: DoctorState, exitstatus: int) -> str | None:
    if state.collection_errors:
        return f"{len(state.collection_errors)} error(s) during collection: " + ", ".join(
            state.collection_errors[:5]
        )
    if exitstatus == pytest.ExitCode.INTERNAL_ERROR:
        return "internal error in the suite"
    if exitstatus == pytest.ExitCode.USAGE_ERROR:
        return "usage error"
    if not state.findings:
        return "no check selected"
    return None


def environment(session: pytest.Session) -> dict[str, Any]:
    config = session.config
    deployment = state_of(config).deployment
    return {
        "bot_dir": str(deployment.bot_dir),
        "env_file": str(deployment.env_file),
        "host": socket.gethostname(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "suite_version": __version__,
        "selected_markers": config.getoption("markexpr") or "",
        "keyword": config.getoption("keyword") or "",
        "args": list(config.invocation_params.args),
    }


def redact_document(value: Any, redact: Redactor) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [redact_document(v, redact) for v in value]
    if isinstance(value, dict):
        return {k: redact_document(v, redact) for k, v in value.items()}
    return value


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = state_of(config)
    if not state.health_mode or state.report is None:
        return
    terminalreporter.write_line("")
    # The terminal's own stream: sparklines in block characters only where it takes them.
    stream = getattr(terminalreporter._tw, "_file", sys.stdout)
    unicode = stream_takes_unicode(stream)
    for line in format_summary(state.report, state.written, unicode).splitlines():
        terminalreporter.write_line(line)
