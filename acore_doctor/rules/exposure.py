"""Listeners the bot opens to the network, and whether they are protected (deployment §5,
§8 check 20). Pure functions: settings, command lines and listening addresses -> problems."""

from __future__ import annotations

import ipaddress
import shlex

from acore_doctor.probes.token import is_placeholder
from acore_doctor.settings import BotSettings

#: The dashboard's password when ANALYTICS_PASSWORD is unset (config/analytics.py).
DASHBOARD_DEFAULT_PASSWORD = "admin"
#: launcher.py's web adapter port without --web-port (gestalt/runtime_bootstrap.py).
DEFAULT_WEB_PORT = 8000
WEB_TOKEN_KEYS = ("GESTALT_API_TOKEN", "ACORE_WEB_API_TOKEN")


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%", 1)[0]).is_loopback
    except ValueError:
        return address == "localhost"


def weak_dashboard_password(settings: BotSettings) -> str | None:
    """How the dashboard's password is guessable, or None when it is not."""
    raw = settings.raw("ANALYTICS_PASSWORD")
    if raw is None:
        return f"ANALYTICS_PASSWORD is unset, so the password is the default '{DASHBOARD_DEFAULT_PASSWORD}'"
    value = raw.strip()
    if not value:
        return "ANALYTICS_PASSWORD is empty"
    if value == DASHBOARD_DEFAULT_PASSWORD:
        return f"ANALYTICS_PASSWORD is the default '{DASHBOARD_DEFAULT_PASSWORD}'"
    if is_placeholder(value):
        return "ANALYTICS_PASSWORD holds an example placeholder"
    return None


def dashboard_exposed(settings: BotSettings, binds: list[str] | None) -> list[str]:
    """The dashboard (main.py, ANALYTICS_DASHBOARD_ENABLED=true) answers on a non-loopback
    address with a guessable password: anyone who can reach the port can rewrite .env.

    ``binds``: the addresses the running bot listens on at the dashboard's port; None when
    not known (no process): main.py binds 0.0.0.0."""
    weak = weak_dashboard_password(settings)
    if weak is None:
        return []
    port = settings.get("ANALYTICS_DASHBOARD_PORT")
    if binds is not None and binds and all(is_loopback(b) for b in binds):
        return []
    where = (
        f"listening on {', '.join(f'{b}:{port}' for b in binds)}"
        if binds
        else f"main.py binds 0.0.0.0:{port}"
    )
    return [
        f"expected a real password on the analytics dashboard, found {weak} while it is "
        f"enabled and reachable from the network ({where}); the dashboard can rewrite .env"
    ]


def launcher_web(argv: list[str]) -> tuple[bool, int]:
    """Whether launcher.py with these arguments starts its web adapter, and on which port:
    ``--profile`` (default all) then ``--web``/``--no-web`` (later wins), ``--web-port``."""
    profile, web, port = "all", None, DEFAULT_WEB_PORT
    for index, arg in enumerate(argv):
        name, _, inline = arg.partition("=")
        value = inline or (argv[index + 1] if index + 1 < len(argv) else "")
        if name == "--profile":
            profile = value
        elif arg == "--web":
            web = True
        elif arg == "--no-web":
            web = False
        elif name == "--web-port" and value.isdigit():
            port = int(value)
    if web is None:
        web = profile in ("web", "all")
    return web, port


def split_command(command: str) -> list[str]:
    try:
        return shlex.split(command.lstrip("@-:+!"))
    except ValueError:
        return command.split()


def web_api_open(settings: BotSettings, argv: list[str]) -> list[str]:
    """launcher.py serves its web API on 0.0.0.0 with no API token (anyone can spend LLM
    tokens through /chat and drive the runtime API)."""
    web, port = launcher_web(argv)
    if not web:
        return []
    if any((settings.raw(key) or "").strip() for key in WEB_TOKEN_KEYS):
        return []
    return [
        f"expected an API token (GESTALT_API_TOKEN) for launcher.py's web API, found none "
        f"while '{' '.join(argv[-6:])}' serves it on 0.0.0.0:{port} (no --no-web or "
        "--profile discord)"
    ]
