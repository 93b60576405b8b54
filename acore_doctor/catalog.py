"""What acore_bot reads from its environment: names, types and defaults (deployment §2.4),
the documented keys no code reads (§2.5), and the value rules the bot no longer enforces (§2.1,
§2.6).

Checks use it to interpret `.env` exactly as the bot would. When the deployment holds the bot's
source, what its own config/ code says wins for kinds and defaults
(``acore_doctor/probes/bot_source.py``); this catalog keeps what code cannot say (ranges,
allowed values, why a dead key is dead) and answers when there is no source.
:data:`SUITE_SETTINGS` is the one table of acore-doctor's own variables (README's
"Configuration variables" table, never dead keys, the tools' defaults).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    key: str
    kind: str  # "bool" | "int" | "float" | "str" | "list" | "intlist" | "path"
    default: object
    #: read with a raw int()/float() in config/__init__.py: a bad value crashes the bot at import
    crashes_at_import: bool = False


_KINDS = {
    "b": "bool",
    "i": "int",
    "f": "float",
    "s": "str",
    "csv": "list",
    "csvint": "intlist",
    "path": "path",
}

# KEY kind default. A kind ending in "!" is a raw conversion that crashes at import (§2.4).
# Defaults are those of the live config/ package, not of the shadowed config.py.
_SPEC = """
RAG_COLLECTION_NAME s default
IMAGE_GENERATION_ENABLED b false
IMAGE_GENERATION_API_KEY s
IMAGE_PROVIDER s openai
IMAGE_SIZE_DEFAULT s 1024x1024
IMAGE_QUALITY_DEFAULT s standard
IMAGE_STYLE_DEFAULT s vivid
COMFYUI_SERVER_URL s http://127.0.0.1:8188
COMFYUI_WORKFLOW_ID s
LITELLM_API_KEY s dummy
LITELLM_BASE_URL s
LITELLM_IMAGE_MODEL s dall-e-3
KOBOLDCPP_URL s http://127.0.0.1:5001
KOBOLDCPP_STEPS i! 30
KOBOLDCPP_CFG_SCALE f! 7.0
KOBOLDCPP_SAMPLER s Euler a
CODE_EXECUTION_ENABLED b false
CODE_EXECUTION_TIMEOUT i! 30
CODE_SANDBOX_ENABLED b true
CODE_MAX_OUTPUT_SIZE i! 10000
BOT_CONVERSATION_ENABLED b true
BOT_CONVERSATION_MAX_TURNS i! 10
BOT_CONVERSATION_TIMEOUT_MINUTES i! 30
BOT_CONVERSATION_DETAILED_METRICS b false
RL_EXPLORATION_MODE b false
RL_EXPLORATION_ACTIVITY_THRESHOLD i! 5
RL_EXPLORATION_BONUS_MAX f! 3.0
RL_EPSILON_BOOST_FACTOR f! 2.0
RL_EPSILON_BOOST_DECAY f! 0.999
DISCORD_TOKEN s
COMMAND_PREFIX s !
AUTO_REPLY_ENABLED b false
AUTO_REPLY_CHANNELS csvint
NAME_TRIGGER_CHANNELS csvint
IGNORED_USERS csvint
AUTO_REPLY_WITH_VOICE b true
CONVERSATION_TIMEOUT i 300
BOT_MODE s hybrid
DISCORD_LEGACY_OPERATOR_ENABLED b false
DISCORD_LEGACY_PERSONA_ADMIN_ENABLED b false
DISCORD_LEGACY_CHAT_AMBIENT_ENABLED b false
DISCORD_LEGACY_CHAT_SESSION_ENABLED b false
DISCORD_LEGACY_CHAT_FALLBACK_ENABLED b false
DISCORD_LEGACY_SOCIAL_MODE_FOOTER_ENABLED b false
DISCORD_LEGACY_SOCIAL_INSIGHTS_ENABLED b false
DISCORD_VOICE_ENABLED b false
LLM_PROVIDER s ollama
USE_FUNCTION_CALLING b false
LLM_CACHE_ENABLED b true
LLM_CACHE_MAX_SIZE i 1000
LLM_CACHE_TTL_SECONDS i 3600
LLM_FALLBACK_ENABLED b false
LLM_FALLBACK_MODELS csv
LLM_FREQUENCY_PENALTY f 0.0
LLM_PRESENCE_PENALTY f 0.0
LLM_TOP_P f 1.0
OLLAMA_HOST s http://localhost:11434
OLLAMA_MODEL s llama3.2
OLLAMA_TEMPERATURE f 1.17
OLLAMA_MAX_TOKENS i 500
OLLAMA_MIN_P f 0.075
OLLAMA_TOP_K i 50
OLLAMA_REPEAT_PENALTY f 1.1
OPENROUTER_API_KEY s
OPENROUTER_MODEL s nousresearch/hermes-3-llama-3.1-405b
OPENROUTER_URL s https://openrouter.ai/api/v1
OPENROUTER_TIMEOUT i 180
OPENROUTER_STREAM_TIMEOUT i 180
THINKING_MODEL s
THINKING_MODEL_PROVIDER s
CLEAN_THINKING_OUTPUT b true
CHAT_HISTORY_ENABLED b true
CHAT_HISTORY_MAX_MESSAGES i 100
CONTEXT_MESSAGE_LIMIT i 20
MAX_CONTEXT_TOKENS i 8192
RESPONSE_STREAMING_ENABLED b true
STREAM_UPDATE_INTERVAL f 1.0
RESPONSE_TOKENS_VERY_SHORT i 50
RESPONSE_TOKENS_SHORT i 100
RESPONSE_TOKENS_MEDIUM i 200
RESPONSE_TOKENS_LONG i 350
RESPONSE_TOKENS_VERY_LONG i 500
CHARACTERS_DIR path ./prompts/characters
USE_PERSONA_SYSTEM b true
CHARACTER s dagoth_ur
FRAMEWORK s neuro
SYSTEM_PROMPT_FILE path ./prompts/default.txt
SYSTEM_PROMPT s
PERSONA_EVOLUTION_ENABLED b true
PERSONA_EVOLUTION_PATH path ./data/persona_evolution
PERSONA_EVOLUTION_MILESTONES csvint 50,100,500,1000,5000
PERSONA_STICKY_TIMEOUT i 30
PERSONA_FOLLOWUP_COOLDOWN i 60
PERSONA_CONFLICTS_ENABLED b true
CONFLICT_DECAY_RATE f 0.1
CONFLICT_ESCALATION_AMOUNT f 0.2
ACTIVITY_ROUTING_ENABLED b true
ACTIVITY_ROUTING_PRIORITY i 100
MOOD_SYSTEM_ENABLED b true
MOOD_UPDATE_FROM_INTERACTIONS b true
MOOD_TIME_BASED b true
MOOD_DECAY_MINUTES i 30
MOOD_MAX_INTENSITY_SHIFT f 0.1
MOOD_CHECK_INTERVAL_SECONDS i 60
MOOD_BOREDOM_TIMEOUT_SECONDS i 600
CURIOSITY_ENABLED b true
CURIOSITY_INDIVIDUAL_COOLDOWN_SECONDS i 300
CURIOSITY_WINDOW_LIMIT_SECONDS i 900
CURIOSITY_TOPIC_MEMORY_SIZE i 20
SELF_AWARENESS_ENABLED b true
HESITATION_CHANCE f 0.15
META_COMMENT_CHANCE f 0.10
SELF_CORRECTION_ENABLED b true
SEMANTIC_LOREBOOK_ENABLED b true
SEMANTIC_LOREBOOK_THRESHOLD f 0.65
SEMANTIC_LOREBOOK_CACHE_SIZE i 1000
RAG_ENABLED b false
RAG_MODE s simple
RAG_VECTOR_STORE path ./data/vector_store
RAG_DOCUMENTS_PATH path ./data/documents
RAG_TOP_K i 3
RAG_IN_CHAT b true
RAG_RELEVANCE_THRESHOLD f 0.5
RAG_HYBRID_SEARCH_ENABLED b true
RAG_KEYWORD_WEIGHT f 0.3
RAG_SEMANTIC_WEIGHT f 0.7
RAG_KEYWORD_MATCH_THRESHOLD f 0.5
RAG_BM25_ENABLED b true
RAG_BM25_K1 f 1.2
RAG_BM25_B f 0.75
RAG_RRF_K i 60
RAG_VECTOR_WEIGHT f 0.5
RAG_RERANKER_ENABLED b true
RAG_RERANKER_MODEL s cross-encoder/ms-marco-MiniLM-L-6-v2
RAG_RERANKER_TOP_K_MULTIPLIER i 3
RAG_RERANKER_BATCH_SIZE i 32
RAG_RERANK_INITIAL_K i 20
RAG_RERANKER_CACHE_SIZE i 1000
RAG_REALTIME_INDEXING_ENABLED b true
RAG_INDEXING_DEBOUNCE_SECONDS f 5.0
RAG_INDEXING_BATCH_SIZE i 100
RAG_INDEXING_QUEUE_SIZE i 1000
RAG_QUERY_EXPANSION_ENABLED b true
RAG_QUERY_EXPANSION b true
RAG_QUERY_EXPANSION_TECHNIQUES csv synonyms,hyponyms
RAG_MAX_QUERY_EXPANSIONS i 3
RAG_SUB_QUERY_COUNT i 3
USER_PROFILES_ENABLED b true
USER_PROFILES_PATH path ./data/user_profiles
USER_PROFILES_AUTO_LEARN b true
USER_AFFECTION_ENABLED b true
USER_CONTEXT_IN_CHAT b true
PROFILE_SAVE_INTERVAL_SECONDS i 60
ANONYMIZED_TELEMETRY b false
TTS_ENGINE s kokoro_api
AUDIO_BITRATE i 96
AUDIO_SAMPLE_RATE i 48000
KOKORO_VOICE s am_adam
KOKORO_SPEED f 1.0
KOKORO_API_URL s http://localhost:8880
KOKORO_VOICE_CHIEF s am_onyx
KOKORO_VOICE_ARBY s bm_george
SUPERTONIC_VOICE s M1
SUPERTONIC_STEPS i 5
SUPERTONIC_SPEED f 1.05
RVC_ENABLED b false
RVC_MODE s webui
RVC_DEVICE s cpu
RVC_MODEL_PATH path ./data/voice_models
DEFAULT_RVC_MODEL s GOTHMOMMY
RVC_WEBUI_URL s http://localhost:7865
RVC_PITCH_SHIFT i 0
RVC_PROTECT f 0.33
RVC_INDEX_RATE f 0.75
STT_ENGINE s whisper
WHISPER_ENABLED b false
WHISPER_MODEL_SIZE s base
WHISPER_DEVICE s auto
WHISPER_LANGUAGE s en
WHISPER_SILENCE_THRESHOLD f 1.0
MAX_RECORDING_DURATION i 30
PARAKEET_ENABLED b false
PARAKEET_API_URL s http://localhost:8890
PARAKEET_MODEL s nvidia/parakeet-tdt-0.6b-v3
PARAKEET_DEVICE s auto
PARAKEET_LANGUAGE s en
VOICE_ENERGY_THRESHOLD i 500
VOICE_BOT_TRIGGER_WORDS csv bot,assistant,hey,help,question
LUXTTS_API_URL s http://localhost:9999
LUXTTS_VOICE s default
LUXTTS_SPEED f 1.0
QWEN3TTS_API_URL s http://localhost:8880
QWEN3TTS_VOICE s Vivian
QWEN3TTS_LANGUAGE s Auto
QWEN3TTS_SPEED f 1.0
RL_ENABLED b false
RL_DATA_DIR path ./data/rl
RL_EPSILON_START f 1.0
RL_EPSILON_END f 0.01
RL_EPSILON_DECAY f 0.9995
RL_Q_INIT f 10.0
RL_LEARNING_RATE f 0.1
RL_DISCOUNT_FACTOR f 0.9
RL_PERSIST_INTERVAL i 60
RL_LOCK_TIMEOUT f 0.05
RL_MAX_LATENCY_SEC f 0.05
RL_REWARD_SPEED_THRESHOLD f 60.0
RL_REWARD_LONG_MSG_CHAR i 100
RL_CONTEXT_MAX_AGE i 3600
RL_MAX_AGENTS_PER_CHANNEL i 100
RL_ALGORITHM s tabular
RL_REPLAY_BUFFER_SIZE i 10000
RL_BATCH_SIZE i 32
RL_WARMUP_STEPS i 1000
RL_TRAIN_EVERY i 4
RL_STATE_DIM i 128
RL_USE_HIERARCHICAL b true
RL_USE_TRANSFER b true
RL_USE_MULTI_OBJECTIVE b true
RL_OFFLINE_PRETRAINING b false
METRICS_ENABLED b true
METRICS_SAVE_INTERVAL_MINUTES i 60
METRICS_RETENTION_DAYS i 30
ANALYTICS_WEBSOCKET_UPDATE_INTERVAL f 2.0
ERROR_SPIKE_WINDOW_SECONDS i 300
ANALYTICS_DASHBOARD_ENABLED b false
ANALYTICS_DASHBOARD_PORT i 8080
ANALYTICS_PASSWORD s admin
LOG_LEVEL s INFO
LOG_TO_FILE b true
LOG_FILE_PATH path logs/bot.log
LOG_MAX_BYTES i 10485760
LOG_BACKUP_COUNT i 5
LOG_FORMAT s text
LOG_COMPRESS b true
LOG_PERFORMANCE b true
LOG_LLM_REQUESTS b true
LOG_TTS_REQUESTS b true
AGENT_ROUTING_ENABLED b true
AGENT_ROUTING_STRATEGY s highest_confidence
AGENT_MIN_CONFIDENCE f 0.3
AGENT_CHAINING_ENABLED b true
AGENT_MAX_CHAIN_LENGTH i 3
AGENT_HEALTH_CHECK_INTERVAL f 60.0
AGENT_TIMEOUT_SECONDS f 30.0
MEMORY_CLEANUP_ENABLED b true
MEMORY_CLEANUP_INTERVAL_HOURS i 6
MAX_TEMP_FILE_AGE_HOURS i 24
MAX_HISTORY_AGE_DAYS i 30
CONVERSATION_SUMMARIZATION_ENABLED b true
AUTO_SUMMARIZE_THRESHOLD i 30
STORE_SUMMARIES_IN_RAG b true
BOTCONV_RL_TRAINING_ENABLED b false
NATURALNESS_ENABLED b true
REACTIONS_ENABLED b true
REACTIONS_CHANCE_MULTIPLIER f 1.0
ACTIVITY_AWARENESS_ENABLED b true
ACTIVITY_COMMENT_CHANCE f 0.1
ACTIVITY_COOLDOWN_SECONDS i 300
PROACTIVE_ENGAGEMENT_ENABLED b false
PROACTIVE_MIN_MESSAGES i 3
PROACTIVE_COOLDOWN i 180
REACTION_PROBABILITY f 0.5
PROACTIVE_PROBABILITY f 0.6
COOLDOWN_SECONDS i 150
MOOD_SHIFT_MAX f 0.2
TIMING_MODE s natural
NATURAL_TIMING_ENABLED b true
NATURAL_TIMING_MIN_DELAY f 0.5
NATURAL_TIMING_MAX_DELAY f 2.0
TYPING_INDICATOR_MIN_DELAY f 0.5
TYPING_INDICATOR_MAX_DELAY f 2.0
ADAPTIVE_TIMING_ENABLED b true
ADAPTIVE_TIMING_LEARNING_WINDOW_DAYS i 7
CHANNEL_ACTIVITY_PROFILE_PATH path ./data/channel_activity_profiles.json
VISION_ENABLED b true
VISION_MODEL s llava
WEB_SEARCH_ENABLED b true
WEB_SEARCH_ENGINE s duckduckgo
WEB_SEARCH_MAX_RESULTS i 3
WEB_SEARCH_RATE_LIMIT_DELAY f 2.0
TRIVIA_ENABLED b true
NOTES_ENABLED b true
REMINDERS_ENABLED b true
MAX_REMINDERS_PER_USER i 10
USE_STREAMING_FOR_LONG_RESPONSES b true
STREAMING_TOKEN_THRESHOLD i 300
DYNAMIC_MAX_TOKENS b false
SERVICE_CLEANUP_TIMEOUT f 2.0
GESTALT_ENV_PROFILE s
OPENAI_COMPAT_BASE_URL s
OPENAI_COMPAT_MODEL s
OPENAI_COMPAT_API_KEY s
OPENAI_COMPAT_TIMEOUT_SECONDS f 60
GESTALT_N8N_ENABLED b false
GESTALT_WEB_TOOL_ENABLED b false
GESTALT_MCP_NETWORK_ENABLED b false
GESTALT_MAX_TOOL_CALLS_PER_TURN i 3
GESTALT_PLUGINS_ENABLED b true
GESTALT_STRICT_PLUGINS b false
GESTALT_PLUGIN_DIRS s
GESTALT_MCP_ENABLED b false
GESTALT_MCP_SERVERS s
GESTALT_CONTEXT_BUDGET_TOKENS i 0
GESTALT_CONTEXT_BUDGET_COST f 0
GESTALT_CONTEXT_CACHE_TTL_SECONDS i 1200
GESTALT_CONTEXT_CACHE_MAX_ENTRIES i 200
GESTALT_CONTEXT_CACHE_MAX_PER_SESSION i 3
ENABLE_GOAL_SCHEDULING s
GESTALT_API_TOKEN s
ACORE_WEB_API_TOKEN s
GESTALT_CLI_DEFAULT_PERSONA s tai
MODE_PROVIDERS s
EMBEDDING_PROVIDER s auto
EMBEDDING_MODEL s all-MiniLM-L6-v2
EMBEDDING_DEVICE s cpu
EMBEDDING_DIM i 384
OPENAI_API_KEY s
OPENAI_BASE_URL s
REPLICATE_API_KEY s
SIL_ENABLED s false
SIL_RESPECT_CONVERSATION_MODE s
SIL_MAX_LATENCY_MS f 5.0
SIL_EMIT_VIBE_EVENTS s
SIL_EMIT_USER_PATTERNS s
SIL_CAPTURE_SIGNALS s
XDG_CONFIG_HOME s
APPDATA s
"""


def _parse_spec(spec: str) -> dict[str, Setting]:
    table: dict[str, Setting] = {}
    for line in spec.strip().splitlines():
        key, kind_code, *rest = line.split(" ", 2)
        crash = kind_code.endswith("!")
        kind = _KINDS[kind_code.rstrip("!")]
        raw = rest[0] if rest else ""
        default: object = raw
        if kind == "bool":
            default = raw.lower() == "true"
        elif kind == "int":
            default = int(raw)
        elif kind == "float":
            default = float(raw)
        table[key] = Setting(key, kind, default, crash)
    return table


SETTINGS: dict[str, Setting] = _parse_spec(_SPEC)

#: Keys the bot never reads although documents or examples name them (§2.5): key -> why.
DEAD_KEYS: dict[str, str] = {
    "ANALYTICS_API_KEY": "the dashboard reads ANALYTICS_PASSWORD (default 'admin'), not this key",
    "BEHAVIOR_REACTION_PROBABILITY": "the bot reads REACTION_PROBABILITY",
    "BEHAVIOR_PROACTIVE_PROBABILITY": "the bot reads PROACTIVE_PROBABILITY",
    "BEHAVIOR_COOLDOWN_SECONDS": "the bot reads COOLDOWN_SECONDS",
    "BEHAVIOR_MOOD_SHIFT_MAX": "the bot reads MOOD_SHIFT_MAX",
    "INTENT_RECOGNITION_ENABLED": "read only by the shadowed config.py",
    "NATURAL_LANGUAGE_REMINDERS": "read only by the shadowed config.py",
    "PROACTIVE_CHAT_CHANNELS": "read only by the shadowed config.py",
    "RAG_DEFAULT_SEARCH_MODE": "read only by the shadowed config.py",
    "RAG_REALTIME_INDEXING": "read only by the shadowed config.py (the live key is "
    "RAG_REALTIME_INDEXING_ENABLED)",
    "RAG_RERANK_BATCH_SIZE": "read only by the shadowed config.py (the live key is "
    "RAG_RERANKER_BATCH_SIZE)",
    "ACTIVE_PERSONAS": "a hard-coded list in config/persona.py, not an environment variable",
    "DISCORD_PREFIX": "the bot reads COMMAND_PREFIX",
    "ACORE_DISCORD_ENABLED": "launcher.py takes --profile/--discord flags instead",
    "ACORE_CLI_ENABLED": "launcher.py takes --profile/--cli flags instead",
    "ACORE_WEB_ENABLED": "launcher.py takes --profile/--web flags instead",
    "ACORE_WEB_PORT": "launcher.py takes --web-port instead",
    "ACORE_WEB_HOST": "no code reads it; the web adapter binds 0.0.0.0",
    "OLLAMA_BASE_URL": "the bot reads OLLAMA_HOST",
    "ENABLE_CIRCUIT_BREAKER": "no code reads it",
    "MAX_RETRY_ATTEMPTS": "no code reads it",
    "CPU_WARNING_THRESHOLD": "describes a health module that does not exist",
    "MCP_ENABLED": "archived; the runtime reads GESTALT_MCP_ENABLED",
    "MCP_SERVER_URL": "archived; the runtime reads GESTALT_MCP_SERVERS",
    "RVC_DEFAULT_MODEL": "the bot reads DEFAULT_RVC_MODEL",
    "DATA_DIR": "the bot hard-codes its data directory (./data under its working directory); "
    "no code reads DATA_DIR",
}
#: Families of dead keys (§2.5), by prefix.
DEAD_PREFIXES: dict[str, str] = {
    "BEHAVIOR_": "the behaviour keys are read without the BEHAVIOR_ prefix",
    "AMBIENT_": "the AMBIENT_* family is read only by the shadowed config.py",
}

#: Keys that libraries and the interpreter under the bot read (never reported as dead keys).
OTHER_READERS: frozenset[str] = frozenset(
    {
        "PYTHONUNBUFFERED",
        "PYTHONPATH",
        "TZ",
        "HF_HOME",
        "TRANSFORMERS_CACHE",
        "CUDA_VISIBLE_DEVICES",
    }
)


@dataclass(frozen=True)
class SuiteSetting(Setting):
    """A variable acore-doctor itself reads (from the bot's `.env` or the process environment)."""

    meaning: str = ""


# KEY kind default | meaning (the README's "Configuration variables" table is this table;
# tests/test_suite_settings.py keeps them equal). "-" is an empty default.
_SUITE_SPEC = """
ACORE_BOT_DIR path - | the deployment to check when `--bot-dir` is not given (environment only)
DIAGNOSTIC_REPORTS_PATH path - | where reports go when `--report-dir` is not given
DISCORD_API_BASE s https://discord.com/api/v10 | Discord REST base: a proxy, or the simulator
SUPERTONIC_API_URL s http://127.0.0.1:7788 | the Supertonic TTS server probed when `TTS_ENGINE=supertonic`
TEST_GUILD_ID s - | compute the bot's permissions in this guild from its roles
RESPONSE_PROBE_CHANNEL_ID s - | opt-in reply probe: a test channel where a message mentioning the bot must get its reply
RESPONSE_PROBE_TOKEN s - | the reply probe's test identity: a second bot's token (posts and reads; never the bot's own)
RESPONSE_PROBE_WEBHOOK s - | or a webhook in the test channel that posts the probe message (a secret: never printed)
RESPONSE_PROBE_TIMEOUT f 20 | seconds the reply probe waits for the bot's reply (within `--probe-budget`)
HEALTH_CHECK_INTERVAL f 300 | seconds between `watch` runs
DIAGNOSTIC_ENABLED b true | `false`: `watch` and `serve` stay idle (no suite run) and say so
ERROR_REPORT_WEBHOOK s - | Discord webhook for `watch` alerts (a secret: never printed)
ERROR_REPORTING_ENABLED b true | every report to `ERROR_REPORT_WEBHOOK`: `watch`'s new warnings and criticals, AutoRecovery's attempts and failures; `false` turns them all off
CRITICAL_ERROR_NOTIFICATIONS b true | the critical ones among them (critical findings, AutoRecovery needing a human); `false` turns only those off
AUTO_DIAGNOSTIC_ON_ERROR b false | `true`: `watch` keeps a diagnostic bundle when a run turns critical
MEMORY_PROFILING b false | `true`: the in-process tracemalloc helper runs
MEMORY_PROFILING_INTERVAL f 300 | seconds between tracemalloc snapshots
MEMORY_PROFILING_TOP i 15 | source lines kept per tracemalloc snapshot
MEMORY_PROFILING_FILE path logs/memory_profile.log | where the tracemalloc helper appends
PERFORMANCE_PROFILING b false | `true`: the in-process cProfile helper runs
PERFORMANCE_PROFILING_FILE path logs/performance_profile.log | where the cProfile helper writes
STATE_BACKUP_ENABLED b false | backups are expected (a missing backup is then reported)
STATE_BACKUP_DIR path backups | where `acore-doctor backup` keeps backups
RECOVERY_STATE_RETENTION i 7 | days backups are kept
AUTO_RECOVERY_ENABLED b true | AutoRecovery's switch
MAX_RECOVERY_ATTEMPTS i 3 | AutoRecovery's circuit breaker: attempts before it stops
RECOVERY_COOLDOWN f 300 | AutoRecovery's circuit breaker: seconds between attempts
RECOVERY_RESTART_COMMAND s - | AutoRecovery runs it (no shell) to restart memory-heavy components when memory pressure returns after clearing caches, e.g. `systemctl restart discordbot`
ACORE_DOCTOR_HISTORY_KEEP i 1000 | runs kept in the trend file
AUTO_BACKUP_ON_ERROR b false | AutoRecovery takes a verified backup (one per RECOVERY_COOLDOWN) before a data repair writes
DEBUG_MODE b false | `true`: acore-doctor's own debug log on stderr and full tracebacks of its internal errors
VERBOSE_LOGGING b false | `true`: the same as `DEBUG_MODE`
RESOURCE_MONITORING_ENABLED b true | `false`: `watch` leaves out the resource checks (disk headroom, memory, CPU, leak trend)
PERFORMANCE_ALERTS b false | `true`: `watch` also alerts on warnings of the resource checks
"""


def _parse_suite_spec(spec: str) -> dict[str, SuiteSetting]:
    table: dict[str, SuiteSetting] = {}
    for line in spec.strip().splitlines():
        head, meaning = (part.strip() for part in line.split("|", 1))
        key, kind_code, raw = head.split(" ", 2)
        setting = _parse_spec(f"{key} {kind_code} {'' if raw == '-' else raw}")[key]
        table[key] = SuiteSetting(key, setting.kind, setting.default, meaning=meaning)
    return table


#: The suite's own settings: never dead keys; README's variable table; the tools' defaults.
SUITE_SETTINGS: dict[str, SuiteSetting] = _parse_suite_spec(_SUITE_SPEC)
#: Families of the suite's own settings (deployment §2.5 docs name more of them than we read).
SUITE_PREFIXES: tuple[str, ...] = (
    "STATE_BACKUP_",
    "AUTO_RECOVERY_",
    "RECOVERY_",
    "DIAGNOSTIC_",
    "MEMORY_PROFILING_",
    "PERFORMANCE_PROFILING_",
)


def is_suite_key(key: str) -> bool:
    return key in SUITE_SETTINGS or key.startswith(SUITE_PREFIXES)


def suite_settings_markdown() -> str:
    """README's "Configuration variables" table, rendered from :data:`SUITE_SETTINGS`."""
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for setting in SUITE_SETTINGS.values():
        default = setting.default
        if isinstance(default, bool):
            shown = str(default).lower()
        elif isinstance(default, float) and default.is_integer():
            shown = str(int(default))
        else:
            shown = str(default)
        shown = f"`{shown}`" if shown else ""
        rows.append(f"| `{setting.key}` | {shown} | {setting.meaning} |")
    return "\n".join(rows) + "\n"


@dataclass(frozen=True)
class RangeRule:
    """A rule from the shadowed ``config.py::validate()`` that nothing enforces any more."""

    key: str
    low: float | None = None
    high: float | None = None
    #: another float/int key this one must be >= to
    at_least_key: str | None = None

    def describe(self) -> str:
        if self.at_least_key:
            return f">= {self.at_least_key}"
        if self.low is not None and self.high is not None:
            return f"in [{self.low:g}, {self.high:g}]"
        if self.low is not None:
            return f">= {self.low:g}"
        return f"<= {self.high:g}"


RANGE_RULES: tuple[RangeRule, ...] = (
    RangeRule("OLLAMA_TEMPERATURE", 0, 2),
    RangeRule("OLLAMA_MAX_TOKENS", 1),
    RangeRule("OLLAMA_MIN_P", 0, 1),
    RangeRule("OLLAMA_TOP_K", 1),
    RangeRule("OLLAMA_REPEAT_PENALTY", 0),
    RangeRule("CHAT_HISTORY_MAX_MESSAGES", 1),
    RangeRule("NATURAL_TIMING_MIN_DELAY", 0),
    RangeRule("NATURAL_TIMING_MAX_DELAY", at_least_key="NATURAL_TIMING_MIN_DELAY"),
    RangeRule("TYPING_INDICATOR_MIN_DELAY", 0),
    RangeRule("TYPING_INDICATOR_MAX_DELAY", at_least_key="TYPING_INDICATOR_MIN_DELAY"),
    RangeRule("RESPONSE_TOKENS_VERY_SHORT", 1),
    RangeRule("RESPONSE_TOKENS_SHORT", 1),
    RangeRule("RESPONSE_TOKENS_MEDIUM", 1),
    RangeRule("RESPONSE_TOKENS_LONG", 1),
    RangeRule("RESPONSE_TOKENS_VERY_LONG", 1),
    RangeRule("RAG_RELEVANCE_THRESHOLD", 0, 1),
    RangeRule("PERSONA_STICKY_TIMEOUT", 0),
    RangeRule("SERVICE_CLEANUP_TIMEOUT", 0),
    RangeRule("HESITATION_CHANCE", 0, 1),
    RangeRule("META_COMMENT_CHANCE", 0, 1),
    RangeRule("ACTIVITY_COMMENT_CHANCE", 0, 1),
    RangeRule("REACTION_PROBABILITY", 0, 1),
    RangeRule("PROACTIVE_PROBABILITY", 0, 1),
    RangeRule("LOG_BACKUP_COUNT", 0),
    RangeRule("LOG_MAX_BYTES", 1),
    RangeRule("ANALYTICS_DASHBOARD_PORT", 1, 65535),
)

#: Values a string setting must take (others are silently ignored or crash, see §2.2).
CHOICES: dict[str, frozenset[str]] = {
    "LOG_LEVEL": frozenset({"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}),
    "LOG_FORMAT": frozenset({"text", "json"}),
    "BOT_MODE": frozenset({"roleplay", "assistant", "hybrid"}),
    "RVC_MODE": frozenset({"webui"}),
    "WEB_SEARCH_ENGINE": frozenset({"duckduckgo", "google"}),
    "AGENT_ROUTING_STRATEGY": frozenset(
        {"highest_confidence", "round_robin", "priority_based", "fallback_chain"}
    ),
}

#: TTS engines each entrypoint can build; `kokoro`/`supertonic` modules were deleted (§2.2).
TTS_ENGINES_WORKING = frozenset({"kokoro_api", "luxtts", "qwen3tts"})
TTS_ENGINES_CRASHING = frozenset({"kokoro", "supertonic"})
#: The URL setting of each HTTP TTS engine (TTS_ENGINE value -> key): the one map the probes
#: (``netprobe/targets.py``) and the rules read.
TTS_ENGINE_URL_KEYS = {
    "kokoro_api": "KOKORO_API_URL",
    "supertonic": "SUPERTONIC_API_URL",
    "luxtts": "LUXTTS_API_URL",
    "qwen3tts": "QWEN3TTS_API_URL",
}
#: The URL setting each HTTP TTS engine the bot can build needs.
TTS_URL_KEYS = {e: key for e, key in TTS_ENGINE_URL_KEYS.items() if e in TTS_ENGINES_WORKING}
#: Kokoro voice settings the bot reads (deployment §2.4); persona voices come from their files.
KOKORO_VOICE_KEYS = ("KOKORO_VOICE", "KOKORO_VOICE_CHIEF", "KOKORO_VOICE_ARBY")
LLM_PROVIDERS = {
    "legacy": frozenset({"ollama", "openrouter"}),
    "runtime": frozenset({"ollama", "openrouter", "openai", "openai_compat"}),
}

#: Persona framework keys `load_framework` indexes directly (§3.1).
FRAMEWORK_KEYS = (
    "framework_id",
    "name",
    "purpose",
    "behavioral_patterns",
    "tool_requirements",
    "decision_making",
    "context_requirements",
    "interaction_style",
    "anti_hallucination",
    "prompt_template",
)
#: Valid `mode_profiles.default_mode` values on the runtime path (§3.2).
PERSONA_MODES = frozenset({"default", "creative", "logic", "analytical", "reflective", "focused"})


#: Every key with a known kind and default: the suite's table, then the bot's catalog on top.
KNOWN: dict[str, Setting] = {**SUITE_SETTINGS, **SETTINGS}
