"""System tools the bot and its repair tools call."""

import pytest

from acore_doctor import check
from acore_doctor.netprobe.llm import version_of
from acore_doctor.netprobe.transport import HttpResult
from acore_doctor.probes.system import Tool, find_tool
from acore_doctor.settings import BotSettings, llm_provider

GUIDE = "guides/deployment_issues.md#system-tool-missing"
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "[::1]", "0.0.0.0")


@pytest.fixture(scope="module")
def ffmpeg() -> Tool:
    return find_tool("ffmpeg")


@pytest.mark.critical
@check(
    "ffmpeg is installed (voice is enabled)",
    "Install ffmpeg ('apt install ffmpeg'): discord.py plays every voice reply through it.",
    guide=GUIDE,
)
def test_ffmpeg_for_voice(settings: BotSettings, ffmpeg: Tool, record_details) -> None:
    if not settings.get("DISCORD_VOICE_ENABLED"):
        pytest.skip("not applicable: DISCORD_VOICE_ENABLED is not true")
    record_details(ffmpeg.describe())
    assert ffmpeg.found and not ffmpeg.error, (
        f"expected ffmpeg for voice, found {ffmpeg.describe()}"
    )


@pytest.mark.warning
@check(
    "ffmpeg is installed",
    "Install ffmpeg ('apt install ffmpeg') before turning voice on; RVC needs it too.",
    guide=GUIDE,
)
def test_ffmpeg_present(settings: BotSettings, ffmpeg: Tool, record_details) -> None:
    if settings.get("DISCORD_VOICE_ENABLED"):
        pytest.skip("not applicable: voice is enabled, the critical ffmpeg check applies")
    record_details(ffmpeg.describe())
    assert ffmpeg.found and not ffmpeg.error, f"expected ffmpeg on PATH, found {ffmpeg.describe()}"


@pytest.mark.warning
@check(
    "sqlite3 command-line tool is installed",
    "Install it ('apt install sqlite3'): data repair and backups of the bot's databases use it.",
    guide=GUIDE,
)
def test_sqlite3_cli(record_details) -> None:
    tool = find_tool("sqlite3")
    record_details(tool.describe())
    assert tool.found and not tool.error, f"expected sqlite3 on PATH, found {tool.describe()}"


@pytest.mark.warning
@check(
    "ollama CLI is installed (local Ollama that does not answer)",
    "Install Ollama on this host (https://ollama.com/download) and start it ('ollama serve' "
    "or 'systemctl start ollama'), or point OLLAMA_HOST at the host that runs it.",
    guide=GUIDE,
)
def test_ollama_cli(settings: BotSettings, ollama_version: HttpResult, record_details) -> None:
    host = settings.get("OLLAMA_HOST")
    if llm_provider(settings) != "ollama" or not any(h in host for h in LOCAL_HOSTS):
        pytest.skip("not applicable: the LLM is not a local Ollama")
    if version_of(ollama_version):
        # Its API answers: the CLI is a convenience, not something the bot needs.
        record_details(f"Ollama {version_of(ollama_version)} answers at {ollama_version.target()}")
        return
    tool = find_tool("ollama")
    record_details(tool.describe())
    assert tool.found and not tool.error, f"expected ollama on PATH, found {tool.describe()}"


@pytest.mark.warning
@check(
    "uv and docker, where installed, run",
    "Reinstall the broken tool, or remove it from PATH.",
    guide=GUIDE,
)
def test_optional_tools_run(record_details) -> None:
    tools = [find_tool(name) for name in ("uv", "docker")]
    record_details("; ".join(t.describe() for t in tools))
    broken = [t for t in tools if t.found and t.error]
    assert not broken, "expected installed tools to report a version, found: " + "; ".join(
        t.describe() for t in broken
    )
