"""What changed since a check last passed: a healthy baseline run, then one change at a time
(twenty kinds), each new finding naming the change that caused it first; harmless changes are
listed in ``changes`` and never a likely cause. Then ``acore-doctor changes`` reads it back."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from acore_doctor.simulate import Simulator
from acore_doctor.simulate.discord import COMMAND_BADGE
from tests.support.changes import HealthyDeployment, make_healthy_deployment
from tests.support.runs import SUITE_ROOT

SECRET_TOKEN_VALUE = "not-a-token-but-a-secret-8c1f0e2d"
CARDS = "prompts/characters"


@dataclass
class Change:
    label: str
    apply: Callable[[HealthyDeployment], None]
    #: (kind, name) of the fingerprint change it makes
    expect: tuple[str, str] | Callable[[HealthyDeployment], tuple[str, str]]
    #: the check it breaks (None: harmless)
    breaks: str | None = None
    revert: Callable[[HealthyDeployment], None] | None = None
    args: tuple[str, ...] = ()


def _edit_json(path: Path, edit: Callable[[dict], None]) -> None:
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data, indent=2))


def _setter(**values: str | None) -> Callable[[HealthyDeployment], None]:
    return lambda d: d.bot.set_env(**values)


def _keep(
    path: str,
) -> tuple[Callable[[HealthyDeployment], None], Callable[[HealthyDeployment], None]]:
    """(save a copy, put it back) for a file a change edits or deletes."""
    saved: dict[str, bytes] = {}

    def save(d: HealthyDeployment) -> None:
        saved[path] = (d.bot.root / path).read_bytes()

    def restore(d: HealthyDeployment) -> None:
        (d.bot.root / path).write_bytes(saved[path])

    return save, restore


def _disk_threshold(d: HealthyDeployment) -> tuple[str, ...]:
    usage = shutil.disk_usage(d.bot.root)
    used = 100.0 * usage.used / (usage.used + usage.free)
    return (f"--disk-critical-percent={max(0.0, used - 0.5):.2f}",)


def _changes() -> list[Change]:
    out: list[Change] = []
    env_saved: dict[str, str] = {}

    def remember(d: HealthyDeployment, key: str) -> None:
        env_saved[key] = d.bot.env()[key]

    out.append(
        Change(
            "non-secret setting",
            _setter(OLLAMA_MODEL="llama3.1:8b"),
            ("setting", "OLLAMA_MODEL"),
            "test_model_pulled",
            _setter(OLLAMA_MODEL="llama3.2"),
        )
    )
    out.append(
        Change(
            "secret setting",
            lambda d: (
                remember(d, "DISCORD_TOKEN"),
                d.bot.set_env(DISCORD_TOKEN=SECRET_TOKEN_VALUE),
            ),
            ("setting", "DISCORD_TOKEN"),
            "test_discord_token_shape",
            lambda d: d.bot.set_env(DISCORD_TOKEN=env_saved["DISCORD_TOKEN"]),
        )
    )
    out.append(
        Change(
            "removed key",
            lambda d: (remember(d, "OLLAMA_HOST"), d.bot.set_env(OLLAMA_HOST=None)),
            ("setting", "OLLAMA_HOST"),
            "test_ollama_answers",
            lambda d: d.bot.set_env(OLLAMA_HOST=env_saved["OLLAMA_HOST"]),
        )
    )

    def set_discord_version(old: str, new: str) -> Callable[[HealthyDeployment], None]:
        def change(d: HealthyDeployment) -> None:
            site = d.site_packages
            (site / f"discord_py-{old}.dist-info").rename(site / f"discord_py-{new}.dist-info")
            meta = site / f"discord_py-{new}.dist-info" / "METADATA"
            meta.write_text(meta.read_text().replace(old, new))
            (site / "discord" / "__init__.py").write_text(f'__version__ = "{new}"\n')

        return change

    out.append(
        Change(
            "downgraded package",
            set_discord_version("2.4.0", "1.7.3"),
            ("package", "discord-py"),  # the sample declares discord.py>=2.3.2
            "test_declared_dependencies_installed",
            set_discord_version("1.7.3", "2.4.0"),
        )
    )

    def remove_package(d: HealthyDeployment) -> None:
        site = d.site_packages
        shutil.move(site / "aiohttp", d.bot.root.parent / "aiohttp-pkg")
        info = next(site.glob("aiohttp-*.dist-info"))
        shutil.move(info, d.bot.root.parent / info.name)

    def restore_package(d: HealthyDeployment) -> None:
        site = d.site_packages
        shutil.move(d.bot.root.parent / "aiohttp-pkg", site / "aiohttp")
        info = next(d.bot.root.parent.glob("aiohttp-*.dist-info"))
        shutil.move(info, site / info.name)

    out.append(
        Change(
            "removed package",
            remove_package,
            ("package", "aiohttp"),
            "test_declared_dependencies_installed",
            restore_package,
        )
    )
    save, restore = _keep(f"{CARDS}/hal_9000.json")

    def edit_field(d: HealthyDeployment) -> None:
        save(d)
        _edit_json(d.bot.root / CARDS / "hal_9000.json", lambda c: c["data"].update(name=""))

    out.append(
        Change(
            "edited persona field",
            edit_field,
            ("persona-field", f"{CARDS}/hal_9000.json#name"),
            "test_persona_files_valid",
            restore,
        )
    )
    save_card, restore_card = _keep(f"{CARDS}/dagoth_ur.json")
    out.append(
        Change(
            "deleted card",
            lambda d: (save_card(d), (d.bot.root / CARDS / "dagoth_ur.json").unlink()),
            ("persona", f"{CARDS}/dagoth_ur.json"),
            "test_character_resolves",
            restore_card,
        )
    )
    save_fw, restore_fw = _keep("prompts/frameworks/neuro.json")
    out.append(
        Change(
            "framework file broken",
            lambda d: (save_fw(d), (d.bot.root / "prompts/frameworks/neuro.json").write_text("{")),
            ("persona", "prompts/frameworks/neuro.json"),
            "test_framework_file",
            restore_fw,
        )
    )
    out.append(
        Change(
            "unit User= change",
            lambda d: d.write_unit(user="nobody"),
            lambda d: ("unit", f"{d.unit}:Service.User"),
            "test_bot_dirs_writable",
            lambda d: d.write_unit(user="root"),
        )
    )
    out.append(
        Change(
            "model pulled again with a new digest",
            lambda d: d.sim.ollama.digests.update({"llama3.2:latest": "ab" * 32}),
            ("service", "llama3.2:latest"),
        )
    )
    out.append(
        Change(
            "removed model",
            lambda d: d.sim.ollama.models.remove("llama3.2:latest"),
            ("service", "llama3.2:latest"),
            "test_model_pulled",
            lambda d: d.sim.ollama.models.insert(0, "llama3.2:latest"),
            args=("-n", "2"),  # attribution across pytest-xdist workers
        )
    )
    out.append(
        Change(
            "Ollama upgraded",
            lambda d: setattr(d.sim.ollama, "version", "0.12.3"),
            ("service", "version"),
        )
    )
    out.append(
        Change(
            "privileged intents switched off",
            lambda d: setattr(d.sim.discord, "application_flags", COMMAND_BADGE),
            ("service", "privileged intents"),
            "test_privileged_intents_enabled",
            lambda d: setattr(d.sim.discord, "application_flags", None),
        )
    )
    out.append(
        Change(
            "disk filled (past the critical threshold)",
            lambda d: d.extra.extend(_disk_threshold(d)),
            ("host", ""),
            "test_disk_not_full",
            lambda d: d.extra.clear(),
        )
    )
    out.append(
        Change(
            "OpenRouter model delisted",
            lambda d: d.sim.openrouter.models.pop("deepseek/deepseek-r1"),
            ("service", "deepseek/deepseek-r1"),
            "test_openrouter_models_listed",
            lambda d: d.sim.openrouter.models.update({"deepseek/deepseek-r1": 163840}),
        )
    )
    out.append(
        Change(
            "comment in .env",
            lambda d: d.bot.env_path.write_text(
                d.bot.env_path.read_text() + "# rotated the token on Tuesday\n"
            ),
            ("env-file", ".env"),
        )
    )
    out.append(
        Change(
            "unrelated key",
            _setter(RAG_COLLECTION_NAME="persona_memories_v2"),
            ("setting", "RAG_COLLECTION_NAME"),
        )
    )

    def git_init(d: HealthyDeployment) -> None:
        (d.bot.root / ".gitignore").write_text(".venv/\ndata/\nlogs/\n.env\n")
        d.git("init", "-q")
        d.git("add", "-A")
        d.git("commit", "-q", "-m", "deploy v1")

    out.append(Change("deployment becomes a git checkout", git_init, ("code", "commit")))

    def new_commit(d: HealthyDeployment) -> None:
        (d.bot.root / "prompts/frameworks/neuro.json").write_text("[]")
        d.git("commit", "-q", "-am", "simplify the neuro framework")

    out.append(
        Change(
            "new commit",
            new_commit,
            ("code", "commit"),
            "test_framework_file",
            lambda d: d.git("revert", "--no-edit", "HEAD"),
        )
    )
    out.append(
        Change(
            "dirty file",
            lambda d: (d.bot.root / CARDS / "hal_9000.json").write_text('{"spec": '),
            ("code", f"dirty:{CARDS}/hal_9000.json"),
            "test_persona_files_valid",
            lambda d: d.git("checkout", "--", f"{CARDS}/hal_9000.json"),
        )
    )
    return out


CHANGES = _changes()


def _new_findings(report: dict) -> list[dict]:
    return [f for s in ("issues", "warnings") for f in report[s] if "changes_since_pass" in f]


def _matches(entry: dict, expect: tuple[str, str]) -> bool:
    kind, names = expect
    return entry["kind"] == kind and (entry["name"] in names.split("|") or kind == "host")


@pytest.fixture(scope="module")
def healthy(tmp_path_factory: pytest.TempPathFactory):
    with Simulator() as sim:
        yield make_healthy_deployment(tmp_path_factory.mktemp("changes"), sim)


@pytest.mark.timeout(1200)
def test_each_change_is_named_first_by_the_finding_it_causes(healthy: HealthyDeployment) -> None:
    d = healthy
    baseline = d.run()
    assert baseline.code == 0, baseline.stdout[-3000:]
    first_run = baseline.report["timestamp"]  # latest.json is the next run's once it runs
    assert baseline.report["changes"] == []
    named_first, broke, problems = 0, 0, []
    for change in CHANGES:
        change.apply(d)
        index = d.bot.root / ".git" / "index"
        before = index.stat().st_mtime_ns if index.exists() else None
        html = d.reports.parent / f"report-{len(change.label)}.html"
        run = d.run(*change.args, f"--html={html}", "--self-contained-html")
        # git is asked read-only: not even the index is refreshed by a run
        assert (index.stat().st_mtime_ns if index.exists() else None) == before
        report = run.report
        expect = change.expect(d) if callable(change.expect) else change.expect
        listed = [e for e in report["changes"] if _matches(e, expect)]
        new = _new_findings(report)
        if not listed:
            problems.append(f"{change.label}: {expect} not in changes: {report['changes']}")
        if change.breaks is None:
            # Harmless: listed, and never called anyone's likely cause.
            for finding in new:
                causes = [e for e in finding["changes_since_pass"] if e["read_by_check"]]
                if any(_matches(e, expect) for e in causes):
                    problems.append(f"{change.label}: harmless change blamed by {finding['check']}")
            continue
        broke += 1
        mine = [f for f in new if change.breaks in f["check"]]
        if not mine:
            problems.append(f"{change.label}: {change.breaks} not new: {run.stdout[-2500:]}")
        elif (
            mine[0]["changes_since_pass"]
            and _matches(mine[0]["changes_since_pass"][0], expect)
            and mine[0]["changes_since_pass"][0]["read_by_check"]
        ):
            named_first += 1
            assert (
                "likely cause:" in run.stdout
                and f"NEW since {mine[0]['last_passed']}" in run.stdout
            )
            assert 'class="change-likely">likely cause: ' in html.read_text()  # under the finding
        else:
            problems.append(f"{change.label}: first change {mine[0]['changes_since_pass'][:2]}")
        if change.revert is not None:
            change.revert(d)
            again = d.run()
            assert again.code == 0, f"{change.label} not reverted: {again.stdout[-2000:]}"
    print(f"named first: {named_first} of {broke}; problems: {problems}")
    assert len(CHANGES) == 20
    assert broke >= 15
    assert named_first >= broke - 1, problems
    assert not [p for p in problems if "harmless change blamed" in p or "not in changes" in p]

    # The secret changed, but no value of it went anywhere: only "(changed)".
    written = b"".join(p.read_bytes() for p in d.reports.rglob("*") if p.is_file())
    assert SECRET_TOKEN_VALUE.encode() not in written
    assert b"rotated the token" not in written  # a comment is content, never stored
    # No persona text in what this feature keeps: field names and keyed hashes only.
    kept = b"".join(
        (d.reports / n).read_bytes() for n in ("fingerprints.jsonl", "fingerprint_cache.json")
    )
    card = json.loads((d.bot.root / CARDS / "gothmommy.json").read_text())["data"]
    for text in (card["name"], card["description"][:40], card["first_mes"][:40]):
        assert text.encode() not in kept, text

    # acore-doctor changes: since the last healthy run, as text and JSON.
    cli = [sys.executable, "-m", "acore_doctor.cli", "changes", f"--report-dir={d.reports}"]
    text = subprocess.run(
        [*cli, f"--bot-dir={d.bot.root}"], capture_output=True, text=True, cwd=SUITE_ROOT
    )
    assert text.returncode == 0, text.stderr
    since = subprocess.run(
        [*cli, f"--bot-dir={d.bot.root}", "--json", f"--since={first_run}"],
        capture_output=True,
        text=True,
        cwd=SUITE_ROOT,
    )
    assert since.returncode == 0, since.stderr
    document = json.loads(since.stdout)
    assert document["since"] == first_run
    names = {(e["kind"], e["name"]) for e in document["changes"]}
    assert ("setting", "RAG_COLLECTION_NAME") in names
    assert ("service", "version") in names  # Ollama upgraded, never reverted
    assert SECRET_TOKEN_VALUE not in since.stdout + text.stdout


def test_a_subset_run_keeps_what_it_did_not_observe(tmp_path: Path) -> None:
    """A check rerun alone fingerprints what it saw; the next full run sees no phantom change."""
    with Simulator() as sim:
        d = make_healthy_deployment(tmp_path, sim)
        assert d.run().code == 0
        subset = d.run("health_tests/test_config.py::test_discord_token_shape")
        assert subset.report["changes"] == []
        d.bot.set_env(OLLAMA_MODEL="llama3.1:8b")
        full = d.run()
    new = _new_findings(full.report)
    assert [f["check"] for f in new] == ["health_tests/test_llm.py::test_model_pulled"]
    kinds = {(e["kind"], e["name"]) for e in new[0]["changes_since_pass"]}
    assert kinds == {("setting", "OLLAMA_MODEL"), ("env-file", ".env")}
    assert new[0]["changes_since_pass"][0]["after"] == "llama3.1:8b"
