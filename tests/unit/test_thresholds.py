"""One declaration per threshold: a row of its table. The dataclass is made from it, and a
threshold read but declared nowhere stops a health run at collection, naming it, instead of
crashing the checks that read it (which once made the verdict CRITICAL)."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import pytest

from acore_doctor.local_fixtures import Thresholds
from acore_doctor.options import THRESHOLDS
from acore_doctor.rules.log_thresholds import LOG_THRESHOLDS, LogThresholds
from acore_doctor.thresholds import undeclared_uses
from tests.support.builder import DeploymentBuilder
from tests.support.runs import SUITE_ROOT, run_suite_in_process
from tests.support.sources import suite_sources, tree_of

RESOURCES = SUITE_ROOT / "health_tests" / "test_resources.py"


@pytest.mark.parametrize(
    ("cls", "table"), [(Thresholds, THRESHOLDS), (LogThresholds, LOG_THRESHOLDS)]
)
def test_each_dataclass_is_its_table(cls: type, table: dict) -> None:
    assert {f.name: f.default for f in fields(cls)} == {k: v[0] for k, v in table.items()}


def test_every_threshold_read_is_declared() -> None:
    assert undeclared_uses(suite_sources(), THRESHOLDS, LOG_THRESHOLDS, parse=tree_of) == []


def test_a_removed_row_is_named_where_it_is_read() -> None:
    table = {k: v for k, v in THRESHOLDS.items() if k != "disk_warning_percent"}
    found = undeclared_uses([RESOURCES], table, LOG_THRESHOLDS)
    assert found and all(f.endswith(": thresholds.disk_warning_percent") for f in found)
    assert found[0].startswith(f"{RESOURCES}:")


def test_a_health_run_without_a_row_stops_at_collection_naming_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bot = DeploymentBuilder(tmp_path / "acore_bot")
    monkeypatch.delitem(THRESHOLDS, "cpu_warning_percent")
    reports = tmp_path / "reports"
    code = run_suite_in_process(
        bot.root, "--offline", "--no-rehearsal", str(RESOURCES), report_dir=reports
    )
    out = capsys.readouterr()
    assert code == 3, out.out
    assert "thresholds.cpu_warning_percent" in out.err + out.out
    latest = reports / "latest.json"
    if latest.exists():  # whatever was written says unknown, never critical
        assert json.loads(latest.read_text())["summary"]["exit_code"] == 3
