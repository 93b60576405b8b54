"""The pytest plugin: severities in, one report and one exit code out.

Hooks stay thin; judging lives in :mod:`acore_doctor.findings`, presenting in
:mod:`acore_doctor.report`. Loaded in every pytest session through the ``pytest11`` entry
point, it stays inert unless the session is a health run (:func:`health_run_asked`): this
package's own ``health_tests/`` or ``recovery_tests/`` are collected, or ``--bot-dir`` or
``--doctor`` is given. Only then do the fixture modules and outputs (:data:`HEALTH_PLUGINS`)
load, the run state exist and the hooks below act; any other session sees pytest's own
behaviour, with only our options registered (:mod:`acore_doctor.options`).
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import logging
import os
import platform
import re
import shlex
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from _pytest.outcomes import Failed, Skipped

from acore_doctor import __version__, hookspecs, options
from acore_doctor.findings import (
    SEVERITIES,
    SUITE_BUG,
    Blocked,
    ExitCode,
    Finding,
    attach_symptoms,
    crash_location,
    decide,
    is_suite_bug,
)
from acore_doctor.run_state import (
    DETAILS,
    PROBE_CHILD,
    STATE,
    DoctorState,
    is_xdist_worker,
    report_dir_of,
    state_of,
)
from acore_doctor.suite import suite_root

if TYPE_CHECKING:
    from acore_doctor.redact import Redactor

#: Registered when a health run starts, never in other sessions: the fixture modules of each
#: area, and the plugins that enrich and write the report (see ARCHITECTURE.md).
HEALTH_PLUGINS = (
    "acore_doctor.fixtures",
    "acore_doctor.local_fixtures",
    "acore_doctor.service_fixtures",
    "acore_doctor.log_fixtures",
    "acore_doctor.recovery_fixtures",
    "acore_doctor.ops_fixtures",
    "acore_doctor.ops.metrics",
    "acore_doctor.changes.plugin",
    "acore_doctor.ops.history_plugin",
    "acore_doctor.report.json_plugin",
    "acore_doctor.report.prometheus_plugin",
    "acore_doctor.report.nagios_plugin",
    "acore_doctor.report.html_plugin",
    "acore_doctor.report.junit_plugin",
    "acore_doctor.report.private_files_plugin",
    "acore_doctor.check_timeout",
)

CHECK_DIRS = ("health_tests", "recovery_tests")
#: The one check a directory that is no acore_bot deployment gets (health_tests/test_environment.py).
IDENTITY_CHECK = "test_is_an_acore_bot_deployment"

#: Whether this session is a health run, decided once when pytest is configured.
HEALTH_RUN = pytest.StashKey[bool]()
#: pytest-xdist: the key of a worker's findings in its ``workeroutput``, and their order.
WORKER_FINDINGS = "acore_doctor_findings"
WORKER_ORDER = pytest.StashKey[dict[str, int]]()


# -- options and configuration ---------------------------------------------------------------
def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    options.pytest_addoption(parser)
    _short_names_where_free(parser)
    _bad_command_line_is_unknown(parser, pluginmanager)


def _short_names_where_free(parser: pytest.Parser) -> None:
    """Our short spellings (``--bot-dir``, ``--nagios``...) become aliases at pytest's final
    parse, the first moment every plugin and initial conftest has registered its options, and
    only those nobody else registered (see :mod:`acore_doctor.options`)."""
    parse = parser.parse

    def parse_with_free_aliases(args: Any, *more: Any, **kwargs: Any) -> Any:
        options.add_free_aliases(parser)
        namespace = parse(args, *more, **kwargs)
        options.mirror_short_dests(parser, namespace)
        return namespace

    parser.parse = parse_with_free_aliases  # type: ignore[method-assign]


def _bad_command_line_is_unknown(
    parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager
) -> None:
    """An unknown option or a bad value ends pytest with exit 4 before any hook of the session
    runs. In a health run our contract says 3 (unknown), so wrap this session's parser: a
    usage error on a command line that asks for a health run prints pytest's message and
    exits 3. Any other session gets pytest's own error unchanged."""

    def unknown_on_error(parse: Any) -> Any:
        def parse_or_unknown(args: Any, *more: Any, **kwargs: Any) -> Any:
            try:
                return parse(args, *more, **kwargs)
            except pytest.UsageError as exc:
                config = pluginmanager.get_plugin("pytestconfig")
                raw = [str(a) for a in args]
                nagios = _asks_for_nagios(raw, parser)
                if config is None or not (
                    nagios or _command_line_asks_for_health_run(raw, config.invocation_params.dir)
                ):
                    raise
                sys.stderr.write(f"ERROR: {exc}\n")
                if nagios:  # Nagios reads stdout's first line: say why, not only that
                    from acore_doctor.ops.nagios import nagios_line, usage_reason

                    print(nagios_line(None, int(ExitCode.UNKNOWN), usage_reason(str(exc))))
                raise SystemExit(int(ExitCode.UNKNOWN)) from None

        return parse_or_unknown

    # The final parse, and the known-args parse that checks our options' values first.
    parser.parse = unknown_on_error(parser.parse)  # type: ignore[method-assign]
    parser.parse_known_and_unknown_args = unknown_on_error(  # type: ignore[method-assign]
        parser.parse_known_and_unknown_args
    )


