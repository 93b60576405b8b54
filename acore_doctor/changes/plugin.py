"""Health-run hooks for what changed: record each check's inputs, fingerprint the deployment,
attribute each new finding to the changes since its check last passed, keep the fingerprint.

- Each fixture's setup and each check run inside a :class:`~acore_doctor.changes.inputs.Recording`;
  a check's inputs are what it read, what its fixtures read (also when set up for an earlier
  check), and the fixtures themselves (``fixture:<name>``).
- Facts the run already has are kept as their fixtures return them (:data:`CAPTURED`).
- pytest-xdist: each worker hands its inputs and observed facts to the controller in its
  ``workeroutput``, as it does its findings.
- Enrichment (before anything is written): the report's top-level ``changes`` (since the
  previous run) and, for each new issue or warning, ``changes_since_pass``.
- Outputs: the fingerprint is appended to ``fingerprints.jsonl`` (only what changed).
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from acore_doctor.changes import attribute, store
from acore_doctor.changes import fingerprint as fp
from acore_doctor.changes.inputs import Recording
from acore_doctor.run_state import is_xdist_worker, state_of

#: Fixtures whose values are facts the fingerprint reuses (no second read, no request).
CAPTURED = frozenset(
    {"bot_python", "persona_catalog", "systemd_units", "disks", "thresholds", "net_probes"}
)
WORKER_KEY = "acore_doctor_changes"


@dataclass
class ChangesRun:
    fixture_inputs: dict[str, set[str]] = field(default_factory=dict)
    check_inputs: dict[str, set[str]] = field(default_factory=dict)
    captured: dict[str, Any] = field(default_factory=dict)
    #: facts observed by xdist workers: fingerprint keys and the scopes they cover
    worker_observed: fp.Fingerprint = field(default_factory=dict)
    worker_scopes: set[str] = field(default_factory=set)
    #: computed at enrichment, written with the outputs
    observed: fp.Fingerprint = field(default_factory=dict)
    scopes: set[str] = field(default_factory=set)
    history: store.History | None = None
    cache: fp.HashCache | None = None
    bytes_written: int = 0


RUN = pytest.StashKey[ChangesRun]()


def run_of(config: pytest.Config) -> ChangesRun:
    run = config.stash.get(RUN, None)
    if run is None:
        run = config.stash[RUN] = ChangesRun()
    return run


# -- recording ----------------------------------------------------------------------------
@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest) -> Any:
    run = run_of(request.config)
    recording = Recording()
    try:
        with recording:
            result = yield
    finally:  # a fixture that failed (or skipped) read its inputs too
        run.fixture_inputs.setdefault(fixturedef.argname, set()).update(recording.seen)
    if fixturedef.argname in CAPTURED:
        run.captured[fixturedef.argname] = result
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    run = run_of(item.config)
    recording = Recording()
    try:
        with recording:
            return (yield)
    finally:
        names = list(getattr(item, "fixturenames", ()))
        seen = set(recording.seen)
        seen.update(f"fixture:{name}" for name in names)
        for name in names:
            seen.update(run.fixture_inputs.get(name, ()))
        run.check_inputs[item.nodeid] = seen


# -- facts observed where the checks ran ---------------------------------------------------
def observed_facts(config: pytest.Config, run: ChangesRun) -> tuple[fp.Fingerprint, set[str]]:
    """What this process's fixtures already fetched, as fingerprint keys and their scopes."""
    state = state_of(config)
    deployment = state.deployment
    hasher = fp.Hasher(fp.load_key(_report_dir(config)))
    out: fp.Fingerprint = {}
    scopes: set[str] = set()

    def add(scope: str, part: fp.Fingerprint) -> None:
        out.update(part)
        scopes.add(scope)

    captured = run.captured
    bot_python = captured.get("bot_python")
    if bot_python is not None and not getattr(bot_python, "error", None):
        part = fp.python_part(bot_python)
        add("python", {k: v for k, v in part.items() if k.startswith("python|")})
        add("package", {k: v for k, v in part.items() if k.startswith("package|")})
    if "persona_catalog" in captured:
        part = fp.persona_part(deployment.bot_dir, (), captured["persona_catalog"], hasher, None)  # type: ignore[arg-type]
        add("persona-field", part)
    if "systemd_units" in captured:
        add("unit", fp.unit_part(captured["systemd_units"] or [], hasher, state.redact))
    if "disks" in captured:
        add("host:disk", fp.disk_part(captured["disks"] or [], captured.get("thresholds")))
    cache = captured.get("net_probes")
    results = getattr(cache, "results", None)
    if isinstance(results, dict):
        for scope, part in fp.services_part(results, deployment.settings).items():
            add(scope, {k: state.redact(v) for k, v in part.items()})
    return out, scopes


