"""Generate realistic acore_bot logs, with each failure mode seen in production (reference §4.3).

``LogGen`` keeps a clock and appends lines in the bot's formats; its methods add one
behaviour each (a healthy start, DEBUG heartbeats, a crash loop, the 17 600-error flood, DNS
outage tracebacks, huge payload lines, binary junk, invalid UTF-8, each known signature).
``write_rotated`` lays the lines out as ``bot.log.N.gz`` segments plus the live file the way
the bot's rotating handler does. ``realistic_mix`` streams the production level mix for
benchmarks.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

BOT_ID = "1309876543210987654"
CHANNEL = "1431878519016915044"
USER = "2233445566778899001"
GUILD = "1400000000000000042"
#: A message a user typed; tests assert it never shows up in any output.
USER_TEXT = "my secret plan is to buy pineapples at midnight"

FATAL = "Fatal error: 'ChatCog' object has no attribute 'behavior_engine'"
FLOOD_ERROR = (
    "Failed to generate/send message: OpenRouterService.generate() missing 1 required "
    "positional argument: 'prompt'"
)

#: One line (logger, level, message) per known signature key in acore_doctor.logs.signatures.
SIGNATURE_LINES: dict[str, tuple[str, str, str]] = {
    "fatal_error": ("__main__", "ERROR", FATAL),
    "login_failure": (
        "__main__",
        "ERROR",
        "Failed to start bot: LoginFailure: Improper token has been passed.",
    ),
    "privileged_intents": (
        "__main__",
        "ERROR",
        "Fatal error: Shard ID None is requesting privileged intents that have not been "
        "explicitly enabled in the developer portal. PrivilegedIntentsRequired (close code 4014)",
    ),
    "model_not_found": (
        "services.llm.openrouter",
        "ERROR",
        "Model x-ai/grok-9-imaginary not found in OpenRouter API",
    ),
    "llm_provider_check_failed": (
        "services.core.factory",
        "ERROR",
        "LLM Provider check failed: Cannot connect to host 127.0.0.1:11434",
    ),
    "webhook_limit": (
        "services.discord.webhooks",
        "ERROR",
        "Failed to create webhook: 400 Bad Request (error code: 30007): Maximum number of "
        "webhooks reached (15)",
    ),
    "missing_permissions": (
        "cogs.chat.main",
        "ERROR",
        "Failed to send message: 403 Forbidden (error code: 50013): Missing Permissions",
    ),
    "rate_limited": (
        "discord.http",
        "WARNING",
        f"We are being rate limited. POST https://discord.com/api/v10/channels/{CHANNEL}/typing "
        "responded with 429. Retrying in 0.42 seconds.",
    ),
    "dns_failure": (
        "services.llm.openrouter",
        "ERROR",
        "OpenRouter request failed: Cannot connect to host openrouter.ai:443 ssl:default "
        "[Temporary failure in name resolution]",
    ),
    "unclosed_session": ("asyncio", "ERROR", "Unclosed client session"),
    "event_loop_blocked": (
        "discord.gateway",
        "WARNING",
        "Can't keep up, shard ID None websocket is 12.4s behind.",
    ),
    "rerank_nested_loop": (
        "services.memory.rag",
        "ERROR",
        "Re-ranking failed: Cannot run the event loop while another loop is running",
    ),
    "on_message_exception": ("discord.client", "ERROR", "Ignoring exception in on_message"),
    "persona_not_found": (
        "services.conversation.orchestrator",
        "ERROR",
        "Persona goth_mommy not found",
    ),
    "parakeet_unreachable": (
        "services.clients.stt_client",
        "ERROR",
        "Parakeet health check failed: Cannot connect to host localhost:8890 ssl:default "
        "[Connect call failed ('127.0.0.1', 8890)]",
    ),
    "avatar_fetch_failed": (
        "adapters.discord.output",
        "WARNING",
        "Failed to fetch avatar from https://files.catbox.moe/abc123.png: Server disconnected",
    ),
    "plugin_load_failed": (
        "gestalt.plugins",
        "WARNING",
        "Plugin 'web_search' load failed: No module named 'duckduckgo_search'",
    ),
    "command_sync_failed": (
        "adapters.discord.discord_bot",
        "WARNING",
        "Discord command sync failed: 403 Forbidden (error code: 50001): Missing Access",
    ),
    "character_break": (
        "utils.response_validator",
        "WARNING",
        "⚠️ CHARACTER BREAK DETECTED: Response contains 'i'm here to help'",
    ),
}

DNS_TRACEBACK = [
    "Traceback (most recent call last):",
    '  File "/root/acore_bot/.venv/lib/python3.11/site-packages/aiohttp/connector.py", line 1301, in _create_direct_connection',
    "    hosts = await self._resolve_host(host, port, traces=traces)",
    '  File "/usr/lib/python3.11/socket.py", line 962, in getaddrinfo',
    "    for res in _socket.getaddrinfo(host, port, family, type, proto, flags):",
    "socket.gaierror: [Errno -3] Temporary failure in name resolution",
    "",
    "The above exception was the direct cause of the following exception:",
    "",
    "Traceback (most recent call last):",
    '  File "/root/acore_bot/.venv/lib/python3.11/site-packages/discord/client.py", line 659, in connect',
    "    await self.ws.poll_event()",
    "aiohttp.client_exceptions.ClientConnectorDNSError: Cannot connect to host gateway.discord.gg:443 "
    "ssl:default [Temporary failure in name resolution]",
]


class LogGen:
    """Lines in the bot's text (or JSON) format on a running clock."""

    def __init__(
        self, start: float | None = None, millis: bool = False, fmt: str = "text", seed: int = 7
    ) -> None:
        self.clock = time.time() - 3600 if start is None else start
        self.millis = millis
        self.fmt = fmt
        self.rng = random.Random(seed)
        self.lines: list[bytes] = []

    # -- primitives -------------------------------------------------------------------
    def stamp(self) -> str:
        text = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.clock))
        if self.millis:
            text += f",{int(self.clock * 1000) % 1000:03d}"
        return text

    def line(
        self,
        logger: str,
        level: str,
        message: str,
        dt: float = 0.0,
        trace: dict[str, str] | None = None,
        exc: str | None = None,
    ) -> LogGen:
        self.clock += dt
        if self.fmt == "json":
            record: dict[str, object] = {
                "timestamp": datetime.fromtimestamp(self.clock, tz=UTC).isoformat() + "Z",
                "level": level,
                "logger": logger,
                "message": message,
                "location": {"file": "main.py", "line": 120, "function": "main"},
            }
            if trace:
                record["trace_id"] = trace.get("trace_id")
                record["context"] = {k: v for k, v in trace.items() if k != "trace_id"}
            if exc:
                record["exception"] = {"type": exc, "message": message[:100]}
            self.lines.append(json.dumps(record, ensure_ascii=False).encode())
            return self
        text = f"{self.stamp()} - {logger} - {level} - {message}"
        if trace:
            text += " [" + ", ".join(f"{k}={v}" for k, v in trace.items()) + "]"
        self.lines.append(text.encode())
        return self

    def raw(self, data: bytes) -> LogGen:
        self.lines.append(data)
        return self

    def wait(self, seconds: float) -> LogGen:
        self.clock += seconds
        return self

    # -- behaviours ---------------------------------------------------------------------
    def start(self, ready: bool = True, level: str = "INFO", runtime: bool = False) -> LogGen:
        self.line(
            "utils.logging_config",
            "INFO",
            f"Logging configured: Level={level}, File=True, Path=logs/bot.log",
            dt=1,
        )
        if runtime:
            self.line("launcher", "INFO", "Starting Gestalt runtime surfaces", dt=0.1)
        else:
            self.line("__main__", "INFO", "Starting Discord Ollama Bot...", dt=0.1)
        self.line("services.core.factory", "INFO", "Connected to LLM Provider", dt=1.2)
        if ready:
            if runtime:
                self.line(
                    "adapters.discord.discord_bot",
                    "INFO",
                    f"Discord bot ready as Dagoth ({BOT_ID})",
                    dt=2,
                )
            else:
                self.line("__main__", "INFO", f"Logged in as Dagoth ({BOT_ID})", dt=2)
                self.line("__main__", "INFO", "Bot is ready!", dt=0.01)
        return self

    def heartbeats(self, count: int, every: float = 41.25) -> LogGen:
        for seq in range(count):
            self.line(
                "discord.gateway",
                "DEBUG",
                f"Keeping shard ID None websocket alive with sequence {seq + 12}.",
                dt=every,
            )
        return self

    def chat(self, count: int, every: float = 30.0) -> LogGen:
        """Ordinary traffic: trace suffix with user ids, user text only in DEBUG payloads."""
        for n in range(count):
            msg_id = 1443000000000000001 + n
            trace = {
                "trace_id": f"msg_{msg_id}_{int(self.clock)}",
                "user_id": USER,
                "channel_id": CHANNEL,
                "persona_id": "dagoth_ur",
            }
            self.line(
                "cogs.chat.main", "INFO", f"Responding in channel {CHANNEL}", dt=every, trace=trace
            )
            seconds = self.rng.uniform(2, 15)
            self.line(
                "services.llm.openrouter",
                "INFO",
                f"OpenRouter response: {seconds:.1f}s | Tokens: {self.rng.randint(50, 400)} | "
                f"TPS: {self.rng.uniform(20, 80):.1f}",
                dt=seconds,
            )
        return self

    def crash_loop(self, restarts: int, every: float = 16.5, fatal: str = FATAL) -> LogGen:
        for _ in range(restarts):
            self.start(ready=False)
            self.line("__main__", "ERROR", fatal, dt=every - 4.3)
            self.wait(1.0)
        return self

    def flood(
        self, count: int = 17_600, seconds: float = 60.0, paired_warning: bool = True
    ) -> LogGen:
        step = seconds / count
        for n in range(count):
            self.line("services.conversation.orchestrator", "ERROR", FLOOD_ERROR, dt=step)
            if paired_warning:
                self.line(
                    "services.conversation.orchestrator",
                    "WARNING",
                    f"Failed to generate message for scav/dagoth_ur (attempt {n})",
                )
        return self

    def dns_outage(self, reconnects: int = 3) -> LogGen:
        for _ in range(reconnects):
            delay = self.rng.uniform(1, 30)
            self.line(
                "discord.client", "ERROR", f"Attempting a reconnect in {delay:.2f}s", dt=delay
            )
            for text in DNS_TRACEBACK:
                self.raw(text.encode())
        return self

    def huge_payload(self, size: int = 200_000) -> LogGen:
        """A DEBUG discord.http line carrying a whole payload, with user text in it."""
        filler = self._filler()
        start = self.rng.randrange(len(filler) // 2)
        text = (filler * (1 + size // len(filler)))[start : start + max(0, size - 200)]
        payload = json.dumps(
            {
                "t": "MESSAGE_CREATE",
                "d": {
                    "content": USER_TEXT,
                    "author": {"id": USER, "username": "someone"},
                    "embeds": [{"description": text}],
                },
            }
        )
        self.line(
            "discord.http",
            "DEBUG",
            f"POST https://discord.com/api/v10/channels/{CHANNEL}/messages with {payload} "
            "has returned 200",
            dt=0.2,
        )
        return self

    def _filler(self) -> str:
        """64 KiB of word salad: payloads that compress like real chat, not like 'xxxx'."""
        if not hasattr(self, "_words"):
            vocab = [
                "".join(self.rng.choices("abcdefghijklmnopqrstuvwxyz", k=self.rng.randint(2, 9)))
                for _ in range(2000)
            ]
            self._words = " ".join(self.rng.choices(vocab, k=11_000))[: 64 * 1024]
        return self._words

    def binary_junk(self, size: int = 300) -> LogGen:
        self.lines.append(
            bytes(self.rng.randrange(256) for _ in range(size)).replace(b"\n", b"\x00")
        )
        return self

    def invalid_utf8(self) -> LogGen:
        self.line("cogs.chat.main", "WARNING", "placeholder", dt=0.5)
        self.lines[-1] = self.lines[-1].replace(b"placeholder", b"Bad bytes \xff\xfe\xc3( in name")
        return self

    def signature(self, key: str, count: int = 1, every: float = 2.0) -> LogGen:
        logger, level, message = SIGNATURE_LINES[key]
        for _ in range(count):
            self.line(logger, level, message, dt=every)
            if key == "on_message_exception":
                for text in (
                    "Traceback (most recent call last):",
                    '  File "/root/acore_bot/cogs/chat/main.py", line 412, in on_message',
                    "    personas = message._multiagent_personas",
                    "AttributeError: 'Message' object has no attribute '_multiagent_personas'",
                ):
                    self.raw(text.encode())
        return self

    # -- output -------------------------------------------------------------------------
    def data(self) -> bytes:
        return b"\n".join(self.lines) + b"\n" if self.lines else b""

    def write(self, path: Path, mtime: float | None = None) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.data())
        when = self.clock if mtime is None else mtime
        os.utime(path, (when, when))
        return path


def write_rotated(log_dir: Path, segments: list[LogGen], name: str = "bot.log") -> list[Path]:
    """Oldest generator first; the last one becomes the live file, the others bot.log.N.gz."""
    log_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for age, gen in enumerate(reversed(segments)):
        if age == 0:
            written.append(gen.write(log_dir / name))
            continue
        path = log_dir / f"{name}.{age}.gz"
        path.write_bytes(gzip.compress(gen.data(), compresslevel=6, mtime=0))
        os.utime(path, (gen.clock, gen.clock))
        written.append(path)
    return written


# -- benchmark mix ----------------------------------------------------------------------
def realistic_mix(lines: int, start: float, seed: int = 11, storm: int = 17_000) -> Iterator[bytes]:
    """About ``lines`` lines with the production mix: half DEBUG, ~44 % INFO, a few % WARNING
    and ERROR, tracebacks, huge DEBUG payload lines, and one error storm of ``storm`` lines in a
    minute half-way through."""
    rng = random.Random(seed)
    gen = LogGen(start=start, seed=seed)
    produced = 0
    storm_at = lines // 2
    stormed = storm <= 0
    while produced < lines:
        roll = rng.random()
        before = len(gen.lines)
        if not stormed and produced >= storm_at:
            gen.flood(storm, seconds=60, paired_warning=False)
            stormed = True
        elif roll < 0.60:
            gen.heartbeats(1, every=rng.uniform(0.05, 2))
        elif roll < 0.61:
            gen.huge_payload(rng.choice((1500, 3000, 6000, 15000)))
        elif roll < 0.85:
            gen.chat(1, every=rng.uniform(0.1, 5))
        elif roll < 0.89:
            gen.line(
                "services.persona.rl.transfer",
                "INFO",
                f"KnowledgeTransfer initialized: {rng.randint(1, 40)} personas, decay={rng.random():.3f}",
                dt=0.05,
            )
        elif roll < 0.92:
            gen.line(
                "services.avatar",
                "WARNING",
                f"Avatar fetch failed for persona_{rng.randint(1, 15)}: timeout after {rng.randint(5, 30)}s",
                dt=0.3,
            )
        elif roll < 0.935:
            gen.line(
                "services.memory.rag",
                "ERROR",
                "Re-ranking failed: Cannot run the event loop while another loop is running",
                dt=0.3,
            )
        elif roll < 0.938:
            gen.dns_outage(1)
        elif roll < 0.945:
            gen.signature(rng.choice(list(SIGNATURE_LINES)), every=0.5)
        elif roll < 0.947:
            gen.start(ready=rng.random() < 0.8)
        else:
            gen.line(
                "discord.gateway",
                "DEBUG",
                f"For Shard ID None: WebSocket Event: {{'t': 'PRESENCE_UPDATE', 's': {rng.randint(1, 10**6)}}}",
                dt=rng.uniform(0.01, 1),
            )
        produced += len(gen.lines) - before
        yield from gen.lines
        gen.lines.clear()


def production_mix(
    lines: int, start: float, seed: int = 13, storm: int = 17_600
) -> Iterator[bytes]:
    """About ``lines`` lines shaped like the issue's production sample: 80 % INFO from one
    chatty logger (``KnowledgeTransfer initialized``), 9 % DEBUG with huge payload lines
    (1.5 to 15 KB of message JSON), 6 % WARNING, 6 % ERROR of which ``storm`` lines are the
    orchestrator's one-minute retry storm (its paired warnings are part of the 6 %)."""
    rng = random.Random(seed)
    gen = LogGen(start=start, seed=seed)
    gen.start(level="DEBUG")
    storm_at = lines // 2
    stormed = storm <= 0
    produced = len(gen.lines)
    yield from gen.lines
    gen.lines.clear()
    # Shares among the lines outside the storm, so the whole set has the mix above (the
    # issue's shares add up to 101 %: INFO takes what is left, about 79 %).
    outside = max(lines - 2 * storm, 1)
    rest = max(0.0, 0.06 * lines - storm) / outside
    info = 1.0 - 0.09 * lines / outside - 2 * rest
    debug = 1.0 - 2 * rest
    warning = 1.0 - rest
    while produced < lines:
        if not stormed and produced >= storm_at:
            gen.flood(storm, seconds=60, paired_warning=True)
            stormed = True
        else:
            roll = rng.random()
            if roll < info:
                gen.line(
                    "services.persona.rl.transfer",
                    "INFO",
                    f"KnowledgeTransfer initialized: {rng.randint(1, 40)} personas, "
                    f"decay={rng.random():.3f}",
                    dt=rng.uniform(0.01, 0.5),
                )
            elif roll < debug:
                gen.huge_payload(rng.choice((1500, 3000, 6000, 15000)))
            elif roll < warning:
                key = rng.choice(("avatar_fetch_failed", "rate_limited", "event_loop_blocked"))
                gen.signature(key, every=0.3)
            else:
                key = rng.choice(("rerank_nested_loop", "webhook_limit", "parakeet_unreachable"))
                gen.signature(key, every=0.3)
        produced += len(gen.lines)
        yield from gen.lines
        gen.lines.clear()


def info_heavy_mix(lines: int, start: float, seed: int = 17, storm: int = 0) -> Iterator[bytes]:
    """About ``lines`` lines of ~170 bytes, INFO-heavy as real production logs are (issue 19):
    80 % INFO from one chatty logger, 12 % INFO from a handful of others, 3 % DEBUG, 3 %
    WARNING, 2 % ERROR, a start with its ready marker, no huge lines and no storm (``storm``
    is accepted for the benchmark's signature and ignored)."""
    rng = random.Random(seed)
    gen = LogGen(start=start, millis=True, seed=seed)
    gen.start(level="INFO")
    produced = len(gen.lines)
    yield from gen.lines
    gen.lines.clear()
    others = (
        ("services.memory.rag", "Retrieved {n} memories for channel {c} in {t}ms (threshold 0.42)"),
        ("cogs.chat", "Response generated for user {u} in channel {c}: {n} tokens in {t}ms"),
        ("services.llm.ollama", "Chat request to model llama3.2:3b finished: {n} tokens, {t}ms"),
        ("services.voice.tts", "Synthesised {n} characters with kokoro voice af_bella in {t}ms"),
    )
    # (cumulative share, logger, level, message); {p} is a persona number, {n} and {t} counts
    kinds = (
        (
            0.80,
            "services.persona.rl.transfer",
            "INFO",
            "KnowledgeTransfer initialized: {k} personas, decay={d:.3f}, buffer={n}/{t} "
            "episodes, lr=0.00{l}, persona_{p} policy synced",
        ),
        (0.92, None, "INFO", None),  # one of ``others``
        (
            0.95,
            "discord.gateway",
            "DEBUG",
            "Keeping shard ID None websocket alive with sequence {n}; latency {s:.3f} s; last "
            "ack ok; shard stable since start",
        ),
        (
            0.98,
            "services.avatar",
            "WARNING",
            "Avatar fetch failed for persona_{p}: timeout after {w}s talking to "
            "cdn.discordapp.com (will retry in 60 s)",
        ),
        (
            1.0,
            "services.memory.rag",
            "ERROR",
            "Re-ranking failed: Cannot run the event loop while another loop is running "
            "(query {n}, {t}ms spent before the failure)",
        ),
    )
    while produced < lines:
        roll = rng.random()
        n, t = rng.randint(1, 4000), rng.randint(3, 9000)
        _, logger, level, text = next(kind for kind in kinds if roll < kind[0])
        if logger is None:
            logger, text = rng.choice(others)
            text += " (persona_{p})"
        values = {
            "n": n, "t": t, "c": CHANNEL, "u": USER, "p": rng.randint(1, 15),
            "k": rng.randint(1, 40), "d": rng.random(), "l": rng.randint(1, 9),
            "s": t / 1000, "w": rng.randint(5, 30),
        }  # fmt: skip
        gen.line(logger, level, text.format(**values), dt=rng.uniform(0.01, 0.5))
        produced += len(gen.lines)
        yield from gen.lines
        gen.lines.clear()
