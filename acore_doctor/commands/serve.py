"""``acore-doctor serve``: /healthz and /metrics for Kubernetes, Uptime Kuma, Prometheus."""

from __future__ import annotations

import argparse
import asyncio

from acore_doctor.commands.options import add_deployment_options, deployment_from, report_dir_from
from acore_doctor.ops.serve import DEFAULT_CACHE_S, SuiteService, serve


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        description="Serve the suite's verdict over HTTP. Results are cached for "
        "--cache-seconds and only one run happens at a time, however many requests arrive. "
        "/healthz answers 200 (healthy, warning), 503 (critical) or 500 (the suite could not "
        "decide) with a JSON body; /metrics is Prometheus text. Extra arguments go to pytest "
        "(e.g. -m critical for a quick liveness suite).",
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

    async def main() -> None:
        service = SuiteService(
            deployment.bot_dir,
            report_dir_from(args),
            extra,
            cache_s=max(0.0, args.cache_seconds),
            run_timeout=args.run_timeout,
        )
        await serve(service, args.host, args.port, announce=lambda s: print(s, flush=True))

    asyncio.run(main())
    return 0
