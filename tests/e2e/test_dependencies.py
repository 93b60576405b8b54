"""Issue 18 points 1 and 2, through the real suite: what the bot declares, judged against its
own interpreter, and the import rehearsal, which must leave the deployment byte-identical."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from acore_doctor.demo import STANDIN_PACKAGES, make_bot_venv
from tests.support.builder import DeploymentBuilder, tree_digest
from tests.support.local_suite import RELAXED, env_with_path, make_healthy, make_tools
from tests.support.runs import SuiteRun, run_suite_process
from tests.support.wheels import standin_wheel

ENVIRONMENT = "health_tests/test_environment.py"


def gate(bot: DeploymentBuilder, report_dir: Path, tools: Path, *args: str) -> SuiteRun:
    """The pre-deploy gate as CI runs it: offline, the bot not running, critical checks."""
    return run_suite_process(
        bot.root,
        report_dir,
        "--allow-stopped",
        "--offline",
        "-m",
        "critical",
        *RELAXED,
        *args,
        env=env_with_path(tools, Path("/usr/bin"), Path("/bin")),
    )


def critical_checks(run: SuiteRun) -> list[str]:
    return [issue["check"].split("::")[-1] for issue in run.report["issues"]]


def test_a_missing_declared_dependency_fails_the_gate_and_installing_it_clears_it(
    bot: DeploymentBuilder, tmp_path: Path
) -> None:
    make_healthy(bot)
    without = {k: v for k, v in STANDIN_PACKAGES.items() if k != "aiofiles"}
    python = make_bot_venv(bot.root / ".venv", without)
    tools = make_tools(tmp_path / "tools", ("ffmpeg", "ollama"))

    run = gate(bot, tmp_path / "before", tools)
    assert run.code == 2, run.stdout[-3000:] + run.stderr[-2000:]
    assert critical_checks(run) == ["test_declared_dependencies_installed"], run.report["issues"]
    message = run.finding("test_declared_dependencies_installed")["message"]
    assert "aiofiles>=23.0 (pyproject.toml): not installed" in message, message
    # The command that fits this bot: it has a pyproject.toml, no uv.lock, no requirements.txt.
    assert f"{python} -m pip install -e ." in message and "requirements" not in message

    # Installed for real, by pip, from a wheel: the finding goes away.
    wheel = standin_wheel(tmp_path / "wheels", "aiofiles", "aiofiles", "24.1.0")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-index",
         "--no-deps", str(wheel)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    run = gate(bot, tmp_path / "after", tools)
    assert run.code in (0, 1), run.stdout[-3000:]
    finding = run.finding("test_declared_dependencies_installed")
    assert finding["outcome"] == "passed", finding
    assert not [i for i in run.report["issues"] if "depend" in i["check"]]


def test_an_import_that_raises_is_critical_naming_file_and_line(
    bot: DeploymentBuilder, tmp_path: Path
) -> None:
    """The legacy entrypoint's own top-level import of the service factory raises (a raw
    int() of a bad value); a module imported lazily does not parse; dead code nobody imports
    (acore_bot's cogs/) does not parse either, and is no finding."""
    make_bot_venv(bot.root / ".venv")
    main = bot.root / "main.py"
    main.write_text(
        main.read_text().replace(
            "import os\nimport time\n",
            "import os\nimport time\n\nfrom services.core.factory import ServiceFactory\n",
        )
        + "\n\ndef chat():\n    from adapters.discord.commands import chat\n"
    )
    bot.write("services/__init__.py", "")
    bot.write("services/core/__init__.py", "")
    bot.write(
        "services/core/factory.py",
        '"""ServiceFactory."""\nimport os\n\nSTEPS = int(os.getenv("KOBOLDCPP_STEPS", "thirty"))'
        "\n\n\nclass ServiceFactory:\n    pass\n",
    )
    bot.write("adapters/__init__.py", "")
    bot.write("adapters/discord/__init__.py", "")
    bot.write("adapters/discord/commands/__init__.py", "")
    bot.write("adapters/discord/commands/chat.py", "def reply(:\n    pass\n")
    bot.write("cogs/chat/main.py", "x = (1,\n")
    run = run_suite_process(bot.root, tmp_path / "r", "--allow-stopped", ENVIRONMENT)
    finding = run.finding("test_bot_imports")
    assert finding["outcome"] == "failed", finding
    message = finding["message"]
    assert "services/core/factory.py:4: ValueError: invalid literal for int()" in message, message
    assert "importing services.core.factory from main.py:11" in message, message
    assert "adapters/discord/commands/chat.py:1: SyntaxError" in message, message
    assert "cogs" not in message
    assert "test_bot_imports" in critical_checks(run)


def test_the_rehearsal_leaves_the_deployment_byte_identical(
    bot: DeploymentBuilder, tmp_path: Path
) -> None:
    """Imports that want to write (a line in the existing log, a new directory, a SQLite file,
    a state file) and to reach the network: refused and reported, the deployment unchanged to
    the byte (every file's content, mode and mtime; every directory), no bytecode."""
    make_bot_venv(bot.root / ".venv")
    assert (bot.root / "logs" / "bot.log").is_file()
    main = bot.root / "main.py"
    main.write_text(
        main.read_text().replace(
            "import os\nimport time\n",
            "import os\nimport time\n\nimport utils.logging_config\nimport utils.cache\n"
            "import utils.phone_home\nimport utils.plain\n",
        )
    )
    bot.write("utils/__init__.py", "")
    bot.write(
        "utils/logging_config.py",
        "import logging, os\nos.makedirs('logs', exist_ok=True)\n"
        "logging.basicConfig(filename='logs/bot.log')\nlogging.getLogger().warning('started')\n",
    )
    bot.write(
        "utils/cache.py",
        "import os, sqlite3\ntry:\n    sqlite3.connect('data/cache.db').execute('create table t(x)')\n"
        "except OSError:\n    pass\nos.makedirs('data/cache/models', exist_ok=True)\n",
    )
    bot.write(
        "utils/phone_home.py",
        "import socket\ntry:\n    socket.create_connection(('discord.com', 443), 1)\n"
        "except OSError:\n    OFFLINE = True\n"
        "open('data/chat_history/1431878519016915044.json', 'a').write('')\n",
    )
    bot.write("utils/plain.py", "import json\nVALUE = json.dumps({'ok': True})\n")
    before = tree_digest(bot.root)
    run = run_suite_process(bot.root, tmp_path / "r", "--allow-stopped", ENVIRONMENT)
    after = tree_digest(bot.root)
    changed = sorted(set(before.items()) ^ set(after.items()))
    assert before == after, changed
    assert not list(bot.root.rglob("__pycache__"))

    imports = run.finding("test_bot_imports")
    assert imports["outcome"] == "passed", imports  # refused is not broken
    assert "utils.plain" in imports["details"]
    complete = run.finding("test_rehearsal_complete")
    assert complete["outcome"] == "failed", complete
    message = complete["message"]
    for stopped in (
        "utils.logging_config (main.py:11) stopped at utils/logging_config.py:3",
        "utils.cache (main.py:12) stopped at utils/cache.py:6",
        "utils.phone_home (main.py:13) stopped at utils/phone_home.py:6",
    ):
        assert stopped in message, message
    for refused in (
        "write logs/bot.log at utils/logging_config.py:3",
        "connect data/cache.db at utils/cache.py:3",
        "mkdir data/cache at utils/cache.py:6",
        "lookup discord.com at utils/phone_home.py:3",
        "write data/chat_history/1431878519016915044.json at utils/phone_home.py:6",
    ):
        assert refused in message, message
    assert "test_rehearsal_complete" not in critical_checks(run)


def test_no_rehearsal_turns_it_off(bot: DeploymentBuilder, tmp_path: Path) -> None:
    make_bot_venv(bot.root / ".venv")
    bot.write("main.py", "import no_such_module_anywhere\n")
    run = run_suite_process(
        bot.root, tmp_path / "r", "--allow-stopped", "--offline", "--no-rehearsal", ENVIRONMENT
    )
    for name in ("test_bot_imports", "test_rehearsal_complete"):
        finding = run.finding(name)
        assert finding["outcome"] == "skipped", finding
        assert "not applicable: --no-rehearsal" in finding["message"]
    # --offline alone keeps it: the rehearsal is local.
    run = run_suite_process(bot.root, tmp_path / "r2", "--allow-stopped", "--offline", ENVIRONMENT)
    finding = run.finding("test_bot_imports")
    assert finding["outcome"] == "failed" and "no_such_module_anywhere" in finding["message"]


#: An interpreter every user may run (a venv whose base Python lives under /root is not one).
SYSTEM_PYTHON = "/usr/bin/python3"


@pytest.mark.skipif(os.geteuid() != 0, reason="switching to the bot's user needs root")
@pytest.mark.skipif(not os.access(SYSTEM_PYTHON, os.X_OK), reason=f"needs {SYSTEM_PYTHON}")
def test_the_rehearsal_runs_as_the_units_user(tmp_path: Path) -> None:
    """User=nobody in the bot's unit: the rehearsal imports as nobody (the bot's module that
    records who imports it says so)."""
    root = Path(tempfile.mkdtemp(prefix="acore-rehearsal-"))
    try:
        root.chmod(0o755)
        bot = DeploymentBuilder(root / "acore_bot")
        bot.write(
            "whoami_check.py",
            "import os, pwd\nif pwd.getpwuid(os.geteuid()).pw_name != 'nobody':\n"
            "    raise RuntimeError('imported as ' + pwd.getpwuid(os.geteuid()).pw_name)\n",
        )
        main = bot.root / "main.py"
        main.write_text(
            main.read_text().replace("import time\n", "import time\nimport whoami_check\n")
        )
        unit = tmp_path / "discordbot.service"
        unit.write_text(
            f"[Service]\nUser=nobody\nWorkingDirectory={bot.root}\n"
            f"ExecStart={SYSTEM_PYTHON} main.py\n"
        )
        run = run_suite_process(
            bot.root,
            tmp_path / "r",
            "--allow-stopped",
            f"--systemd-unit={unit}",
            f"--bot-python={SYSTEM_PYTHON}",
            ENVIRONMENT,
        )
        finding = run.finding("test_bot_imports")
        assert finding["outcome"] == "passed", finding
        assert "as nobody (unit User=nobody)" in finding["details"], finding
        assert not list(bot.root.rglob("__pycache__"))
    finally:
        subprocess.run(["rm", "-rf", str(root)], check=False)


def test_the_rehearsal_gets_the_units_environment(bot: DeploymentBuilder, tmp_path: Path) -> None:
    """The unit's Environment= wins over .env in the bot (python-dotenv never overrides): a
    value the bot never sees must not fail the rehearsal."""
    make_bot_venv(bot.root / ".venv")
    bot.write("steps.py", "import os\nSTEPS = int(os.environ.get('KOBOLDCPP_STEPS', 'thirty'))\n")
    main = bot.root / "main.py"
    main.write_text(main.read_text().replace("import time\n", "import time\nimport steps\n"))
    unit = tmp_path / "discordbot.service"
    unit.write_text(
        f"[Service]\nWorkingDirectory={bot.root}\nEnvironment=KOBOLDCPP_STEPS=30\n"
        f"ExecStart={bot.root}/.venv/bin/python main.py\n"
    )
    with_unit = run_suite_process(
        bot.root, tmp_path / "r", "--allow-stopped", f"--systemd-unit={unit}", ENVIRONMENT
    )
    assert with_unit.finding("test_bot_imports")["outcome"] == "passed"
    unit.write_text(unit.read_text().replace("Environment=KOBOLDCPP_STEPS=30\n", ""))
    without = run_suite_process(
        bot.root, tmp_path / "r2", "--allow-stopped", f"--systemd-unit={unit}", ENVIRONMENT
    )
    finding = without.finding("test_bot_imports")
    assert finding["outcome"] == "failed" and "steps.py:2: ValueError" in finding["message"]
