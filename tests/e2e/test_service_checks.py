"""Every service check against the fault modes that concern it: the real suite in a child
process, the simulator on loopback ports, the finding and the exit code read from the report."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field

import pytest

from acore_doctor.simulate import FaultState
from tests.support.runs import SIM_OPENROUTER_KEY, clean_env, everything_on

FILES = ("health_tests/test_discord.py", "health_tests/test_llm.py", "health_tests/test_voice.py")
OR_KEY = SIM_OPENROUTER_KEY
DEMO_TOKEN_TAIL = "dEm0t0kEnNotReal_xxxxxxxxxxxxxxxxxxxxx"


@dataclass
class Outcome:
    code: int
    report: dict
    stdout: str
    by_name: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_name = {c["nodeid"].split("::")[-1]: c for c in self.report["checks"]}

    def check(self, name: str) -> dict:
        return self.by_name[name]

    def symptoms(self, name: str) -> list[str]:
        for entry in self.report["issues"] + self.report["warnings"]:
            if entry["check"].endswith("::" + name):
                return entry.get("symptoms", [])
        return []


@pytest.fixture
def run(sim, bot, run_suite):
    def go(
        faults: dict[str, str | FaultState] | None = None, *args: str, files=FILES, **settings: str
    ) -> Outcome:
        for name, fault in (faults or {}).items():
            sim.set_fault(name, fault)
        env = clean_env(**{**everything_on(sim), **settings})
        result = run_suite(bot.root, *files, *args, env=env)
        assert result.code in (0, 1, 2), result.stdout[-3000:] + result.stderr[-3000:]
        outcome = Outcome(result.code, result.report, result.stdout)
        assert outcome.report["summary"]["exit_code"] == result.code
        return outcome

    return go


def expect(outcome: Outcome, **wanted: str) -> None:
    """name="outcome" or name="outcome: message part"."""
    problems = []
    for name, spec in wanted.items():
        state, _, part = spec.partition(": ")
        found = outcome.check(name)
        if found["outcome"] != state or part not in found["message"]:
            problems.append(
                f"{name}: expected {spec!r}, found {found['outcome']!r} {found['message']!r}"
            )
    assert not problems, "\n".join(problems)


# -- healthy -----------------------------------------------------------------------------------
def test_every_service_healthy_passes_with_exit_0(run):
    out = run(None, "--canary")
    not_passed = {n: c["outcome"] for n, c in out.by_name.items() if c["outcome"] != "passed"}
    # Only the engines not selected are skipped.
    assert set(not_passed) == {
        "test_supertonic_ready",
        "test_luxtts_answers",
        "test_luxtts_voice",
        "test_qwen3tts_answers",
        "test_reply_probe_usable",  # the reply probe is opt-in
        "test_bot_answers",
    }
    assert set(not_passed.values()) == {"skipped"}
    assert out.code == 0


# -- roots down: one issue per root, dependents as its symptoms ------------------------------------
def test_services_down_or_hanging_are_root_causes_with_symptoms(run, sim):
    out = run(
        {
            "discord": "401",
            "ollama": "down",
            "openrouter": "down",
            "kokoro": "hang",
            "rvc": "down",
            "parakeet": "500",
        },
        "--probe-timeout=1",
    )
    expect(
        out,
        test_discord_api_answers="passed",
        test_discord_token_valid="failed: HTTP 401",
        test_discord_token_matches_bot="blocked: blocked by discord-token",
        test_privileged_intents_enabled="blocked: blocked by discord-token",
        test_bot_in_a_guild="blocked",
        test_ollama_answers="failed: connection refused",
        test_model_pulled="blocked: blocked by ollama",
        test_vision_model_pulled="blocked: blocked by ollama",
        test_loaded_models="blocked: blocked by ollama",
        test_compat_server_answers="failed: connection refused",
        test_compat_model_served="blocked: blocked by openai-compat",
        test_openrouter_key_valid="failed: connection refused",
        test_openrouter_credit_left="blocked: blocked by openrouter",
        test_openrouter_models_listed="blocked: blocked by openrouter",
        test_kokoro_answers="failed: no answer within",
        test_kokoro_voices="blocked: blocked by kokoro",
        test_rvc_answers="failed: connection refused",
        test_parakeet_ready="failed: HTTP 500",
    )
    assert len(out.symptoms("test_discord_token_valid")) == 8
    assert any(
        s.startswith("The Ollama model is pulled") for s in out.symptoms("test_ollama_answers")
    )
    issue_checks = {i["check"].split("::")[-1] for i in out.report["issues"]}
    assert "test_model_pulled" not in issue_checks and "test_ollama_answers" in issue_checks
    # A 401 stops every further Discord request.
    assert [r["path"] for r in sim.discord.requests] == ["/api/v10/users/@me"]
    assert out.code == 2


@pytest.mark.parametrize(
    "mode, message",
    [
        ("down", "connection refused"),
        ("hang", "no answer within"),
        ("500", "HTTP 500"),
        ("malformed", "not valid JSON"),
        ("403", "HTTP 403"),
    ],
)
def test_discord_unreachable_or_broken(run, mode, message):
    out = run({"discord": mode}, "--probe-timeout=1", files=FILES[:1])
    expect(
        out,
        test_discord_api_answers=f"failed: {message}",
        test_discord_not_banned="blocked: blocked by discord",
        test_discord_token_valid="blocked: blocked by discord",
        test_core_permissions="blocked: blocked by discord",
    )
    assert out.code == 2


def test_discord_cloudflare_ban_is_critical_with_its_own_advice(run):
    out = run({"discord": "1015"}, files=FILES[:1])
    expect(
        out,
        test_discord_api_answers="passed",
        test_discord_not_banned="failed: 1015",
        test_discord_token_valid="blocked: blocked by discord-ban",
    )
    assert "ban" in out.check("test_discord_not_banned")["recommendation"]
    assert out.code == 2


def test_discord_rate_limit_is_a_warning_with_the_wait(run):
    out = run({"discord": FaultState("429", retry_after=42.0)}, files=FILES[:1])
    expect(
        out,
        test_discord_not_rate_limited="failed: retry after 42.0 s",
        test_discord_token_valid="blocked: blocked by discord-rate-limit",
    )
    assert len(out.symptoms("test_discord_not_rate_limited")) == 9
    assert out.code == 1


def test_discord_short_rate_limit_is_waited_out_once(run):
    out = run({"discord": "429_once"}, files=FILES[:1])
    opt_in = {"test_reply_probe_usable", "test_bot_answers"}  # not configured: skipped
    assert {c["outcome"] for n, c in out.by_name.items() if n not in opt_in} == {"passed"}
    assert out.code == 0


def test_discord_account_problems(run):
    out = run(
        {"discord": "wrong_id+intents_disabled+sessions_exhausted+no_guilds"}, files=FILES[:1]
    )
    expect(
        out,
        test_discord_token_valid="passed",
        test_discord_token_matches_bot="failed: found 1000000000000000001",
        test_privileged_intents_enabled="failed: message content, server members, presences",
        test_session_starts_left="failed: found 0 of 1000",
        test_session_starts_plenty="passed",
        test_bot_in_a_guild="failed: found none",
        test_core_permissions="skipped: the bot is in no server",
    )
    assert out.code == 2


def test_discord_warnings_only_exit_1(run):
    out = run({"discord": "sessions_low+no_manage_webhooks"}, files=FILES[:1])
    expect(
        out,
        test_session_starts_plenty="failed: found 50",
        test_session_starts_left="passed",
        test_feature_permissions="failed: Embed Links, Manage Webhooks",
        test_core_permissions="passed",
    )
    assert out.code == 1


@pytest.mark.parametrize("guild_env", [{}, {"TEST_GUILD_ID": "1111111111111111111"}])
def test_discord_missing_core_permissions(run, guild_env):
    out = run({"discord": "missing_permissions"}, files=FILES[:1], **guild_env)
    expect(
        out,
        test_core_permissions="failed: Test Guild (1111111111111111111): Send Messages, Read Message History",
        test_voice_permissions="failed: Connect, Speak",
    )
    assert out.code == 2


def test_discord_test_guild_the_bot_is_not_in(run):
    out = run(None, files=FILES[:1], TEST_GUILD_ID="2222222222222222222")
    expect(out, test_core_permissions="failed: Unknown Guild")


@pytest.mark.parametrize(
    "entrypoint, outcome", [("runtime", "passed"), ("legacy", "failed: presences")]
)
def test_intents_depend_on_the_entrypoint(run, entrypoint, outcome):
    out = run({"discord": "presence_disabled"}, f"--entrypoint={entrypoint}", files=FILES[:1])
    expect(out, test_privileged_intents_enabled=outcome)


def test_voice_off_skips_voice_permissions_and_servers(run):
    out = run(None, files=(FILES[0], FILES[2]), DISCORD_VOICE_ENABLED="false")
    expect(
        out,
        test_voice_permissions="skipped: voice is disabled",
        test_kokoro_answers="skipped: voice is disabled",
        test_rvc_answers="skipped: voice is disabled",
    )


def test_bad_token_shape_is_never_sent(run, sim):
    out = run(None, files=FILES[:1], DISCORD_TOKEN="your_token_here")
    expect(out, test_discord_token_valid="skipped: not applicable: DISCORD_TOKEN a placeholder")
    assert sim.discord.requests == []


# -- LLM ----------------------------------------------------------------------------------------
def test_llm_content_faults(run):
    out = run(
        {
            "ollama": "missing_model",
            "openrouter": "no_credit",
            "kokoro": "missing_voice",
            "rvc": "not_rvc",
            "parakeet": "loading",
        },
        files=FILES[1:],
    )
    expect(
        out,
        test_ollama_answers="passed",
        test_model_pulled="failed: expected OLLAMA_MODEL=llama3.2",
        test_vision_model_pulled="failed: found mistral:latest",
        test_compat_model_served="failed: OPENAI_COMPAT_MODEL=llama3.2:latest",
        test_openrouter_key_valid="passed",
        test_openrouter_credit_left="failed: found 0",
        test_openrouter_credit_plenty="passed",
        test_kokoro_answers="passed",
        test_kokoro_voices="failed: KOKORO_VOICE=am_adam",
        test_rvc_answers="failed: 'Gradio'",
        test_parakeet_ready="failed: 'loading'",
    )
    assert out.code == 2


def test_llm_warnings_only_exit_1(run):
    out = run(
        {
            "ollama": FaultState("slow_generation", delay=1.0),
            "openrouter": "low_credit+small_context",
            "kokoro": "legacy_voices",
        },
        "--canary",
        "--canary-max-latency=0.5",
        files=FILES[1:],
    )
    expect(
        out,
        test_canary_generation="failed: expected the canary within 0.5 s",
        test_openrouter_credit_left="passed",
        test_openrouter_credit_plenty="failed: found 0.4",
        test_openrouter_context_length="failed: deepseek/deepseek-r1 has 4096",
        test_kokoro_voices="passed",
        test_model_pulled="passed",
    )
    assert out.code == 1


def test_llm_error_answers(run):
    # A revoked key: OpenRouter's /models needs no key, so only the key check can tell.
    out = run(
        {"ollama": "500", "kokoro": "malformed"},
        files=FILES[1:],
        OPENROUTER_API_KEY="or-revoked-0123456789",
    )
    expect(
        out,
        test_ollama_answers="failed: HTTP 500",
        test_model_pulled="blocked: blocked by ollama",
        test_openrouter_key_valid="failed: HTTP 401: User not found.",
        test_openrouter_credit_left="blocked: blocked by openrouter",
        test_openrouter_models_listed="passed",
        test_kokoro_answers="failed: not valid JSON",
        test_kokoro_voices="blocked: blocked by kokoro",
    )
    assert out.code == 2


def test_openrouter_model_missing(run):
    out = run({"openrouter": "missing_model"}, files=FILES[1:2])
    expect(out, test_openrouter_models_listed="failed: THINKING_MODEL=deepseek/deepseek-r1")


def test_openrouter_rate_limited_blocks_its_checks(run):
    out = run({"openrouter": "429"}, files=FILES[1:2])
    expect(
        out,
        test_openrouter_key_valid="failed: HTTP 429",
        test_openrouter_models_listed="blocked: blocked by openrouter",
    )


def test_ollama_model_name_rules_in_the_suite(run):
    out = run(
        None,
        files=FILES[1:2],
        OLLAMA_MODEL="LLAMA3.2:Latest",
        VISION_MODEL="hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M",
    )
    expect(out, test_model_pulled="passed", test_vision_model_pulled="passed")
    out = run(None, files=FILES[1:2], OLLAMA_MODEL="llama3.2:70b", VISION_ENABLED="false")
    expect(
        out,
        test_model_pulled="failed: llama3.2:70b",
        test_vision_model_pulled="skipped: vision is disabled",
    )


def test_one_check_alone_runs_only_its_own_probes(run, sim):
    out = run(None, files=("health_tests/test_llm.py::test_model_pulled",))
    assert list(out.by_name) == ["test_model_pulled"]
    assert [r["path"] for r in sim.ollama.requests] == ["/api/tags"]
    assert not sim.discord.requests and not sim.openrouter.requests and not sim.kokoro.requests


def test_a_blocked_check_run_alone_runs_its_root_and_is_filed_under_it(run):
    """Rerunning one check while its service is down names the root cause, not the check."""
    out = run({"ollama": "down"}, files=("health_tests/test_llm.py::test_model_pulled",))
    expect(
        out,
        test_model_pulled="blocked: blocked by ollama: GET http://127.0.0.1",
        test_ollama_answers="failed: connection refused",
    )
    [issue] = out.report["issues"]
    assert issue["check"].endswith("::test_ollama_answers")
    assert out.symptoms("test_ollama_answers")[0].startswith("The Ollama model is pulled: ")
    assert out.code == 2


# -- voice -------------------------------------------------------------------------------------
def test_other_tts_engines(run):
    out = run({"supertonic": "loading"}, files=FILES[2:], TTS_ENGINE="supertonic")
    expect(
        out,
        test_supertonic_ready="failed: 503",
        test_kokoro_answers="skipped: TTS_ENGINE=supertonic",
    )
    assert out.code == 1
    out = run({"luxtts": "missing_voice"}, files=FILES[2:], TTS_ENGINE="luxtts")
    expect(out, test_luxtts_answers="passed", test_luxtts_voice="failed: LUXTTS_VOICE=default")
    out = run({"qwen3tts": "down"}, files=FILES[2:], TTS_ENGINE="qwen3tts")
    expect(out, test_qwen3tts_answers="failed: connection refused")
    assert out.code == 2


def test_two_voice_servers_on_one_port(run, sim):
    out = run(
        None, files=FILES[2:], PARAKEET_API_URL=sim.url("kokoro").replace("127.0.0.1", "localhost")
    )
    expect(out, test_voice_ports_distinct="failed: kokoro and parakeet on localhost:")


# -- secrets -----------------------------------------------------------------------------------
def test_no_secret_in_any_output(run, bot):
    out = run({"discord": "401", "openrouter": "401"})
    text = out.stdout + str(out.report)
    assert DEMO_TOKEN_TAIL not in text and OR_KEY not in text and OR_KEY[-12:] not in text


# -- OpenAI-compatible servers and their quirks ---------------------------------------------------
def test_llamacpp_loading_and_served_model(run, sim):
    compat = {
        "OPENAI_COMPAT_BASE_URL": sim.url("llamacpp"),
        "OPENAI_COMPAT_MODEL": "qwen2.5-7b-instruct",
    }
    out = run(None, files=FILES[1:2], **compat)
    expect(out, test_compat_server_answers="passed", test_compat_model_served="passed")
    out = run({"llamacpp": "loading"}, files=FILES[1:2], **compat)
    expect(out, test_compat_server_answers="failed: HTTP 503", test_compat_model_served="passed")


def test_vllm_empty_health_and_string_401(run, sim):
    compat = {
        "OPENAI_COMPAT_BASE_URL": sim.url("vllm"),
        "OPENAI_COMPAT_MODEL": "meta-llama/Llama-3.1-8B-Instruct",
    }
    sim.vllm.api_key = "vllm-secret-key-123456"
    try:
        out = run(None, files=FILES[1:2], OPENAI_COMPAT_API_KEY="vllm-secret-key-123456", **compat)
        expect(out, test_compat_server_answers="passed", test_compat_model_served="passed")
        out = run(None, files=FILES[1:2], OPENAI_COMPAT_API_KEY="wrong-key-0000000", **compat)
        expect(out, test_compat_model_served="failed: HTTP 401: Unauthorized")
    finally:
        sim.vllm.api_key = None


def test_a_model_too_large_for_the_host_is_a_warning_naming_a_smaller_one(run):
    out = run({"ollama": "huge_model"}, files=FILES[1:2])
    expect(
        out,
        test_model_pulled="passed",
        test_models_fit_memory="failed: expected OLLAMA_MODEL=llama3.2",
    )
    message = out.check("test_models_fit_memory")["message"]
    assert "400.0 GiB of weights" in message and "smaller pulled models that fit: " in message
    assert "llava:latest (1.9 GiB)" in message
    assert out.code == 1
    healthy = run({"ollama": "ok"}, files=FILES[1:2])
    expect(healthy, test_models_fit_memory="passed")


# -- "online but not responding": the opt-in reply probe ---------------------------------------
PROBE_BOT_TOKEN = (
    base64.urlsafe_b64encode(b"1399999999999999999").decode().rstrip("=")
    + ".GprObe.0123456789abcdefghijklmnopqrstuvwxyzABCD"
)
CHANNEL = "1222222222222222222"  # the simulator's webhook channel too


def test_the_reply_probe_passes_when_the_bot_answers_and_is_critical_when_silent(run, sim):
    settings = {"RESPONSE_PROBE_CHANNEL_ID": CHANNEL, "RESPONSE_PROBE_TOKEN": PROBE_BOT_TOKEN,
                "RESPONSE_PROBE_TIMEOUT": "3"}  # fmt: skip
    out = run(None, files=FILES[:2], **settings)
    expect(out, test_reply_probe_usable="passed", test_bot_answers="passed")
    posted = [m for m in sim.discord.channel_messages(CHANNEL) if "reply probe" in m["content"]]
    assert posted and posted[-1]["author"]["id"] == "1399999999999999999"  # never the bot's id
    assert PROBE_BOT_TOKEN not in out.stdout + json.dumps(out.report)

    silent = run({"discord": "bot_silent"}, files=FILES[:2], **settings)
    expect(silent, test_bot_answers="failed: expected a reply from the bot")
    assert silent.code == 2

    llm_down = run({"discord": "bot_silent", "ollama": "down"}, files=FILES[:2], **settings)
    expect(llm_down, test_bot_answers="blocked: blocked by ollama")
    assert any(
        s.startswith("The bot answers a mention") for s in llm_down.symptoms("test_ollama_answers")
    )


def test_a_reply_probe_that_cannot_post_is_its_own_warning_not_a_critical(run):
    out = run({"discord": "channel_forbidden"}, files=FILES[:1], RESPONSE_PROBE_CHANNEL_ID=CHANNEL,
              RESPONSE_PROBE_TOKEN=PROBE_BOT_TOKEN)  # fmt: skip
    expect(
        out,
        test_reply_probe_usable="failed: Missing Access",
        test_bot_answers="blocked: blocked by reply-probe",
    )
    assert out.code == 1


def test_the_reply_probe_through_a_webhook_and_off_by_default_and_offline(run, sim):
    out = run({"discord": "ok"}, files=FILES[:1], RESPONSE_PROBE_CHANNEL_ID=CHANNEL,
              RESPONSE_PROBE_WEBHOOK=sim.discord.webhook_url())  # fmt: skip
    expect(out, test_bot_answers="passed")
    off = run(None, files=FILES[:1])
    expect(off, test_bot_answers="skipped: RESPONSE_PROBE_CHANNEL_ID is not set")
    offline = run(None, "--offline", files=FILES[:1], RESPONSE_PROBE_CHANNEL_ID=CHANNEL,
                  RESPONSE_PROBE_TOKEN=PROBE_BOT_TOKEN)  # fmt: skip
    expect(offline, test_bot_answers="skipped: offline")


def test_a_voice_port_held_by_another_program_says_so(run):
    out = run({"kokoro": "404"}, files=FILES[2:3])
    expect(out, test_kokoro_answers="failed: answers, but not as the server for Kokoro's health")
