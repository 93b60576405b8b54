"""A repair dry run finds nothing to do."""

import pytest

from acore_doctor import check
from acore_doctor.deployment import Deployment
from acore_doctor.recovery.repair import RepairAction


@pytest.mark.warning
@check(
    "A repair dry run finds nothing to repair",
    "Stop the bot and run 'acore-doctor repair' to see the plan, then "
    "'acore-doctor repair --apply'. Originals go to data/.quarantine/, nothing is deleted.",
    guide="guides/deployment_issues.md#data-needs-repair",
)
def test_repair_dry_run_clean(deployment: Deployment, repair_plan: list[RepairAction]) -> None:
    # A missing directory is no damage: the bot creates it at start, and the directory check
    # judges (critical) the one case where it cannot. Repair still creates them when applied.
    damage = [a for a in repair_plan if a.kind != "create-dir"]
    assert not damage, f"expected nothing to repair, found {len(damage)}: " + "; ".join(
        a.describe(deployment.bot_dir) for a in damage[:10]
    )
