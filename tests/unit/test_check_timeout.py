"""Which checks the per-check timeout covers: local ones, not those waiting on network probes
(they run under the probe budget instead)."""

from __future__ import annotations

import pytest

from acore_doctor.check_timeout import _is_local_check
from acore_doctor.netprobe.runner import fixture_probes


def test_local_checks_are_covered_network_checks_and_plain_tests_are_not(
    pytester: pytest.Pytester,
) -> None:
    probe = sorted(fixture_probes())[0]
    pytester.makeini(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
        "markers =\n    warning\n    critical\n    doctor\n"
    )
    items = {
        item.name: item
        for item in pytester.getitems(
            f"""
import pytest
from acore_doctor import check

@pytest.mark.warning
@check("Reads a local file", "Fix it.")
def test_local(tmp_path):
    pass

@pytest.mark.warning
@check("Asks a service", "Fix it.")
def test_network({probe}):
    pass

def test_plain():
    pass
"""
        )
    }
    assert set(items) == {"test_local", "test_network", "test_plain"}, items
    assert _is_local_check(items["test_local"])
    assert not _is_local_check(items["test_network"])
    assert not _is_local_check(items["test_plain"])
