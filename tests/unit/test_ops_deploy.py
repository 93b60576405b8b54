"""The example units and workflow in deploy/ call commands and options that exist."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path

import pytest

from acore_doctor.cli import build_parser
from tests.support.runs import SUITE_ROOT

DEPLOY = SUITE_ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service")) + sorted(
    (DEPLOY / "systemd").glob("*.timer")
)
#: Options the suite's pytest plugins add; watch and serve pass them through.
SUITE_OPTIONS = ("--prometheus=", "--prometheus-deployment=", "--nagios", "--junitxml=", "--html=")


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment]
    parser.read_string(path.read_text())
    return parser


def test_there_are_watch_timer_and_serve_units():
    names = {p.name for p in UNITS}
    assert {
        "acore-doctor-watch.service",
        "acore-doctor.service",
        "acore-doctor.timer",
        "acore-doctor-serve.service",
    } <= names


@pytest.mark.parametrize("path", [p for p in UNITS if p.suffix == ".service"], ids=lambda p: p.name)
def test_service_execstart_parses(path):
    service = unit(path)["Service"]
    argv = shlex.split(service["ExecStart"])
    assert Path(argv[0]).name == "acore-doctor"
    args, extra = build_parser().parse_known_args(argv[1:])
    assert args.command in ("watch", "serve")
    assert all(e.startswith(SUITE_OPTIONS) for e in extra), extra
    if service.get("Type") == "oneshot":
        assert set(service["SuccessExitStatus"].split()) == {"1", "2", "3"}


def test_timer_starts_the_oneshot_service():
    timer = unit(DEPLOY / "systemd" / "acore-doctor.timer")
    assert timer["Timer"]["OnUnitActiveSec"]
    assert (DEPLOY / "systemd" / "acore-doctor.service").exists()


def test_github_workflow_runs_the_suite_and_fails_only_on_critical():
    yaml = pytest.importorskip("yaml")
    workflow = yaml.safe_load((DEPLOY / "github" / "acore-doctor.yml").read_text())
    steps = workflow["jobs"]["health"]["steps"]
    run = next(s["run"] for s in steps if s.get("id") == "doctor")
    assert "acore-doctor run" in run and "--junitxml=" in run
    # A CI job reaches no service and runs no bot: the gate must say so, not fail on it.
    assert all(option in run for option in ("--offline", "--allow-stopped", "-m critical"))
    verdict = steps[-1]["run"]
    assert 'test "$code" -le 1' in verdict


#: [Unit] keys that systemd ignores (with only a log warning) anywhere else.
UNIT_ONLY_KEYS = ("StartLimitIntervalSec", "StartLimitBurst", "StartLimitAction")


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_start_limits_are_in_the_unit_section(path):
    parsed = unit(path)
    for section in parsed.sections():
        misplaced = [k for k in UNIT_ONLY_KEYS if k in parsed[section] and section != "Unit"]
        assert not misplaced, f"{path.name}: {misplaced} in [{section}] belong in [Unit]"
    if path.name == "acore-doctor-watch.service":
        assert parsed["Unit"]["StartLimitBurst"] == "5"
