"""Output plugin: ``--prometheus FILE`` writes a node-exporter textfile
(:mod:`acore_doctor.ops.prometheus`)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from acore_doctor.ops import prometheus
from acore_doctor.options import option


def pytest_doctor_write_outputs(report: dict[str, Any], session: pytest.Session) -> None:
    config = session.config
    target = option(config, "prometheus")
    if not target:
        return
    path = Path(os.path.expanduser(target))
    path = path if path.is_absolute() else config.invocation_params.dir / path
    try:
        prometheus.write_textfile(report, path, option(config, "prometheus_deployment"))
    except OSError as exc:
        sys.stderr.write(f"acore-doctor: Prometheus textfile not written: {exc}\n")
