"""Every output is the operator's alone (0600 files, 0700 directories), except the Prometheus
textfile, which node-exporter (another user) must read (0644)."""

from __future__ import annotations

import stat
from pathlib import Path

from acore_doctor.logs.state import load_state, save_state
from acore_doctor.ops import history, prometheus
from acore_doctor.ops.watch import placeholder_report
from acore_doctor.report.json_file import write_json_report


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_reports_history_and_state_are_private(tmp_path: Path):
    report_dir = tmp_path / "reports"
    report = placeholder_report(3, "test", None)
    written = write_json_report(report, report_dir, "20261201_070000")
    history.record_trend(report, report_dir)
    state = load_state(report_dir, tmp_path / "bot")
    save_state(state, {"ERROR x"})
    assert mode(report_dir) == 0o700
    assert mode(state.path.parent) == 0o700
    for path in (written, report_dir / "latest.json", report_dir / history.TREND_FILE, state.path):
        assert mode(path) == 0o600, path


def test_prometheus_textfile_is_world_readable(tmp_path: Path):
    path = prometheus.write_textfile(placeholder_report(3, "x", None), tmp_path / "tf" / "a.prom")
    assert mode(path) == 0o644


def test_profile_outputs_are_private(tmp_path: Path):
    from acore_doctor.ops.profile import Profile, write_outputs

    profile = Profile(pid=1, name="python", cmdline="python main.py", started="", interval_s=1.0)
    paths = write_outputs(profile, tmp_path / "reports")
    assert mode(paths["json"].parent) == 0o700
    for path in paths.values():
        assert mode(path) == 0o600, path
