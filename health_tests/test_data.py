"""The bot's JSON state files: a corrupt one is silently reset to empty, losing its data."""

import time

import pytest

from acore_doctor import check
from acore_doctor.deployment import Deployment
from acore_doctor.probes.state_files import StateReport

GUIDE = "guides/deployment_issues.md"
MAX_LISTED = 20


def _rel(deployment: Deployment, path: str) -> str:
    root = str(deployment.bot_dir).rstrip("/") + "/"
    return path[len(root) :] if path.startswith(root) else path


def _listing(deployment: Deployment, items: list[tuple[str, str]]) -> str:
    shown = [f"{_rel(deployment, p)} ({why})" for p, why in items[:MAX_LISTED]]
    more = f" and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else ""
    return "; ".join(shown) + more


@pytest.mark.critical
@check(
    "Every JSON state file parses",
    "Stop the bot, restore each listed file from a backup (or move it aside to keep what can "
    "be salvaged); the bot would otherwise reset it to empty on its next write.",
    guide=f"{GUIDE}#corrupt-state-files",
)
def test_state_files_parse(
    state_report: StateReport, deployment: Deployment, record_details
) -> None:
    record_details(
        f"{state_report.files} state files in "
        f"{state_report.elapsed_s:.2f} s: "
        + ", ".join(f"{k} {v}" for k, v in state_report.by_kind.items()),
    )
    assert not state_report.corrupt, (
        f"expected every state file to parse, found {len(state_report.corrupt)} corrupt: "
        + _listing(deployment, state_report.corrupt)
    )


@pytest.mark.critical
@check(
    "Every JSON state file has the shape the bot expects",
    "Restore each listed file from a backup or move it aside: the bot cannot use a file of "
    "the wrong shape and resets or crashes on it.",
    guide=f"{GUIDE}#corrupt-state-files",
)
def test_state_files_shape(state_report: StateReport, deployment: Deployment) -> None:
    assert not state_report.bad_shape, (
        f"expected the bot's shapes, found {len(state_report.bad_shape)} file(s): "
        + _listing(deployment, state_report.bad_shape)
    )


@pytest.mark.warning
@check(
    "No interrupted saves (*.tmp) are left in data/",
    "Compare each listed *.tmp with its target (same name without .tmp); keep the good one "
    "and remove the other while the bot is stopped.",
    guide=f"{GUIDE}#stray-temporary-files",
)
def test_no_stray_tmp(state_report: StateReport, deployment: Deployment) -> None:
    tmp = state_report.stray_tmp
    assert not tmp, f"expected no *.tmp files under data/, found {len(tmp)}: " + ", ".join(
        _rel(deployment, p) for p in tmp[:MAX_LISTED]
    )


@pytest.mark.warning
@check(
    "No state file is dated in the future",
    "Fix the host clock (timedatectl; enable NTP), then 'touch' the listed files; cleanup by "
    "age never removes files from the future.",
    guide=f"{GUIDE}#stray-temporary-files",
)
def test_no_future_mtimes(state_report: StateReport, deployment: Deployment) -> None:
    now = time.time()
    future = [(p, f"{(m - now) / 3600:.1f} h ahead") for p, m in state_report.future]
    assert not future, f"expected no modification time after now, found {len(future)}: " + _listing(
        deployment, future
    )
