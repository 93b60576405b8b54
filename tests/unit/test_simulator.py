"""The simulated services, over real loopback HTTP: wire shapes, limits and fault modes."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from typing import Any

import pytest

from acore_doctor.simulate import SERVICES, FaultState, modes_of
from tests.support.builder import make_token


def call(
    url: str, method: str = "GET", body: Any = None, headers: dict | None = None, timeout: float = 5
):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def bot_headers(token: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bot {token or make_token()}"}


# -- Discord REST ------------------------------------------------------------------------------
def test_discord_users_me_reports_the_tokens_bot_id(sim):
    status, headers, body = call(sim.url("discord") + "/users/@me", headers=bot_headers())
    assert status == 200
    assert json.loads(body)["id"] == "1309876543210987654"
    assert "X-RateLimit-Bucket" in headers


@pytest.mark.parametrize("authorization", [None, "Bearer x", f"{make_token()}", "Bot not.a.token"])
def test_discord_rejects_missing_or_bad_authorization(sim, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    status, _, body = call(sim.url("discord") + "/users/@me", headers=headers)
    assert (status, json.loads(body)) == (401, {"message": "401: Unauthorized", "code": 0})


def test_discord_application_flags_and_intents_disabled(sim):
    _, _, body = call(sim.url("discord") + "/oauth2/applications/@me", headers=bot_headers())
    flags = int(json.loads(body)["flags_new"])
    assert flags & (1 << 19) and flags & (1 << 15) and flags & (1 << 13)
    sim.set_fault("discord", "intents_disabled")
    _, _, body = call(sim.url("discord") + "/oauth2/applications/@me", headers=bot_headers())
    assert int(json.loads(body)["flags"]) & (0b1111 << 12 | 0b11 << 18) == 0


def test_discord_gateway_bot_session_limit(sim):
    sim.set_fault("discord", "sessions_exhausted")
    _, _, body = call(sim.url("discord") + "/gateway/bot", headers=bot_headers())
    limit = json.loads(body)["session_start_limit"]
    assert (limit["total"], limit["remaining"], limit["max_concurrency"]) == (1000, 0, 1)


def test_discord_guild_routes_and_unknown_guild(sim):
    _, _, body = call(sim.url("discord") + "/users/@me/guilds", headers=bot_headers())
    guild = json.loads(body)[0]
    assert isinstance(guild["permissions"], str) and int(guild["permissions"]) & (1 << 11)
    status, _, body = call(sim.url("discord") + f"/guilds/{guild['id']}", headers=bot_headers())
    assert status == 200 and any(r["id"] == guild["id"] for r in json.loads(body)["roles"])
    status, _, body = call(sim.url("discord") + "/guilds/42", headers=bot_headers())
    assert (status, json.loads(body)["code"]) == (404, 10004)


def test_discord_429_carries_retry_after_and_rate_limit_headers(sim):
    sim.set_fault("discord", "429", retry_after=7.5)
    status, headers, body = call(sim.url("discord") + "/users/@me", headers=bot_headers())
    assert status == 429
    assert headers["Retry-After"] == "8" and json.loads(body)["retry_after"] == 7.5
    assert headers["X-RateLimit-Scope"] == "user"


def test_discord_1015_is_an_html_page_without_rate_limit_headers(sim):
    sim.set_fault("discord", "1015")
    status, headers, body = call(sim.url("discord") + "/users/@me", headers=bot_headers())
    assert status == 429 and b"error code: 1015" in body
    assert headers["Content-Type"].startswith("text/html")
    assert not [h for h in headers if h.lower().startswith("x-ratelimit")]


def test_fault_limited_to_one_route(sim):
    sim.set_fault("discord", FaultState("500", only="/gateway/bot"))
    assert call(sim.url("discord") + "/users/@me", headers=bot_headers())[0] == 200
    assert call(sim.url("discord") + "/gateway/bot", headers=bot_headers())[0] == 500


# -- Discord webhook execute -------------------------------------------------------------------
def test_webhook_accepts_and_records_messages(sim):
    before = len(sim.discord.webhook_messages())
    payload = {
        "username": "bot-health",
        "allowed_mentions": {"parse": []},
        "embeds": [
            {
                "title": "Ollama unreachable",
                "description": "timed out",
                "color": 15158332,
                "fields": [{"name": "host", "value": "http://ollama:11434", "inline": True}],
            }
        ],
    }
    status, _, body = call(sim.discord.webhook_url(), "POST", payload)
    assert (status, body) == (204, b"")
    status, _, body = call(sim.discord.webhook_url() + "?wait=true", "POST", {"content": "hi"})
    assert status == 200 and json.loads(body)["content"] == "hi"
    messages = sim.discord.webhook_messages()
    assert messages[before:] == [payload, {"content": "hi"}]


def _embed_total(n: int) -> dict:
    return {"embeds": [{"title": "t" * 256, "description": "d" * 4000} for _ in range(n)]}


@pytest.mark.parametrize(
    "payload, code",
    [
        ({}, 50006),
        ({"content": "   "}, 50006),
        ({"content": "x" * 2001}, 50035),
        ({"embeds": [{"title": "x"}] * 11}, 50035),
        ({"embeds": [{"title": "x" * 257}]}, 50035),
        ({"embeds": [{"description": "x" * 4097}]}, 50035),
        ({"embeds": [{"fields": [{"name": "n", "value": "v"}] * 26}]}, 50035),
        ({"embeds": [{"fields": [{"name": "n", "value": "v" * 1025}]}]}, 50035),
        ({"embeds": [{"fields": [{"name": "n" * 257, "value": "v"}]}]}, 50035),
        ({"embeds": [{"footer": {"text": "f" * 2049}}]}, 50035),
        ({"embeds": [{"author": {"name": "a" * 257}}]}, 50035),
        (_embed_total(2), 50035),
    ],
)
def test_webhook_enforces_discord_limits(sim, payload, code):
    before = len(sim.discord.webhook_rejections())
    status, _, body = call(sim.discord.webhook_url(), "POST", payload)
    assert (status, json.loads(body)["code"]) == (400, code)
    assert len(sim.discord.webhook_rejections()) == before + 1


def test_webhook_limits_are_inclusive_and_trimmed(sim):
    payload = {
        "content": " " + "x" * 2000 + " ",
        "embeds": [{"title": "t" * 256, "fields": [{"name": "n", "value": "v" * 1024}] * 5}],
    }
    assert call(sim.discord.webhook_url(), "POST", payload)[0] == 204


def test_webhook_unknown_or_wrong_token(sim):
    hook = sim.discord.add_webhook()
    url = sim.discord.webhook_url(hook.id)
    assert call(url, "GET")[0] == 200
    status, _, body = call(url.rsplit("/", 1)[0] + "/wrong", "POST", {"content": "x"})
    assert (status, json.loads(body)["code"]) == (401, 50027)
    status, _, body = call(url.replace(hook.id, "999"), "POST", {"content": "x"})
    assert (status, json.loads(body)["code"]) == (404, 10015)
    sim.set_fault("discord", "webhook_deleted")
    assert call(url, "POST", {"content": "x"})[0] == 404
    sim.set_fault("discord", "webhook_429")
    status, headers, _ = call(url, "POST", {"content": "x"})
    assert status == 429 and "Retry-After" in headers
    assert sim.discord.webhook_messages(hook.id) == []


def test_webhook_multipart_payload_json(sim):
    boundary = "b0undary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="payload_json"\r\n\r\n'
        f"{json.dumps({'content': 'multipart'})}\r\n--{boundary}--\r\n"
    ).encode()
    req = urllib.request.Request(
        sim.discord.webhook_url(),
        data=body,
        method="POST",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert resp.status == 204
    assert sim.discord.webhook_messages()[-1] == {"content": "multipart"}


# -- generic fault modes -----------------------------------------------------------------------
def test_down_refuses_and_ok_reopens_the_same_port(sim):
    port = sim.port("ollama")
    sim.set_fault("ollama", "down")
    with pytest.raises(urllib.error.URLError) as err:
        call(sim.url("ollama") + "/api/version")
    assert isinstance(err.value.reason, ConnectionRefusedError)
    sim.set_fault("ollama", "ok")
    assert sim.port("ollama") == port
    assert call(sim.url("ollama") + "/api/version")[0] == 200


def test_hang_accepts_but_never_answers(sim):
    sim.set_fault("kokoro", "hang")
    with socket.create_connection(("127.0.0.1", sim.port("kokoro")), timeout=2) as conn:
        conn.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        conn.settimeout(0.3)
        with pytest.raises(TimeoutError):
            conn.recv(1)


def test_malformed_json(sim):
    sim.set_fault("ollama", "malformed")
    status, headers, body = call(sim.url("ollama") + "/api/tags")
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    with pytest.raises(ValueError):
        json.loads(body)


@pytest.mark.parametrize(
    "service, path, status, key",
    [
        ("ollama", "/api/tags", 500, "error"),
        ("openrouter", "/key", 401, "error"),
        ("kokoro", "/health", 404, "detail"),
        ("discord", "/users/@me", 403, "code"),
    ],
)
def test_error_modes_use_each_services_envelope(sim, service, path, status, key):
    sim.set_fault(service, str(status))
    got, _, body = call(sim.url(service) + path)
    assert got == status and key in json.loads(body)


def test_unknown_fault_mode_is_refused(sim):
    with pytest.raises(ValueError, match="unknown fault mode"):
        sim.set_fault("ollama", "intents_disabled")


# -- LLM and voice shapes ----------------------------------------------------------------------
def test_ollama_tags_and_missing_model(sim):
    _, _, body = call(sim.url("ollama") + "/api/tags")
    names = [m["name"] for m in json.loads(body)["models"]]
    assert "llama3.2:latest" in names and all(":" in n for n in names)
    sim.set_fault("ollama", "missing_model")
    _, _, body = call(sim.url("ollama") + "/api/tags")
    assert [m["name"] for m in json.loads(body)["models"]] == ["mistral:latest"]
    status, _, body = call(
        sim.url("ollama") + "/api/generate", "POST", {"model": "llama3.2", "stream": False}
    )
    assert status == 404 and "not found" in json.loads(body)["error"]


def test_ollama_generate_metrics_are_nanoseconds(sim):
    _, _, body = call(
        sim.url("ollama") + "/api/generate",
        "POST",
        {"model": "LLAMA3.2", "prompt": "hi", "stream": False},
    )
    data = json.loads(body)
    assert data["done"] and data["eval_count"] / data["eval_duration"] * 1e9 > 10


def test_openrouter_key_needs_a_bearer_key(sim):
    status, _, body = call(sim.url("openrouter") + "/key")
    assert status == 401 and json.loads(body)["error"]["message"] == "No auth credentials found"
    status, _, body = call(
        sim.url("openrouter") + "/key", headers={"Authorization": "Bearer sk-or-v1-" + "a" * 40}
    )
    assert status == 200 and json.loads(body)["data"]["limit_remaining"] > 0
    assert call(sim.url("openrouter") + "/models")[0] == 200


def test_kokoro_voices_in_both_shapes(sim):
    _, _, body = call(sim.url("kokoro") + "/v1/audio/voices")
    assert {"id": "am_adam", "name": "am_adam"} in json.loads(body)["voices"]
    sim.set_fault("kokoro", "legacy_voices")
    _, _, body = call(sim.url("kokoro") + "/v1/audio/voices")
    assert "am_adam" in json.loads(body)["voices"]
    status, headers, audio = call(
        sim.url("kokoro") + "/v1/audio/speech", "POST", {"input": "ok", "voice": "am_adam"}
    )
    assert status == 200 and audio.startswith(b"RIFF")


def test_supertonic_parakeet_rvc_health_routes(sim):
    assert call(sim.url("supertonic") + "/v1/health")[0] == 200
    assert call(sim.url("supertonic") + "/health")[0] == 404
    sim.set_fault("supertonic", "loading")
    assert call(sim.url("supertonic") + "/v1/health")[0] == 503
    assert json.loads(call(sim.url("parakeet") + "/healthz")[2])["status"] == "ok"
    assert json.loads(call(sim.url("rvc") + "/config")[2])["title"] == "RVC WebUI"


def test_every_service_lists_its_modes():
    for name in SERVICES:
        modes = modes_of(name)
        assert {"ok", "down", "hang", "slow", "401", "429", "1015", "500", "malformed"} <= set(
            modes
        )


def test_discord_global_rate_limit(sim):
    sim.set_fault("discord", "429_global")
    status, headers, body = call(sim.url("discord") + "/users/@me", headers=bot_headers())
    assert status == 429 and headers["X-RateLimit-Global"] == "true"
    assert json.loads(body)["global"] is True


def test_openai_compatible_quirks(sim):
    status, _, body = call(sim.url("vllm").removesuffix("/v1") + "/health")
    assert (status, body) == (200, b"")
    sim.set_fault("llamacpp", "loading")
    status, _, body = call(sim.url("llamacpp").removesuffix("/v1") + "/health")
    assert status == 503 and json.loads(body)["error"]["message"] == "Loading model"
