"""Fixtures for acore-doctor's own tests. Helpers live in tests/support/."""

from __future__ import annotations

from pathlib import Path

import pytest

from acore_doctor.simulate import Simulator
from tests.support.builder import DeploymentBuilder
from tests.support.runs import SuiteRun, run_suite_process

pytest_plugins = ["pytester"]

#: No single test of ours may take CI down with it: a hang fails that test, not the run.
TEST_TIMEOUT_S = 300


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(TEST_TIMEOUT_S))


@pytest.fixture
def bot(tmp_path: Path) -> DeploymentBuilder:
    """A fresh copy of the sample deployment to break in whatever way a test needs."""
    return DeploymentBuilder(tmp_path / "acore_bot")


@pytest.fixture
def run_suite(tmp_path: Path):
    """Run the real suite on a deployment in a child process, as an operator would."""

    def run(
        bot_dir: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 300
    ) -> SuiteRun:
        report_dir = tmp_path / f"reports-{len(list(tmp_path.glob('reports-*')))}"
        return run_suite_process(bot_dir, report_dir, *args, env=env, timeout=timeout)

    return run


@pytest.fixture(scope="module")
def simulator():
    """Every simulated service, started once per test module."""
    with Simulator() as running:
        yield running


@pytest.fixture
def sim(simulator: Simulator):
    """The module's simulator with no requests recorded; every fault reset after the test."""
    for service in simulator.sims.values():
        service.requests.clear()
    yield simulator
    for name in simulator.sims:
        simulator.set_fault(name, "ok")
