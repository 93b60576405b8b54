"""Fixtures every check can ask for: the deployment under check and its settings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from acore_doctor.deployment import Deployment
from acore_doctor.redact import Redactor
from acore_doctor.run_state import DETAILS, state_of
from acore_doctor.settings import BotSettings


@pytest.fixture(scope="session")
def deployment(request: pytest.FixtureRequest) -> Deployment:
    return state_of(request.config).deployment


@pytest.fixture(scope="session")
def bot_dir(deployment: Deployment) -> Path:
    return deployment.bot_dir


@pytest.fixture(scope="session")
def settings(deployment: Deployment) -> BotSettings:
    return deployment.settings


@pytest.fixture(scope="session")
def redact(request: pytest.FixtureRequest) -> Redactor:
    return state_of(request.config).redact


@pytest.fixture
def record_details(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Record what the check found, pass or fail, for the report's ``details``:
    ``record_details("3 databases, quick_check 12 ms")``. (Not ``record_property``: the
    JUnit XML pytest writes, xunit2, allows no properties on a test case.)"""

    def record(text: str) -> None:
        request.node.stash[DETAILS] = str(text)

    return record
