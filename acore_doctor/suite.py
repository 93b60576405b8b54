"""Running the health suite as a child pytest process (used by the CLI and the tools)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import acore_doctor

log = logging.getLogger("acore_doctor.suite")


#: The folders of the suite: in a checkout beside the package, installed inside it (setup.py
#: maps them into the wheel).
SUITE_FOLDERS = ("health_tests", "recovery_tests", "guides")


def package_dir() -> Path:
    return Path(acore_doctor.__file__).resolve().parent


def suite_root() -> Path:
    """The directory holding health_tests/, recovery_tests/ and guides/: the installed package
    itself (a wheel, pipx), else the checkout around it (an editable install)."""
    package = package_dir()
    for root in (package, package.parent):
        if (root / "health_tests").is_dir():
            return root
    raise FileNotFoundError(
        f"health_tests/ not found in the acore_doctor package ({package}) nor beside it; "
        "reinstall acore-doctor (pip install acore-doctor, or pip install -e . in its checkout)"
    )


def is_installed_copy(root: Path | None = None) -> bool:
    """Whether the suite runs from an installed package (its checks inside ``acore_doctor/``)
    rather than a checkout: reports then go to the working directory, never into the
    installation."""
    try:
        root = root if root is not None else suite_root()
    except FileNotFoundError:
        return True
    return root.resolve() == package_dir()


REPORTS_ENV = "DIAGNOSTIC_REPORTS_PATH"


def resolve_report_dir(
    option: str | os.PathLike[str] | None,
    default: Path | None = None,
    cwd: Path | None = None,
    env_file_value: str | None = None,
    bot_dir: Path | None = None,
) -> Path:
    """``--report-dir``, else ``$DIAGNOSTIC_REPORTS_PATH`` (the environment, then the bot's
    ``.env``: ``env_file_value``), else ``default`` (the suite's ``reports/``); a relative
    path is taken from ``cwd``, one from the bot's ``.env`` from ``bot_dir`` (where the bot
    runs)."""
    value = option or os.environ.get(REPORTS_ENV)
    base = cwd
    if not value and env_file_value:
        value, base = env_file_value, bot_dir or cwd
    if not value:
        return default if default is not None else default_report_dir()
    path = Path(os.path.expanduser(str(value)))
    return path if path.is_absolute() else (base or Path.cwd()) / path


def default_report_dir(rootpath: Path | None = None, cwd: Path | None = None) -> Path:
    """``reports/`` of the checkout (``rootpath``, else the suite's); an installed copy
    writes to ``reports/`` in the working directory instead of into its installation."""
    cwd = cwd or Path.cwd()
    try:
        root = rootpath or suite_root()
    except FileNotFoundError:
        return cwd / "reports"
    return cwd / "reports" if is_installed_copy(root) else root / "reports"


def suite_cwd() -> Path:
    """Where a child suite run starts: the checkout (its pytest.ini), or for an installed
    copy the caller's working directory (relative paths mean what the caller meant; the
    plugin collects the installed checks, see ``plugin.pytest_load_initial_conftests``)."""
    return Path.cwd() if is_installed_copy() else suite_root()


def pytest_command(
    bot_dir: Path | None,
    extra: Sequence[str] = (),
    *,
    report_dir: Path | None = None,
    html: Path | None = None,
) -> list[str]:
    # Our collision-proof spellings: another plugin in the venv may own --bot-dir's short forms.
    cmd = [sys.executable, "-m", "pytest"]
    if bot_dir is not None:
        cmd.append(f"--doctor-bot-dir={bot_dir}")
    if report_dir is not None:
        cmd.append(f"--doctor-report-dir={report_dir}")
    if html is not None:
        cmd += [f"--html={html}", "--self-contained-html"]
    cmd += list(extra)
    return cmd


def run_suite(
    bot_dir: Path | None,
    extra: Sequence[str] = (),
    *,
    report_dir: Path | None = None,
    html: Path | None = None,
    env: dict[str, str] | None = None,
    capture: bool = False,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the suite in its own process; its exit code is the verdict.

    Ctrl-C reaches the child from the terminal (same process group); this process lets it
    pass meanwhile, as ``system()`` does, so the child finishes its report exactly as a plain
    ``pytest`` run interrupted by Ctrl-C does, and its exit code (130) is passed on.
    """
    cmd = pytest_command(bot_dir, extra, report_dir=report_dir, html=html)
    log.debug("running %s", " ".join(cmd))
    with _sigint_to_child_only():
        done = subprocess.run(
            cmd,
            cwd=suite_cwd(),
            env={**os.environ, **(env or {})},
            text=True,
            capture_output=capture,
            timeout=timeout,
            check=False,
        )
    log.debug("suite exit code %s", done.returncode)
    return done


@contextmanager
def _sigint_to_child_only() -> Iterator[None]:
    # A handler that does nothing rather than SIG_IGN: an ignored SIGINT would be inherited
    # by the child, and a Python started with SIGINT ignored never raises KeyboardInterrupt.
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may change handlers; it is not the one Ctrl-C hits
        return
    previous = signal.signal(signal.SIGINT, _child_handles_it)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _child_handles_it(signum: int, frame: object) -> None:
    log.debug("Ctrl-C: waiting for the suite to write its report")


#: The verdict exit codes: 0 healthy, 1 warning, 2 critical, 3 unknown, 130 interrupted.
VERDICT_CODES = frozenset({0, 1, 2, 3, 130})


def verdict_code(returncode: int) -> int:
    """The child's exit code on the verdict scale: anything else (pytest's own 4 for a
    usage error, 5 for nothing collected, a crash) means the suite could not decide: 3."""
    return returncode if returncode in VERDICT_CODES else 3
