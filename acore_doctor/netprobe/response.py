"""Does the bot answer? A black-box probe of "Bot online but not responding" (opt-in).

The troubleshooting design's first common issue: the bot is online but does not answer
messages, and every other signal (token, intents, permissions, LLM) is indirect. With a test
channel and a separate test identity configured, this probe posts one message that mentions
the bot and polls the channel through REST for the bot's reply, bounded in time.

The test identity is a second bot's token (``RESPONSE_PROBE_TOKEN``: it posts and reads) or
a webhook in the test channel (``RESPONSE_PROBE_WEBHOOK``: it posts; reading then uses
``RESPONSE_PROBE_TOKEN`` when given, else the bot's own token, for GET requests only). The
bot's own token never posts: the bot ignores its own messages.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field

from acore_doctor.netprobe import targets
from acore_doctor.netprobe.runner import ProbeContext, probe
from acore_doctor.netprobe.transport import HttpResult
from acore_doctor.probes.token import token_shape
from acore_doctor.settings import BotSettings

POLL_S = 1.0


@dataclass
class ResponseFacts:
    channel_id: str
    bot_id: str | None
    via: str  # "token" | "webhook"
    posted: HttpResult | None = None
    message_id: str | None = None
    reply_after_s: float | None = None
    polls: list[HttpResult] = field(default_factory=list)
    waited_s: float = 0.0
    timeout_s: float = 0.0
    problem: str | None = None


def response_not_applicable(settings: BotSettings) -> str | None:
    if not settings.get("RESPONSE_PROBE_CHANNEL_ID").strip():
        return "RESPONSE_PROBE_CHANNEL_ID is not set (the reply probe is opt-in)"
    if not (settings.get("RESPONSE_PROBE_TOKEN") or settings.get("RESPONSE_PROBE_WEBHOOK")):
        return "neither RESPONSE_PROBE_TOKEN nor RESPONSE_PROBE_WEBHOOK is set (a test identity)"
    if token_shape(targets.discord_token(settings)).bot_id is None:
        return "the bot's id cannot be read from DISCORD_TOKEN (see the token-shape check)"
    return None


def _reply_of(result: HttpResult, bot_id: str, after: str) -> bool:
    messages = result.data if result.ok and isinstance(result.data, list) else []
    return any(
        isinstance(m, dict)
        and str((m.get("author") or {}).get("id")) == bot_id
        and str(m.get("id", "0")).isdigit()
        and int(m["id"]) > int(after)
        for m in messages
    )


@probe("discord.response", "discord", response_not_applicable, fixture="discord_response")
async def discord_response(ctx: ProbeContext) -> ResponseFacts:
    settings = ctx.settings
    channel = settings.get("RESPONSE_PROBE_CHANNEL_ID").strip()
    bot_id = token_shape(targets.discord_token(settings)).bot_id or ""
    probe_token = settings.get("RESPONSE_PROBE_TOKEN").strip()
    webhook = settings.get("RESPONSE_PROBE_WEBHOOK").strip()
    facts = ResponseFacts(channel, bot_id, "webhook" if webhook else "token")
    facts.timeout_s = min(settings.get("RESPONSE_PROBE_TIMEOUT"), max(0.0, ctx.remaining() - 1))
    nonce = secrets.token_hex(4)
    body = {
        "content": f"<@{bot_id}> acore-doctor reply probe {nonce}: please answer.",
        "allowed_mentions": {"users": [bot_id]},
    }
    api = targets.discord_api(settings)
    if webhook:
        facts.posted = await ctx.request("discord", "POST", webhook + "?wait=true", json_body=body)
    else:
        facts.posted = await ctx.request(
            "discord",
            "POST",
            f"{api}/channels/{channel}/messages",
            headers={"Authorization": f"Bot {probe_token}"},
            json_body=body,
        )
    data = facts.posted.data if facts.posted.ok and isinstance(facts.posted.data, dict) else {}
    facts.message_id = str(data.get("id") or "") or None
    if facts.message_id is None or not facts.message_id.isdigit():
        facts.problem = f"the test message could not be posted: {facts.posted.describe()}"
        return facts
    reader = probe_token or targets.discord_token(settings)
    headers = {"Authorization": f"Bot {reader}"}
    url = f"{api}/channels/{channel}/messages?after={facts.message_id}&limit=50"
    started = time.monotonic()
    while True:
        waited = time.monotonic() - started
        if waited >= facts.timeout_s:
            break
        if not await ctx.sleep(min(POLL_S, facts.timeout_s - waited)):
            break  # the run's probe budget is spent
        result = await ctx.request("discord", "GET", url, headers=headers)
        facts.polls.append(result)
        if not result.ok:
            facts.problem = f"the test channel could not be read: {result.describe()}"
            break
        if _reply_of(result, bot_id, facts.message_id):
            facts.reply_after_s = time.monotonic() - started
            break
    facts.waited_s = time.monotonic() - started
    return facts
