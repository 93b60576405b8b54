"""Discord over REST: token, intents, session starts, guilds and permissions.

One ``GET /users/@me`` decides whether anything else is asked (a 401 stops every further
Discord request). Its failure is the root cause the other checks are filed under.
"""

from __future__ import annotations

import pytest

from acore_doctor import Blocked, check
from acore_doctor import roots as root_keys
from acore_doctor.netprobe import roots
from acore_doctor.netprobe.discord import (
    INTENTS_BY_ENTRYPOINT,
    DiscordFacts,
    SessionLimit,
    application_flags,
    disabled_intents,
    guild_list,
    missing_permissions,
    session_limit,
    user_id,
)
from acore_doctor.netprobe.response import ResponseFacts
from acore_doctor.settings import BotSettings, llm_provider

#: the LLM root whose failure explains a bot that does not answer
LLM_ROOTS = {
    "openrouter": root_keys.OPENROUTER,
    "openai": root_keys.OPENAI_COMPAT,
    "openai_compat": root_keys.OPENAI_COMPAT,
}


@pytest.fixture(scope="module")
def entrypoint_kind(request: pytest.FixtureRequest) -> tuple[str, str]:
    """(legacy|runtime, how we know). The local-diagnostics ``entrypoint`` fixture if present;
    otherwise the legacy path, whose intents are a superset of the runtime's."""
    try:
        found = request.getfixturevalue("entrypoint")
    except pytest.FixtureLookupError:
        found = None
    kind = getattr(found, "kind", found)
    if kind in INTENTS_BY_ENTRYPOINT:
        return kind, f"detected {kind} entrypoint"
    return "legacy", "entrypoint unknown, assuming the legacy main.py path"


@pytest.mark.critical
@check(
    "Discord API answers",
    "Check outbound HTTPS to discord.com (DNS, firewall, proxy) or DISCORD_API_BASE if you set "
    "one; see https://discordstatus.com for outages.",
    guide="guides/integration_issues.md#discord-api-unreachable",
    root=roots.DISCORD,
)
def test_discord_api_answers(discord_api: DiscordFacts) -> None:
    problem = roots.discord_problem(discord_api.me)
    assert problem is None or problem[0] != roots.DISCORD, (
        f"expected {discord_api.api}/users/@me to answer, found {problem[1] if problem else ''}"
    )


@pytest.mark.critical
@check(
    "This host is not banned by Discord's Cloudflare",
    "Stop the bot and anything else calling Discord from this IP (crash loops and bad tokens "
    "cause it), wait for the ban to lift (about an hour, sometimes a day), then fix the cause.",
    guide="guides/integration_issues.md#discord-rate-limited-or-cloudflare-ban",
    root=roots.DISCORD_BAN,
)
def test_discord_not_banned(discord_api: DiscordFacts) -> None:
    problem = roots.discord_problem(discord_api.me)
    if problem and problem[0] == roots.DISCORD:
        raise Blocked(*problem)
    assert problem is None or problem[0] != roots.DISCORD_BAN, (
        f"expected Discord's JSON answer, found {problem[1] if problem else ''}: this IP is "
        "temporarily banned for too many invalid requests"
    )


@pytest.mark.warning
@check(
    "Discord is not rate limiting the bot",
    "Wait for the Retry-After period; if it recurs, look for a restart loop or another process "
    "using the same token.",
    guide="guides/integration_issues.md#discord-rate-limited-or-cloudflare-ban",
    root=roots.DISCORD_RATE_LIMIT,
)
def test_discord_not_rate_limited(discord_api: DiscordFacts) -> None:
    problem = roots.discord_problem(discord_api.me)
    if problem and problem[0] in (roots.DISCORD, roots.DISCORD_BAN):
        raise Blocked(*problem)
    assert problem is None or problem[0] != roots.DISCORD_RATE_LIMIT, (
        f"expected no rate limit, found {problem[1] if problem else ''}"
    )


