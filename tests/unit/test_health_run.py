"""Which pytest sessions are health runs: by our checks' identity or an explicit option."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from acore_doctor.demo import DEPLOYMENT
from acore_doctor.plugin import _asks_for_health_run, _command_line_asks_for_health_run
from tests.support.runs import CollectedItems, run_suite_in_process

SUITE_ROOT = Path(__file__).resolve().parents[2]


def test_doctor_options_decide_whatever_is_collected(tmp_path):
    assert _asks_for_health_run(True, None, [str(tmp_path)], tmp_path)
    assert not _asks_for_health_run(False, "/srv/bot", [str(SUITE_ROOT / "health_tests")], tmp_path)


def test_bot_dir_asks_for_a_health_run(tmp_path):
    assert _asks_for_health_run(None, "/srv/bot", [str(tmp_path)], tmp_path)


def test_our_check_dirs_by_location_not_by_name(tmp_path):
    theirs = tmp_path / "health_tests"
    theirs.mkdir()
    assert not _asks_for_health_run(None, None, [str(theirs)], tmp_path)
    assert not _asks_for_health_run(None, None, ["health_tests"], tmp_path)
    ours = SUITE_ROOT / "health_tests" / "test_config.py"
    assert _asks_for_health_run(None, None, [f"{ours}::test_discord_token_shape"], tmp_path)
    assert _asks_for_health_run(None, None, ["recovery_tests"], SUITE_ROOT)
    # a directory holding our checks collects them
    assert _asks_for_health_run(None, None, [str(SUITE_ROOT)], tmp_path)
    assert not _asks_for_health_run(None, None, [str(SUITE_ROOT / "tests")], tmp_path)


def test_no_path_means_pytest_ini_testpaths_in_this_checkout_only(tmp_path):
    assert _asks_for_health_run(None, None, [], SUITE_ROOT)
    assert not _asks_for_health_run(None, None, [], tmp_path)


def test_a_rejected_command_line_is_read_the_same_way(tmp_path):
    assert _command_line_asks_for_health_run(["--bot-dir=/srv/bot", "--bogus"], tmp_path)
    assert _command_line_asks_for_health_run(["--bot-dir", "/srv/bot"], tmp_path)
    assert not _command_line_asks_for_health_run(["--bogus"], tmp_path)
    assert not _command_line_asks_for_health_run(["--no-doctor", "--bot-dir=/x"], tmp_path)
    assert _command_line_asks_for_health_run(["--doctor", "--bogus"], tmp_path)


class FreezeSeen:
    """How many objects the collector had frozen while the checks were collected."""

    frozen_during_run = 0

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.frozen_during_run = gc.get_freeze_count()


def test_an_in_process_health_run_leaves_the_garbage_collector_as_it_was():
    seen = FreezeSeen()
    code = run_suite_in_process(
        DEPLOYMENT,
        "--collect-only",
        str(SUITE_ROOT / "health_tests" / "test_config.py"),
        plugins=(seen,),
    )
    assert code == 0
    assert seen.frozen_during_run > 0  # the run's long-lived objects were out of the way
    assert gc.get_freeze_count() == 0  # and are back under the collector afterwards


def test_checks_waiting_for_background_facts_run_last():
    """Network facts arrive while local checks run, the bot's interpreter answers from a child
    and CPU is sampled over the run: the checks needing them come after every other check."""
    from acore_doctor.local_fixtures import BACKGROUND_FIXTURES
    from acore_doctor.netprobe.runner import fixture_probes

    seen = CollectedItems()
    code = run_suite_in_process(
        DEPLOYMENT, "--collect-only", str(SUITE_ROOT / "health_tests"), plugins=(seen,)
    )
    assert code == 0
    network = set(fixture_probes())

    def group(item: pytest.Item) -> int:
        names = set(item.fixturenames)  # type: ignore[attr-defined]
        return 2 if names & BACKGROUND_FIXTURES else 1 if names & network else 0

    groups = [group(item) for item in seen.items]
    assert groups == sorted(groups)
    assert {0, 1, 2} <= set(groups)
    assert "test_cpu" in seen.items[-1].nodeid or group(seen.items[-1]) == 2


def test_the_probe_child_starts_early_only_for_one_whole_suite_run_that_probes():
    from acore_doctor.plugin import _early_probes_wanted

    assert _early_probes_wanted(["--bot-dir=/srv/bot"])
    assert _early_probes_wanted(["--bot-dir", "/srv/bot", "-m", "critical", "health_tests"])
    for extra in (
        ["--offline"],
        ["--co"],
        ["--collect-only"],
        ["-k", "discord"],
        ["-kdiscord"],
        ["--keyword=discord"],
        ["-n", "2"],
        ["-n2"],
        ["--numprocesses=2"],
        ["--dist=load"],
        ["health_tests/test_llm.py::test_model_pulled"],
        ["--help"],
        ["--version"],
        ["--fixtures"],
    ):
        assert not _early_probes_wanted(["--bot-dir=/srv/bot", *extra]), extra


def test_an_option_value_that_is_no_path_is_never_an_error(tmp_path):
    """Raw arguments are looked at in every session (the probe child's early start): a long
    -m expression, a NUL byte, are option values, not paths, and no reason to crash."""
    long_expression = " or ".join(["slow"] * 100)
    assert not _command_line_asks_for_health_run(["-m", long_expression], tmp_path)
    assert not _command_line_asks_for_health_run(["x" * 5000], tmp_path)
    assert not _command_line_asks_for_health_run(["bad\0name"], tmp_path)
