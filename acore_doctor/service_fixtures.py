"""pytest plugin module: network probe options and fixtures (see ARCHITECTURE.md).

Each probe's fact is a session fixture named after the probe (``ollama_tags``,
``discord_api`` ...). When collection ends, every probe the *selected* checks ask for starts
at once in a child process (:mod:`acore_doctor.netprobe.child`, on another core than the
checks; a whole-suite run starts it as soon as its command line is read, so that it has imported
aiohttp by then); a probe asked for later that was not prefetched runs alone, in this process.
Running one check therefore runs only its own probes.

``--offline`` (a CI job that cannot reach Discord, Ollama or the TTS hosts): no probe is
sent, every check that needs one is skipped as ``not applicable: offline``, and the report's
``environment.offline`` says so.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from typing import Any

import pytest

from acore_doctor.changes.inputs import note
from acore_doctor.netprobe.child import ProbeChild, ProbeChildFailed
from acore_doctor.netprobe.runner import (
    PROBES,
    NotApplicable,
    ProbeFailed,
    fixture_probes,
    run_probes,
)
from acore_doctor.netprobe.transport import Timeouts
from acore_doctor.options import option
from acore_doctor.run_state import (
    PROBE_CHILD,
    is_xdist_controller,
    state_of,
    whole_suite_selected,
)
from acore_doctor.settings import BotSettings

NEEDED = pytest.StashKey[list[str]]()
CACHE = pytest.StashKey["ProbeCache"]()


def parse_service_timeouts(values: list[str]) -> dict[str, float]:
    out = {}
    for value in values:
        name, _, seconds = value.partition("=")
        try:
            out[name.strip()] = float(seconds)
        except ValueError:
            raise pytest.UsageError(
                f"--service-timeout expects SERVICE=SECONDS, got {value!r}"
            ) from None
    return out


def timeouts_from(config: pytest.Config) -> Timeouts:
    return Timeouts(
        connect=option(config, "probe_connect_timeout"),
        total=option(config, "probe_timeout"),
        per_service=parse_service_timeouts(option(config, "service_timeout")),
        budget=option(config, "probe_budget"),
        canary=option(config, "canary_timeout"),
    )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Run the checks that wait for network facts last, so the local checks run while the
    probes are in flight instead of after them (a stable sort keeps each group's order)."""
    by_fixture = fixture_probes()
    items.sort(key=lambda item: any(n in by_fixture for n in getattr(item, "fixturenames", ())))
    if is_offline(config):
        for item in items:
            if any(n in by_fixture for n in getattr(item, "fixturenames", ())):
                item.add_marker(pytest.mark.skip(reason=OFFLINE_REASON))


OFFLINE_REASON = "not applicable: offline"


def is_offline(config: pytest.Config) -> bool:
    return bool(option(config, "offline", False))


@pytest.hookimpl(optionalhook=True)
def pytest_doctor_enrich_report(report: dict[str, Any], config: pytest.Config) -> None:
    report.setdefault("environment", {})["offline"] = is_offline(config)


def pytest_collection_finish(session: pytest.Session) -> None:
    by_fixture = fixture_probes()
    needed: list[str] = []
    for item in session.items:
        for name in getattr(item, "fixturenames", ()):
            probe_name = by_fixture.get(name)
            if probe_name and probe_name not in needed:
                needed.append(probe_name)
    config = session.config
    config.stash[NEEDED] = needed
    child = config.stash.get(PROBE_CHILD, None)
    if needed and not config.option.collectonly and not is_offline(config):
        cache = ProbeCache(config, state_of(config).deployment.settings)
        cache.start(needed, child)
        config.stash[CACHE] = cache
    elif child is not None:
        child.stop()  # started for a whole suite that turned out to need no probe
    config.stash[PROBE_CHILD] = None


def pytest_configure(config: pytest.Config) -> None:
    """A whole-suite run in this process wants its probe child: the engine may have started
    it from the command line already (plugin.pytest_load_initial_conftests); start it now if
    not, stop it if the configuration says this run sends no probe here."""
    early = config.stash.get(PROBE_CHILD, None)
    if not whole_suite_selected(config) or is_offline(config) or is_xdist_controller(config):
        if early is not None:
            early.stop()
        config.stash[PROBE_CHILD] = None
    elif early is None:
        with contextlib.suppress(OSError):  # no child process here: probes run in-process
            config.stash[PROBE_CHILD] = ProbeChild()


