"""acore-doctor as a normal package: the wheel carries the checks and guides, and an installed
copy (``pip install <wheel>``, pipx) gives the same verdict as the checkout, from any directory.

One wheel is built and installed into one fresh venv per module (dependencies from the pip
cache or the index, our own package only from the wheel just built).
"""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.support.runs import SUITE_ROOT, run_suite_process
from tests.support.venvs import build_wheel, make_venv, venv_env

pytestmark = pytest.mark.timeout(900)

#: A run judging only local facts (no service is reachable from a CI job, no bot runs there).
GATE = ("--offline", "--allow-stopped", "-m", "critical", "-p", "no:cacheprovider")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed (not editable, nothing of the checkout on the
    path): its ``bin/``."""
    return make_venv(tmp_path_factory.mktemp("venv") / "venv", wheel)


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """A working directory that has nothing to do with acore-doctor or the deployment."""
    path = tmp_path / "somewhere"
    path.mkdir()
    return path


def outcomes(report_dir: Path) -> dict[str, str]:
    report = json.loads((report_dir / "latest.json").read_text())
    return {c["nodeid"]: c["outcome"] for c in report["checks"]}


def test_the_wheel_carries_the_checks_and_guides(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for folder in ("health_tests", "recovery_tests"):
        checkout = sorted(p.name for p in (SUITE_ROOT / folder).glob("test_*.py"))
        shipped = sorted(
            Path(n).name for n in names if n.startswith(f"acore_doctor/{folder}/test_")
        )
        assert shipped == checkout, f"{folder}: expected {checkout}, the wheel has {shipped}"
    guides = sorted(p.name for p in (SUITE_ROOT / "guides").glob("*.md"))
    assert sorted(Path(n).name for n in names if n.startswith("acore_doctor/guides/")) == guides
    assert "acore_doctor/demo/deployment/.env" in names


def test_installed_run_and_pytest_give_the_checkout_verdict(installed, elsewhere, bot, tmp_path):
    checkout = run_suite_process(bot.root, tmp_path / "checkout", *GATE)
    assert checkout.code in (0, 1, 2), checkout.stdout[-2000:] + checkout.stderr[-2000:]
    expected = outcomes(tmp_path / "checkout")

    env = venv_env(installed)
    cli = subprocess.run(
        [str(installed / "acore-doctor"), "run", "--bot-dir", str(bot.root), *GATE],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert cli.returncode == checkout.code, cli.stdout[-3000:] + cli.stderr[-2000:]
    # The installed copy writes reports where it was started, never into its installation.
    assert outcomes(elsewhere / "reports") == expected

    plain = subprocess.run(
        [
            str(installed / "python"),
            "-m",
            "pytest",
            f"--bot-dir={bot.root}",
            f"--report-dir={tmp_path / 'plain'}",
            *GATE,
        ],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert plain.returncode == checkout.code, plain.stdout[-3000:] + plain.stderr[-2000:]
    assert outcomes(tmp_path / "plain") == expected
    site = next((installed.parent / "lib").glob("python*/site-packages/acore_doctor"))
    assert not (site / "reports").exists()


def test_installed_pytest_runs_one_check_by_its_node_id(installed, elsewhere, bot, tmp_path):
    nodeid = "health_tests/test_config.py::test_env_file_present"
    done = subprocess.run(
        [
            str(installed / "python"),
            "-m",
            "pytest",
            f"--bot-dir={bot.root}",
            f"--report-dir={tmp_path / 'one'}",
            "-p",
            "no:cacheprovider",
            nodeid,
        ],
        cwd=elsewhere,
        env=venv_env(installed),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert outcomes(tmp_path / "one") == {nodeid: "passed"}


def test_installed_demo_keeps_its_verdict(installed, elsewhere):
    done = subprocess.run(
        [str(installed / "acore-doctor"), "demo"],
        cwd=elsewhere,
        env=venv_env(installed),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 2, done.stdout[-3000:] + done.stderr[-2000:]
    report = json.loads((elsewhere / "reports" / "demo" / "latest.json").read_text())
    assert report["summary"]["exit_code"] == 2
    assert all(
        c["nodeid"].startswith(("health_tests/", "recovery_tests/")) for c in report["checks"]
    )
    # The HTML report's guide links resolve in the installed copy.
    html = (elsewhere / "reports" / "demo" / "report.html").read_text()
    assert "guides/" in html and "internal error" not in done.stdout