def _report_dir(config: pytest.Config) -> Path:
    from acore_doctor.run_state import report_dir_of

    return report_dir_of(config)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if not is_xdist_worker(config) or config.option.collectonly:
        return
    run = run_of(config)
    try:
        observed, scopes = observed_facts(config, run)
    except Exception:  # a comfort: never the worker's verdict
        observed, scopes = {}, set()
    config.workeroutput[WORKER_KEY] = {  # type: ignore[attr-defined]
        "inputs": {nodeid: sorted(seen) for nodeid, seen in run.check_inputs.items()},
        "observed": observed,
        "scopes": sorted(scopes),
    }


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    part = (getattr(node, "workeroutput", None) or {}).get(WORKER_KEY)
    if not isinstance(part, dict):
        return
    run = run_of(node.config)
    for nodeid, seen in (part.get("inputs") or {}).items():
        run.check_inputs.setdefault(nodeid, set()).update(seen)
    run.worker_observed.update(part.get("observed") or {})
    run.worker_scopes.update(part.get("scopes") or ())


# -- the fingerprint and the attribution ----------------------------------------------------
def fingerprint_now(config: pytest.Config, run: ChangesRun, report_dir: Path) -> None:
    """This run's observed fingerprint (local facts, reused facts, the workers' facts)."""
    state = state_of(config)
    deployment = state.deployment
    hasher = fp.Hasher(fp.load_key(report_dir))
    cache = run.cache = fp.HashCache(report_dir)
    redact = state.redact
    settings = deployment.settings
    bot_dir = deployment.bot_dir
    observed: fp.Fingerprint = {}
    scopes = {"deployment", "code", "setting", "env-file", "persona", "host", "host:memory"}
    observed[fp.key("deployment", "bot_dir")] = redact(str(bot_dir))
    observed.update(fp.code_part(bot_dir, hasher, cache, redact))
    observed.update(fp.settings_part(settings, deployment.env_file, bot_dir, hasher, redact, cache))
    persona_roots = [bot_dir / "prompts"]
    with contextlib.suppress(KeyError, OSError, ValueError):
        persona_roots.append(deployment.path(settings.get("CHARACTERS_DIR")))
    observed.update(fp.persona_part(bot_dir, persona_roots, None, hasher, cache))
    observed.update(fp.host_part())
    from acore_doctor.probes.resources import memory_usage

    observed.update(fp.memory_part(memory_usage()))
    if not is_xdist_worker(config):
        mine, my_scopes = observed_facts(config, run)
        observed.update(mine)
        scopes |= my_scopes
    observed.update(run.worker_observed)
    scopes |= run.worker_scopes
    run.observed, run.scopes = observed, scopes


