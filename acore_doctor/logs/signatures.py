"""Known log signatures of acore_bot failures, and the start/ready markers, kept as data.

To teach the analyzer a new failure, add one entry to :data:`SIGNATURE_TABLE`: a key, a
regular expression, a severity, the cause in one sentence, the recommendation, and the guide
section. Every entry becomes a health check (``health_tests/test_logs.py``) and a line in
``acore-doctor logs``. Sources: deployment reference §4.3 and §8 check 28.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from acore_doctor.logs.parse import LEVEL_RANK

START_MARKERS = ("Starting Discord Ollama Bot...", "Starting Gestalt runtime surfaces")
READY_MARKERS = ("Bot is ready!", "Discord bot ready as ", "Logged in as ")
FATAL_MARKERS = ("Fatal error:", "Fatal launcher error:")
#: The legacy bot logs its level at every start (``main.py``).
LEVEL_MARKER = "Logging configured: Level="


SIGNATURE_TABLE: tuple[dict[str, Any], ...] = (
    {
        "key": "fatal_error",
        "title": "No 'Fatal error' in the recent log",
        "pattern": r"^Fatal (?:launcher )?error:",
        "severity": "critical",
        "cause": "the bot hit an unhandled error at start-up or in its main loop and exited",
        "recommendation": "Read the 'Fatal error:' line and the lines before it; fix the named "
        "attribute, module or setting, then restart the service once.",
        "guide": "guides/common_issues.md#crash-loop",
        "own_check": False,
    },
    {
        "key": "login_failure",
        "title": "Discord accepted the bot's login",
        "pattern": r"LoginFailure|Improper token has been passed",
        "severity": "critical",
        "cause": "Discord rejected DISCORD_TOKEN (reset, revoked or mistyped)",
        "recommendation": "Reset the token in the Discord Developer Portal (Bot > Reset Token), "
        "put it in DISCORD_TOKEN= without quotes and restart.",
        "guide": "guides/integration_issues.md#discord-token-invalid",
        "min_level": "DEBUG",
    },
    {
        "key": "privileged_intents",
        "title": "Privileged intents are enabled for the bot",
        "pattern": r"PrivilegedIntentsRequired|requesting privileged intents|"
        r"code:?\s*4014\b",  # also "close code 4014"
        "severity": "critical",
        "cause": "the bot asks for privileged gateway intents (message content, members, "
        "presences) that are not switched on in the Developer Portal, so Discord closes the "
        "connection with 4014",
        "recommendation": "In the Discord Developer Portal > Bot, enable Message Content, "
        "Server Members and Presence intents, then restart the bot.",
        "guide": "guides/integration_issues.md#privileged-intents-disabled",
        "min_level": "DEBUG",
    },
    {
        "key": "model_not_found",
        "title": "The configured LLM model exists",
        "pattern": r"Model .{1,120} not found in OpenRouter API|model_not_found|"
        r"model ['\"][^'\"\n]{1,120}['\"] not found|No endpoints found for",
        "severity": "critical",
        "cause": "the LLM provider does not know the configured model, so every reply fails",
        "recommendation": "Fix OLLAMA_MODEL / OPENROUTER_MODEL (for Ollama run 'ollama pull "
        "<model>'; for OpenRouter use an id listed at /api/v1/models).",
        "guide": "guides/integration_issues.md#llm-errors",
    },
    {
        "key": "llm_provider_check_failed",
        "title": "The LLM provider passed the bot's start-up check",
        "pattern": r"LLM Provider check failed",
        "severity": "critical",
        "cause": "the bot could not reach or use its LLM provider at start-up",
        "recommendation": "Check that the provider runs and LLM_PROVIDER, OLLAMA_HOST or the "
        "OpenRouter key are right; 'acore-doctor run -m network' tests the endpoints.",
        "guide": "guides/integration_issues.md#llm-errors",
    },
    {
        "key": "webhook_limit",
        "title": "Channels are below Discord's webhook limit",
        "pattern": r"Maximum number of webhooks reached|error code: 30007",
        "severity": "warning",
        "cause": "a channel already has 15 webhooks (Discord error 30007), so persona "
        "messages sent through webhooks fail",
        "recommendation": "Delete unused webhooks in the channel (Edit Channel > Integrations > "
        "Webhooks) or use fewer personas in that channel.",
        "guide": "guides/common_issues.md#discord-webhook-limit",
    },
    {
        "key": "missing_permissions",
        "title": "The bot has the Discord permissions it uses",
        "pattern": r"error code: 50013|Missing Permissions",
        "severity": "warning",
        "cause": "the bot's role lacks a permission in some channel (Discord error 50013)",
        "recommendation": "Give the bot's role Send Messages, Read Message History, Embed Links "
        "and Manage Webhooks in the channels it serves.",
        "guide": "guides/integration_issues.md#discord-bot-missing-permissions",
    },
    {
        "key": "rate_limited",
        "title": "The bot is not being rate limited by Discord",
        "pattern": r"We are being rate limited|responded with 429|\b429 Too Many Requests",
        "severity": "warning",
        "cause": "the bot sends faster than Discord allows (HTTP 429), usually a reply or "
        "typing loop",
        "recommendation": "Find the loop that sends (look at the error flood section of "
        "'acore-doctor logs'); slow it down or add back-off.",
        "guide": "guides/integration_issues.md#discord-rate-limited-or-cloudflare-ban",
    },
    {
        "key": "dns_failure",
        "title": "Host names resolve",
        "pattern": r"Temporary failure in name resolution|Name or service not known|"
        r"ClientConnectorDNSError|getaddrinfo failed|nodename nor servname",
        "severity": "warning",
        "cause": "DNS lookups failed, so Discord reconnects and LLM calls failed meanwhile",
        "recommendation": "Check /etc/resolv.conf and the host's network; 'getent hosts "
        "discord.com' must answer. Consider a local caching resolver.",
        "guide": "guides/common_issues.md#dns-failures",
        "min_level": "DEBUG",
    },
    {
        "key": "unclosed_session",
        "title": "HTTP sessions are closed properly",
        "pattern": r"Unclosed client session|Unclosed connector",
        "severity": "warning",
        "cause": "aiohttp sessions were left open, usually after a crash or an unclean "
        "shutdown; they leak sockets",
        "recommendation": "Look for a crash before these lines. After a clean stop "
        "(SIGTERM, 'systemctl stop') they come from the bot's own shutdown, whose service "
        "cleanup gives up after SERVICE_CLEANUP_TIMEOUT (2 s): raise it; a SIGKILL only when "
        "the log ends without a shutdown.",
        "guide": "guides/common_issues.md#unclosed-client-sessions",
        "min_level": "DEBUG",
    },
    {
        "key": "event_loop_blocked",
        "title": "The event loop keeps up with the gateway",
        "pattern": r"Can't keep up, shard ID",
        "severity": "warning",
        "cause": "something blocked the asyncio event loop (a synchronous model call, file or "
        "network I/O) long enough to miss gateway heartbeats",
        "recommendation": "Move blocking work off the loop (asyncio.to_thread); check CPU and "
        "swap while the bot answers.",
        "guide": "guides/common_issues.md#blocked-event-loop",
    },
    {
        "key": "rerank_nested_loop",
        "title": "RAG re-ranking works",
        "pattern": r"Re-ranking failed: Cannot run the event loop",
        "severity": "warning",
        "cause": "the re-ranker nests an event loop, so RAG answers silently lose re-ranking",
        "recommendation": "Disable re-ranking or update the bot; the results are degraded, not "
        "lost.",
        "guide": "guides/integration_issues.md#llm-errors",
    },
    {
        "key": "on_message_exception",
        "title": "Message handlers do not raise",
        "pattern": r"Ignoring exception in on_message",
        "severity": "warning",
        "cause": "a message handler raised; those messages got no answer",
        "recommendation": "Read the traceback's last line in 'acore-doctor logs' (tracebacks by "
        "type) and update or fix the code it names.",
        "guide": "guides/common_issues.md#crash-loop",
    },
    {
        "key": "persona_not_found",
        "title": "Configured personas exist",
        "pattern": r"Persona '?[^\s']{1,80}'? (?:was )?not found",
        "severity": "warning",
        "cause": "a persona id asked for by a user command or a channel mapping has no loaded card",
        "causes": (
            (
                r"[Cc]hannel",
                "a channel mapping names a persona id that no loaded card gives",
            ),
            (
                r"^services\.conversation\.orchestrator - ",
                "a user command started a bot-to-bot conversation with a persona the router has "
                "not loaded (the legacy router loads only the ACTIVE_PERSONAS files)",
            ),
            (
                r"was not found",
                "a user command (/persona, !persona) asked for a persona id that no card gives",
            ),
        ),
        "recommendation": "Compare the id in the line with the ids the loader builds (legacy: "
        "the ACTIVE_PERSONAS file stems; runtime: the card's data.id or name in lower case with "
        "'_' for spaces); fix the command's argument or the channel mapping, or add the card.",
        "guide": "guides/deployment_issues.md#character-not-found",
    },
    {
        "key": "parakeet_unreachable",
        "title": "Speech recognition (Parakeet) is reachable",
        "pattern": r"Parakeet health check failed|Parakeet.{0,80}(?:Cannot connect|unreachable|"
        r"not available|Connection refused)",
        "severity": "warning",
        "cause": "the bot could not reach the Parakeet STT service at PARAKEET_API_URL, so voice "
        "input is not transcribed",
        "recommendation": "Start the Parakeet server (GET <PARAKEET_API_URL>/healthz must answer "
        '{"status": "ok"}) or set STT_ENGINE to another engine / turn voice input off.',
        "guide": "guides/integration_issues.md#rvc-or-stt-down",
    },
    {
        "key": "avatar_fetch_failed",
        "title": "Persona avatars can be fetched",
        "pattern": r"Failed to fetch avatar|Avatar fetch failed",
        "severity": "warning",
        "cause": "a card's avatar_url did not answer (often files.catbox.moe), so webhook "
        "messages go out without the persona's avatar",
        "recommendation": "Host the avatars somewhere reliable (or in the bot's own CDN) and "
        "update avatar_url in the cards, or remove avatar_url.",
        "guide": "guides/deployment_issues.md#persona-file-invalid",
    },
    {
        "key": "plugin_load_failed",
        "title": "Runtime plugins load",
        "pattern": r"Plugin '[^']{1,80}' load failed|Plugin load failed, continuing",
        "severity": "warning",
        "cause": "a runtime plugin failed to load, so its tools are missing",
        "recommendation": "Read the error after the plugin name; fix its dependency or remove "
        "it from GESTALT_PLUGIN_DIRS.",
        "guide": "guides/common_issues.md#crash-loop",
    },
    {
        "key": "command_sync_failed",
        "title": "Slash commands sync with Discord",
        "pattern": r"Discord command sync failed|Failed to sync commands",
        "severity": "warning",
        "cause": "slash commands could not be registered, so they are missing or stale",
        "recommendation": "Check the bot was invited with the applications.commands scope; "
        "the next clean start retries the sync.",
        "guide": "guides/integration_issues.md#discord-bot-missing-permissions",
    },
    {
        "key": "character_break",
        "title": "Personas stay in character",
        "pattern": r"CHARACTER BREAK DETECTED|AI hallucinated time",
        "severity": "warning",
        "cause": "the model answers out of persona often enough to notice",
        "recommendation": "Use a stronger model or tighten the persona prompt; a few a day are "
        "normal.",
        "guide": "guides/integration_issues.md#llm-errors",
        "min_count": 5,
    },
)


@dataclass(frozen=True)
class Signature:
    key: str
    title: str
    pattern: re.Pattern[str]
    severity: str
    cause: str
    recommendation: str
    guide: str
    #: records below this level are not matched (DEBUG lines would cost time, not findings)
    min_level: str = "WARNING"
    #: fewer hits than this in a window is normal background
    min_count: int = 1
    #: False when a dedicated check judges it (``Fatal error``: the crash-loop check)
    own_check: bool = True
    #: (pattern, cause) tried in order on ``logger - message``: the cause the line itself tells
    causes: tuple[tuple[re.Pattern[str], str], ...] = ()

    @property
    def min_rank(self) -> int:
        return LEVEL_RANK[self.min_level]

    def cause_of(self, logger: str, message: str) -> str:
        """The cause this line names (e.g. a channel mapping), else the general one."""
        text = f"{logger} - {message}"
        for pattern, cause in self.causes:
            if pattern.search(text):
                return cause
        return self.cause


def load_signatures(table: tuple[dict[str, Any], ...] = SIGNATURE_TABLE) -> tuple[Signature, ...]:
    loaded = []
    for entry in table:
        fields = dict(entry)
        fields["pattern"] = re.compile(fields["pattern"], re.MULTILINE)
        fields["causes"] = tuple((re.compile(p), c) for p, c in fields.get("causes", ()))
        loaded.append(Signature(**fields))
    return tuple(loaded)


SIGNATURES = load_signatures()
SIGNATURES_BY_KEY = {s.key: s for s in SIGNATURES}
