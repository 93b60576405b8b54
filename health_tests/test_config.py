"""The bot's .env: present, readable, complete, and saying what the operator thinks it says.

Values are interpreted with the bot's own parse rules (acore_doctor.settings) and the facts
of acore_doctor.catalog (what the bot reads, what it ignores, what crashes it).
"""

import pytest

from acore_doctor import check
from acore_doctor.deployment import Deployment
from acore_doctor.probes import auth_file as auth_probe
from acore_doctor.probes.bot_process import BotProcess, listening_addresses
from acore_doctor.probes.entrypoint import Entrypoint, Unit
from acore_doctor.probes.token import token_shape
from acore_doctor.rules import config as config_rules
from acore_doctor.rules import exposure as exposure_rules
from acore_doctor.settings import BotSettings

GUIDE = "guides/deployment_issues.md"


@pytest.mark.critical
@check(
    ".env file is present and readable",
    "If .env is missing: create it in the bot's directory (copy .env.example) and fill in "
    "DISCORD_TOKEN, or point the suite at it with --env-file. If it exists but cannot be "
    "read: 'chown BOTUSER: .env && chmod 600 .env'.",
    guide="guides/deployment_issues.md#env-file-missing",
)
def test_env_file_present(deployment: Deployment) -> None:
    state = deployment.settings.env_file
    assert state.exists, f"expected a .env file at {state.path}, found none"
    assert state.readable and state.error is None, (
        f"expected {state.path} to be a readable KEY=VALUE text file, found: {state.error}"
    )


@pytest.mark.warning
@check(
    "Every line of .env is understood",
    "Fix or remove the listed lines: close every quote, one KEY=VALUE per line. The bot skips "
    "lines it cannot parse without a word, and an unterminated quote swallows later lines.",
    guide=f"{GUIDE}#setting-silently-ignored",
)
def test_env_lines_parse(settings: BotSettings) -> None:
    state = settings.env_file
    if not state.exists or state.error:
        pytest.skip("not applicable: no readable .env (see the .env check)")
    assert not state.unparsed_lines, (
        "expected every line of .env to be KEY=VALUE, found unparseable line(s) "
        + ", ".join(map(str, state.unparsed_lines[:20]))
    )


@pytest.mark.critical
@check(
    "DISCORD_TOKEN is set and shaped like a bot token",
    "Copy the bot token again from the Discord Developer Portal (Bot > Reset Token) into "
    "DISCORD_TOKEN=, without quotes, spaces or a 'Bot ' prefix.",
    guide="guides/common_issues.md#bot-not-responding",
)
def test_discord_token_shape(settings: BotSettings) -> None:
    shape = token_shape(settings.raw("DISCORD_TOKEN"))
    source = settings.source("DISCORD_TOKEN")
    where = f"set in {source}" if source else "in neither .env nor the environment"
    assert shape.ok, (
        "expected DISCORD_TOKEN to be three dot-separated base64 parts starting with the "
        f"bot's id, found it {'; '.join(shape.problems)} ({where})"
    )


@pytest.mark.critical
@check(
    "Settings the configured providers need are set",
    "Set each listed key in .env: DISCORD_TOKEN always; OPENROUTER_API_KEY for "
    "LLM_PROVIDER=openrouter; a non-empty OLLAMA_HOST and OLLAMA_MODEL for Ollama.",
    guide=f"{GUIDE}#required-setting-missing",
)
def test_required_settings(settings: BotSettings, entrypoint: Entrypoint) -> None:
    missing = config_rules.missing_required(settings, entrypoint.kind)
    assert not missing, "expected every required setting, found: " + "; ".join(missing)


@pytest.mark.critical
@check(
    "No setting the running configuration needs holds an example placeholder",
    "Replace each listed value with the real one (copy keys from the provider's dashboard).",
    guide=f"{GUIDE}#placeholder-values",
)
def test_no_placeholders(settings: BotSettings, entrypoint: Entrypoint) -> None:
    # Placeholders in dead keys are part of the dead-key warning, in unused keys information
    # (test_placeholders_in_unused_keys): see docs/severity.md.
    found = config_rules.placeholders(settings, entrypoint.kind)
    assert not found, "expected real values, found: " + "; ".join(found)


@pytest.mark.warning
@check(
    "Placeholders left in settings the running configuration does not use",
    "Nothing stops the bot: these keys belong to providers or features that are off. Replace "
    "them before you switch those on.",
    guide=f"{GUIDE}#placeholder-values",
)
def test_placeholders_in_unused_keys(
    settings: BotSettings, entrypoint: Entrypoint, record_details
) -> None:
    found = config_rules.unused_placeholders(settings, entrypoint.kind)
    # Information only (it passes): an unused provider's key is never a problem today.
    record_details("; ".join(found) if found else "none")