def _asks_for_nagios(args: list[str], parser: pytest.Parser) -> bool:
    """``--doctor-nagios``, or ``--nagios`` where no other plugin owns it: the one line is
    owed even when pytest rejects the command line."""
    short_is_ours = parser._opt2dest.get("--nagios", "doctor_nagios") == "doctor_nagios"
    return "--doctor-nagios" in args or ("--nagios" in args and short_is_ours)


def _command_line_asks_for_health_run(args: list[str], invocation_dir: Path) -> bool:
    """:func:`health_run_asked` from the raw arguments: before pytest has parsed them (the
    probe child's early start), or for a command line pytest rejected."""
    forced = True if "--doctor" in args else False if "--no-doctor" in args else None
    bot_dir = next((a for a in args if a.startswith(BOT_DIR_SPELLINGS)), None)
    paths = [a for a in args if not a.startswith("-") and _is_path(a.split("::", 1)[0])]
    return _asks_for_health_run(forced, bot_dir, paths, invocation_dir)


def _is_path(arg: str) -> bool:
    """Whether a raw argument names an existing path; an option's value (a -m expression, a
    name too long for the filesystem) is not one, and never an error."""
    try:
        return Path(arg).exists()
    except (OSError, ValueError):
        return False


#: ``--bot-dir`` / ``--doctor-bot-dir``, alone or with ``=PATH``.
BOT_DIR_SPELLINGS = ("--bot-dir", "--doctor-bot-dir")

GC_FROZEN = pytest.StashKey[bool]()
#: Why a health run stopped with a usage error (a reason for the report and the Nagios line).
USAGE_ERROR = pytest.StashKey[str]()
#: Options after which no probe child starts before configure: the run sends no probe, or is
#: not one run of the whole suite in this process (configure decides those cases).
_NO_EARLY_PROBES = frozenset(
    {
        "--offline",
        "--doctor-offline",
        "--co",
        "--collect-only",
        "--collectonly",
        "-h",
        "--help",
        "-V",
        "--version",
    }
)
_NO_EARLY_PROBES_PREFIXES = ("--keyword", "--numprocesses", "--dist", "--fixtures", "--markers")


def pytest_load_initial_conftests(early_config: pytest.Config, args: list[str]) -> None:
    """A whole-suite health run starts its network probe child here, before the plugins are
    configured and the checks collected: the child imports aiohttp and builds its TLS
    contexts meanwhile, on the other core. The command line as pytest will read it decides
    (ini addopts included); service_fixtures' configure confirms or stops the child.

    First, a health run started outside the checkout collects our checks wherever they are
    installed (:func:`_point_at_our_checks`)."""
    _point_at_our_checks(early_config, args)
    args = [str(arg) for arg in args]
    if not _early_probes_wanted(args) or not _command_line_asks_for_health_run(
        args, early_config.invocation_params.dir
    ):
        return
    from acore_doctor.netprobe.child import ProbeChild

    with contextlib.suppress(OSError):  # no child process here: the probes run in-process
        early_config.stash[PROBE_CHILD] = ProbeChild()


