"""A healthy sample deployment with every service simulated, and runs of the suite on it, for
the what-changed tests and benchmark."""

from __future__ import annotations

import gzip
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from acore_doctor.demo import make_bot_venv
from acore_doctor.simulate import Simulator
from tests.support.builder import DeploymentBuilder
from tests.support.local_suite import RELAXED, env_with_path, make_healthy, make_tools
from tests.support.runs import SuiteRun, everything_on, run_suite_process

UNIT = """[Unit]
Description=acore bot
StartLimitIntervalSec=600
StartLimitBurst=5

[Service]
User={user}
WorkingDirectory={bot}
ExecStart={bot}/.venv/bin/python main.py
Restart=on-failure
"""


@dataclass
class HealthyDeployment:
    """The sample deployment without its planted faults: a venv, stand-in tools, a unit."""

    bot: DeploymentBuilder
    sim: Simulator
    reports: Path
    unit: Path
    env: dict[str, str]
    extra: list[str] = field(default_factory=list)

    @property
    def site_packages(self) -> Path:
        return next((self.bot.root / ".venv" / "lib").glob("python3*/site-packages"))

    def write_unit(self, user: str = "root") -> None:
        self.unit.write_text(UNIT.format(user=user, bot=self.bot.root))

    def run(self, *args: str, timeout: float = 300) -> SuiteRun:
        return run_suite_process(
            self.bot.root,
            self.reports,
            "--allow-stopped",
            *RELAXED,
            f"--systemd-unit={self.unit}",
            *self.extra,
            *args,
            env=self.env,
            timeout=timeout,
        )

    def git(self, *args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(self.bot.root), *args],
            check=True,
            capture_output=True,
            text=True,
            env={
                **self.env,
                "GIT_AUTHOR_NAME": "op",
                "GIT_AUTHOR_EMAIL": "op@example.org",
                "GIT_COMMITTER_NAME": "op",
                "GIT_COMMITTER_EMAIL": "op@example.org",
                "HOME": str(self.bot.root.parent),
            },
        ).stdout


def _debug(line: str) -> bool:
    """A DEBUG record, or the start line saying the bot logs at DEBUG."""
    return " - DEBUG - " in line or "Level=DEBUG" in line


def make_healthy_deployment(root: Path, sim: Simulator) -> HealthyDeployment:
    bot = make_healthy(DeploymentBuilder(root / "acore_bot"))
    bot.set_env(**everything_on(sim), LOG_LEVEL="INFO")
    make_bot_venv(bot.root / ".venv")
    log = bot.root / "logs" / "bot.log"
    # without the sample's planted webhook errors and DEBUG records (LOG_LEVEL is INFO here)
    log.write_text(
        "".join(ln for ln in log.open() if "error code: 30007" not in ln and not _debug(ln))
    )
    for rotated in (bot.root / "logs").glob("*.gz"):
        lines = gzip.decompress(rotated.read_bytes()).decode().splitlines(keepends=True)
        rotated.write_bytes(gzip.compress("".join(ln for ln in lines if not _debug(ln)).encode()))
    for path in (bot.root / "logs").rglob("*"):
        path.chmod(0o750 if path.is_dir() else 0o640)
    tools = make_tools(root / "tools", ("ffmpeg", "ollama"))
    env = env_with_path(tools, Path("/usr/bin"), Path("/bin"))
    units = root / "units"
    units.mkdir()
    deployment = HealthyDeployment(bot, sim, root / "reports", units / "acore-bot.service", env)
    deployment.write_unit()
    return deployment
