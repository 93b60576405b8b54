"""The state of one health run, shared by the engine, the fixture modules and the outputs.

The engine (:mod:`acore_doctor.plugin`) creates it when a health run starts; everything else
reads it through :func:`state_of` instead of importing the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from acore_doctor.options import option
from acore_doctor.suite import REPORTS_ENV, default_report_dir, resolve_report_dir

if TYPE_CHECKING:
    from acore_doctor.deployment import Deployment
    from acore_doctor.findings import Finding, Verdict
    from acore_doctor.redact import Redactor


@dataclass
class DoctorState:
    deployment: Deployment
    redact: Redactor
    forced: bool | None = None
    health_mode: bool = False
    findings: dict[str, Finding] = field(default_factory=dict)
    collection_errors: list[str] = field(default_factory=list)
    interrupted: bool = False
    verdict: Verdict | None = None
    report: dict[str, Any] | None = None
    written: list[str] = field(default_factory=list)
    #: pytest-xdist workers that went down with an error (the run cannot decide)
    worker_errors: list[str] = field(default_factory=list)
    started: datetime = field(default_factory=datetime.now)


STATE = pytest.StashKey[DoctorState]()
#: What a check found besides its verdict (``record_details``), on the check's item.
DETAILS = pytest.StashKey[str]()
#: The network probe child of a whole-suite run, started as early as the command line says
#: so, until collection tells it what to probe (see service_fixtures).
PROBE_CHILD = pytest.StashKey["ProbeChild | None"]()


def state_of(config: pytest.Config) -> DoctorState:
    return config.stash[STATE]


def report_dir_of(config: pytest.Config) -> Path:
    """Where this run's reports and state files go (``--report-dir``, env, the bot's
    ``.env``, ``reports/``)."""
    state = config.stash.get(STATE, None)
    deployment = state.deployment if state is not None else None
    return resolve_report_dir(
        option(config, "report_dir"),
        default_report_dir(config.rootpath, config.invocation_params.dir),
        config.invocation_params.dir,
        env_file_value=deployment.settings.file_values.get(REPORTS_ENV) if deployment else None,
        bot_dir=deployment.bot_dir if deployment else None,
    )


def is_health_run(config: pytest.Config) -> bool:
    state = config.stash.get(STATE, None)
    return state is not None and state.health_mode


def is_xdist_worker(config: pytest.Config) -> bool:
    """A pytest-xdist worker runs checks; only the controller reports and writes."""
    return hasattr(config, "workerinput")


def is_xdist_controller(config: pytest.Config) -> bool:
    """The pytest-xdist process that hands checks to workers (it runs none itself)."""
    return not is_xdist_worker(config) and getattr(config.option, "dist", "no") != "no"


def whole_suite_selected(config: pytest.Config) -> bool:
    """No node id and no -k: the run will almost surely need the network probes, so their
    child may start before collection says which."""
    return (
        not config.option.collectonly
        and not config.getoption("keyword")
        and not any("::" in str(arg) for arg in config.args)
    )