def pytest_unconfigure(config: pytest.Config) -> None:
    # A child never handed to the cache is stopped by the engine (plugin.pytest_unconfigure).
    cache = config.stash.get(CACHE, None)
    if cache is not None:
        cache.stop()


class ProbeCache:
    """The run's probe results.

    The probes the selected checks need start in a child process as soon as collection ends,
    so network waits (and aiohttp's CPU) overlap with the local checks; a fact is read after
    they finish. A probe no selected check declared runs alone when first asked for. Should
    the child fail to give results quickly, the probes run here instead, when the first fact
    is asked for.
    """

    def __init__(self, config: pytest.Config, settings: BotSettings) -> None:
        self.config = config
        # A private copy: reading typed values records parse problems, which are the config
        # checks' findings, not ours; and the copy is safe to read from another thread.
        self.settings = replace(settings, problems=[])
        self.timeouts = timeouts_from(config)
        self.canary = bool(option(config, "canary"))
        self.offline = is_offline(config)
        self.results: dict[str, Any] = {}
        #: the settings each probe read: the inputs of the checks that use its fact
        self.reads: dict[str, set[str]] = {}
        self._pending: list[str] = []
        self._child: ProbeChild | None = None
        self._error: BaseException | None = None

    def start(self, names: list[str], child: ProbeChild | None = None) -> None:
        self._pending = list(names)
        try:
            self._child = child or ProbeChild()
            self._child.send(self._pending, self.settings, self.timeouts, self.canary)
        except OSError:
            self._child = None  # no child process here: fact() probes in this process

    def _collect(self) -> None:
        """The prefetched results, once: from the child, else gathered here."""
        pending, self._pending = self._pending, []
        child, self._child = self._child, None
        if not pending:
            return
        if child is not None:
            try:
                self.results.update(child.results())
                self.reads.update(child.reads)
                return
            except ProbeChildFailed as exc:
                if exc.timed_out:  # probing again would wait as long once more
                    self.results.update({name: ProbeFailed(name, str(exc)) for name in pending})
                    return
        try:
            self.results.update(
                run_probes(pending, self.settings, self.timeouts, self.canary, self.reads)
            )
        except BaseException as exc:  # reported by every check that reads a fact
            self._error = exc

    def stop(self) -> None:
        if self._child is not None:
            self._child.stop()

    def fact(self, name: str) -> Any:
        if self.offline:  # a fact asked for by a check the collection did not mark
            pytest.skip(OFFLINE_REASON)
        self._collect()
        if name not in self.results:
            if self._error is not None:
                raise RuntimeError(f"network probes failed: {self._error!r}")
            self.results.update(
                run_probes([name], self.settings, self.timeouts, self.canary, self.reads)
            )
        for token in self.reads.get(name, ()):
            note(token)  # the settings behind this fact are the inputs of who asks for it
        result = self.results[name]
        if isinstance(result, NotApplicable):
            pytest.skip(f"not applicable: {result.reason}")
        if isinstance(result, ProbeFailed):
            raise RuntimeError(f"network probe {result.name}: {result.reason}")
        return result


@pytest.fixture(scope="session")
def net_probes(request: pytest.FixtureRequest, settings: BotSettings) -> ProbeCache:
    cache = request.config.stash.get(CACHE, None)
    if cache is None:
        cache = request.config.stash[CACHE] = ProbeCache(request.config, settings)
    return cache


@pytest.fixture(scope="session")
def probe_timeouts(request: pytest.FixtureRequest) -> Timeouts:
    return timeouts_from(request.config)


@pytest.fixture(scope="session")
def canary_bands(request: pytest.FixtureRequest) -> tuple[float, float]:
    """(max latency s, min tokens/s) above/below which the canary warns."""
    return option(request.config, "canary_max_latency"), option(request.config, "canary_min_tps")


