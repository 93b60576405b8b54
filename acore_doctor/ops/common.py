"""Shared by the operations commands: which deployment, where reports go, the redactor."""

from __future__ import annotations

import argparse
from pathlib import Path

from acore_doctor.deployment import Deployment, load_deployment, resolve_bot_dir
from acore_doctor.redact import Redactor
from acore_doctor.suite import REPORTS_ENV, resolve_report_dir


def add_deployment_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bot-dir", type=Path, help="the deployment (default: cwd)")
    parser.add_argument("--env-file", type=Path, help="its .env (default: <bot-dir>/.env)")
    parser.add_argument(
        "--report-dir",
        type=Path,
        help=f"reports directory (default: ${REPORTS_ENV}, else reports/ in the suite)",
    )


def deployment_from(args: argparse.Namespace) -> Deployment:
    bot_dir = resolve_bot_dir(
        str(args.bot_dir) if getattr(args, "bot_dir", None) else None, None, Path.cwd()
    )
    env_file = getattr(args, "env_file", None)
    return load_deployment(bot_dir, env_file.resolve() if env_file else None)


def report_dir_for(deployment: Deployment, option: Path | None = None) -> Path:
    """The same directory the suite writes to."""
    return resolve_report_dir(option)


def redactor_for(deployment: Deployment, *extra: str) -> Redactor:
    return deployment.redactor(*extra)
