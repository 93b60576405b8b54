"""Screenshot the HTML report in headless Chromium, to look at it.

    python bench/html_screenshot.py [--html REPORT.html] [--out report.png] [--height 4000]

Without ``--html`` it builds one: the bundled sample deployment (plus a damaged SQLite
database, whose integrity report is a long raw output) is checked three times against the
simulated services, Ollama down in the first run, so the report has a trend, findings of
both severities, skipped checks and a long message. Needs ``chromium`` (``apt-get install
chromium``). Prints the paths of the HTML report and of the PNG.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from acore_doctor.commands.demo import copy_demo  # noqa: E402
from acore_doctor.demo import start_standin_bot, stop_standin_bot  # noqa: E402
from acore_doctor.simulate import Simulator  # noqa: E402
from acore_doctor.suite import run_suite  # noqa: E402

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def damaged_database(path: Path) -> None:
    """A SQLite file whose index pages are overwritten: quick_check lists many problems."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE messages (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("CREATE INDEX messages_body ON messages (body)")
    conn.executemany(
        "INSERT INTO messages (body) VALUES (?)", [(f"message {n} " * 8,) for n in range(3000)]
    )
    conn.commit()
    conn.close()
    data = bytearray(path.read_bytes())
    page = 4096
    for start in range(len(data) // 2, len(data) - page, page * 3):
        data[start + 200 : start + 400] = b"\x07" * 200
    path.write_bytes(bytes(data))


def build_report(work: Path) -> Path:
    bot_dir = copy_demo(work)
    damaged_database(bot_dir / "data" / "conversations.db")
    report_dir = work / "reports"
    html = report_dir / "report.html"
    standin = start_standin_bot(bot_dir)
    try:
        for faults in ({"ollama": "down"}, {}, {}):
            with Simulator(faults={"discord": "no_manage_webhooks", **faults}) as sim:
                run_suite(
                    bot_dir,
                    ["-q", "-p", "no:cacheprovider"],
                    report_dir=report_dir,
                    html=html,
                    env=sim.env(),
                    capture=True,
                    timeout=600,
                )
    finally:
        stop_standin_bot(standin)
    return html


def screenshot(html: Path, out: Path, height: int) -> None:
    browser = next((shutil.which(name) for name in BROWSERS if shutil.which(name)), None)
    if browser is None:
        raise SystemExit("no Chromium found: apt-get install chromium")
    subprocess.run(
        [
            browser,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--window-size=1280,{height}",
            f"--screenshot={out.resolve()}",
            html.resolve().as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, help="the report to show (default: build one)")
    parser.add_argument("--out", type=Path, default=Path("report.png"))
    parser.add_argument("--height", type=int, default=4000, help="page height in pixels")
    args = parser.parse_args()
    html = args.html or build_report(Path(tempfile.mkdtemp(prefix="acore-doctor-html-")))
    screenshot(html, args.out, args.height)
    print(f"HTML report: {html}\nscreenshot:  {args.out.resolve()}")


if __name__ == "__main__":
    main()
