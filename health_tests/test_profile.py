"""The bot's memory and descriptors over time: a steady climb is a leak (acore-doctor profile)."""

from typing import Any

import pytest

from acore_doctor import check


@pytest.mark.warning
@check(
    "Bot memory and open descriptors are not climbing",
    "Profile the bot for longer ('acore-doctor profile --duration 1800'), then take a "
    "tracemalloc diff with MEMORY_PROFILING=true to find the allocation site; restart the bot "
    "as a stopgap.",
    guide="guides/performance_issues.md#memory-keeps-growing",
)
def test_no_leak_trend(memory_trend: dict[str, Any] | None) -> None:
    if memory_trend is None:
        pytest.skip("not applicable: no bot process running and no profile from the last day")
    if memory_trend["verdict"] == "too few samples":
        pytest.skip(f"not applicable: too few samples in the {memory_trend['source']}")
    assert memory_trend["verdict"] == "stable", (
        f"expected steady memory and descriptors, found in the {memory_trend['source']}: "
        + "; ".join(memory_trend["reasons"])
    )
