"""Settings that point every network probe at the simulator, for probe tests of both tiers."""

from __future__ import annotations

from pathlib import Path

from acore_doctor.netprobe.runner import fixture_probes
from acore_doctor.settings import BotSettings, EnvFileState
from acore_doctor.simulate import Simulator
from tests.support.builder import make_token

TOKEN = make_token()
OR_KEY = "sk-or-v1-" + "k" * 48


def settings_for(sim: Simulator, **extra: str) -> BotSettings:
    values = {
        **sim.env(),
        "DISCORD_TOKEN": TOKEN,
        "LLM_PROVIDER": "ollama",
        "THINKING_MODEL": "deepseek/deepseek-r1",
        "THINKING_MODEL_PROVIDER": "openrouter",
        "OPENROUTER_API_KEY": OR_KEY,
        "OPENAI_COMPAT_BASE_URL": sim.url("ollama") + "/v1",
        "DISCORD_VOICE_ENABLED": "true",
        "RVC_ENABLED": "true",
        "STT_ENGINE": "parakeet",
        "PARAKEET_ENABLED": "true",
        **extra,
    }
    return BotSettings(
        file_values=values, env_file=EnvFileState(Path(".env"), exists=True), environ={}
    )


ALL_PROBES = [n for n in fixture_probes().values() if n != "ollama.canary"]
