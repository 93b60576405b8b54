"""``acore-doctor demo``: the whole suite on a copy of the bundled sample deployment."""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from acore_doctor.commands.options import UsageError
from acore_doctor.demo import (
    HOST_THRESHOLDS_OFF,
    copy_sample,
    make_bot_venv,
    make_standin_tools,
    start_standin_bot,
    stop_standin_bot,
)
from acore_doctor.logs.rebase import rebase_log_times
from acore_doctor.simulate import SERVICES, Simulator, modes_of
from acore_doctor.suite import default_report_dir, run_suite, verdict_code

#: What the demo's simulated services get wrong, so the report shows a service finding.
DEMO_FAULTS = {"discord": "no_manage_webhooks"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        description="Copy the bundled sample deployment to a temporary directory and run "
        "the whole suite on it. Extra arguments go to pytest.",
    )
    parser.add_argument(
        "--report-dir", type=Path, help="where reports go (default: reports/demo in the suite)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary deployment")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SERVICE=MODE",
        help="put a simulated service in a fault mode, e.g. ollama=down (see "
        "'acore-doctor simulate --list-modes'); default: discord=no_manage_webhooks",
    )
    parser.add_argument(
        "--no-simulator",
        action="store_true",
        help="do not start simulated services (the service checks then see the demo .env's URLs)",
    )
    parser.set_defaults(handler=handle, accepts_extra=True)


def copy_demo(target: Path) -> Path:
    """A private copy of the sample deployment, with the file modes a real one has and its
    own virtual environment (``.venv``), so the bot's interpreter and packages the checks
    judge belong to the sample, never to the environment acore-doctor runs in."""
    bot_dir = copy_sample(target / "acore_bot")
    rebase_log_times(bot_dir / "logs")  # its log was written long ago; make it "recent"
    make_bot_venv(bot_dir / ".venv")
    return bot_dir


def demo_faults(args: argparse.Namespace) -> dict[str, str]:
    """The simulated services' fault modes: the demo's own, then ``--fault`` (checked before
    anything is copied or started)."""
    faults = dict(DEMO_FAULTS)
    for value in args.fault:
        name, _, mode = value.partition("=")
        if (
            name not in SERVICES
            or not mode
            or any(m not in modes_of(name) for m in mode.split("+"))
        ):
            raise UsageError(f"unknown fault {value!r} (see 'acore-doctor simulate --list-modes')")
        faults[name] = mode
    return faults


@contextmanager
def demo_services(faults: dict[str, str] | None) -> Iterator[dict[str, str]]:
    """Simulated Discord/LLM/voice services on free loopback ports (none when ``faults`` is
    None), and the environment variables pointing the demo deployment at them (the
    environment wins over .env)."""
    if faults is None:
        yield {}
        return
    with Simulator(faults=faults) as sim:
        print("Simulated services: " + ", ".join(f"{n} ({sim.port(n)})" for n in sim.sims))
        for name, mode in faults.items():
            print(f"  {name}: fault mode {mode}")
        yield sim.env()


def handle(args: argparse.Namespace, extra: list[str]) -> int:
    faults = None if args.no_simulator else demo_faults(args)
    report_dir = (args.report_dir or default_report_dir() / "demo").resolve()
    html = report_dir / "report.html"
    tmp = Path(tempfile.mkdtemp(prefix="acore-doctor-demo-"))
    try:
        bot_dir = copy_demo(tmp)
        print(f"acore-doctor demo: checking a sample deployment copied to {bot_dir}")
        # The process checks need a bot to find, running on the sample's own interpreter.
        standin = start_standin_bot(bot_dir, python=str(bot_dir / ".venv" / "bin" / "python"))
        try:
            with demo_services(faults) as service_env:
                # The sample's system tools come first on PATH, and the host's resources
                # are not judged: every finding is about the sample deployment.
                tools = make_standin_tools(tmp / "bin")
                path = os.pathsep.join([str(tools), os.environ.get("PATH", "")])
                done = run_suite(
                    bot_dir,
                    [*HOST_THRESHOLDS_OFF, *extra],
                    report_dir=report_dir,
                    html=html,
                    env={**service_env, "PATH": path},
                )
                code = verdict_code(done.returncode)
        finally:
            stop_standin_bot(standin)
        print(f"\nJSON report: {report_dir / 'latest.json'}\nHTML report: {html}")
        print(f"Exit code {code} (0 healthy, 1 warnings, 2 critical, 3 unknown)")
        return code
    finally:
        if args.keep:
            print(f"Sample deployment kept at {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
