"""Root causes of service checks: which failed dependency a check's fact is blocked by.

A root check declares ``@check(..., root=KEY)``; a dependent check whose fact is missing
because that dependency failed raises :class:`acore_doctor.Blocked` with the same KEY, and the
report files it as a symptom under the root instead of a separate issue.
"""

from __future__ import annotations

from acore_doctor.findings import Blocked
from acore_doctor.netprobe.discord import DiscordFacts, is_cloudflare_ban, rate_limit_of
from acore_doctor.netprobe.transport import HttpResult

# The keys themselves are listed in acore_doctor.roots; these names keep `roots.DISCORD` short.
from acore_doctor.roots import DISCORD, DISCORD_BAN, DISCORD_RATE_LIMIT, DISCORD_TOKEN

__all__ = [
    "DISCORD",
    "DISCORD_BAN",
    "DISCORD_RATE_LIMIT",
    "DISCORD_TOKEN",
    "discord_problem",
    "require_answer",
    "require_discord",
]


def discord_problem(me: HttpResult | None) -> tuple[str, str] | None:
    """(root key, reason) when GET /users/@me failed, else None."""
    if me is None:
        return DISCORD, "GET /users/@me was not sent"
    if not me.answered:
        return DISCORD, me.describe()
    if is_cloudflare_ban(me):
        return (
            DISCORD_BAN,
            f"{me.target()}: HTTP 429 without Discord's JSON or rate-limit headers (Cloudflare 'error code: 1015' ban)",
        )
    if me.status == 429:
        wait = rate_limit_of(me)
        return (
            DISCORD_RATE_LIMIT,
            f"{me.target()}: HTTP 429, retry after {wait if wait is not None else '?'} s",
        )
    if me.status == 401:
        return DISCORD_TOKEN, f"{me.target()}: HTTP 401 Unauthorized"
    if not me.ok or not isinstance(me.data, dict):
        return DISCORD, me.describe()
    return None


def require_discord(facts: DiscordFacts) -> None:
    """Raise Blocked when the first Discord call failed, so later facts do not exist."""
    problem = discord_problem(facts.me)
    if problem is not None:
        raise Blocked(*problem)


def require_answer(result: HttpResult, root: str) -> None:
    """Raise Blocked when ``result`` is no usable answer from the service at all.

    No answer, a 5xx, a 429 or a 200 whose body is not JSON mean the service (the root)
    is down or broken; a check then cannot judge its own fact.
    """
    if (
        not result.answered
        or result.status >= 500  # type: ignore[operator]
        or result.status == 429
        or (result.ok and result.json_error is not None)
    ):
        raise Blocked(root, result.describe())
