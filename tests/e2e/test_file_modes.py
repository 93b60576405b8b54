"""Every output is the operator's alone (0600 files, 0700 directories), except the Prometheus
textfile, which node-exporter (another user) must read (0644)."""

from __future__ import annotations

import stat
from pathlib import Path

from acore_doctor.ops.watch import OUTPUT_FILE, placeholder_report, save_diagnostic
from acore_doctor.redact import MASK, Redactor


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_diagnostic_bundle_is_private_and_redacted(tmp_path: Path):
    report_dir = tmp_path / "reports"
    report_dir.mkdir()
    (report_dir / OUTPUT_FILE).write_text("token ghp_" + "a1B" * 12 + "\x1b]0;x\x07\n")
    report = placeholder_report(2, "the-configured-secret leaked", None)
    bundle = save_diagnostic(report, report_dir, tmp_path, Redactor(["the-configured-secret"]))
    assert mode(bundle) == 0o700
    assert mode(bundle.parent) == 0o700
    files = list(bundle.iterdir())
    assert {p.name for p in files} == {"report.json", "suite_output.txt", "logs.txt"}
    for path in files:
        assert mode(path) == 0o600, path
        data = path.read_bytes()
        assert b"the-configured-secret" not in data and b"ghp_" not in data and b"\x1b" not in data
    assert MASK in (bundle / "suite_output.txt").read_text()