def _point_at_our_checks(early_config: pytest.Config, args: list[str]) -> None:
    """A health run outside the checkout (an installed copy, or the checkout's plugin run from
    another directory) collects our checks, not the working directory: without test paths
    (and no ``testpaths`` nor check folders of the working directory's own) the installed ``health_tests/`` and ``recovery_tests/`` are added to the command line, and
    a path such as ``health_tests/test_config.py::test_x`` that is not in the working
    directory is taken from the suite. Called before pytest loads the initial conftests (so
    none comes from the working directory) and parses the paths; node ids stay those of a
    checkout run (``health_tests/...``) because the root directory becomes the suite's."""
    namespace = early_config.known_args_namespace
    if getattr(namespace, "help", False) or getattr(namespace, "version", False):
        return
    try:
        root = suite_root().resolve()
    except FileNotFoundError:
        return
    invocation = early_config.invocation_params.dir
    paths = [str(p) for p in (getattr(namespace, "file_or_dir", None) or [])]
    if not paths:
        if early_config.getini("testpaths") or any(
            (invocation / name).is_dir() for name in CHECK_DIRS
        ):
            return  # the checkout's pytest.ini, or a project with checks of its own
        if not _command_line_asks_for_health_run([str(a) for a in args], invocation):
            return
        paths = [str(d) for d in own_check_dirs()]
        args.extend(paths)
    else:
        for index, given in enumerate(paths):
            suite_path = suite_path_of(given, invocation, root)
            if suite_path is not None:
                args[:] = [suite_path if a == given else a for a in args]
                paths[index] = suite_path
    namespace.file_or_dir = paths
    inside = [Path(p.split("::", 1)[0]) for p in paths]
    if inside and all(p.is_absolute() and root in p.resolve().parents for p in inside):
        early_config._rootpath = root  # node ids relative to the suite, as in the checkout


def suite_path_of(given: str, invocation_dir: Path, root: Path) -> str | None:
    """``given`` (a test path, maybe with ``::name``) as a path into the suite when it names
    one of our check folders that the working directory does not have; else None."""
    path, sep, name = given.partition("::")
    parts = Path(path).parts
    if not parts or parts[0] not in CHECK_DIRS or Path(path).is_absolute():
        return None
    if _is_path(str(invocation_dir / path)) or not _is_path(str(root / path)):
        return None
    return str(root / path) + sep + name


def _early_probes_wanted(args: list[str]) -> bool:
    for arg in args:
        if arg in _NO_EARLY_PROBES or "::" in arg or arg.startswith(_NO_EARLY_PROBES_PREFIXES):
            return False
        if arg.startswith(("-k", "-n")):  # -kEXPR, -n2
            return False
    return True


