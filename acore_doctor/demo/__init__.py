"""A bundled sample acore_bot deployment with a few realistic faults, for `acore-doctor demo`."""

from pathlib import Path

DEPLOYMENT = Path(__file__).with_name("deployment")
