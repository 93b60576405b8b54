"""The simulated services by name."""

from __future__ import annotations

from typing import Any

from acore_doctor.simulate.compat import LlamaCppSim, VllmSim
from acore_doctor.simulate.core import ServiceSim
from acore_doctor.simulate.discord import DiscordSim
from acore_doctor.simulate.ollama import OllamaSim
from acore_doctor.simulate.openrouter import OpenRouterSim
from acore_doctor.simulate.voice import (
    KokoroSim,
    LuxTtsSim,
    ParakeetSim,
    Qwen3TtsSim,
    RvcSim,
    SupertonicSim,
)

SERVICES: dict[str, type[ServiceSim]] = {
    cls.name: cls
    for cls in (
        DiscordSim,
        OllamaSim,
        OpenRouterSim,
        KokoroSim,
        SupertonicSim,
        ParakeetSim,
        RvcSim,
        LuxTtsSim,
        Qwen3TtsSim,
        LlamaCppSim,
        VllmSim,
    )
}


def make_service(name: str, **options: Any) -> ServiceSim:
    try:
        cls = SERVICES[name]
    except KeyError:
        raise KeyError(f"no simulated service {name!r}; known: {', '.join(SERVICES)}") from None
    return cls(**options)


def modes_of(name: str) -> dict[str, str]:
    from acore_doctor.simulate.core import GENERIC_MODES

    return {**GENERIC_MODES, **SERVICES[name].modes}