@pytest.hookimpl(trylast=True)  # after pytest's terminal reporter exists (see nagios_plugin)
def pytest_configure(config: pytest.Config) -> None:
    if config.option.help or config.option.version:
        return  # pytest only prints: nothing to check
    config.stash[HEALTH_RUN] = health_run_asked(config)
    if not config.stash[HEALTH_RUN]:
        if options.option(
            config, "nagios"
        ):  # asked for a plugin line: say UNKNOWN, do nothing else
            config.pluginmanager.import_plugin("acore_doctor.report.nagios_plugin")
        return
    start_health_run(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    child = config.stash.get(PROBE_CHILD, None)
    if child is not None:  # started early for a session that turned out not to need it
        child.stop()
    if STATE in config.stash:
        _restore_log_records()
        from acore_doctor.redact import set_run_redactor

        set_run_redactor(None)  # an in-process run must not leave its secrets' redactor behind


def health_run_asked(config: pytest.Config) -> bool:
    """``--doctor``/``--no-doctor`` decide; else ``--bot-dir`` or collecting our own checks.

    Our checks are this package's ``health_tests/`` and ``recovery_tests/`` (next to the
    ``acore_doctor`` package): another project's folder of the same name is not ours.
    """
    return _asks_for_health_run(
        config.getoption("doctor"),
        options.option(config, "bot_dir"),
        list(config.args),
        config.invocation_params.dir,
    )


def _asks_for_health_run(
    forced: bool | None, bot_dir: str | None, args: list[str], invocation_dir: Path
) -> bool:
    if forced is not None:
        return bool(forced)
    if bot_dir:
        return True
    if not args:  # pytest.ini's testpaths: our checks when run from this checkout
        return _is_suite_checkout(invocation_dir)
    ours = own_check_dirs()
    for arg in args:
        path = Path(str(arg).split("::", 1)[0])
        if not path.is_absolute():
            path = invocation_dir / path
        path = path.resolve()
        if any(path == d or d in path.parents or path in d.parents for d in ours):
            return True
    return False


def own_check_dirs() -> list[Path]:
    try:
        root = suite_root()
    except FileNotFoundError:  # installed without its checks: nothing of ours to collect
        return []
    return [root / name for name in CHECK_DIRS if (root / name).is_dir()]


def start_health_run(config: pytest.Config) -> None:
    from acore_doctor.deployment import BOT_DIR_ENV, load_deployment, resolve_bot_dir
    from acore_doctor.redact import set_run_redactor

    for severity, meaning in (
        ("critical", "a failure means the bot is down or losing data (exit code 2)"),
        ("warning", "a failure means the bot is degraded or at risk (exit code 1)"),
    ):
        config.addinivalue_line("markers", f"{severity}: {meaning}")
    config.addinivalue_line(
        "markers", "doctor(title, recommendation, guide): a health check's declaration"
    )
    _refuse_split_path_options(config)
    given = (
        options.option(config, "bot_dir") or os.environ.get(BOT_DIR_ENV) or config.getini("bot_dir")
    )
    listing = any(
        config.getoption(name, False) for name in ("collectonly", "showfixtures", "markers")
    )
    if not given and not listing and _is_suite_checkout(config.invocation_params.dir):
        raise pytest.UsageError(
            "which deployment should be checked? Give the bot's directory: "
            "pytest --bot-dir=/path/to/acore_bot (or set ACORE_BOT_DIR, or bot_dir in "
            "pytest.ini). This directory is acore-doctor's own checkout, not a deployment."
        )
    bot_dir = resolve_bot_dir(
        options.option(config, "bot_dir"), config.getini("bot_dir"), config.invocation_params.dir
    )
    env_option = options.option(config, "env_file")
    deployment = load_deployment(bot_dir, Path(env_option) if env_option else None)
    redact = deployment.redactor()
    state = DoctorState(
        deployment=deployment, redact=redact, forced=config.getoption("doctor"), health_mode=True
    )
    config.stash[STATE] = state
    config.pluginmanager.register(
        RunWatcher(state, config.pluginmanager), "acore-doctor-run-watcher"
    )
    _redact_log_records(redact)
    set_run_redactor(redact)  # the log analyzer's templates and samples
    _explain_once(config)
    for name in HEALTH_PLUGINS:
        config.pluginmanager.import_plugin(name)
    # Modules, check functions and the loaded deployment live until the run ends: moving them
    # out of the collector's reach spares every full collection (and pytest's collections at
    # unconfigure) from walking them again. pytest_cmdline_main unfreezes once pytest is done.
    gc.freeze()
    config.stash[GC_FROZEN] = True
    # The process's end collects everything once more, a tenth of a second for nothing: the
    # operating system takes the memory back. (unregister: one hook per process, not per run)
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)


