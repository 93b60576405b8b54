"""Running the real suite (or the CLI) in a child process or in this one, and reading what it wrote."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from acore_doctor import suite
from acore_doctor.simulate import Simulator

SUITE_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class SuiteRun:
    code: int
    stdout: str
    stderr: str
    report_dir: Path

    @property
    def report(self) -> dict[str, Any]:
        return json.loads((self.report_dir / "latest.json").read_text())

    def finding(self, nodeid_part: str) -> dict[str, Any]:
        matches = [c for c in self.report["checks"] if nodeid_part in c["nodeid"]]
        assert len(matches) == 1, f"{nodeid_part!r} matched {[c['nodeid'] for c in matches]}"
        return matches[0]


def clean_env(**extra: str) -> dict[str, str]:
    """The test process's environment without anything that would leak into the bot's settings."""
    keep = {
        k: v
        for k, v in os.environ.items()
        if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV", "PYTHONPATH")
    }
    return {**keep, **extra}


def run_suite_process(
    bot_dir: Path,
    report_dir: Path,
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = 300,
) -> SuiteRun:
    """The real suite on ``bot_dir`` in a child process, with a clean environment."""
    cmd = suite.pytest_command(bot_dir, ["-p", "no:cacheprovider", *args], report_dir=report_dir)
    proc = subprocess.run(
        cmd, cwd=SUITE_ROOT, env=env or clean_env(), capture_output=True, text=True, timeout=timeout
    )
    return SuiteRun(proc.returncode, proc.stdout, proc.stderr, report_dir)


class CollectedItems:
    """A plugin for :func:`run_suite_in_process`: the items as the run collected and ordered
    them."""

    def __init__(self) -> None:
        self.items: list[pytest.Item] = []

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.items = list(session.items)


def run_suite_in_process(
    bot_dir: Path,
    *args: str,
    report_dir: Path | None = None,
    plugins: tuple[object, ...] = (),
) -> int:
    """The real suite on ``bot_dir`` in this process (``pytest.main``), with this checkout's
    pytest.ini; ``args`` end with what to collect. ``plugins`` watch the run from inside."""
    return pytest.main(
        [
            "-q",
            "-p",
            "no:cacheprovider",
            f"--rootdir={SUITE_ROOT}",
            "-c",
            str(SUITE_ROOT / "pytest.ini"),
            f"--bot-dir={bot_dir}",
            *([f"--report-dir={report_dir}"] if report_dir else []),
            *args,
        ],
        plugins=list(plugins),
    )


#: The OpenRouter key everything_on() configures (tests look for it in outputs).
SIM_OPENROUTER_KEY = "sk-or-v1-" + "k" * 48


def everything_on(sim: Simulator) -> dict[str, str]:
    """Settings that select every service the suite checks, pointed at the simulator."""
    return {
        **sim.env(),
        "LLM_PROVIDER": "ollama",
        "VISION_ENABLED": "true",
        "THINKING_MODEL": "deepseek/deepseek-r1",
        "THINKING_MODEL_PROVIDER": "openrouter",
        "OPENROUTER_API_KEY": SIM_OPENROUTER_KEY,
        "OPENAI_COMPAT_BASE_URL": sim.url("ollama") + "/v1",
        "OPENAI_COMPAT_MODEL": "llama3.2:latest",
        "DISCORD_VOICE_ENABLED": "true",
        "RVC_ENABLED": "true",
        "STT_ENGINE": "parakeet",
        "PARAKEET_ENABLED": "true",
    }