# -- one fixture per network probe: the probe's fact ------------------------------------------
# Written out so a fixture can be found by its name. A new probe in acore_doctor/netprobe/
# needs one here too; tests/test_service_probes.py fails until the two lists agree.
@pytest.fixture(scope="session")
def discord_api(net_probes: ProbeCache) -> Any:
    """The fact of the 'discord' network probe (discord)."""
    return net_probes.fact("discord")


@pytest.fixture(scope="session")
def discord_response(net_probes: ProbeCache) -> Any:
    """The fact of the 'discord.response' network probe (discord)."""
    return net_probes.fact("discord.response")


@pytest.fixture(scope="session")
def ollama_version(net_probes: ProbeCache) -> Any:
    """The fact of the 'ollama.version' network probe (ollama)."""
    return net_probes.fact("ollama.version")


@pytest.fixture(scope="session")
def ollama_tags(net_probes: ProbeCache) -> Any:
    """The fact of the 'ollama.tags' network probe (ollama)."""
    return net_probes.fact("ollama.tags")


@pytest.fixture(scope="session")
def ollama_ps(net_probes: ProbeCache) -> Any:
    """The fact of the 'ollama.ps' network probe (ollama)."""
    return net_probes.fact("ollama.ps")


@pytest.fixture(scope="session")
def ollama_canary(net_probes: ProbeCache) -> Any:
    """The fact of the 'ollama.canary' network probe (ollama)."""
    return net_probes.fact("ollama.canary")


@pytest.fixture(scope="session")
def openrouter_key(net_probes: ProbeCache) -> Any:
    """The fact of the 'openrouter.key' network probe (openrouter)."""
    return net_probes.fact("openrouter.key")


@pytest.fixture(scope="session")
def openrouter_models(net_probes: ProbeCache) -> Any:
    """The fact of the 'openrouter.models' network probe (openrouter)."""
    return net_probes.fact("openrouter.models")


@pytest.fixture(scope="session")
def compat_health(net_probes: ProbeCache) -> Any:
    """The fact of the 'compat.health' network probe (openai_compat)."""
    return net_probes.fact("compat.health")


@pytest.fixture(scope="session")
def compat_models(net_probes: ProbeCache) -> Any:
    """The fact of the 'compat.models' network probe (openai_compat)."""
    return net_probes.fact("compat.models")


@pytest.fixture(scope="session")
def kokoro_health(net_probes: ProbeCache) -> Any:
    """The fact of the 'kokoro.health' network probe (kokoro)."""
    return net_probes.fact("kokoro.health")


@pytest.fixture(scope="session")
def kokoro_voices(net_probes: ProbeCache) -> Any:
    """The fact of the 'kokoro.voices' network probe (kokoro)."""
    return net_probes.fact("kokoro.voices")


@pytest.fixture(scope="session")
def supertonic_health(net_probes: ProbeCache) -> Any:
    """The fact of the 'supertonic.health' network probe (supertonic)."""
    return net_probes.fact("supertonic.health")


@pytest.fixture(scope="session")
def luxtts_health(net_probes: ProbeCache) -> Any:
    """The fact of the 'luxtts.health' network probe (luxtts)."""
    return net_probes.fact("luxtts.health")


@pytest.fixture(scope="session")
def luxtts_voices(net_probes: ProbeCache) -> Any:
    """The fact of the 'luxtts.voices' network probe (luxtts)."""
    return net_probes.fact("luxtts.voices")


@pytest.fixture(scope="session")
def qwen3tts_health(net_probes: ProbeCache) -> Any:
    """The fact of the 'qwen3tts.health' network probe (qwen3tts)."""
    return net_probes.fact("qwen3tts.health")


@pytest.fixture(scope="session")
def rvc_config(net_probes: ProbeCache) -> Any:
    """The fact of the 'rvc.config' network probe (rvc)."""
    return net_probes.fact("rvc.config")


@pytest.fixture(scope="session")
def parakeet_health(net_probes: ProbeCache) -> Any:
    """The fact of the 'parakeet.health' network probe (parakeet)."""
    return net_probes.fact("parakeet.health")


__all__ = ["PROBES", "ProbeCache", "net_probes"]
