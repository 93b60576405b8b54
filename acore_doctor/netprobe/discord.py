"""Discord over REST only (service-apis.md section 1); the suite never opens a gateway session.

``GET /users/@me`` goes first. Unless it answers 200 nothing else is sent: a 401 means the
token is bad, and every further invalid request counts toward Discord's Cloudflare IP ban.
A 429 with a short ``Retry-After`` is honoured once.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from acore_doctor.netprobe import targets
from acore_doctor.netprobe.runner import ProbeContext, probe
from acore_doctor.netprobe.transport import HttpResult
from acore_doctor.probes.token import token_shape

#: a Retry-After at most this long is waited out once
SHORT_RETRY_S = 1.0
MAX_GUILD_PAGES = 5

# Application flags: (full bit, limited bit) per privileged intent (service-apis.md 1.4)
INTENT_FLAGS = {
    "message content": (1 << 18, 1 << 19),
    "server members": (1 << 14, 1 << 15),
    "presences": (1 << 12, 1 << 13),
}
#: what each entrypoint asks the gateway for (deployment §5)
INTENTS_BY_ENTRYPOINT = {
    "legacy": ("message content", "server members", "presences"),
    "runtime": ("message content", "server members"),
}

ADMINISTRATOR = 1 << 3
PERMISSIONS = {
    "Add Reactions": 1 << 6,
    "View Channel": 1 << 10,
    "Send Messages": 1 << 11,
    "Embed Links": 1 << 14,
    "Attach Files": 1 << 15,
    "Read Message History": 1 << 16,
    "Connect": 1 << 20,
    "Speak": 1 << 21,
    "Manage Webhooks": 1 << 29,
}


@dataclass
class DiscordFacts:
    api: str
    token_id: str | None
    me: HttpResult | None = None
    application: HttpResult | None = None
    gateway: HttpResult | None = None
    guilds: list[HttpResult] = field(default_factory=list)
    test_guild_id: str | None = None
    test_guild: HttpResult | None = None
    test_member: HttpResult | None = None
    #: why later probes were not sent, when they were not
    stopped: str | None = None
    #: routes whose short 429 was waited out once
    retried: list[str] = field(default_factory=list)


def rate_limit_of(result: HttpResult) -> float | None:
    """Seconds to wait for a JSON 429 (body ``retry_after``, else the header)."""
    if result.status != 429 or is_cloudflare_ban(result):
        return None
    data = result.data if isinstance(result.data, dict) else {}
    for value in (data.get("retry_after"), result.header("retry-after")):
        try:
            return float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
    return None


def is_cloudflare_ban(result: HttpResult) -> bool:
    """A 429 that is not Discord's JSON with rate-limit headers: Cloudflare's 1015 page."""
    if result.status != 429:
        return False
    has_headers = any(k.startswith("x-ratelimit-") for k in result.headers)
    return not result.is_json or not has_headers


async def _get(
    ctx: ProbeContext, facts: DiscordFacts, path: str, headers: dict[str, str]
) -> HttpResult:
    result = await ctx.request("discord", "GET", facts.api + path, headers=headers)
    wait = rate_limit_of(result)
    if wait is not None and wait <= SHORT_RETRY_S and await ctx.sleep(wait):
        facts.retried.append(path)
        result = await ctx.request("discord", "GET", facts.api + path, headers=headers)
    return result


async def _guild_pages(ctx: ProbeContext, facts: DiscordFacts, headers: dict[str, str]) -> None:
    after = None
    for _ in range(MAX_GUILD_PAGES):
        path = "/users/@me/guilds?limit=200" + (f"&after={after}" if after else "")
        page = await _get(ctx, facts, path, headers)
        facts.guilds.append(page)
        entries = page.data if page.ok and isinstance(page.data, list) else []
        if len(entries) < 200:
            return
        after = entries[-1].get("id") if isinstance(entries[-1], dict) else None
        if not after:
            return


async def _test_guild(ctx: ProbeContext, facts: DiscordFacts, headers: dict[str, str]) -> None:
    assert facts.test_guild_id is not None
    facts.test_guild = await _get(ctx, facts, f"/guilds/{facts.test_guild_id}", headers)
    bot_id = user_id(facts)
    if facts.test_guild.ok and bot_id:
        facts.test_member = await _get(
            ctx, facts, f"/guilds/{facts.test_guild_id}/members/{bot_id}", headers
        )


@probe("discord", "discord", targets.discord_not_applicable, fixture="discord_api")
async def discord(ctx: ProbeContext) -> DiscordFacts:
    token = targets.discord_token(ctx.settings)
    facts = DiscordFacts(targets.discord_api(ctx.settings), token_shape(token).bot_id)
    guild = ctx.settings.get("TEST_GUILD_ID").strip()
    facts.test_guild_id = guild if guild.isdigit() else None
    headers = {"Authorization": f"Bot {token}"}
    facts.me = await _get(ctx, facts, "/users/@me", headers)
    if facts.me.status != 200:
        facts.stopped = (
            f"not sent because GET /users/@me did not succeed ({facts.me.status or facts.me.error})"
        )
        return facts
    facts.application, facts.gateway, *_ = await asyncio.gather(
        _get(ctx, facts, "/oauth2/applications/@me", headers),
        _get(ctx, facts, "/gateway/bot", headers),
        _guild_pages(ctx, facts, headers),
        _test_guild(ctx, facts, headers) if facts.test_guild_id else asyncio.sleep(0),
    )
    return facts


# -- readers ---------------------------------------------------------------------------------
def user_id(facts: DiscordFacts) -> str | None:
    data = facts.me.data if facts.me is not None and facts.me.ok else None
    value = data.get("id") if isinstance(data, dict) else None
    return str(value) if value else None


def application_flags(result: HttpResult | None) -> int | None:
    data = result.data if result is not None and result.ok else None
    if not isinstance(data, dict):
        return None
    for key in ("flags_new", "flags"):
        try:
            return int(data[key])
        except (KeyError, TypeError, ValueError):
            continue
    return None


def disabled_intents(flags: int, wanted: tuple[str, ...]) -> list[str]:
    return [name for name in wanted if not flags & (INTENT_FLAGS[name][0] | INTENT_FLAGS[name][1])]


@dataclass(frozen=True)
class SessionLimit:
    total: int
    remaining: int
    reset_after_ms: int


def session_limit(result: HttpResult | None) -> SessionLimit | None:
    """``session_start_limit`` of /gateway/bot; None unless its counts are numbers."""
    data = result.data if result is not None and result.ok else None
    limit = data.get("session_start_limit") if isinstance(data, dict) else None
    if not isinstance(limit, dict):
        return None
    try:
        return SessionLimit(
            int(limit["total"]), int(limit["remaining"]), int(limit.get("reset_after") or 0)
        )
    except (KeyError, TypeError, ValueError):
        return None


def guild_list(facts: DiscordFacts) -> list[dict[str, Any]] | None:
    """Every partial guild from /users/@me/guilds; None when no page could be read."""
    if not facts.guilds or not all(p.ok and isinstance(p.data, list) for p in facts.guilds):
        return None
    return [g for page in facts.guilds for g in page.data if isinstance(g, dict)]


def _bits(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def guild_permissions(facts: DiscordFacts) -> dict[str, tuple[str, int]] | None:
    """guild id -> (name, the bot's guild-level permission bits).

    With TEST_GUILD_ID the bits are computed from @everyone and the bot's roles
    (service-apis.md 1.7); otherwise they are the ``permissions`` of /users/@me/guilds.
    Owner and ADMINISTRATOR mean every permission.
    """
    everything = sum(PERMISSIONS.values()) | ADMINISTRATOR
    if facts.test_guild_id:
        guild = (
            facts.test_guild.data if facts.test_guild is not None and facts.test_guild.ok else None
        )
        member = (
            facts.test_member.data
            if facts.test_member is not None and facts.test_member.ok
            else None
        )
        if not isinstance(guild, dict) or not isinstance(member, dict):
            return None
        if str(guild.get("owner_id")) == user_id(facts):
            bits = everything
        else:
            roles = {
                str(r.get("id")): _bits(r.get("permissions"))
                for r in guild.get("roles", [])
                if isinstance(r, dict)
            }
            bits = roles.get(str(guild.get("id")), 0)
            for role in member.get("roles", []):
                bits |= roles.get(str(role), 0)
        if bits & ADMINISTRATOR:
            bits = everything
        return {str(guild.get("id")): (str(guild.get("name")), bits)}
    guilds = guild_list(facts)
    if guilds is None:
        return None
    out = {}
    for g in guilds:
        bits = everything if g.get("owner") else _bits(g.get("permissions"))
        if bits & ADMINISTRATOR:
            bits = everything
        out[str(g.get("id"))] = (str(g.get("name")), bits)
    return out


def missing_permissions(
    facts: DiscordFacts, wanted: tuple[str, ...]
) -> dict[str, list[str]] | None:
    """'name (id)' -> permissions it lacks, for every guild lacking any."""
    perms = guild_permissions(facts)
    if perms is None:
        return None
    out = {}
    for gid, (name, bits) in perms.items():
        lacking = [p for p in wanted if not bits & PERMISSIONS[p]]
        if lacking:
            out[f"{name} ({gid})"] = lacking
    return out
