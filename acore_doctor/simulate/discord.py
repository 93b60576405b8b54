"""Discord HTTP API v10 as a bot sees it (service-apis.md section 1), plus webhook execute.

REST only: there is no gateway. The bot token is any ``Bot <token>`` whose first segment
decodes to a snowflake (that snowflake is the bot's id), unless a fixed token is given.
Webhook executes are validated against Discord's limits and recorded for reading back.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from acore_doctor.probes.token import snowflake_from_segment
from acore_doctor.simulate.core import ServiceSim, json_response

# Application flags (service-apis.md 1.4)
PRESENCE_LIMITED = 1 << 13
MEMBERS_LIMITED = 1 << 15
MESSAGE_CONTENT_LIMITED = 1 << 19
COMMAND_BADGE = 1 << 23
ALL_INTENTS_LIMITED = PRESENCE_LIMITED | MEMBERS_LIMITED | MESSAGE_CONTENT_LIMITED | COMMAND_BADGE

# Permission bits (service-apis.md 1.7)
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
READ_MESSAGE_HISTORY = 1 << 16
ADD_REACTIONS = 1 << 6
MANAGE_WEBHOOKS = 1 << 29
#: every permission the suite cares about, without ADMINISTRATOR
FULL_PERMISSIONS = 540396608

GUILD_ID = "1111111111111111111"
BOT_ROLE_ID = "1111111111111111112"
DEFAULT_WEBHOOK_ID = "1405000000000000001"
#: typed request storage where aiohttp has it (3.12+), a plain key before
BOT_ID: Any = web.RequestKey("bot_id", str) if hasattr(web, "RequestKey") else "bot_id"

LIMITS = {
    "content": 2000,
    "embeds": 10,
    "title": 256,
    "description": 4096,
    "fields": 25,
    "field.name": 256,
    "field.value": 1024,
    "footer.text": 2048,
    "author.name": 256,
    "embed_total": 6000,
}


@dataclass
class Webhook:
    id: str
    token: str
    channel_id: str = "1222222222222222222"
    name: str = "acore-doctor alerts"
    messages: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)


class DiscordSim(ServiceSim):
    name = "discord"
    base_path = "/api/v10"
    modes = {
        "intents_disabled": "no privileged intent enabled for the application",
        "presence_disabled": "message content and members on, presences off (legacy path fails)",
        "wrong_id": "/users/@me answers an id that does not match the token",
        "sessions_low": "session_start_limit.remaining 50 of 1000",
        "sessions_exhausted": "session_start_limit.remaining 0",
        "no_guilds": "the bot is in no guild",
        "missing_permissions": "guild permissions lack Send Messages and Read Message History",
        "no_manage_webhooks": "guild permissions lack Manage Webhooks and Embed Links",
        "429_once": "each route answers 429 (retry_after 0.2 s) once, then normally",
        "429_global": "every authorised route answers the global 429 (X-RateLimit-Global)",
        "webhook_429": "webhook executes are rate limited",
        "webhook_deleted": "webhook routes answer 404 Unknown Webhook",
        "bot_silent": "the stand-in bot never answers a mention in a channel",
        "channel_forbidden": "channel message routes answer 403 Missing Access",
    }
    #: how long the stand-in bot takes to answer a mention (an LLM reply, shortened)
    reply_delay_s = 0.3

    def __init__(
        self,
        token: str | None = None,
        guilds: list[dict[str, Any]] | None = None,
        application_flags: int | None = None,
    ) -> None:
        super().__init__()
        self.token = token
        self.guilds = guilds
        self.application_flags = application_flags
        self.webhooks: dict[str, Webhook] = {}
        #: channel id -> messages, oldest first (the "bot online but not responding" probe)
        self.channels: dict[str, list[dict[str, Any]]] = {}
        self._limited_once: set[str] = set()
        self.add_webhook(DEFAULT_WEBHOOK_ID, "simWebhookToken-" + secrets.token_urlsafe(24))

    # -- webhooks, for the alerting code that uses this simulator as its receiver -----------
    def add_webhook(self, webhook_id: str | None = None, token: str | None = None) -> Webhook:
        webhook_id = webhook_id or str(1405000000000000000 + len(self.webhooks) + 1)
        hook = Webhook(webhook_id, token or secrets.token_urlsafe(32))
        self.webhooks[webhook_id] = hook
        return hook

    def webhook_url(self, webhook_id: str = DEFAULT_WEBHOOK_ID) -> str:
        hook = self.webhooks[webhook_id]
        if self.port is None:
            raise RuntimeError("the Discord simulator is not started")
        return f"http://127.0.0.1:{self.port}/api/webhooks/{hook.id}/{hook.token}"

    def webhook_messages(self, webhook_id: str = DEFAULT_WEBHOOK_ID) -> list[dict[str, Any]]:
        """Payloads accepted by the webhook, oldest first (copies)."""
        return [json.loads(json.dumps(m)) for m in self.webhooks[webhook_id].messages]

    def webhook_rejections(self, webhook_id: str = DEFAULT_WEBHOOK_ID) -> list[dict[str, Any]]:
        """``{"payload", "status", "error"}`` for each execute the webhook refused."""
        return [json.loads(json.dumps(m)) for m in self.webhooks[webhook_id].rejected]

    def env(self, url: str) -> dict[str, str]:
        return {"DISCORD_API_BASE": url}

    # -- envelopes -----------------------------------------------------------------------
    def error(self, status: int, request: web.Request) -> web.Response:
        bodies = {
            401: {"message": "401: Unauthorized", "code": 0},
            403: {"message": "Missing Access", "code": 50001},
            404: {"message": "404: Not Found", "code": 0},
            500: {"message": "500: Internal Server Error", "code": 0},
        }
        return json_response(bodies.get(status, {"message": str(status), "code": 0}), status)

    def rate_limited(self, request: web.Request, retry_after: float | None = None) -> web.Response:
        retry = self.fault.retry_after if retry_after is None else retry_after
        headers = {
            "Retry-After": str(max(1, round(retry))),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{time.time() + retry:.3f}",
            "X-RateLimit-Reset-After": f"{retry:.3f}",
            "X-RateLimit-Bucket": "simbucket",
            "X-RateLimit-Scope": "user",
            "Via": "1.1 google",
        }
        body = {"message": "You are being rate limited.", "retry_after": retry, "global": False}
        return json_response(body, 429, headers)

    @staticmethod
    def _ok(data: Any, status: int = 200) -> web.Response:
        headers = {
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "4",
            "X-RateLimit-Reset-After": "1.000",
            "X-RateLimit-Bucket": "simbucket",
            "Via": "1.1 google",
        }
        return json_response(data, status, headers)

    # -- routes --------------------------------------------------------------------------
    def routes(self, app: web.Application) -> None:
        v = self.base_path
        app.router.add_get(f"{v}/users/@me", self._authed(self.users_me))
        app.router.add_get(f"{v}/oauth2/applications/@me", self._authed(self.application))
        app.router.add_get(f"{v}/applications/@me", self._authed(self.application))
        app.router.add_get(f"{v}/gateway/bot", self._authed(self.gateway_bot))
        app.router.add_get(f"{v}/gateway", self.gateway)
        app.router.add_get(f"{v}/users/@me/guilds", self._authed(self.my_guilds))
        app.router.add_get(f"{v}/guilds/{{guild_id}}", self._authed(self.guild))
        app.router.add_get(
            f"{v}/guilds/{{guild_id}}/members/{{user_id}}", self._authed(self.guild_member)
        )
        app.router.add_post(
            f"{v}/channels/{{channel_id}}/messages", self._authed(self.create_message)
        )
        app.router.add_get(
            f"{v}/channels/{{channel_id}}/messages", self._authed(self.list_messages)
        )
        for prefix in ("/api", v):
            app.router.add_post(f"{prefix}/webhooks/{{webhook_id}}/{{token}}", self.execute_webhook)
            app.router.add_get(f"{prefix}/webhooks/{{webhook_id}}/{{token}}", self.get_webhook)

    def _authed(self, handler: Any) -> Any:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            bot_id = self._bot_id(request.headers.get("Authorization", ""))
            if bot_id is None:
                return self.error(401, request)
            if self.has(request, "429_global"):
                response = self.rate_limited(request)
                response.headers["X-RateLimit-Global"] = "true"
                response.headers["X-RateLimit-Scope"] = "global"
                retry = self.fault.retry_after
                response.text = json.dumps(
                    {"message": "You are being rate limited.", "retry_after": retry, "global": True}
                )
                return response
            if self.has(request, "429_once") and request.path not in self._limited_once:
                self._limited_once.add(request.path)
                return self.rate_limited(request, retry_after=0.2)
            request[BOT_ID] = bot_id
            return await handler(request)

        return wrapped

    def _bot_id(self, authorization: str) -> str | None:
        if not authorization.startswith("Bot "):
            return None
        token = authorization[4:]
        if self.token is not None and token != self.token:
            return None
        return snowflake_from_segment(token.split(".")[0])

    async def users_me(self, request: web.Request) -> web.Response:
        bot_id = request[BOT_ID]
        if self.has(request, "wrong_id"):
            bot_id = "1000000000000000001"
        return self._ok(
            {
                "id": bot_id,
                "username": "llmbot",
                "discriminator": "4821",
                "global_name": None,
                "avatar": None,
                "bot": True,
                "verified": True,
                "mfa_enabled": False,
                "email": None,
                "flags": 0,
                "public_flags": 0,
                "locale": "en-US",
                "premium_type": 0,
            }
        )

    def _flags(self, request: web.Request) -> int:
        if self.has(request, "intents_disabled"):
            return COMMAND_BADGE
        if self.has(request, "presence_disabled"):
            return MEMBERS_LIMITED | MESSAGE_CONTENT_LIMITED | COMMAND_BADGE
        return ALL_INTENTS_LIMITED if self.application_flags is None else self.application_flags

    async def application(self, request: web.Request) -> web.Response:
        bot_id = request[BOT_ID]
        flags = self._flags(request)
        return self._ok(
            {
                "id": bot_id,
                "name": "LLM Bot",
                "bot_public": False,
                "bot_require_code_grant": False,
                "bot": {"id": bot_id, "username": "llmbot", "discriminator": "4821", "bot": True},
                "owner": {"id": "1000000000000000002", "username": "owner"},
                "team": None,
                "verify_key": "0" * 64,
                "flags": flags & 0x7FFFFFFF,
                "flags_new": str(flags),
                "approximate_guild_count": len(self._guilds(request)),
            }
        )

    async def gateway(self, request: web.Request) -> web.Response:
        return self._ok({"url": "wss://gateway.discord.gg"})

    async def gateway_bot(self, request: web.Request) -> web.Response:
        remaining = 997
        if self.has(request, "sessions_low"):
            remaining = 50
        if self.has(request, "sessions_exhausted"):
            remaining = 0
        return self._ok(
            {
                "url": "wss://gateway.discord.gg",
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": remaining,
                    "reset_after": 14400000,
                    "max_concurrency": 1,
                },
            }
        )

    def _guilds(self, request: web.Request) -> list[dict[str, Any]]:
        if self.has(request, "no_guilds"):
            return []
        if self.guilds is not None:
            return self.guilds
        permissions = FULL_PERMISSIONS
        if self.has(request, "missing_permissions"):
            permissions = VIEW_CHANNEL | ADD_REACTIONS
        elif self.has(request, "no_manage_webhooks"):
            permissions = FULL_PERMISSIONS & ~MANAGE_WEBHOOKS & ~EMBED_LINKS
        return [
            {
                "id": GUILD_ID,
                "name": "Test Guild",
                "icon": None,
                "banner": None,
                "owner": False,
                "permissions": str(permissions),
                "features": [],
            }
        ]

    async def my_guilds(self, request: web.Request) -> web.Response:
        guilds = self._guilds(request)
        after = request.query.get("after")
        if after:
            guilds = [g for g in guilds if int(g["id"]) > int(after)]
        limit = int(request.query.get("limit", "200") or 200)
        return self._ok(guilds[: max(1, min(limit, 200))])

    def _find_guild(self, request: web.Request) -> dict[str, Any] | None:
        wanted = request.match_info["guild_id"]
        return next((g for g in self._guilds(request) if g["id"] == wanted), None)

    async def guild(self, request: web.Request) -> web.Response:
        guild = self._find_guild(request)
        if guild is None:
            return json_response({"message": "Unknown Guild", "code": 10004}, 404)
        return self._ok(
            {
                "id": guild["id"],
                "name": guild["name"],
                "owner_id": "1000000000000000002",
                "roles": [
                    {
                        "id": guild["id"],
                        "name": "@everyone",
                        "permissions": str(VIEW_CHANNEL),
                        "position": 0,
                        "managed": False,
                    },
                    {
                        "id": BOT_ROLE_ID,
                        "name": "llmbot",
                        "permissions": guild["permissions"],
                        "position": 1,
                        "managed": True,
                    },
                ],
            }
        )

    async def guild_member(self, request: web.Request) -> web.Response:
        guild = self._find_guild(request)
        if guild is None:
            return json_response({"message": "Unknown Guild", "code": 10004}, 404)
        if request.match_info["user_id"] != request[BOT_ID]:
            return json_response({"message": "Unknown Member", "code": 10007}, 404)
        return self._ok(
            {
                "user": {"id": request[BOT_ID], "username": "llmbot"},
                "roles": [BOT_ROLE_ID],
                "joined_at": "2026-01-01T00:00:00.000000+00:00",
                "communication_disabled_until": None,
            }
        )

    # -- webhook execute -----------------------------------------------------------------
    def _webhook(self, request: web.Request) -> Webhook | web.Response:
        hook = self.webhooks.get(request.match_info["webhook_id"])
        if hook is None or self.has(request, "webhook_deleted"):
            return json_response({"message": "Unknown Webhook", "code": 10015}, 404)
        if not secrets.compare_digest(hook.token, request.match_info["token"]):
            return json_response({"message": "Invalid Webhook Token", "code": 50027}, 401)
        return hook

    async def get_webhook(self, request: web.Request) -> web.Response:
        hook = self._webhook(request)
        if isinstance(hook, web.Response):
            return hook
        return self._ok(
            {
                "id": hook.id,
                "type": 1,
                "guild_id": GUILD_ID,
                "channel_id": hook.channel_id,
                "name": hook.name,
                "avatar": None,
                "application_id": None,
                "token": hook.token,
            }
        )

    async def execute_webhook(self, request: web.Request) -> web.Response:
        hook = self._webhook(request)
        if isinstance(hook, web.Response):
            return hook
        if self.has(request, "webhook_429"):
            return self.rate_limited(request)
        payload, problem = await _read_payload(request)
        if problem is None:
            problem = webhook_problem(payload)
        if problem is not None:
            status, body = problem
            hook.rejected.append({"payload": payload, "status": status, "error": body})
            return json_response(body, status)
        hook.messages.append(payload)
        author = {"id": hook.id, "username": payload.get("username", hook.name), "bot": True}
        message = self._post(request, hook.channel_id, author, payload)
        message["webhook_id"] = hook.id
        if request.query.get("wait", "false").lower() != "true":
            return web.Response(status=204)
        return self._ok(message)

    # -- a channel with a stand-in bot that answers mentions ---------------------------------
    def channel_messages(self, channel_id: str) -> list[dict[str, Any]]:
        return [json.loads(json.dumps(m)) for m in self.channels.get(channel_id, [])]

    def _append(
        self, channel_id: str, author: dict[str, Any], payload: dict[str, Any], kind: int = 0
    ) -> dict[str, Any]:
        messages = self.channels.setdefault(channel_id, [])
        content = str(payload.get("content", ""))
        message = {
            "id": str(1420000000000000000 + sum(len(m) for m in self.channels.values())),
            "type": kind,
            "channel_id": channel_id,
            "content": content,
            "embeds": payload.get("embeds", []),
            "author": author,
            "mentions": [{"id": m} for m in re.findall(r"<@!?(\d+)>", content)],
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000000+00:00", time.gmtime()),
        }
        messages.append(message)
        return message

    def _post(
        self, request: web.Request, channel_id: str, author: dict[str, Any], payload: dict[str, Any]
    ) -> dict[str, Any]:
        """Post, and have every mentioned user (the stand-in bot) answer unless silenced."""
        message = self._append(channel_id, author, payload)
        if not self.has(request, "bot_silent"):
            for mentioned in message["mentions"]:
                if mentioned["id"] != author["id"]:
                    asyncio.get_running_loop().call_later(
                        self.reply_delay_s, self._reply, channel_id, mentioned["id"], message
                    )
        return message

    def _reply(self, channel_id: str, bot_id: str, to: dict[str, Any]) -> None:
        author = {"id": bot_id, "username": "llmbot", "bot": True}
        reply = {"content": f"<@{to['author']['id']}> (stand-in bot) hello!"}
        posted = self._append(channel_id, author, reply, kind=19)
        posted["message_reference"] = {"message_id": to["id"], "channel_id": channel_id}

    async def create_message(self, request: web.Request) -> web.Response:
        if self.has(request, "channel_forbidden"):
            return json_response({"message": "Missing Access", "code": 50001}, 403)
        payload, problem = await _read_payload(request)
        if problem is not None:
            return json_response(problem[1], problem[0])
        author = {"id": request[BOT_ID], "username": "acore-doctor-probe", "bot": True}
        message = self._post(request, request.match_info["channel_id"], author, payload)
        return self._ok(message)

    async def list_messages(self, request: web.Request) -> web.Response:
        if self.has(request, "channel_forbidden"):
            return json_response({"message": "Missing Access", "code": 50001}, 403)
        messages = self.channels.get(request.match_info["channel_id"], [])
        after = int(request.query.get("after", "0") or 0)
        limit = max(1, min(100, int(request.query.get("limit", "50") or 50)))
        newer = [m for m in messages if int(m["id"]) > after]
        return self._ok(list(reversed(newer))[:limit])


async def _read_payload(request: web.Request) -> tuple[Any, tuple[int, dict[str, Any]] | None]:
    try:
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            raw = form.get("payload_json")
            payload = json.loads(str(raw)) if raw is not None else {}
            if any(k.startswith("files[") for k in form):
                payload.setdefault("_files", sorted(k for k in form if k.startswith("files[")))
        else:
            payload = json.loads(await request.text() or "null")
    except (ValueError, UnicodeDecodeError):
        return None, (400, {"message": "400: Bad Request", "code": 0})
    if not isinstance(payload, dict):
        return payload, (
            400,
            {
                "message": "Invalid Form Body",
                "code": 50035,
                "errors": {
                    "_errors": [
                        {
                            "code": "DICT_TYPE_CONVERT",
                            "message": "Only dictionaries may be used in a DictType",
                        }
                    ]
                },
            },
        )
    return payload, None


def _length(value: Any) -> int:
    return len(str(value).strip()) if value is not None else 0


def _form_error(path: str, code: str, message: str) -> tuple[int, dict[str, Any]]:
    tree: dict[str, Any] = {"_errors": [{"code": code, "message": message}]}
    for part in reversed(path.split(".")):
        tree = {part: tree}
    return 400, {"message": "Invalid Form Body", "code": 50035, "errors": tree}


def webhook_problem(payload: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
    """Discord's answer to a webhook payload breaking its limits (service-apis.md 1.10)."""
    content = payload.get("content")
    embeds = payload.get("embeds") or []
    has_body = any(
        (
            content is not None and str(content).strip(),
            embeds,
            payload.get("components"),
            payload.get("_files"),
            payload.get("poll"),
        )
    )
    if not has_body:
        return 400, {"message": "Cannot send an empty message", "code": 50006}
    if _length(content) > LIMITS["content"]:
        return _form_error("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
    if not isinstance(embeds, list):
        return _form_error("embeds", "LIST_TYPE_CONVERT", "Must be a list.")
    if len(embeds) > LIMITS["embeds"]:
        return _form_error("embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
    total = 0
    for i, embed in enumerate(embeds):
        if not isinstance(embed, dict):
            return _form_error(
                f"embeds.{i}", "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType"
            )
        footer = embed.get("footer") or {}
        author = embed.get("author") or {}
        sizes = {
            "title": _length(embed.get("title")),
            "description": _length(embed.get("description")),
            "footer.text": _length(footer.get("text") if isinstance(footer, dict) else None),
            "author.name": _length(author.get("name") if isinstance(author, dict) else None),
        }
        for key, size in sizes.items():
            if size > LIMITS[key]:
                return _form_error(
                    f"embeds.{i}.{key}",
                    "BASE_TYPE_MAX_LENGTH",
                    f"Must be {LIMITS[key]} or fewer in length.",
                )
        total += sum(sizes.values())
        fields = embed.get("fields") or []
        if len(fields) > LIMITS["fields"]:
            return _form_error(
                f"embeds.{i}.fields", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
            )
        for j, item in enumerate(fields):
            item = item if isinstance(item, dict) else {}
            for key in ("name", "value"):
                size = _length(item.get(key))
                if size == 0:
                    return _form_error(
                        f"embeds.{i}.fields.{j}.{key}",
                        "BASE_TYPE_REQUIRED",
                        "This field is required",
                    )
                if size > LIMITS[f"field.{key}"]:
                    return _form_error(
                        f"embeds.{i}.fields.{j}.{key}",
                        "BASE_TYPE_MAX_LENGTH",
                        f"Must be {LIMITS[f'field.{key}']} or fewer in length.",
                    )
                total += size
    if total > LIMITS["embed_total"]:
        return _form_error(
            "embeds", "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000"
        )
    return None
