"""A good neighbour: installed beside other pytest plugins (pytest-testinfra claims --nagios)
and under a conftest that registers --report-dir, --nagios and --offline itself, every pytest
run works (--help too), the others' options keep their meaning, and our health run still works
through the collision-proof --doctor-* spellings. A user's --timeout (pytest-timeout) fires
alongside our check timeout.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest

from tests.support.runs import run_suite_process
from tests.support.venvs import build_wheel, make_venv, venv_env

pytestmark = pytest.mark.timeout(1200)

NEIGHBOURS = (
    "pytest-testinfra",
    "pytest-timeout",
    "pytest-cov",
    "pytest-randomly",
    "pytest-rerunfailures",
    "pytest-html",
    "pytest-xdist",
    "pytest-django",
)

#: Options a project of someone else's registers, under our short spellings.
THEIR_OPTIONS = textwrap.dedent(
    """
    def pytest_addoption(parser):
        parser.addoption("--report-dir", default="their-reports")
        parser.addoption("--nagios", default="their-nagios")
        parser.addoption("--offline", action="store_true")
    """
)

#: The project's conftest and pytest-testinfra both register --nagios: they cannot share a
#: session (without us too), so the project's runs leave testinfra out.
NO_TESTINFRA = ("-p", "no:pytest11.testinfra")  # its entry point's name

THEIR_TEST = textwrap.dedent(
    """
    def test_their_options_mean_theirs(request):
        assert request.config.getoption("report_dir") == "out"
        assert request.config.getoption("nagios") == "host1"
        assert request.config.getoption("offline") is True
    """
)


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wheel = build_wheel(tmp_path_factory.mktemp("wheel"))
    return make_venv(tmp_path_factory.mktemp("venv") / "venv", wheel, *NEIGHBOURS)


def pytest_in(
    bin_dir: Path, cwd: Path, *args: str, timeout: float = 600
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(bin_dir / "python"), "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        env=venv_env(bin_dir),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def their_project(tmp_path: Path) -> Path:
    project = tmp_path / "their_project"
    project.mkdir()
    (project / "conftest.py").write_text(THEIR_OPTIONS)
    (project / "their_options.py").write_text(THEIR_OPTIONS)
    (project / "test_app.py").write_text(THEIR_TEST)
    return project


def test_other_projects_runs_and_help_work_beside_us(venv, their_project, tmp_path):
    # testinfra's --nagios and the project's would clash with each other: two neighbours.
    helped = pytest_in(venv, their_project, *NO_TESTINFRA, "--help")
    assert helped.returncode == 0, helped.stderr[-3000:]
    assert "--doctor-bot-dir" in helped.stdout and "--doctor-nagios" in helped.stdout

    ran = pytest_in(
        venv, their_project, *NO_TESTINFRA, "--report-dir=out", "--nagios=host1", "--offline"
    )
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    assert "1 passed" in ran.stdout and "ACORE-DOCTOR" not in ran.stdout

    plain = tmp_path / "plain_project"
    plain.mkdir()
    (plain / "test_one.py").write_text("def test_one():\n    assert True\n")
    for args in ((), ("--help",), ("-n", "2"), ("--reruns", "1")):
        done = pytest_in(venv, plain, *args)
        assert done.returncode == 0, (args, done.stdout[-2000:] + done.stderr[-3000:])


def test_health_run_works_beside_them(venv, their_project, bot, tmp_path):
    gate = ("--allow-stopped", "-m", "critical", "-p", "no:randomly")
    checkout = run_suite_process(bot.root, tmp_path / "checkout", "--offline", *gate)
    assert checkout.code in (0, 1, 2), checkout.stdout[-2000:] + checkout.stderr[-2000:]

    # testinfra owns --nagios here: ours is --doctor-nagios; --offline is still free.
    reports = tmp_path / "beside"
    done = pytest_in(
        venv,
        tmp_path,
        f"--bot-dir={bot.root}",
        f"--doctor-report-dir={reports}",
        "--offline",
        "--doctor-nagios",
        *gate,
    )
    assert done.returncode == checkout.code, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stdout.startswith("ACORE-DOCTOR "), done.stdout[:500]
    report = json.loads((reports / "latest.json").read_text())
    assert report["environment"]["offline"] is True

    # A plugin of the project's own takes --report-dir, --nagios and --offline: our run
    # takes its settings from the --doctor-* spellings and leaves theirs alone.
    reports = tmp_path / "under_theirs"
    done = pytest_in(
        venv,
        their_project,
        *NO_TESTINFRA,
        "-p",
        "their_options",
        f"--bot-dir={bot.root}",
        f"--doctor-report-dir={reports}",
        "--doctor-offline",
        "--report-dir=theirs",
        *gate,
    )
    assert done.returncode == checkout.code, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads((reports / "latest.json").read_text())
    assert report["environment"]["offline"] is True
    assert not (their_project / "theirs").exists()


SLOW_CHECK = textwrap.dedent(
    """
    import time

    import pytest

    from acore_doctor import check


    @pytest.mark.critical
    @check("A slow check", "Make it faster.")
    def test_slow():
        time.sleep(25)
    """
)


@pytest.mark.parametrize(
    ("limits", "expected"),
    [
        (("--timeout=2", "--check-timeout=20"), "Timeout (>2.0s) from pytest-timeout"),
        (("--timeout=20", "--check-timeout=2"), "check timed out"),
    ],
    ids=["user-timeout-first", "check-timeout-first"],
)
def test_user_timeout_fires_alongside_check_timeout(venv, tmp_path, limits, expected):
    project = tmp_path / "own_checks"
    (project / "health_tests").mkdir(parents=True)
    (project / "health_tests" / "test_slow.py").write_text(SLOW_CHECK)
    (project / "bot").mkdir()
    done = pytest_in(
        venv,
        project,
        "--bot-dir=bot",
        f"--report-dir={tmp_path / 'reports'}",
        "-p",
        "no:randomly",
        "-rA",
        *limits,
        timeout=120,
    )
    assert done.returncode == 2, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads((tmp_path / "reports" / "latest.json").read_text())
    [issue] = report["issues"]
    assert expected in issue["message"] + done.stdout, issue["message"]
    assert report["checks"][0]["duration_s"] < 15, report["checks"][0]