def _explain_once(config: pytest.Config) -> None:
    """The doctor summary explains each failure: pytest's failure section and short summary
    would repeat it. They stay when asked for (``--tb``, ``-r``, ``-v``); collection errors,
    which the summary only counts, are printed by :func:`pytest_terminal_summary`."""
    asked = [
        *config.invocation_params.args,
        *shlex.split(os.environ.get("PYTEST_ADDOPTS", "")),
        *config.getini("addopts"),
    ]
    if config.get_verbosity() < 1 and not any(str(a).startswith("--tb") for a in asked):
        config.option.tbstyle = "no"
    if not any(str(a).startswith(("-r", "--report-chars")) for a in asked):
        config.option.reportchars = "N"  # pytest's warnings summary stays
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:  # it read the option when it was created
            from _pytest.terminal import getreportopt

            reporter.reportchars = getreportopt(config)


def _is_suite_checkout(directory: Path) -> bool:
    try:
        return directory.resolve() == suite_root().resolve()
    except FileNotFoundError:
        return False


class RunWatcher:
    """Notes what pytest only tells hooks without a config: collection errors, Ctrl-C."""

    def __init__(
        self, state: DoctorState, pluginmanager: pytest.PytestPluginManager | None = None
    ) -> None:
        self.state = state
        self.pluginmanager = pluginmanager
        self.collection_failures: list[pytest.CollectReport] = []
        self.deselected: list[pytest.Item] = []

    @pytest.hookimpl(trylast=True)
    def pytest_warning_recorded(self) -> None:
        """pytest's warnings summary prints each warning's text, which may quote a setting
        (a check warning about a URL with a password in it): redact what the terminal
        reporter stored. Last, so the reporter has stored it; redacting twice is harmless."""
        reporter = self.pluginmanager.get_plugin("terminalreporter") if self.pluginmanager else None
        if reporter is None:
            return
        for warning in reporter.stats.get("warnings", []):
            warning.message = self.state.redact(warning.message)

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.deselected += items

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Any:
        result = yield
        if not (session.shouldfail or session.shouldstop or self.state.interrupted):
            roots = missing_roots(session, self.state, self.deselected)
            if is_xdist_worker(session.config):
                # The controller expects reports of scheduled checks only: run the root
                # silently here; its finding reaches the controller with the others.
                from _pytest.runner import runtestprotocol

                for item in roots:
                    runtestprotocol(item, nextitem=None, log=False)
                return result
            session.testscollected += len(roots)  # pytest's progress counts them too
            for item in roots:
                item.ihook.pytest_runtest_protocol(item=item, nextitem=None)
        return result

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.state.collection_errors.append(report.nodeid or "<session>")
            self.collection_failures.append(report)

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        # pytest raises Session.Interrupted, a KeyboardInterrupt, for collection errors too,
        # and pytest-xdist its own Interrupted for -x/--maxfail: only Ctrl-C is an interrupt.
        if type(excinfo.value).__name__ != "Interrupted":
            self.state.interrupted = True


def missing_roots(
    session: pytest.Session, state: DoctorState, deselected: list[pytest.Item]
) -> list[pytest.Item]:
    """Root checks that blocked checks of this run name but the run did not select.

    A check rerun alone (a node id, ``-k``) that is blocked by a root cause still runs that
    root check afterwards, so the report files it under its root and recommends fixing the
    root (not, say, resetting a token because DNS failed). The root is looked for among the
    deselected checks, then in the blocked checks' own modules.
    """
    selected = {root_of(item) for item in session.items} - {None}
    ran = {f.root for f in state.findings.values() if f.root}
    wanted = (
        {f.blocked_by for f in state.findings.values() if f.outcome == "blocked"}
        - selected
        - ran
        - {None}
    )
    if not wanted:
        return []
    blocked = {f.nodeid for f in state.findings.values() if f.blocked_by in wanted}
    modules = {
        id(module): module
        for item in session.items
        if item.nodeid in blocked and (module := item.getparent(pytest.Module)) is not None
    }
    candidates = list(deselected) + [
        node
        for module in modules.values()
        for node in module.collect()
        if isinstance(node, pytest.Item)
    ]
    found: dict[str, pytest.Item] = {}
    for item in candidates:
        key = root_of(item)
        if key in wanted and key not in found and declaration_problem(item) is None:
            found[key] = item
    return list(found.values())