@pytest.mark.critical
@check(
    "Discord accepts the bot token",
    "Reset the token in the Developer Portal (Bot > Reset Token) and put the new one in "
    "DISCORD_TOKEN; the current one is revoked or wrong.",
    guide="guides/integration_issues.md#discord-token-invalid",
    root=roots.DISCORD_TOKEN,
)
def test_discord_token_valid(discord_api: DiscordFacts, record_details) -> None:
    problem = roots.discord_problem(discord_api.me)
    if problem and problem[0] != roots.DISCORD_TOKEN:
        raise Blocked(*problem)
    me = discord_api.me.data if problem is None and discord_api.me else {}
    record_details(
        f"logged in as {me.get('username')}#{me.get('discriminator')} (id {me.get('id')})",
    )
    assert problem is None, (
        f"expected GET /users/@me to answer 200 for the token, found {problem[1] if problem else ''}; "
        "no further Discord request was sent (invalid requests count toward an IP ban)"
    )


@pytest.mark.critical
@check(
    "The token belongs to the bot Discord reports",
    "The token's first part encodes a different user id than Discord returns: copy the token "
    "of this application's bot again from the Developer Portal.",
    guide="guides/integration_issues.md#discord-token-invalid",
)
def test_discord_token_matches_bot(discord_api: DiscordFacts) -> None:
    roots.require_discord(discord_api)
    assert user_id(discord_api) == discord_api.token_id, (
        f"expected /users/@me id {discord_api.token_id} (from the token's first part), "
        f"found {user_id(discord_api)}"
    )


@pytest.mark.critical
@check(
    "Privileged intents the bot requests are enabled",
    "In the Developer Portal > Bot > Privileged Gateway Intents, enable the listed intents; "
    "without them the gateway closes with 4014 (PrivilegedIntentsRequired).",
    guide="guides/integration_issues.md#privileged-intents-disabled",
)
def test_privileged_intents_enabled(
    discord_api: DiscordFacts, entrypoint_kind: tuple[str, str]
) -> None:
    roots.require_discord(discord_api)
    flags = application_flags(discord_api.application)
    assert flags is not None, "expected application flags from /oauth2/applications/@me, found " + (
        discord_api.application.describe() if discord_api.application else "no answer"
    )
    kind, how = entrypoint_kind
    wanted = INTENTS_BY_ENTRYPOINT[kind]
    missing = disabled_intents(flags, wanted)
    assert not missing, (
        f"expected {', '.join(wanted)} enabled ({how}), found disabled: {', '.join(missing)} "
        f"(application flags {flags})"
    )


def _session_limit(facts: DiscordFacts) -> SessionLimit:
    roots.require_discord(facts)
    limit = session_limit(facts.gateway)
    assert limit is not None, "expected session_start_limit from /gateway/bot, found " + (
        facts.gateway.describe() if facts.gateway else "no answer"
    )
    return limit


@pytest.mark.critical
@check(
    "Gateway session starts are left",
    "The bot cannot log in until the daily session-start limit resets: stop any restart loop "
    "now; the limit resets after the time shown.",
    guide="guides/integration_issues.md#discord-session-starts-exhausted",
)
def test_session_starts_left(discord_api: DiscordFacts, record_details) -> None:
    limit = _session_limit(discord_api)
    record_details(f"{limit.remaining} of {limit.total} session starts left today")
    assert limit.remaining > 0, (
        f"expected session starts remaining, found 0 of {limit.total} "
        f"(resets in {limit.reset_after_ms / 3_600_000:.1f} h)"
    )


@pytest.mark.warning
@check(
    "Gateway session starts are not running low",
    "Something is logging the bot in over and over (a crash loop burns one identify per "
    "start): check the restart count and the log for repeated startups.",
    guide="guides/integration_issues.md#discord-session-starts-exhausted",
)
def test_session_starts_plenty(discord_api: DiscordFacts) -> None:
    limit = _session_limit(discord_api)
    remaining, total = limit.remaining, limit.total
    # Zero is the critical check's finding.
    assert remaining == 0 or remaining >= total / 10, (
        f"expected at least 10% of {total} daily session starts left, found {remaining}"
    )


@pytest.mark.critical
@check(
    "The bot is in at least one server",
    "Invite the bot with the OAuth2 URL generator (scopes bot and applications.commands).",
    guide="guides/integration_issues.md#discord-bot-missing-permissions",
)
def test_bot_in_a_guild(discord_api: DiscordFacts) -> None:
    roots.require_discord(discord_api)
    guilds = guild_list(discord_api)
    assert guilds is not None, "expected a guild list from /users/@me/guilds, found " + "; ".join(
        p.describe() for p in discord_api.guilds
    )
    assert guilds, "expected the bot in at least one server, found none"


