"""The hostile-input corpus: every case through the whole suite gives exit 1 or 2 with the
right finding, never 3 (the suite crashing or unable to decide)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.support.builder import DeploymentBuilder
from tests.support.local_suite import LOCAL_CHECKS, run_checks
from tests.support.runs import SuiteRun

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
LOCAL_FILES = tuple(Path(f).name for f in LOCAL_CHECKS)


def _big_persona(bot: DeploymentBuilder) -> None:
    path = bot.root / "prompts/characters/huge.json"
    with open(path, "w") as handle:
        handle.write('{"spec": "chara_card_v2", "data": {"name": "Huge", "description": "')
        chunk = "x" * (1 << 20)
        for _ in range(50):
            handle.write(chunk)
        handle.write('"}}')


def _deep_persona(bot: DeploymentBuilder) -> None:
    bot.write(
        "prompts/characters/deep.json",
        '{"spec": "chara_card_v2", "data": ' + "[" * 10_000 + "]" * 10_000 + "}",
    )


def _symlink_loops(bot: DeploymentBuilder) -> None:
    (bot.root / "prompts/characters/loop.json").symlink_to("loop.json")
    (bot.root / "data/chat_history/loop.json").symlink_to("loop.json")
    (bot.root / "data/user_profiles/cycle").symlink_to(".")
    (bot.root / "data/deeper").symlink_to("../data")


def _characters_dir_loop(bot: DeploymentBuilder) -> None:
    (bot.root / "prompts/loop").symlink_to("loop")
    bot.set_env(CHARACTERS_DIR="./prompts/loop")


def _env_missing(bot: DeploymentBuilder) -> None:
    bot.remove(".env")


def _unreadable(bot: DeploymentBuilder) -> None:
    (bot.root / "prompts/characters/hal_9000.json").chmod(0)
    (bot.root / "data/chat_history").chmod(0)


#: name -> (builder, check, text in its message); for what cannot sit in the repository
GENERATED: dict[str, tuple[Callable[[DeploymentBuilder], None], str, str]] = {
    "persona_50mb": (
        _big_persona,
        "test_personas.py::test_persona_files_valid",
        "huge.json: 50.0 MiB, larger than any real card",
    ),
    "persona_nested_10000": (
        _deep_persona,
        "test_personas.py::test_persona_files_valid",
        "deep.json: nested too deeply",
    ),
    "symlink_loops": (
        _symlink_loops,
        "test_personas.py::test_persona_files_valid",
        "loop.json: unreadable",
    ),
    "characters_dir_symlink_loop": (
        _characters_dir_loop,
        "test_personas.py::test_characters_dir_loadable",
        "to be a directory",
    ),
    "env_missing": (_env_missing, "test_config.py::test_env_file_present", "expected a .env file"),
    "unreadable_files": (
        _unreadable,
        "test_personas.py::test_persona_files_valid",
        "hal_9000.json: unreadable",
    ),
}


def corpus_cases() -> dict[str, tuple[Callable[[DeploymentBuilder], None], str, str]]:
    cases = dict(GENERATED)
    for directory in sorted(p for p in CORPUS.iterdir() if (p / "case.json").is_file()):
        spec = json.loads((directory / "case.json").read_text())

        def overlay(bot: DeploymentBuilder, files: Path = directory / "files") -> None:
            for source in sorted(files.rglob("*")):
                if source.is_file():
                    target = bot.root / source.relative_to(files)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(source, target)
            if (bot.root / ".env").exists():
                (bot.root / ".env").chmod(0o600)

        cases[directory.name] = (overlay, spec["finding"], spec["message_contains"])
    return cases


CASES = corpus_cases()


@pytest.fixture(scope="module")
def corpus_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SuiteRun]:
    def run(name: str) -> tuple[str, SuiteRun]:
        if name == "unreadable_files" and os.geteuid() == 0:
            return name, SuiteRun(-1, "", "root reads every file", Path())
        root = tmp_path_factory.mktemp(name)
        bot = DeploymentBuilder(root / "acore_bot")
        CASES[name][0](bot)
        try:
            return name, run_checks(bot.root, root / "reports", files=(), timeout=300)
        finally:
            for path in (
                bot.root / "prompts/characters/hal_9000.json",
                bot.root / "data/chat_history",
            ):
                if path.exists():
                    path.chmod(0o755)

    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(pool.map(run, CASES))


@pytest.mark.slow  # ~45 s on 2 cores: 18 whole-suite runs, three at a time
@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_input_gives_a_finding_not_a_crash(
    corpus_runs: dict[str, SuiteRun], name: str
) -> None:
    run = corpus_runs[name]
    if run.code == -1:
        pytest.skip(f"{name}: {run.stderr}")
    _, check, text = CASES[name]
    assert run.code in (1, 2), f"{name}: exit {run.code}\n{run.stdout[-3000:]}{run.stderr[-2000:]}"
    finding = run.finding(check)
    assert finding["outcome"] == "failed", (name, finding)
    assert text in finding["message"], (name, finding["message"])
    crashed = [
        c["nodeid"]
        for c in run.report["checks"]
        if c["outcome"] == "crashed" and any(f in c["nodeid"] for f in LOCAL_FILES)
    ]
    assert not crashed, f"{name}: local checks crashed on hostile input: {crashed}"