def root_of(item: pytest.Item) -> str | None:
    """The root-cause key a check declares with ``@check(..., root=KEY)``, if any."""
    doctor = item.get_closest_marker("doctor")
    return doctor.kwargs.get("root") if doctor else None


PATH_OPTIONS = (
    *("--bot-dir", "--env-file", "--report-dir"),
    *("--doctor-bot-dir", "--doctor-env-file", "--doctor-report-dir"),
)


def _refuse_split_path_options(config: pytest.Config) -> None:
    """pytest picks its rootdir before plugins load, so it reads the PATH of a separate
    ``--bot-dir PATH`` as a test path and loses pytest.ini. Say so instead of running a
    misconfigured suite that might write into the deployment."""
    args = [str(a) for a in config.invocation_params.args]
    split = [a for a in args[:-1] if a in PATH_OPTIONS]
    if split and (config.inipath is None or _root_from(split[0], args, config)):
        pytest.exit(
            f"write {split[0]}=PATH with '=' (or set ACORE_BOT_DIR): pytest takes a separate "
            "PATH for a test path before acore-doctor's options are known",
            returncode=int(ExitCode.UNKNOWN),
        )


def _root_from(option_name: str, args: list[str], config: pytest.Config) -> bool:
    """Whether pytest took its root (and config file) from the PATH given apart from
    ``option_name``: a deployment with its own pyproject.toml or pytest.ini would become the
    root directory, and reports would go into it."""
    value = Path(args[args.index(option_name) + 1])
    value = value if value.is_absolute() else config.invocation_params.dir / value
    try:
        value, root = value.resolve(), config.rootpath.resolve()
    except OSError:
        return False
    return root == value or value in root.parents


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
    factory.previous = previous  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def _restore_log_records() -> None:
    """Leave logging as the run found it (an in-process pytester run shares the process)."""
    current = logging.getLogRecordFactory()
    if getattr(current, "acore_doctor", False):
        logging.setLogRecordFactory(current.previous)  # type: ignore[attr-defined]


# -- collection ----------------------------------------------------------------------------
IS_CHECK = pytest.StashKey[bool]()


def is_check(item: pytest.Item) -> bool:
    """Whether ``item`` is a health check (asked in every phase of every test: remembered)."""
    known = item.stash.get(IS_CHECK, None)
    if known is None:
        known = item.stash[IS_CHECK] = is_check_path(Path(str(item.path)))
    return known


@pytest.hookimpl(wrapper=True)
def pytest_collection(session: pytest.Session) -> Any:
    """A test path or node id that is not there ends the run as a usage error; the report
    and the Nagios line say which, and how to list the real ones."""
    try:
        return (yield)
    except pytest.UsageError as exc:
        if STATE in session.config.stash and USAGE_ERROR not in session.config.stash:
            session.config.stash[USAGE_ERROR] = not_found_advice(str(exc))
        raise


def not_found_advice(error: str) -> str:
    first = next((line.strip() for line in error.splitlines() if line.strip()), "usage error")
    if first.startswith(("not found:", "found no collectors for", "file or directory not found")):
        return (
            f"{first}: list the checks and their node ids with "
            "'pytest --bot-dir=PATH --collect-only -q'"
        )
    return first