def annotate(report: dict[str, Any], report_dir: Path, config: pytest.Config) -> None:
    """``changes`` (since the previous run) and each new finding's ``changes_since_pass``."""
    from acore_doctor.ops import history as run_history

    run = run_of(config)
    fingerprint_now(config, run, report_dir)
    kept = run.history = store.History.read(report_dir)
    bot_dir_key = fp.key("deployment", "bot_dir")
    if kept.runs and kept.latest.get(bot_dir_key) != run.observed[bot_dir_key]:
        # Another deployment's fingerprints say nothing about this one: start afresh.
        kept = run.history = store.History([])
        report["changes_note"] = "the previous fingerprint is of another deployment"
    now = store.overlay(kept.latest, run.observed, run.scopes)
    bot_dir = state_of(config).deployment.bot_dir
    settings = state_of(config).deployment.settings
    stamp = str(report.get("timestamp"))

    def when(since: str, changes: list[tuple[str, str | None, str | None]]) -> dict[str, Any]:
        return {k: kept.first_seen(since, k) or stamp for k, _, _ in changes}

    def where(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for entry in entries:
            if entry["kind"] == "setting":
                entry["where"] = settings.source(entry["name"]) or ".env"
        return entries

    commits: dict[tuple[str | None, str | None], list[str]] = {}

    def touched(changes: list[tuple[str, str | None, str | None]]) -> dict[str, list[str]]:
        """What each changed commit touched (one git call per pair of commits)."""
        out = {}
        for entry_key, before, after in changes:
            if entry_key == fp.key("code", "commit"):
                if (before, after) not in commits:
                    commits[before, after] = fp.commit_files(bot_dir, before, after)
                out[entry_key] = commits[before, after]
        return out

    if kept.runs:
        since = kept.runs[-1]
        changes = attribute.diff(kept.latest, now)
        report["changes"] = where(attribute.entries(changes, None, bot_dir, when(since, changes)))
        for entry in report["changes"]:
            entry.pop("read_by_check", None)
        report["changes_since"] = since
    else:
        report["changes"] = []
    results = run_history.read_results(report_dir) or {}
    if results.get("bot_dir") != (report.get("environment") or {}).get("bot_dir"):
        return
    last = results.get("checks") or {}
    for section in ("issues", "warnings"):
        for finding in report.get(section) or []:
            previous = last.get(finding.get("check")) or {}
            passed_at = previous.get("t")
            if previous.get("kind") != "passed" or not isinstance(passed_at, str):
                continue
            then = kept.at(passed_at)
            if then is None:
                continue
            changes = attribute.diff(then, now)
            inputs = run.check_inputs.get(finding["check"], set())
            finding["last_passed"] = passed_at
            finding["changes_since_pass"] = where(
                attribute.entries(
                    changes, inputs, bot_dir, when(passed_at, changes), touched(changes)
                )
            )


@pytest.hookimpl(tryfirst=True)
def pytest_doctor_enrich_report(
    report: dict[str, Any], report_dir: Path, config: pytest.Config
) -> None:
    started = time.perf_counter()
    try:
        annotate(report, report_dir, config)
        run = run_of(config)
        report["fingerprint"] = {
            "keys": len(run.observed),
            "seconds": round(time.perf_counter() - started, 4),
        }
    except Exception as exc:  # a comfort: it must never cost the verdict
        report["changes"] = []
        report["changes_note"] = f"changes unavailable: {type(exc).__name__}: {exc}"
    redact = state_of(config).redact
    if report.get("changes"):
        report["changes"] = redact.document(report["changes"])
    for section in ("issues", "warnings"):
        for finding in report.get(section) or []:
            if "changes_since_pass" in finding:
                finding["changes_since_pass"] = redact.document(finding["changes_since_pass"])


def pytest_doctor_write_outputs(
    report: dict[str, Any], report_dir: Path, session: pytest.Session
) -> list[str]:
    run = run_of(session.config)
    if not run.observed:
        return []
    from acore_doctor.ops.history import keep_runs

    try:
        _, run.bytes_written = store.record(
            report_dir,
            str(report.get("timestamp")),
            run.observed,
            run.scopes,
            keep_runs(),
            run.history,
        )
        if run.cache is not None:
            run.cache.save()
    except OSError as exc:
        return [f"(fingerprint not written: {exc.strerror or exc})"]
    return []