@pytest.mark.warning
@check(
    "Settings are values the bot understands",
    "Fix each listed value: booleans must be 'true' or 'false', numbers plain digits. "
    "The bot silently uses its default instead of a value it cannot parse.",
    guide="guides/deployment_issues.md#setting-silently-ignored",
)
def test_values_bot_understands(settings: BotSettings) -> None:
    problems = config_rules.silently_replaced(settings)
    assert not problems, "expected every typed setting to parse, found: " + "; ".join(problems)


@pytest.mark.critical
@check(
    "No number the bot reads at import is malformed",
    "Write a plain number for each listed key (or remove the line): config/__init__.py "
    "converts these with int()/float() and the bot dies with ValueError before logging.",
    guide=f"{GUIDE}#bot-crashes-at-import-on-a-bad-number",
)
def test_no_import_crash(settings: BotSettings) -> None:
    crashes = config_rules.import_crashes(settings)
    assert not crashes, "expected numbers the bot can convert, found: " + "; ".join(crashes)


@pytest.mark.warning
@check(
    "Settings are within the ranges the bot was designed for",
    "Bring each listed value into range: nothing in the bot's live config code stops these "
    "values (the old range checks of config.py do not run with a config/ package).",
    guide=f"{GUIDE}#setting-out-of-range",
)
def test_ranges(deployment: Deployment, settings: BotSettings) -> None:
    problems = config_rules.range_violations(settings)
    source = deployment.knowledge.source
    if source is not None and source.validate_rules:
        # config.py-only layout: what its own validate() judges is the critical check's.
        judged = config_rules.validated_keys(source.validate_rules)
        problems = [p for p in problems if p.split("=", 1)[0] not in judged]
    assert not problems, "expected values within range, found: " + "; ".join(problems)


@pytest.mark.critical
@check(
    "The bot's config code loads",
    "Fix the listed line (or restore the file from git: 'git checkout -- FILE'): the bot "
    "imports its config at start and dies with this error before it logs anything.",
    guide=f"{GUIDE}#config-does-not-load",
)
def test_config_code_loads(deployment: Deployment, record_details) -> None:
    source = deployment.knowledge.source
    if source is None:
        pytest.skip("not applicable: no config/ or config.py in the bot directory")
    record_details(
        f"{len(source.config_files)} config file(s) parsed ({', '.join(source.config_files)})"
        + (f"; not imported at start: {'; '.join(source.unparsed)}" if source.unparsed else "")
    )
    errors = config_rules.config_load_errors(source)
    assert not errors, "expected config code that imports, found: " + "; ".join(errors)


@pytest.mark.critical
@check(
    "The bot's own Config.validate() accepts the settings",
    "Change the listed setting in .env: this bot's config.py checks it at start and stops "
    "with ValueError.",
    guide=f"{GUIDE}#config-validate-raises",
)
def test_config_validate_accepts(deployment: Deployment, settings: BotSettings) -> None:
    source = deployment.knowledge.source
    if source is None or not source.validate_rules:
        pytest.skip("not applicable: no config.py-only layout with a Config.validate() to read")
    failures = config_rules.validator_failures(settings, source.validate_rules)
    assert not failures, "expected settings Config.validate() accepts, found: " + "; ".join(
        failures
    )


@pytest.mark.warning
@check(
    "Every key in .env is one the bot reads",
    "Rename or remove each listed key. Documentation and .env.example name keys the code "
    "never reads (ANALYTICS_API_KEY does not set the dashboard password: ANALYTICS_PASSWORD "
    "does).",
    guide=f"{GUIDE}#dead-or-misspelled-keys",
)
def test_no_dead_keys(settings: BotSettings) -> None:
    dead = config_rules.dead_keys(settings)
    assert not dead, "expected only keys the bot reads, found: " + "; ".join(dead)


@pytest.mark.critical
@check(
    "Provider selectors name engines that exist",
    "Use TTS_ENGINE=kokoro_api (or luxtts/qwen3tts with their URL), and set "
    "LLM_FALLBACK_ENABLED=false while the legacy fallback bug exists.",
    guide=f"{GUIDE}#provider-selector-crash",
)
def test_selectors_do_not_crash(settings: BotSettings, entrypoint: Entrypoint) -> None:
    crashes = config_rules.selector_crashes(settings, entrypoint.kind)
    assert not crashes, "expected selectors the bot can start with, found: " + "; ".join(crashes)


@pytest.mark.warning
@check(
    "Provider selectors agree with each other",
    "Fix the listed selector: an unknown provider silently becomes another one, and two TTS "
    "engines cannot share one port.",
    guide=f"{GUIDE}#provider-selector-mismatch",
)
def test_selectors_coherent(settings: BotSettings, entrypoint: Entrypoint) -> None:
    problems = config_rules.selector_warnings(settings, entrypoint.kind)
    assert not problems, "expected coherent selectors, found: " + "; ".join(problems)