def nothing_selected_reason(config: pytest.Config) -> str | None:
    """Why a selection matched no check, and what to do (a typo in -m or -k)."""
    from acore_doctor.report.json_file import NO_CHECK_SELECTED

    markexpr = config.getoption("markexpr", "") or ""
    if markexpr:
        words = set(re.findall(r"[A-Za-z_]\w*", markexpr)) - {"and", "or", "not"}
        unknown = sorted(words - set(SEVERITIES))
        if unknown:
            return (
                f"{NO_CHECK_SELECTED}: -m {markexpr!r} names no severity of ours "
                f"({', '.join(unknown)}); use -m critical or -m warning"
            )
    keyword = config.getoption("keyword", "") or ""
    if keyword:
        return (
            f"{NO_CHECK_SELECTED}: no check matches -k {keyword!r}; list the checks with "
            "'pytest --bot-dir=PATH --collect-only -q'"
        )
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    state = config.stash.get(STATE, None)
    if state is None:
        return
    checks = [item for item in items if is_check(item)]
    bot_dir = state.deployment.bot_dir
    if not bot_dir.is_dir():
        # Only a health run judges the deployment; other pytest runs never trip on this.
        message = (
            f"the deployment to check, {bot_dir}, is not a directory: give the bot's "
            "directory with --bot-dir=PATH or ACORE_BOT_DIR"
        )
        config.stash[USAGE_ERROR] = message  # the report's reason (the Nagios line says it)
        raise pytest.UsageError(message)
    identity = [item for item in checks if getattr(item, "originalname", "") == IDENTITY_CHECK]
    if state.deployment.not_a_deployment and identity:
        # One finding and nothing else: every other check would only repeat "missing".
        dropped = [item for item in items if item not in identity]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items[:] = identity
        checks = identity
    bad: list[tuple[pytest.Item, str]] = []
    for item in checks:
        problem = declaration_problem(item)
        if problem:
            bad.append((item, problem))
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
    state = item.config.stash.get(STATE, None)
    if state is None or not is_check(item):
        return report
    finding = state.findings.get(item.nodeid)
    if finding is None:
        finding = state.findings[item.nodeid] = new_finding(item)
    finding.duration_s += report.duration
    details = item.stash.get(DETAILS, None)  # what the check found: record_details(...)
    if details is not None:
        finding.details = state.redact(details)
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


_RANK = {"passed": 0, "skipped": 1, "blocked": 2, "failed": 3, "crashed": 4, "error": 5}


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
    if isinstance(error, pytest.FixtureLookupError):
        # A check asking for a fixture nobody provides is a bug in the suite, not a finding
        # about the deployment: the run cannot decide (see findings.decide).
        return (
            "error",
            f"suite bug: the check asks for fixture {error.argname!r}, which no plugin provides",
        )
    if is_suite_bug(error):  # a KeyError in a fixture is no verdict on the deployment
        text = str(error).strip().splitlines()
        during = "" if report.when == "call" else f" (its {report.when})"
        return "error", (
            f"{SUITE_BUG}{during}: {type(error).__name__}: {text[0] if text else ''}".rstrip(": ")
            + f" at {crash_location(excinfo, str(report.fspath))}"
        )
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
        if not config.stash.get(HEALTH_RUN, False):
            raise
        sys.stderr.write(f"ERROR: {exc}\n")
        if options.option(config, "nagios") and not config.stash.get(USAGE_ERROR, None):
            from acore_doctor.ops.nagios import nagios_line

            print(nagios_line(None, int(ExitCode.UNKNOWN), f"usage error: {exc}"), flush=True)
        return int(ExitCode.UNKNOWN)
    finally:
        if config.stash.get(GC_FROZEN, False):  # an in-process run leaves the collector as it was
            gc.unfreeze()


# -- finishing -----------------------------------------------------------------------------
@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = session.config.stash.get(STATE, None)
    if state is None or session.config.option.collectonly:
        return  # listing checks is not a run: no verdict, no report, pytest's exit code
    if is_xdist_worker(session.config):
        # The controller builds the one report and the one exit code from every worker's part.
        session.config.workeroutput[WORKER_FINDINGS] = worker_part(session, state)  # type: ignore[attr-defined]
        return
    findings = attach_symptoms(list(state.findings.values()))
    state.verdict = decide(
        findings,
        interrupted=state.interrupted,
        unknown_reason=run_unknown_reason(session.config, state, exitstatus),
    )
    from acore_doctor.report.model import build_report

    state.report = build_report(findings, state.verdict, environment(session), state.started)
    state.report = state.redact.document(state.report)
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


