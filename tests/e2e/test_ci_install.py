"""Issue 18 point 11: the shipped CI workflow installs the candidate the way it declares its
dependencies (uv / pyproject / requirements), then runs the gate ``--offline -m critical``.

The workflow's install step calls ``deploy/github/install-candidate.sh``; here that script runs
for real on three candidates, one per layout, with no network: their dependencies are wheels
built in the test (pip and uv read them from a local directory), the pyproject candidate
carries its own build backend. Then the gate runs on each, as the workflow's gate step does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from acore_doctor.demo import STANDIN_PACKAGES
from tests.support.builder import DeploymentBuilder
from tests.support.local_suite import RELAXED, make_healthy, make_tools
from tests.support.runs import SUITE_ROOT, clean_env, run_suite_process
from tests.support.wheels import INTREE_BACKEND, standin_wheel

SCRIPT = SUITE_ROOT / "deploy" / "github" / "install-candidate.sh"
DEPENDENCIES = [f"{dist}>={version}" for dist, version in STANDIN_PACKAGES.values()]


def uv_binary() -> str | None:
    return shutil.which("uv") or next(
        (str(p) for p in (Path(sys.executable).parent / "uv",) if p.exists()), None
    )


def pyproject(extra: str = "") -> str:
    deps = "".join(f'    "{d}",\n' for d in DEPENDENCIES)
    return (
        f'[project]\nname = "acore-bot"\nversion = "0.4.0"\nrequires-python = ">=3.10"\n'
        f"dependencies = [\n{deps}]\n{extra}"
    )


def candidate(bot: DeploymentBuilder, layout: str, wheels: Path, env: dict[str, str]) -> None:
    """The sample bot declaring the stand-in packages as ``layout`` declares them."""
    bot.remove("pyproject.toml")
    if layout == "requirements":
        bot.write("requirements.txt", "# acore_bot\n" + "\n".join(DEPENDENCIES) + "\n")
    elif layout == "pyproject":
        bot.write("_build/intree_backend.py", INTREE_BACKEND)
        bot.write(
            "pyproject.toml",
            '[build-system]\nrequires = []\nbuild-backend = "intree_backend"\n'
            'backend-path = ["_build"]\n\n' + pyproject(),
        )
    else:  # uv: the project and its lock, resolved from the local wheels
        bot.write(
            "pyproject.toml",
            pyproject(
                f'\n[tool.uv]\npackage = false\nno-index = true\nfind-links = ["{wheels}"]\n'
            ),
        )
        subprocess.run(
            [uv_binary(), "lock", "--offline"], cwd=bot.root, env=env, check=True,
            capture_output=True, timeout=120,
        )  # fmt: skip
        assert (bot.root / "uv.lock").is_file()


@pytest.mark.parametrize("layout", ["uv", "pyproject", "requirements"])
def test_the_workflow_installs_each_layout_its_way_and_the_gate_passes(
    layout: str, bot: DeploymentBuilder, tmp_path: Path
) -> None:
    if layout == "uv" and uv_binary() is None:
        pytest.skip("needs uv (pip install uv; it is in the dev extra)")
    make_healthy(bot)
    wheels = tmp_path / "wheels"
    for module, (dist, version) in STANDIN_PACKAGES.items():
        standin_wheel(wheels, module, dist, version)
    tools = make_tools(tmp_path / "tools", ("ffmpeg", "ollama"))
    uv = uv_binary()
    path = [str(tools), *([str(Path(uv).parent)] if uv else []), "/usr/bin", "/bin"]
    env = clean_env(
        PATH=os.pathsep.join(path),
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=str(wheels),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        UV_OFFLINE="1",
        UV_CACHE_DIR=str(tmp_path / "uv-cache"),
    )
    env.pop("VIRTUAL_ENV", None)
    candidate(bot, layout, wheels, env)

    done = subprocess.run(
        ["bash", str(SCRIPT), str(bot.root), sys.executable],
        env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    chosen = {
        "uv": "uv.lock -> uv sync --frozen",
        "pyproject": "pyproject.toml -> pip install -e .",
        "requirements": "requirements.txt -> pip install -r requirements.txt",
    }
    assert chosen[layout] in done.stdout, done.stdout
    python = bot.root / ".venv" / "bin" / "python"
    imported = subprocess.run(
        [str(python), "-c", "import discord, aiofiles, PIL; print(discord.__version__)"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert imported.stdout.strip() == "2.4.0", imported.stderr

    run = run_suite_process(
        bot.root, tmp_path / "reports", "--allow-stopped", "--offline", "-m", "critical",
        *RELAXED, env=env,
    )  # fmt: skip
    assert run.code in (0, 1), [i["message"][:300] for i in run.report["issues"]]
    declared = run.finding("test_declared_dependencies_installed")
    assert declared["outcome"] == "passed", declared
    assert run.finding("test_bot_imports")["outcome"] == "passed"


def test_a_candidate_that_declares_nothing_gets_an_empty_venv(tmp_path: Path) -> None:
    bot = tmp_path / "bot"
    bot.mkdir()
    (bot / "main.py").write_text("import os\n")
    done = subprocess.run(
        ["bash", str(SCRIPT), str(bot), sys.executable],
        env=clean_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "no uv.lock, pyproject.toml [project] or requirements.txt" in done.stdout
    assert (bot / ".venv" / "bin" / "python").exists()
