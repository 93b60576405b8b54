"""Output plugin, health runs only: pytest's own report files are the operator's alone.

pytest-html (``--html``), JUnit XML (``--junitxml``) and ``--log-file`` are written by other
plugins with the process umask (usually 0644); they carry the same findings as our JSON
report, which is 0600. Once every plugin has finished writing, they get the same mode
(docs/operations.md, "File modes").
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

from acore_doctor.fsio import PRIVATE_FILE


def report_files(config: pytest.Config) -> list[Path]:
    """pytest's report files this session was asked to write, as absolute paths."""
    names = [
        getattr(config.option, "htmlpath", None),
        getattr(config.option, "xmlpath", None),
        getattr(config.option, "log_file", None) or config.getini("log_file"),
    ]
    base = config.invocation_params.dir
    return [base / os.path.expanduser(str(name)) for name in names if name]


def make_private(config: pytest.Config) -> None:
    for path in report_files(config):
        with contextlib.suppress(OSError):  # not written (an error, xdist worker): nothing to do
            if path.is_file():
                path.chmod(PRIVATE_FILE)


def pytest_sessionstart(session: pytest.Session) -> None:
    make_private(session.config)  # the log file is open and filling already


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    make_private(config)
