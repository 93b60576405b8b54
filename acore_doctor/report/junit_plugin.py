"""Output plugin for pytest's JUnit XML (``--junitxml``): each check's severity.

pytest writes xunit2 by default, whose schema allows properties on the test suite only, not
on a test case (pytest warns once per test case that records one). So the severities go
into the suite's properties, one ``severity:<check id>`` each, and the XML stays valid.
"""

from __future__ import annotations

import pytest
from _pytest.junitxml import xml_key

SEVERITY_PREFIX = "severity:"


class JunitSeverities:
    """Sees every check's report in the process that writes the XML (the controller
    under pytest-xdist) and adds its severity to the suite's properties once."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.recorded: set[str] = set()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        severity = getattr(report, "severity", None)
        xml = self.config.stash.get(xml_key, None)
        if not severity or xml is None or report.nodeid in self.recorded:
            return
        self.recorded.add(report.nodeid)
        xml.add_global_property(f"{SEVERITY_PREFIX}{report.nodeid}", severity)


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(JunitSeverities(config), "acore-doctor-junit-severities")
