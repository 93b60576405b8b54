"""What redaction adds to a full log analysis (issue 12: at most 10 %), and the redactor's speed.

The set is the log analyzer benchmark's production mix (300 000 lines, ~52 MB in five rotated
gz segments) with one line in a hundred carrying a secret: a configured value, or a token
shape nobody configured (GitHub, OpenAI, Slack, AWS, JWT, ``Bot <token>``, ``Authorization``
headers, webhook and userinfo URLs, and issue 20's Hugging Face, Slack app, Stripe, GitLab,
Telegram, AWS secret, libpq, URL-encoded Discord and Google API shapes). One analysis is what ``acore-doctor logs --all --json``
does: analyze, build the JSON document, compare and store the template keys. With redaction,
the run's redactor (eight configured secrets) masks every template and sample as it is made,
the document and the keys; without, all three pass through unchanged. The two alternate; the
medians of their CPU time are compared (``time.process_time``, the inflating thread included:
on a loaded machine wall time mostly measures the other processes). On a shared machine two timings a few percent apart drown in noise, so
one redacted analysis also adds up the time spent inside the redactor: that share is the
number to read. Last, the redactor's own speed over the raw log text.

    python3 bench/bench_redaction.py                 # 300 000 lines (the issue's size)
    python3 bench/bench_redaction.py --lines 60000   # quicker
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from acore_doctor.logs import analyze_paths, masking  # noqa: E402
from acore_doctor.redact import Redactor, run_redactor, set_run_redactor  # noqa: E402
from bench.bench_log_analyzer import write_set  # noqa: E402

CONFIGURED = {
    "DISCORD_TOKEN": "MTMwOTg3NjU0MzIxMDk4NzY1NA.GdEmO1.bEnchT0kenNotReal_xxxxxxxxxxxxxxxxxxxxx",
    "OPENROUTER_API_KEY": "sk-or-v1-" + "5b" * 32,
    "ANALYTICS_PASSWORD": "bench-analytics-pass-1",
    "GESTALT_API_TOKEN": "gst_bench_4f5e6d7c8b9a",
    "CLIENT_SECRET": "bench-client-secret-2",
    "DB_PASS": "bench-db-pass-3",
    "REDIS_PW": "bench-redis-pw-4",
    "ERROR_REPORT_WEBHOOK": "https://discord.com/api/webhooks/1234567890/benchWebhookToken",
}
SHAPED = [
    "ghp_" + "R7kQ2mZx9" * 4,
    "sk-proj-" + "Tq8Lw3Nz5" * 5,
    "xoxb-2048-4096-BenchSlackBotToken42",
    "AKIABENCHKEY7EXAMPLE",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJiZW5jaCJ9.c2lnbmF0dXJlLWJlbmNoLWp3dA",
    "Bot MTMwOTg3NjU0MzIxMDk4NzY1NA.GdEmO1.otherT0kenNotReal_yyyyyyyyyyyyyyyyyyyy",
    "Authorization: Bearer bench-bearer-value-5",
    "postgres://bot:bench-url-pw-6@db:5432/acore",
    # issue 20: shapes from gitleaks' rule set and the context-anchored ones
    "hf_" + "BeNcHhUgGiNgFaCe" * 2 + "xy",
    "xapp-1-A0123456789-1234567890123-bench0123456789",
    "sk_live_" + "51BeNcH" * 4,
    "rk_live_" + "51BeNcH" * 4,
    "glpat-" + "bEnCh-GiTlAb_x7" * 2,
    "https://api.telegram.org/bot110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDbnc",
    "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYBENCHKEY01",
    "host=db user=bot password=bench-pg-pw-7",
    "login?token%3DMTMwOTg3NjU0MzIxMDk4NzY1NA.GdEmO1.percentT0kenNotReal_zzzzzzzzzzzzzzzz",
    "AIzaSyD-" + "BeNcHgOoGlEkEy" * 2 + "012",
]


def plant_secrets(paths: list[Path], every: int = 100) -> int:
    """Rewrite each segment with a secret appended to one ERROR/WARNING line in ``every``."""
    rng = random.Random(12)
    secrets = list(CONFIGURED.values()) + SHAPED
    planted = 0
    for path in paths:
        lines = gzip.decompress(path.read_bytes()).split(b"\n")
        for n, line in enumerate(lines):
            if n % every == 0 and (b" - ERROR - " in line or b" - WARNING - " in line):
                lines[n] = line + b" with " + rng.choice(secrets).encode()
                planted += 1
        path.write_bytes(gzip.compress(b"\n".join(lines), compresslevel=6))
    return planted


def one_analysis(paths: list[Path], redact: Redactor | None) -> tuple[float, str]:
    """CPU seconds for analyze + JSON document + template keys; and the JSON (a leak check)."""
    set_run_redactor(redact)
    if redact is None:  # no redaction at all, not even the default shapes
        masking.run_redactor = lambda: str  # type: ignore[assignment]
    try:
        started = time.process_time()
        analysis = analyze_paths(paths)
        document = analysis.to_dict(10)
        keys = analysis.template_keys()
        if redact is not None:
            document = redact.document(document)
            keys = {redact(k) for k in keys}
        text = json.dumps({**document, "keys": sorted(keys)}, ensure_ascii=False)
        return time.process_time() - started, text
    finally:
        masking.run_redactor = run_redactor  # type: ignore[assignment]
        set_run_redactor(None)


def time_inside_redactor(paths: list[Path], redact: Redactor) -> tuple[float, float]:
    """(seconds of one redacted analysis, seconds of it spent inside the redactor): a share
    that load on a shared machine does not blur the way it blurs two separate timings."""
    inside = [0.0]

    def timed(value: str) -> str:
        started = time.perf_counter()
        try:
            return redact(value)
        finally:
            inside[0] += time.perf_counter() - started

    masking.run_redactor = lambda: timed  # type: ignore[assignment]
    try:
        started = time.perf_counter()
        analysis = analyze_paths(paths)
        document = analysis.to_dict(10)
        keys = analysis.template_keys()
        clean_started = time.perf_counter()
        redact.document(document)
        {redact(k) for k in keys}
        inside[0] += time.perf_counter() - clean_started
        return time.perf_counter() - started, inside[0]
    finally:
        masking.run_redactor = run_redactor  # type: ignore[assignment]


def redactor_speed(paths: list[Path], redact: Redactor) -> float:
    """MB/s of the redactor over the raw (uncompressed) log text itself."""
    text = b"".join(gzip.decompress(p.read_bytes()) for p in paths).decode("utf-8", "replace")
    started = time.perf_counter()
    redact(text)
    return len(text.encode()) / 1e6 / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=300_000)
    parser.add_argument("--segments", type=int, default=5)
    parser.add_argument("--storm", type=int, default=17_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-redaction-"))
    try:
        paths, size = write_set(tmp / "set", args.lines, args.segments, args.storm)
        planted = plant_secrets(paths)
        print(f"set: {args.lines:,} lines, {size / 1e6:.1f} MB uncompressed, {planted:,} secrets")
        redact = Redactor(CONFIGURED.values())
        plain, redacted = [], []
        text = ""
        for n in range(args.repeat):
            # alternate which goes first: on a shared machine, load comes and goes
            for which in (None, redact) if n % 2 == 0 else (redact, None):
                seconds, output = one_analysis(paths, which)
                (plain if which is None else redacted).append(seconds)
                text = output if which is not None else text
        leaked = [s for s in [*CONFIGURED.values(), *SHAPED] if s.split()[-1] in text]
        plain_s, redacted_s = statistics.median(plain), statistics.median(redacted)
        print(f"analysis without redaction: {plain_s:.2f} s CPU")
        print(f"analysis with redaction:    {redacted_s:.2f} s CPU (secrets left in the output: "
              f"{len(leaked)})")  # fmt: skip
        print(f"redacted / plain ratio: {redacted_s / plain_s:.3f} (target <= 1.10)")
        total, inside = time_inside_redactor(paths, redact)
        print(
            f"time inside the redactor: {inside:.3f} s of {total:.2f} s, so redaction adds "
            f"{inside / (total - inside):.1%} (ratio {total / (total - inside):.3f}, target <= 1.10)"
        )
        print(f"redactor alone over the raw log text: {redactor_speed(paths, redact):.1f} MB/s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
