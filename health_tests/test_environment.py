"""Python environment the suite runs in (the bot's own interpreter is checked separately)."""

import pytest

from acore_doctor import check
from acore_doctor.probes.python_env import PythonFacts, current_python

MIN_PYTHON = (3, 11)


@pytest.fixture(scope="module")
def python() -> PythonFacts:
    return current_python()


@pytest.mark.critical
@check(
    "Python is 3.11 or newer",
    "Install Python 3.11+ and recreate the virtual environment with it.",
    guide="guides/deployment_issues.md#python-too-old",
)
def test_python_version(python: PythonFacts) -> None:
    assert python.version[:2] >= MIN_PYTHON, (
        f"expected Python >= {'.'.join(map(str, MIN_PYTHON))}, "
        f"found {python.version_text} at {python.executable}"
    )


@pytest.mark.warning
@check(
    "Running inside a virtual environment",
    "Create one with 'python3 -m venv .venv' (or 'uv venv') and install into it, so system "
    "packages and the bot's dependencies cannot break each other.",
    guide="guides/deployment_issues.md#no-virtual-environment",
)
def test_virtual_environment(python: PythonFacts) -> None:
    assert python.in_venv, (
        f"expected a virtual environment, found the system interpreter {python.executable} "
        f"(prefix {python.prefix})"
    )
