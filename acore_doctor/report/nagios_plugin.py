"""Output plugin: ``--nagios`` prints one Nagios/Icinga plugin line (:mod:`acore_doctor.ops.nagios`)
instead of pytest's output, and turns the exit code into a plugin return code."""

from __future__ import annotations

from typing import Any

import pytest

from acore_doctor.ops import nagios
from acore_doctor.options import option
from acore_doctor.run_state import is_health_run, is_xdist_worker

PRINTED = pytest.StashKey[bool]()


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    if option(config, "nagios"):
        # Nagios reads the first stdout line: pytest's own output must not come first.
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            config.pluginmanager.unregister(reporter)


@pytest.hookimpl(trylast=True)
def pytest_doctor_write_outputs(report: dict[str, Any], session: pytest.Session) -> None:
    if not option(session.config, "nagios"):
        return
    code = int(session.exitstatus)
    lines = [nagios.nagios_line(report, code, report["summary"].get("reason", ""))]
    print("\n".join([*lines, *nagios.long_output(report)]), flush=True)
    session.exitstatus = nagios.nagios_code(code)
    session.config.stash[PRINTED] = True


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A run that wrote no report still owes Nagios its one line."""
    config = session.config
    if not option(config, "nagios") or config.stash.get(PRINTED, False):
        return
    if is_xdist_worker(config):
        return  # the controller speaks for the run
    if not is_health_run(config):
        print(nagios.nagios_line(None, 3, "no health checks were collected"))
        session.exitstatus = 3
        return
    print(nagios.nagios_line(None, int(session.exitstatus)), flush=True)
    session.exitstatus = nagios.nagios_code(int(session.exitstatus))
