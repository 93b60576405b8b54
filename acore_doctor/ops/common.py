"""Shared by the operations commands: which deployment, where reports go, the redactor."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from acore_doctor.deployment import Deployment, load_deployment, resolve_bot_dir
from acore_doctor.redact import Redactor, secret_values
from acore_doctor.suite import suite_root

REPORTS_ENV = "DIAGNOSTIC_REPORTS_PATH"


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
    """The same directory the suite writes to (see plugin.resolve_report_dir)."""
    value = option or os.environ.get(REPORTS_ENV) or deployment.settings.environ.get(REPORTS_ENV)
    if value:
        path = Path(os.path.expanduser(str(value)))
        return path if path.is_absolute() else Path.cwd() / path
    try:
        return suite_root() / "reports"
    except FileNotFoundError:
        return Path.cwd() / "reports"


def redactor_for(deployment: Deployment, *extra: str) -> Redactor:
    redact = Redactor(secret_values(deployment.settings.file_values))
    redact.add(secret_values(dict(os.environ)))
    redact.add(v for v in extra if v)
    return redact