def _assert_permissions(facts: DiscordFacts, wanted: tuple[str, ...]) -> None:
    roots.require_discord(facts)
    lacking = missing_permissions(facts, wanted)
    if lacking is None:
        source = (
            [facts.test_guild, facts.test_member] if facts.test_guild_id else list(facts.guilds)
        )
        found = "; ".join(r.describe() for r in source if r is not None) or "no answer"
        raise AssertionError(f"expected the bot's server permissions, found {found}")
    if facts.test_guild_id is None and not guild_list(facts):
        pytest.skip("not applicable: the bot is in no server")
    assert not lacking, f"expected {', '.join(wanted)}, found missing: " + "; ".join(
        f"{guild}: {', '.join(perms)}" for guild, perms in lacking.items()
    )


@pytest.mark.critical
@check(
    "The bot can read and send messages",
    "Give the bot's role View Channel, Send Messages and Read Message History (Server Settings > "
    "Roles), or re-invite it with those permissions.",
    guide="guides/integration_issues.md#discord-bot-missing-permissions",
)
def test_core_permissions(discord_api: DiscordFacts) -> None:
    _assert_permissions(discord_api, ("View Channel", "Send Messages", "Read Message History"))


@pytest.mark.warning
@check(
    "The bot has embed, reaction and webhook permissions",
    "Give the bot's role Embed Links, Add Reactions and Manage Webhooks (persona webhooks need "
    "it).",
    guide="guides/integration_issues.md#discord-bot-missing-permissions",
)
def test_feature_permissions(discord_api: DiscordFacts) -> None:
    _assert_permissions(discord_api, ("Embed Links", "Add Reactions", "Manage Webhooks"))


@pytest.mark.warning
@check(
    "The bot can join and speak in voice",
    "Give the bot's role Connect and Speak, or set DISCORD_VOICE_ENABLED=false.",
    guide="guides/integration_issues.md#discord-bot-missing-permissions",
)
def test_voice_permissions(discord_api: DiscordFacts, settings: BotSettings) -> None:
    if not settings.get("DISCORD_VOICE_ENABLED"):
        pytest.skip("not applicable: voice is disabled (DISCORD_VOICE_ENABLED is not true)")
    _assert_permissions(discord_api, ("Connect", "Speak"))


# -- "online but not responding": the opt-in reply probe ----------------------------------------
@pytest.mark.warning
@check(
    "The reply probe can post and read in its test channel",
    "Give the test identity (RESPONSE_PROBE_TOKEN's bot, or RESPONSE_PROBE_WEBHOOK) View "
    "Channel, Send Messages and Read Message History in RESPONSE_PROBE_CHANNEL_ID, and check "
    "that the channel id and the webhook are current.",
    guide="guides/common_issues.md#bot-not-responding",
    root=root_keys.REPLY_PROBE,
)
def test_reply_probe_usable(discord_response: ResponseFacts) -> None:
    assert discord_response.problem is None, (
        f"expected the test identity ({discord_response.via}) to post a mention of the bot in "
        f"channel {discord_response.channel_id} and read the channel, found "
        f"{discord_response.problem}"
    )


@pytest.mark.critical
@check(
    "The bot answers a mention in the test channel",
    "The bot is online but does not answer: check the privileged intents (Message Content), "
    "the bot's permissions in that channel (Send Messages, Read Message History), the LLM it "
    "answers with, and its log for on_message errors.",
    guide="guides/common_issues.md#bot-not-responding",
)
def test_bot_answers(
    discord_response: ResponseFacts,
    discord_api: DiscordFacts,
    settings: BotSettings,
    record_details,
) -> None:
    roots.require_discord(discord_api)
    if discord_response.problem is not None:
        raise Blocked(root_keys.REPLY_PROBE, discord_response.problem)
    if discord_response.reply_after_s is not None:
        record_details(f"answered after {discord_response.reply_after_s:.1f} s")
        return
    # An LLM that is down explains the silence: filed under it when it failed in this run.
    raise Blocked(
        LLM_ROOTS.get(llm_provider(settings), root_keys.OLLAMA),
        f"expected a reply from the bot ({discord_response.bot_id}) to a message mentioning it "
        f"in channel {discord_response.channel_id} within {discord_response.timeout_s:g} s, "
        f"found none after {len(discord_response.polls)} read(s) of the channel",
    )
