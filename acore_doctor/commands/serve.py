"""``acore-doctor serve``: /healthz and /metrics for Kubernetes, Uptime Kuma, Prometheus."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from acore_doctor.commands.options import (
    UsageError,
    add_deployment_options,
    deployment_from,
    report_dir_from,
)
from acore_doctor.ops.serve import DEFAULT_CACHE_S, SuiteService, is_loopback, serve
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
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default loopback); any other address needs --token-file",
    )
    parser.add_argument(
        "--token-file",
        type=Path,
        help="a file holding a secret token: only requests with 'Authorization: Bearer <token>' "
        "read findings and /metrics; others get /healthz's status only",
    )
    parser.add_argument(
        "--max-runs-per-minute",
        type=float,
        default=6.0,
        help="suite runs requests may start per minute (default 6, bursts of 3); past it the "
        "newest result is served again, marked rate_limited",
    )
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765, 0 = any)")
    parser.add_argument(
        "--cache-seconds",
        type=float,
        default=DEFAULT_CACHE_S,
        help=f"reuse a result this long (default {DEFAULT_CACHE_S:g})",
    )
    parser.add_argument("--run-timeout", type=float, default=120.0, help="seconds per run")
    parser.set_defaults(handler=handle, accepts_extra=True)


def read_token(args: argparse.Namespace) -> str | None:
    """The token from ``--token-file``; binding beyond loopback without one is refused."""
    if args.token_file is None:
        if not is_loopback(args.host):
            raise UsageError(
                f"refusing to serve on {args.host} without authentication: anyone reaching "
                "the port could start runs (which use the bot's token) and read every finding. "
                "Give --token-file FILE (a secret clients send as 'Authorization: Bearer "
                "<token>'), or keep the default loopback --host 127.0.0.1 behind a proxy"
            )
        return None
    try:
        token = args.token_file.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read --token-file {args.token_file}: {exc}") from None
    if len(token) < 16 or any(c.isspace() for c in token):
        raise UsageError(
            f"--token-file {args.token_file} must hold one token of at least 16 characters "
            "(e.g. from 'openssl rand -hex 32')"
        )
    return token


def handle(args: argparse.Namespace, extra: list[str]) -> int:
    token = read_token(args)
    if args.max_runs_per_minute <= 0:
        raise UsageError("--max-runs-per-minute must be more than 0")
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
            max_runs_per_minute=args.max_runs_per_minute,
        )
        await serve(
            service,
            args.host,
            args.port,
            announce=lambda s: print(s + idle, flush=True),
            token=token,
        )

    asyncio.run(main())
    return 0
