"""The network probe layer in-process, against the simulator over loopback HTTP."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from acore_doctor import service_fixtures
from acore_doctor.netprobe import discord as dc
from acore_doctor.netprobe import llm, voice
from acore_doctor.netprobe.runner import PROBES, NotApplicable, fixture_probes, run_probes
from acore_doctor.netprobe.transport import USER_AGENT, HttpResult, Timeouts
from acore_doctor.settings import BotSettings, EnvFileState
from tests.support.probe_settings import ALL_PROBES, TOKEN, settings_for


def test_every_probe_has_a_fixture_name():
    assert set(fixture_probes().values()) == set(PROBES)
    assert "ollama_tags" in fixture_probes() and "discord_api" in fixture_probes()


def test_each_probe_fact_fixture_is_written_out_under_its_name():
    """service_fixtures.py names every fixture in the source: grep finds it."""
    tree = ast.parse(Path(service_fixtures.__file__).read_text())
    written = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            for call in ast.walk(node):
                if (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Attribute)
                    and call.func.attr == "fact"
                    and call.args
                    and isinstance(call.args[0], ast.Constant)
                ):
                    written[node.name] = call.args[0].value
    assert written == fixture_probes()


def test_all_services_hanging_cost_one_timeout_not_their_sum(sim):
    for name in sim.sims:
        sim.set_fault(name, "hang")
    settings = settings_for(sim)
    timeout = 0.5
    results = run_probes(ALL_PROBES, settings, Timeouts(total=timeout, budget=20))
    http = [r for r in results.values() if isinstance(r, HttpResult)]
    assert len(http) >= 10
    assert all(r.error_kind == "timeout" and not r.answered for r in http)
    assert results["discord"].me.error_kind == "timeout" and results["discord"].application is None
    # How long they took together: tests/e2e/test_service_probes.py (host_timing).


def test_the_budget_cuts_requests_short(sim):
    sim.set_fault("ollama", "hang")
    results = run_probes(
        ["ollama.version", "ollama.tags"], settings_for(sim), Timeouts(total=5, budget=0.4)
    )
    assert all(not r.answered for r in results.values())


def test_not_applicable_probes_send_nothing(sim):
    settings = settings_for(sim, DISCORD_VOICE_ENABLED="false", LLM_PROVIDER="openrouter")
    results = run_probes(["kokoro.health", "ollama.tags", "rvc.config"], settings, Timeouts())
    assert all(isinstance(r, NotApplicable) for r in results.values())
    assert "voice is disabled" in results["kokoro.health"].reason
    assert not sim.kokoro.requests and not sim.ollama.requests


def test_discord_probe_stops_after_401(sim):
    sim.set_fault("discord", "401")
    facts = run_probes(["discord"], settings_for(sim), Timeouts())["discord"]
    assert facts.me.status == 401 and facts.stopped
    assert [r["path"] for r in sim.discord.requests] == ["/api/v10/users/@me"]
    assert facts.application is None and facts.gateway is None and not facts.guilds


def test_discord_probe_sends_bot_auth_and_a_discordbot_user_agent(sim):
    facts = run_probes(["discord"], settings_for(sim), Timeouts())["discord"]
    assert facts.me.ok and facts.application.ok and facts.gateway.ok and facts.guilds[0].ok
    first = sim.discord.requests[0]["headers"]
    assert first["Authorization"] == f"Bot {TOKEN}"
    assert first["User-Agent"] == USER_AGENT and USER_AGENT.startswith("DiscordBot (https://")
    assert {r["path"] for r in sim.discord.requests} == {
        "/api/v10/users/@me",
        "/api/v10/oauth2/applications/@me",
        "/api/v10/gateway/bot",
        "/api/v10/users/@me/guilds",
    }


def test_discord_short_429_is_honoured_once(sim):
    sim.set_fault("discord", "429_once")
    facts = run_probes(["discord"], settings_for(sim), Timeouts())["discord"]
    assert facts.me.ok and "/users/@me" in facts.retried
    assert [r["path"] for r in sim.discord.requests].count("/api/v10/users/@me") == 2


def test_discord_long_429_is_not_waited_for(sim):
    sim.set_fault("discord", "429", retry_after=30)
    facts = run_probes(["discord"], settings_for(sim), Timeouts())["discord"]
    assert facts.me.status == 429 and dc.rate_limit_of(facts.me) == 30
    assert len(sim.discord.requests) == 1


def test_discord_test_guild_roles_are_read(sim):
    facts = run_probes(
        ["discord"], settings_for(sim, TEST_GUILD_ID="1111111111111111111"), Timeouts()
    )["discord"]
    assert facts.test_guild.ok and facts.test_member.ok
    assert dc.missing_permissions(facts, tuple(dc.PERMISSIONS)) == {}


def test_the_token_never_appears_in_probe_results(sim):
    sim.set_fault("discord", "401")
    facts = run_probes(["discord"], settings_for(sim), Timeouts())["discord"]
    sim.set_fault("discord", "down")
    down = run_probes(["discord"], settings_for(sim), Timeouts())["discord"]
    for text in (repr(facts), repr(down), facts.me.describe(), down.me.describe()):
        assert TOKEN not in text and TOKEN.split(".")[2] not in text
    assert "connection refused" in down.me.describe()


# -- readers ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "configured, listed, found",
    [
        ("llama3.2", "llama3.2:latest", True),
        ("LLAMA3.2:Latest", "llama3.2:latest", True),
        ("library/llama3.2", "llama3.2:latest", True),
        ("registry.ollama.ai/library/llama3.2:latest", "llama3.2:latest", True),
        ("llama3.2:3b", "llama3.2:latest", False),
        (
            "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M",
            "hf.co/bartowski/llama-3.2-1b-instruct-gguf:q4_k_m",
            True,
        ),
        (
            "bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M",
            "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M",
            False,
        ),
        ("hf.co/user/repo", "hf.co/user/repo:latest", True),
        ("someuser/mymodel", "someuser/mymodel:latest", True),
    ],
)
def test_ollama_name_rules(configured, listed, found):
    assert llm.has_model([listed], configured) is found


def json_result(data, status=200, headers=None) -> HttpResult:
    import json

    text = json.dumps(data)
    return HttpResult(
        "GET", "http://x/y", status=status, text=text, data=data, headers=headers or {}
    )


def test_voice_names_accepts_every_shape():
    assert voice.voice_names(json_result({"voices": ["af_bella", "am_adam"]})) == [
        "af_bella",
        "am_adam",
    ]
    assert voice.voice_names(json_result({"voices": [{"id": "am_adam", "name": "am_adam"}]})) == [
        "am_adam"
    ]
    assert voice.voice_names(json_result({"voices": [{"voice_id": "v1", "name": "x"}]})) == ["v1"]
    assert voice.voice_names(json_result({"detail": "x"}, 500)) is None
    assert voice.kokoro_voice_parts("af_bella(2)+af_sky(1)") == ["af_bella", "af_sky"]


def test_model_lists_tolerate_quirks():
    assert llm.model_contexts(json_result({"object": "list", "data": None})) == {}
    assert llm.model_contexts(json_result({"data": [{"id": "m", "max_model_len": 8192}]})) == {
        "m": 8192
    }
    assert llm.model_names(json_result({"models": []})) == []
    assert llm.model_names(json_result({"error": "x"})) is None
    assert llm.error_message(json_result({"error": "Unauthorized"}, 401)) == "Unauthorized"
    assert (
        llm.error_message(json_result({"error": {"message": "User not found.", "code": 401}}, 401))
        == "User not found."
    )
    assert llm.error_message(json_result({"detail": "Not Found"}, 404)) == "Not Found"


def test_cloudflare_ban_versus_rate_limit():
    limited = json_result(
        {"retry_after": 2.5, "global": True},
        429,
        {"x-ratelimit-global": "true", "retry-after": "3"},
    )
    assert not dc.is_cloudflare_ban(limited) and dc.rate_limit_of(limited) == 2.5
    banned = HttpResult(
        "GET", "http://x", status=429, text="error code: 1015", json_error="Expecting value"
    )
    assert dc.is_cloudflare_ban(banned) and dc.rate_limit_of(banned) is None


def test_guild_permissions_owner_admin_and_missing():
    facts = dc.DiscordFacts("http://x", "1")
    guilds = [
        {"id": "1", "name": "owned", "owner": True, "permissions": "0"},
        {"id": "2", "name": "admin", "owner": False, "permissions": "8"},
        {"id": "3", "name": "mute", "owner": False, "permissions": str(1 << 10)},
    ]
    facts.guilds = [json_result(guilds)]
    assert dc.missing_permissions(facts, ("View Channel", "Send Messages")) == {
        "mute (3)": ["Send Messages"]
    }


def test_intents_full_or_limited_bit():
    assert dc.disabled_intents(1 << 18, ("message content",)) == []
    assert dc.disabled_intents(1 << 19, ("message content",)) == []
    assert dc.disabled_intents((1 << 19) | (1 << 15), dc.INTENTS_BY_ENTRYPOINT["legacy"]) == [
        "presences"
    ]
    assert dc.application_flags(json_result({"flags": 1, "flags_new": str(1 << 40)})) == 1 << 40


@pytest.mark.parametrize(
    "url", ["localhost:11434", "not a url", "http://[::1", "ftp://x", "http://127.0.0.1:99999"]
)
def test_unusable_url_settings_are_a_clear_fact(url):
    settings = BotSettings(
        file_values={"OLLAMA_HOST": url, "KOKORO_API_URL": url, "DISCORD_VOICE_ENABLED": "true"},
        env_file=EnvFileState(Path(".env"), exists=True),
        environ={},
    )
    results = run_probes(["ollama.version", "kokoro.health"], settings, Timeouts(total=1))
    for result in results.values():
        assert result.error_kind == "config" and "URL" in result.describe()


def test_model_fit_rule_names_the_smaller_pulled_models() -> None:
    from acore_doctor.rules.llm import GIB, PulledModel, memory_needed, model_fit_problem

    big, small, mid = PulledModel("llama3.1:70b", 40 * GIB), PulledModel("llama3.2:3b", 2 * GIB), PulledModel("qwen:14b", 9 * GIB)  # fmt: skip
    problem = model_fit_problem("OLLAMA_MODEL", big, [big, small, mid], 16 * GIB, 8 * GIB)
    assert problem is not None
    assert "smaller pulled models that fit: qwen:14b (9.0 GiB), llama3.2:3b (2.0 GiB)" in problem
    assert "16.0 GiB RAM + 8.0 GiB GPU memory" in problem
    assert model_fit_problem("OLLAMA_MODEL", big, [big], 48 * GIB, 0) is None
    assert memory_needed(big.size) > big.size
    none_fit = model_fit_problem("OLLAMA_MODEL", big, [big], 1 * GIB, 0)
    assert none_fit is not None and "no pulled model fits" in none_fit


def test_on_this_host_knows_loopback_and_remote() -> None:
    from acore_doctor.netprobe.targets import on_this_host

    assert on_this_host("http://localhost:11434") and on_this_host("http://127.0.0.2:1")
    assert on_this_host("http://[::1]:11434")
    assert not on_this_host("http://gpu-box.lan:11434") and not on_this_host("http://10.0.0.5")
