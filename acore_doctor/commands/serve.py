"""``acore-doctor serve``: /healthz and /metrics for Kubernetes, Uptime Kuma, Prometheus."""

from __future__ import annotations

import argparse
import asyncio

from acore_doctor.commands.options import add_deployment_options, deployment_from, report_dir_from
from acore_doctor.ops.serve import DEFAULT_CACHE_S, SuiteService, serve
from acore_doctor.ops.switches import Switches, read_switches


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        description="Serve the suite's verdict over HTTP. Results are cached for "
        "--cache-seconds and only one run happens at a time, however many requests arrive. "
        "/healthz answers 200 (healthy, warning), 503 (critical) or 500 (the suite could not "
        "decide) with a JSON body; /metrics is Prometheus text. Extra arguments go to pytest "
        "(e.g. -m critical for a quick liveness suite). DIAGNOSTIC_ENABLED=false in the bot's "
        "settings (read before every run) idles it: no run, /healthz answers 200 with status "
        "'disabled'.",
    )
    add_deployment_options(parser)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765, 0 = any)")
    parser.add_argument(
        "--cache-seconds",
        type=float,
        default=DEFAULT_CACHE_S,
        help=f"reuse a result this long (default {DEFAULT_CACHE_S:g})",
    )
    parser.add_argument("--run-timeout", type=float, default=120.0, help="seconds per run")
    parser.set_defaults(handler=handle, accepts_extra=True)


def handle(args: argparse.Namespace, extra: list[str]) -> int:
    deployment = deployment_from(args)
    env_args = [f"--env-file={deployment.env_file}"] if args.env_file else []

    def switches() -> Switches:
        return read_switches(deployment.bot_dir, deployment.env_file)

    now = switches()
    idle = "" if now.diagnostics else f"; idle: {now.idle_reason()} (/healthz says so)"

    async def main() -> None:
        service = SuiteService(
            deployment.bot_dir,
            report_dir_from(args),
            [*env_args, *extra],
            cache_s=max(0.0, args.cache_seconds),
            run_timeout=args.run_timeout,
            switches=switches,
        )
        await serve(service, args.host, args.port, announce=lambda s: print(s + idle, flush=True))

    asyncio.run(main())
    return 0
