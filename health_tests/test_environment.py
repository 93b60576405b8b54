"""The bot's own Python: which entrypoint runs, its interpreter, and what it can import.

Every fact here is asked of the bot's interpreter (its .venv, uv's, or the system's), never
of the interpreter running the suite.
"""

import shlex
from pathlib import Path

import pytest

from acore_doctor import check
from acore_doctor.deployment import DEPLOYMENT_MARKERS, Deployment
from acore_doctor.probes.declared import Declared
from acore_doctor.probes.entrypoint import Entrypoint, Unit
from acore_doctor.probes.interpreter import BotPython
from acore_doctor.probes.rehearsal import RehearsalFacts
from acore_doctor.rules.dependencies import conflicts, install_command, unmet_requirements

MIN_PYTHON = (3, 11)
AUDIOOP_REMOVED = (3, 13)
GUIDE = "guides/deployment_issues.md"


def _require_probe(bot_python: BotPython) -> None:
    assert bot_python.error is None, (
        f"expected to run the bot's Python ({bot_python.interpreter.source}), found: "
        f"{bot_python.error}"
    )


@pytest.mark.critical
@check(
    "The directory checked is an acore_bot deployment",
    "Point the suite at the bot's checkout (the directory with main.py or launcher.py, "
    "config/ and .env): --bot-dir=/path/to/acore_bot, or ACORE_BOT_DIR.",
    guide=f"{GUIDE}#not-an-acore_bot-deployment",
)
def test_is_an_acore_bot_deployment(deployment: Deployment, record_details) -> None:
    # A directory that is none is the run's only finding and makes it unknown (exit 3):
    # the engine deselects every other check (plugin.IDENTITY_CHECK).
    present = [name for name in DEPLOYMENT_MARKERS if (deployment.bot_dir / name).exists()]
    record_details(
        f"{deployment.bot_dir}: {', '.join(present) or 'no entrypoint or config code'}"
        + ("; .env present" if deployment.env_file.exists() else "; no .env")
    )
    assert deployment.not_a_deployment is None, (
        "expected main.py or launcher.py, config/ or config.py, or a .env, found "
        + deployment.not_a_deployment
    )


@pytest.mark.warning
@check(
    "Which bot runs here is known",
    "Start the bot (or add its systemd unit), or tell the suite with --entrypoint=legacy "
    "(main.py) or --entrypoint=runtime (launcher.py).",
    guide=f"{GUIDE}#entrypoint-unknown",
)
def test_entrypoint_detected(entrypoint: Entrypoint, record_details) -> None:
    record_details(f"entrypoint {entrypoint.kind} from {entrypoint.source}: {entrypoint.detail}")
    assert entrypoint.kind is not None, (
        f"expected main.py or launcher.py in the unit, the process or the files, found: "
        f"{entrypoint.detail}"
    )


@pytest.mark.critical
@check(
    "The bot's Python is 3.11 or newer",
    "Install Python 3.11+ and recreate the bot's virtual environment with it.",
    guide=f"{GUIDE}#python-too-old",
)
def test_python_version(bot_python: BotPython, record_details) -> None:
    _require_probe(bot_python)
    record_details(
        f"{bot_python.executable} ({bot_python.interpreter.source}): "
        f"Python {bot_python.version_text}",
    )
    assert bot_python.version[:2] >= MIN_PYTHON, (
        f"expected Python >= {'.'.join(map(str, MIN_PYTHON))}, "
        f"found {bot_python.version_text} at {bot_python.executable}"
    )


@pytest.mark.warning
@check(
    "The bot runs inside a virtual environment",
    "Create one with 'python3 -m venv .venv' (or 'uv venv') in the bot's directory and "
    "install into it, so system packages and the bot's dependencies cannot break each other.",
    guide=f"{GUIDE}#no-virtual-environment",
)
def test_virtual_environment(bot_python: BotPython) -> None:
    _require_probe(bot_python)
    assert bot_python.in_venv, (
        f"expected a virtual environment, found the system interpreter "
        f"{bot_python.executable} (prefix {bot_python.prefix})"
    )


@pytest.mark.critical
@check(
    "The bot's declared dependencies are installed in its Python",
    "Install what the bot declares into the interpreter it runs with: run the install command "
    "the finding names, which follows how this bot declares its dependencies.",
    guide=f"{GUIDE}#bot-dependencies-missing",
)
def test_declared_dependencies_installed(
    bot_python: BotPython, declared: Declared, bot_dir: Path, record_details
) -> None:
    if not declared.anything:
        pytest.skip(
            "not applicable: the bot declares no dependencies (no pyproject.toml [project], "
            "uv.lock or requirements.txt); the import rehearsal checks what its entrypoint imports"
        )
    _require_probe(bot_python)
    unmet, unparsed = unmet_requirements(declared, bot_python.distributions, bot_python.markers)
    notes = [
        f"declared in {', '.join(declared.sources)}: {len(declared.requirements)} requirements"
    ]
    if declared.extras:
        notes.append("extras enabled: " + ", ".join(sorted(declared.extras)))
    if declared.other_files:
        notes.append("not judged (not needed to start): " + ", ".join(declared.other_files))
    notes += [f"cannot read {p}" for p in declared.problems]
    notes += [f"not a requirement: {u}" for u in unparsed]
    record_details("; ".join(notes))
    assert not unmet, (
        f"expected every declared requirement installed in {bot_python.executable}, found: "
        + "; ".join(map(str, unmet))
        + ". Install with: cd "
        + shlex.quote(str(bot_dir))
        + " && "
        + install_command(declared, bot_python.executable or None, unmet)
    )


