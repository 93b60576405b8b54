"""The network probe package, seen from a fresh interpreter."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from acore_doctor import netprobe
from acore_doctor.netprobe.child import ProbeChild, ProbeChildFailed
from acore_doctor.netprobe.runner import run_probes
from acore_doctor.netprobe.transport import HttpResult, Timeouts
from tests.support.probe_settings import ALL_PROBES, OR_KEY, TOKEN, settings_for
from tests.support.runs import SUITE_ROOT, everything_on, run_suite_in_process

DISCORD_CHECKS = str(SUITE_ROOT / "health_tests" / "test_discord.py")


def test_every_probe_module_registers_itself_when_the_package_is_imported():
    package = Path(netprobe.__file__).parent
    declaring = {
        f"acore_doctor.netprobe.{path.stem}"
        for path in package.glob("*.py")
        if re.search(
            r"^from acore_doctor\.netprobe\.runner import .*\bprobe\b", path.read_text(), re.M
        )
    }
    # A fresh interpreter: this module's own imports must not do the registering.
    code = (
        "import acore_doctor.netprobe as n\n"
        "print(' '.join(sorted({s.func.__module__ for s in n.PROBES.values()})))"
    )
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert child.returncode == 0, child.stderr
    assert declaring and set(child.stdout.split()) == declaring


# -- the probe child ---------------------------------------------------------------------------
def _answers(facts: object) -> list[tuple[str, int | None, object]]:
    """(URL, status, JSON body) of every request a probe's facts hold, in order."""
    found = []
    for value in vars(facts).values():
        for result in value if isinstance(value, list) else [value]:
            if isinstance(result, HttpResult):
                found.append((result.url, result.status, result.data))
    return found


def test_the_child_gives_what_probing_in_process_gives(sim):
    settings = settings_for(sim)
    in_process = run_probes(ALL_PROBES, settings, Timeouts())
    child = ProbeChild()
    child.send(ALL_PROBES, settings, Timeouts(), False)
    from_child = child.results()
    assert set(from_child) == set(in_process) == set(ALL_PROBES)
    for name in ALL_PROBES:
        assert type(from_child[name]) is type(in_process[name]), name
    assert _answers(from_child["discord"]) == _answers(in_process["discord"])
    assert len(_answers(from_child["discord"])) >= 3


def test_the_childs_command_line_and_environment_hold_no_secret(sim):
    child = ProbeChild()
    try:
        pid = child._child.pid
        seen = Path(f"/proc/{pid}/cmdline").read_bytes() + Path(f"/proc/{pid}/environ").read_bytes()
        child.send(["discord"], settings_for(sim), Timeouts(), False)
        assert TOKEN.encode() not in seen and OR_KEY.encode() not in seen
        assert child.results()["discord"].me.status == 200
    finally:
        child.stop()


def test_a_child_that_cannot_start_says_why(sim, monkeypatch):
    monkeypatch.setattr(sys, "executable", "/bin/false")  # an interpreter that fails at once
    child = ProbeChild()
    child.send(["discord"], settings_for(sim), Timeouts(), False)
    with pytest.raises(ProbeChildFailed) as failed:
        child.results()
    assert not failed.value.timed_out
    assert "exited with 1" in str(failed.value)


def test_a_child_past_its_deadline_is_stopped(sim):
    sim.set_fault("discord", "hang")
    child = ProbeChild()
    child.send(["discord"], settings_for(sim), Timeouts(total=30, budget=30), False)
    child._deadline = time.monotonic() + 0.5  # as if the budget and grace had passed
    started = time.monotonic()
    with pytest.raises(ProbeChildFailed) as failed:
        child.results()
    assert failed.value.timed_out
    assert time.monotonic() - started < 5
    assert child._child.poll() is not None  # killed, not left behind


def test_a_run_whose_probe_child_gives_nothing_probes_in_process(sim, bot, tmp_path, monkeypatch):
    """The whole run in this process, with an interpreter for children that exits at once:
    the network checks still get their facts, probed here instead."""
    bot.set_env(**everything_on(sim))
    monkeypatch.setattr(sys, "executable", "/bin/false")
    reports = tmp_path / "reports"
    code = run_suite_in_process(bot.root, DISCORD_CHECKS, report_dir=reports)
    report = json.loads((reports / "latest.json").read_text())
    outcomes = {c["nodeid"].split("::")[-1]: c["outcome"] for c in report["checks"]}
    assert outcomes["test_discord_api_answers"] == "passed", report["issues"]
    assert outcomes["test_discord_token_valid"] == "passed"
    assert code == report["summary"]["exit_code"]
    assert sim.sims["discord"].requests  # sent, by this process


class ProbeChildSeen:
    """The run's probe child once the checks are collected (None: this run has none)."""

    def __init__(self) -> None:
        self.child: object = "not seen"

    def pytest_collection_modifyitems(self, config: pytest.Config) -> None:
        from acore_doctor.run_state import PROBE_CHILD

        self.child = config.stash.get(PROBE_CHILD, "unset")


def _in_process_run(bot, tmp_path, *args: str) -> ProbeChildSeen:
    seen = ProbeChildSeen()
    run_suite_in_process(
        bot.root, *args, DISCORD_CHECKS, report_dir=tmp_path / "reports", plugins=(seen,)
    )
    return seen


def test_a_whole_suite_run_has_its_probe_child_before_collection_ends(sim, bot, tmp_path):
    bot.set_env(**everything_on(sim))
    seen = _in_process_run(bot, tmp_path)
    assert isinstance(seen.child, ProbeChild)
    assert seen.child._finished  # read, or stopped at the end of the run: never left behind


@pytest.mark.parametrize("args", [["--offline"], ["-k", "token"]])
def test_a_run_that_probes_nothing_or_part_starts_no_child_early(sim, bot, tmp_path, args):
    bot.set_env(**everything_on(sim))
    seen = _in_process_run(bot, tmp_path, *args)
    assert seen.child in (None, "unset")


@pytest.mark.host_timing
def test_all_services_hanging_cost_one_timeout_not_their_sum(sim):
    for name in sim.sims:
        sim.set_fault(name, "hang")
    timeout = 1.0
    started = time.monotonic()
    results = run_probes(ALL_PROBES, settings_for(sim), Timeouts(total=timeout, budget=60))
    elapsed = time.monotonic() - started
    assert all(r.error_kind == "timeout" for r in results.values() if isinstance(r, HttpResult))
    sequential = timeout * len(ALL_PROBES)
    # concurrent: about one timeout; the rest of the margin is for a busy host
    assert elapsed < sequential / 2, f"{elapsed:.2f} s for {len(ALL_PROBES)} probes of {timeout} s"


@pytest.mark.host_timing
def test_the_budget_cuts_requests_short(sim):
    sim.set_fault("ollama", "hang")
    started = time.monotonic()
    results = run_probes(
        ["ollama.version", "ollama.tags"], settings_for(sim), Timeouts(total=30, budget=0.4)
    )
    elapsed = time.monotonic() - started
    assert elapsed < 30 / 3, f"{elapsed:.2f} s"
    assert all(not r.answered for r in results.values())


@pytest.mark.host_timing
def test_discord_long_429_is_not_waited_for(sim):
    sim.set_fault("discord", "429", retry_after=30)
    started = time.monotonic()
    facts = run_probes(["discord"], settings_for(sim), Timeouts())["discord"]
    assert time.monotonic() - started < 30 / 2
    assert facts.me.status == 429
