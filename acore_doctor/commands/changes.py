"""``acore-doctor changes``: what changed in the deployment between two runs.

Read from the fingerprints the runs kept in the report directory (never from the deployment
itself): by default between the last healthy run before the newest one and the newest run.
Exit codes: 0 shown (also when nothing changed), 3 usage error or no fingerprint kept yet.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any

from acore_doctor.changes import attribute
from acore_doctor.changes.store import History
from acore_doctor.commands.options import add_deployment_options, report_dir_from


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "changes",
        description="Show what changed in the deployment (settings, code, packages, personas, "
        "units, services, host) between two runs of the suite, from the fingerprints each run "
        "keeps in the report directory. Secrets show as '(changed)'. Exit code 3 when no run "
        "kept a fingerprint yet.",
    )
    add_deployment_options(parser)
    parser.add_argument(
        "--since",
        metavar="RUN|DATE",
        help="a run (its timestamp, a prefix of it, or its report's name "
        "diagnostic_YYYYmmdd_HHMMSS) or a date (YYYY-mm-dd: the last run before it); "
        "default: the last healthy run before the newest",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=handle)


_REPORT_NAME = re.compile(r"diagnostic_(\d{4})(\d\d)(\d\d)_(\d\d)(\d\d)(\d\d)")
_DATE = re.compile(r"\d{4}-\d\d-\d\d")


def since_index(history: History, statuses: dict[str, str], since: str | None) -> int | None:
    """The run to compare the newest one with."""
    last = len(history.runs) - 1
    if since is None:
        healthy = [i for i in range(last) if statuses.get(history.runs[i]) == "healthy"]
        return healthy[-1] if healthy else (0 if last > 0 else None)
    match = _REPORT_NAME.search(since)
    if match:
        y, mo, d, h, mi, s = match.groups()
        since = f"{y}-{mo}-{d}T{h}:{mi}:{s}"
    if _DATE.fullmatch(since):
        before = [i for i, t in enumerate(history.runs) if t < since]
        return before[-1] if before else 0
    found = [i for i, t in enumerate(history.runs) if t == since or t.startswith(since)]
    return found[-1] if found else None


def handle(args: argparse.Namespace, extra: list[str]) -> int:
    from acore_doctor.ops.history import read_trend

    report_dir = report_dir_from(args)
    history = History.read(report_dir)
    if not history.runs:
        print(f"acore-doctor changes: no fingerprint kept in {report_dir} yet", file=sys.stderr)
        return 3
    statuses = {str(r.get("t")): str(r.get("status")) for r in read_trend(report_dir)}
    index = since_index(history, statuses, args.since)
    if index is None:
        print(f"acore-doctor changes: no run {args.since!r} in {report_dir}", file=sys.stderr)
        return 3
    since, until = history.runs[index], history.runs[-1]
    changes = attribute.diff(history.states[index], history.latest)
    when = {k: history.first_seen(since, k) for k, _, _ in changes}
    entries = attribute.entries(changes, None, report_dir, when)
    for entry in entries:
        entry.pop("read_by_check", None)
    document: dict[str, Any] = {
        "since": since,
        "since_status": statuses.get(since),
        "until": until,
        "until_status": statuses.get(until),
        "changes": entries,
    }
    if args.json:
        print(json.dumps(document, indent=2))
        return 0
    print(
        f"Changes since {since} ({document['since_status'] or 'status unknown'}) "
        f"up to {until} ({document['until_status'] or 'status unknown'}): {len(entries)}"
    )
    for entry in entries:
        print(f"  - {attribute.describe(entry)}")
    return 0
