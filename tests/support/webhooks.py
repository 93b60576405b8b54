"""Fixtures for tests of Discord webhook alerts: a Discord-only simulator per module and a fresh
webhook per test. Import both names into a test module to use them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from acore_doctor.simulate import Simulator


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(["discord"]) as simulator:
        yield simulator


@pytest.fixture
def hook(sim: Simulator) -> tuple[str, str]:
    """A fresh webhook per test: its own message list and URL."""
    sim.set_fault("discord", "ok")
    created = sim.discord.add_webhook()
    return created.id, sim.discord.webhook_url(created.id)