@pytest.mark.warning
@check(
    ".env is readable only by its owner",
    "Run 'chmod 600 .env': it holds the Discord token and API keys.",
    guide=f"{GUIDE}#env-file-readable-by-others",
)
def test_env_file_private(deployment: Deployment) -> None:
    mode = auth_probe.env_file_mode(deployment.env_file)
    if mode is None:
        pytest.skip("not applicable: no .env file")
    assert not mode & 0o077, f"expected {deployment.env_file} mode 0600, found {mode:04o}"


@pytest.mark.warning
@check(
    "Runtime provider credentials come from where you think",
    "Remove the stale secret from auth.json (or update it), unset OPENAI_COMPAT_* unless you "
    "mean to override every provider, and chmod 600 auth.json.",
    guide=f"{GUIDE}#credentials-overridden-on-the-runtime-path",
)
def test_runtime_credentials(
    settings: BotSettings, entrypoint: Entrypoint, auth_file: auth_probe.AuthFile
) -> None:
    if entrypoint.kind != "runtime":
        pytest.skip("not applicable: only launcher.py reads auth.json and OPENAI_COMPAT_*")
    problems = config_rules.credential_precedence(settings, auth_file)
    assert not problems, "expected .env to be the credential source, found: " + "; ".join(problems)


@pytest.mark.warning
@check(
    "The bundled settings catalog agrees with the bot's own code",
    "Nothing to fix in the deployment: the suite follows the bot's config/ source. Report the "
    "listed differences to acore-doctor so its bundled catalog (used without source) catches up.",
    guide=f"{GUIDE}#dead-or-misspelled-keys",
)
def test_catalog_matches_bot_source(deployment: Deployment, record_details) -> None:
    knowledge = deployment.knowledge
    if knowledge.source is None:
        pytest.skip("not applicable: no config/ source in the bot directory (bundled catalog used)")
    differences = knowledge.disagreements
    # Information, never a failure: the run already uses what the bot's code says.
    record_details(
        f"settings from {knowledge.origin}: {len(knowledge.source.reads)} keys in "
        f"{len(knowledge.source.config_files)} config files, "
        f"{len(knowledge.source.read_elsewhere)} read elsewhere"
        + (
            "; differs from the bundled catalog: " + "; ".join(differences[:30])
            if differences
            else "; agrees with the bundled catalog"
        ),
    )
    # A config file that does not parse is the critical test_config_code_loads's.


@pytest.mark.critical
@check(
    "The analytics dashboard is not open with a guessable password",
    "Set ANALYTICS_PASSWORD in .env to a long random value ('openssl rand -hex 16') and "
    "restart, or set ANALYTICS_DASHBOARD_ENABLED=false. ANALYTICS_API_KEY does not set it.",
    guide=f"{GUIDE}#dashboard-exposed",
)
def test_dashboard_not_exposed(
    settings: BotSettings,
    entrypoint: Entrypoint,
    bot_processes: list[BotProcess],
    record_details,
) -> None:
    if not settings.get("ANALYTICS_DASHBOARD_ENABLED"):
        pytest.skip("not applicable: ANALYTICS_DASHBOARD_ENABLED is not true")
    if entrypoint.kind == "runtime":
        pytest.skip("not applicable: launcher.py serves no analytics dashboard (main.py does)")
    binds = listening_addresses(bot_processes, settings.get("ANALYTICS_DASHBOARD_PORT"))
    record_details(
        "listening on " + (", ".join(binds) if binds else "nothing yet")
        if binds is not None
        else "no running bot to read: judged from the code (main.py binds 0.0.0.0)"
    )
    problems = exposure_rules.dashboard_exposed(settings, binds)
    assert not problems, "; ".join(problems)


@pytest.mark.warning
@check(
    "launcher.py's web API is not open without a token",
    "Run launcher.py with '--profile discord' (or --no-web) unless you use its web API; if "
    "you do, set GESTALT_API_TOKEN in .env to a long random value.",
    guide=f"{GUIDE}#web-api-without-token",
)
def test_web_api_has_token(
    settings: BotSettings,
    entrypoint: Entrypoint,
    systemd_units: list[Unit],
    bot_processes: list[BotProcess],
    record_details,
) -> None:
    if entrypoint.kind != "runtime":
        pytest.skip("not applicable: only launcher.py serves the web API")
    commands = [list(p.cmdline) for p in bot_processes if p.entrypoint == "runtime"]
    commands += [exposure_rules.split_command(u.exec_start) for u in systemd_units if u.exec_start]
    commands = [c for c in commands if any(a.endswith("launcher.py") or a == "launcher" for a in c)]
    if not commands:
        pytest.skip("not applicable: no launcher.py command line to read (no process or unit)")
    record_details("; ".join(" ".join(c[-6:]) for c in commands))
    problems = [p for argv in commands for p in exposure_rules.web_api_open(settings, argv)]
    assert not problems, "; ".join(problems[:2])
