"""``acore-doctor simulate``: stand-in Discord, LLM and voice services on loopback ports."""

from __future__ import annotations

import argparse
import sys
import time

from acore_doctor.commands.options import UsageError
from acore_doctor.simulate import SERVICES, Simulator, modes_of


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "simulate",
        description="Start stand-ins for the services acore_bot talks to on 127.0.0.1 and "
        "print the environment variables that point a deployment at them. Runs until "
        "Ctrl-C (or --for SECONDS).",
    )
    parser.add_argument(
        "--service",
        action="append",
        choices=sorted(SERVICES),
        help="start only this service (repeatable; default: all)",
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SERVICE=MODE",
        help="start SERVICE in fault MODE, e.g. ollama=missing_model, discord=1015; "
        "combine modes with +, e.g. discord=wrong_id+no_guilds",
    )
    parser.add_argument(
        "--port", action="append", default=[], metavar="SERVICE=PORT", help="fixed port"
    )
    parser.add_argument("--list-modes", action="store_true", help="list fault modes and exit")
    parser.add_argument("--for", dest="duration", type=float, help="stop after SECONDS")
    parser.set_defaults(handler=handle)


def _pairs(values: list[str], what: str) -> dict[str, str]:
    out = {}
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or name not in SERVICES or not rest:
            raise UsageError(f"expected SERVICE=VALUE for {what}, got {value!r}")
        out[name] = rest
    return out


def handle(args: argparse.Namespace, extra: list[str]) -> int:
    if args.list_modes:
        for name in sorted(SERVICES):
            print(f"{name}:")
            for mode, meaning in modes_of(name).items():
                print(f"  {mode:<20} {meaning}")
        return 0
    faults = _pairs(args.fault, "--fault")
    for name, mode in faults.items():
        unknown = [part for part in mode.split("+") if part not in modes_of(name)]
        if unknown:
            raise UsageError(f"{name} has no fault mode {unknown[0]!r} (see --list-modes)")
    try:
        ports = {k: int(v) for k, v in _pairs(args.port, "--port").items()}
    except ValueError as exc:
        raise UsageError(f"bad port: {exc}") from None
    services = args.service or list(SERVICES)
    with Simulator(services, faults=faults, ports=ports) as sim:
        print("# Simulated services on 127.0.0.1; point a deployment at them with:")
        for key, value in sim.env().items():
            print(f"export {key}={value}")
        for name in sim.sims:
            if not sim.sims[name].env(sim.url(name)):
                print(f"# {name}: {sim.url(name)} (set OPENAI_COMPAT_BASE_URL to it to use it)")
        if "discord" in sim.sims:
            print("# Any token shaped like a bot token is accepted; a webhook receiver is at:")
            print(f"#   {sim.discord.webhook_url()}")
        for name, mode in faults.items():
            print(f"# {name}: fault mode {mode}")
        print("# Ctrl-C to stop.", flush=True)
        try:
            if args.duration is not None:
                time.sleep(args.duration)
            else:
                while True:
                    time.sleep(3600)
        except KeyboardInterrupt:
            print("stopped", file=sys.stderr)
    return 0