def worker_part(session: pytest.Session, state: DoctorState) -> list[dict[str, Any]]:
    """This worker's findings as plain data, each with its place in the collection."""
    index = {item.nodeid: n for n, item in enumerate(session.items)}
    return [
        {**finding.to_dict(), "index": index.get(nodeid, len(index))}
        for nodeid, finding in state.findings.items()
    ]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """pytest-xdist, in the controller: a worker finished; take its findings."""
    state = node.config.stash.get(STATE, None)
    if state is None:
        return
    if error:
        state.worker_errors.append(f"worker {node.gateway.id} went down: {error}")
    parts = (getattr(node, "workeroutput", None) or {}).get(WORKER_FINDINGS, [])
    order = node.config.stash.setdefault(WORKER_ORDER, {})
    for data in parts:
        order[data["nodeid"]] = data.pop("index")
        data.pop("kind", None)
        state.findings[data["nodeid"]] = Finding(**data)
    # Workers finish in any order: file findings in collection order, as a serial run does.
    state.findings = dict(sorted(state.findings.items(), key=lambda kv: order.get(kv[0], 0)))


def run_unknown_reason(config: pytest.Config, state: DoctorState, exitstatus: int) -> str | None:
    """:func:`unknown_reason`, with the usage error's own words and what to do when the
    selection matched nothing."""
    from acore_doctor.report.json_file import NO_CHECK_SELECTED

    reason = config.stash.get(USAGE_ERROR, None) or unknown_reason(state, exitstatus)
    if reason == NO_CHECK_SELECTED:
        return nothing_selected_reason(config) or reason
    return reason


def unknown_reason(state: DoctorState, exitstatus: int) -> str | None:
    if state.deployment.not_a_deployment and any(
        nodeid.endswith("::" + IDENTITY_CHECK) for nodeid in state.findings
    ):
        return state.deployment.not_a_deployment
    if state.worker_errors:
        return "; ".join(state.worker_errors[:3])
    if state.collection_errors:
        return f"{len(state.collection_errors)} error(s) during collection: " + ", ".join(
            state.collection_errors[:5]
        )
    if exitstatus == pytest.ExitCode.INTERNAL_ERROR:
        return "internal error in the suite"
    if exitstatus == pytest.ExitCode.USAGE_ERROR:
        return "usage error"
    if not state.findings:
        from acore_doctor.report.json_file import NO_CHECK_SELECTED

        return NO_CHECK_SELECTED
    return None


def environment(session: pytest.Session) -> dict[str, Any]:
    config = session.config
    deployment = state_of(config).deployment
    return {
        "bot_dir": str(deployment.bot_dir),
        "env_file": str(deployment.env_file),
        # what told us the bot's keys, kinds and defaults (its own config/ or our catalog)
        "settings_source": deployment.settings_source,
        "host": socket.gethostname(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "suite_version": __version__,
        "selected_markers": config.getoption("markexpr") or "",
        "keyword": config.getoption("keyword") or "",
        "args": list(config.invocation_params.args),
    }


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is None or state.report is None:
        return
    watcher = config.pluginmanager.get_plugin("acore-doctor-run-watcher")
    if config.option.tbstyle == "no" and watcher is not None and watcher.collection_failures:
        terminalreporter.write_sep("=", "collection errors")
        for report in watcher.collection_failures:
            terminalreporter.write_line(f"{report.nodeid or '<session>'}:")
            terminalreporter.write_line(state.redact(str(report.longrepr)))
    terminalreporter.write_line("")
    # The terminal's own stream: sparklines in block characters only where it takes them.
    stream = getattr(terminalreporter._tw, "_file", sys.stdout)
    from acore_doctor.report.console import format_summary, line_markup, stream_takes_unicode

    unicode = stream_takes_unicode(stream)
    for line in format_summary(state.report, state.written, unicode).splitlines():
        terminalreporter.write_line(line, **line_markup(line))