@pytest.mark.warning
@check(
    "The packages installed in the bot's Python agree with each other",
    "Reinstall the bot's dependencies so that every package gets what it requires "
    "('pip check' in the bot's interpreter lists the same conflicts).",
    guide=f"{GUIDE}#package-conflicts",
)
def test_installed_packages_agree(bot_python: BotPython, declared: Declared) -> None:
    _require_probe(bot_python)
    found = conflicts(bot_python.distributions, bot_python.markers, declared.project_name)
    assert not found, (
        f"expected every installed package's requirements met in {bot_python.executable}, "
        "found: " + "; ".join(found)
    )


@pytest.mark.critical
@check(
    "The bot's code imports and parses in its own Python",
    "Fix the file and line the finding names (or install the missing package), then run the "
    "gate again.",
    guide=f"{GUIDE}#bot-code-does-not-import",
)
def test_bot_imports(import_rehearsal: RehearsalFacts, record_details) -> None:
    facts = import_rehearsal
    if facts.error:
        pytest.skip(f"not judged: {facts.error} (see 'The import rehearsal ran to the end')")
    details = [
        f"{facts.entry}'s imports ({', '.join(facts.modules) or 'none'}) in "
        f"{facts.import_seconds:.2f} s as {facts.user}"
        + (f" ({facts.note})" if facts.note else ""),
        f"{facts.parsed} reachable .py files compiled",
    ]
    details += facts.handled
    if facts.attempts:
        details.append("refused: " + "; ".join(facts.attempts))
    record_details("; ".join(details))
    problems = [
        f"{f.file or facts.entry}:{f.line or f.entry_line}: {f.error} "
        f"(importing {', '.join(f.modules)} from {facts.entry}:{f.entry_line})"
        for f in facts.broken
    ]
    problems += [f"{p.file}:{p.line or '?'}: {p.message}" for p in facts.syntax]
    assert not problems, (
        f"expected the bot's start-up imports to succeed and every .py file reachable from "
        f"{facts.entry} to parse, found: " + "; ".join(problems)
    )


@pytest.mark.warning
@check(
    "The import rehearsal ran to the end",
    "Nothing may be wrong with the bot: the rehearsal could not vouch for these imports. Move "
    "work done at import time (log files, connections) into start-up code, or turn the "
    "rehearsal off with --no-rehearsal.",
    guide=f"{GUIDE}#import-rehearsal-incomplete",
)
def test_rehearsal_complete(import_rehearsal: RehearsalFacts) -> None:
    facts = import_rehearsal
    problems = [facts.error] if facts.error else []
    for f in facts.not_judged:
        why = "its memory limit" if f.memory else "a refused write, connection or spawn"
        problems.append(
            f"{', '.join(f.modules)} ({facts.entry}:{f.entry_line}) stopped at "
            f"{f.file or '?'}:{f.line or '?'} on {why}: {f.error}"
        )
    problems += [f"not parsed: {u}" for u in facts.unread]
    if facts.truncated:
        problems.append("more reachable files than the rehearsal compiles; the rest not parsed")
    assert not problems, (
        "expected the rehearsal to import and parse everything, found: "
        + "; ".join(problems)
        + ("; refused: " + "; ".join(facts.attempts) if facts.attempts else "")
    )


@pytest.mark.warning
@check(
    "discord.py works without audioop on Python 3.13+",
    "Upgrade discord.py (2.4.0 or newer) or install audioop-lts, or run the bot on Python 3.12.",
    guide=f"{GUIDE}#python-313-and-audioop",
)
def test_audioop_on_new_python(bot_python: BotPython) -> None:
    _require_probe(bot_python)
    if bot_python.version[:2] < AUDIOOP_REMOVED:
        pytest.skip(f"not applicable: Python {bot_python.version_text} still has audioop")
    assert not (bot_python.discord_imports_audioop and not bot_python.audioop_available), (
        f"expected a discord.py that does not need audioop on Python {bot_python.version_text}, "
        "found one that imports audioop, which this Python no longer ships"
    )


@pytest.mark.warning
@check(
    "The systemd unit stops a crash loop and limits what starts",
    "Add StartLimitIntervalSec=600 and StartLimitBurst=5 to [Unit] so systemd gives up on a "
    "crash loop (and alerts), and run launcher.py with '--profile discord' (or --no-web "
    "--no-cli) unless you mean to expose the web API on 0.0.0.0:8000.",
    guide=f"{GUIDE}#service-unit-restarts-forever",
)
def test_service_unit_sane(systemd_units: list[Unit]) -> None:
    if not systemd_units:
        pytest.skip("not applicable: no readable systemd unit for this deployment")
    problems = []
    for unit in systemd_units:
        restart = (unit.restart or "no").strip()
        if restart != "no" and not unit.start_limit_burst:
            problems.append(
                f"{unit.path}: Restart={restart} with no StartLimitBurst, so a crash "
                "loop restarts forever"
            )
        command = unit.exec_start or ""
        if "launcher.py" in command and not (
            "--profile discord" in command
            or "--profile=discord" in command
            or "--no-web" in command
        ):
            problems.append(
                f"{unit.path}: launcher.py without --profile discord or --no-web "
                "also starts the web API on 0.0.0.0:8000 and the CLI"
            )
    assert not problems, "expected a bounded restart policy and only Discord, found: " + "; ".join(
        problems
    )
