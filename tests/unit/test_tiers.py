"""The unit tier is deterministic: it passes on a machine whose cores are all busy.

Its tests read time, CPU, memory and disks only through the fake host
(:mod:`acore_doctor.clock`, ``tests/unit/conftest.py``); a test timing this machine belongs in
tests/e2e, marked ``host_timing``."""

from __future__ import annotations

import re
from pathlib import Path

from acore_doctor import clock
from acore_doctor.clock import FakeHost
from acore_doctor.probes import resources

UNIT = Path(__file__).parent
#: Readings of this machine's clock or load: what a busy host changes.
REAL_READINGS = re.compile(
    r"\b(time\.(monotonic|perf_counter|process_time|thread_time)(_ns)?|psutil\.cpu_(times|percent)"
    r"|os\.times|os\.getloadavg|shutil\.disk_usage|psutil\.virtual_memory)\s*\("
)


def test_no_unit_test_reads_the_real_clock_or_load():
    found = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sorted(UNIT.glob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if REAL_READINGS.search(line) and path != Path(__file__)
    ]
    assert not found, "read through acore_doctor.clock (the fake host) or move to tests/e2e:\n" + (
        "\n".join(found)
    )


def test_the_suites_readings_go_through_the_clock():
    """The resource probe reads nothing of the host but through the clock module."""
    source = Path(resources.__file__).read_text()
    assert not REAL_READINGS.search(source), "read the host through acore_doctor.clock"
    assert "import psutil" not in source and "import time" not in source


def test_every_unit_test_sees_the_fake_host(fake_host: FakeHost):
    assert clock.monotonic() == fake_host.now
    clock.sleep(3600)  # costs nothing
    assert clock.monotonic() == fake_host.now and fake_host.now >= 3600
    assert clock.memory().percent == fake_host.mem.percent
