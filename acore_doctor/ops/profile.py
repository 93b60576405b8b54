"""Sample a process over time (CPU, RSS/USS, threads, files, connections) and judge the trend.

A leak shows as steady growth, not as a high value: the verdict fits a straight line to
RSS (and to the open descriptor count) and calls it a leak only when the line climbs
faster than a threshold, explains most of the variation (r squared), and the growth is
more than noise in absolute terms.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil

from acore_doctor.fsio import open_private, private_dir, write_atomic
from acore_doctor.ops import png
from acore_doctor.redact import Redactor
from acore_doctor.saferead import OWN_FILE_MAX, read_text_bounded

MB = 1024 * 1024
PROFILE_DIR = "profiles"
#: RSS growth that counts as a leak when sustained (MB per hour).
LEAK_MB_PER_HOUR = 20.0
#: Descriptor growth that counts as a leak when sustained (per hour).
LEAK_FDS_PER_HOUR = 30.0
MIN_R2 = 0.6
MIN_GROWTH_MB = 2.0
MIN_FD_GROWTH = 5
MIN_SAMPLES = 5


@dataclass
class Sample:
    t: float  # seconds since the first sample
    cpu_pct: float
    rss_mb: float
    uss_mb: float | None
    threads: int
    fds: int | None
    open_files: int | None
    connections: int | None


@dataclass
class Profile:
    pid: int
    name: str
    cmdline: str
    started: str
    interval_s: float
    samples: list[Sample] = field(default_factory=list)
    stopped: str = "duration reached"
    leak_mb_per_hour: float = LEAK_MB_PER_HOUR

    def trend(self) -> dict[str, Any]:
        return trend(self.samples, leak_mb_per_hour=self.leak_mb_per_hour)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["trend"] = self.trend()
        return data


def _count(call: Callable[[], Any]) -> int | None:
    try:
        return len(call())
    except (psutil.AccessDenied, psutil.ZombieProcess, OSError, NotImplementedError):
        return None


def take_sample(proc: psutil.Process, t: float) -> Sample:
    """One sample; raises psutil.NoSuchProcess when the process is gone."""
    with proc.oneshot():
        if proc.status() == psutil.STATUS_ZOMBIE:  # exited, not yet reaped by its parent
            raise psutil.ZombieProcess(proc.pid)
        cpu = proc.cpu_percent(None)
        mem = proc.memory_info()
        try:
            uss: float | None = proc.memory_full_info().uss / MB
        except (psutil.AccessDenied, psutil.ZombieProcess, OSError):
            uss = None
        try:
            fds: int | None = proc.num_fds()
        except (psutil.AccessDenied, AttributeError, OSError):
            fds = None
        threads = proc.num_threads()
    return Sample(
        t=round(t, 3),
        cpu_pct=round(cpu, 1),
        rss_mb=round(mem.rss / MB, 3),
        uss_mb=None if uss is None else round(uss, 3),
        threads=threads,
        fds=fds,
        open_files=_count(proc.open_files),
        connections=_count(lambda: proc.net_connections(kind="inet")),
    )


def sample_process(
    pid: int,
    duration: float,
    interval: float,
    redact: Redactor | None = None,
    on_sample: Callable[[Sample], None] | None = None,
) -> Profile:
    """Sample ``pid`` every ``interval`` seconds for ``duration`` seconds (or until it exits)."""
    proc = psutil.Process(pid)
    redact = redact or Redactor()
    try:
        cmdline = redact.command_line(proc.cmdline())
    except psutil.Error:
        cmdline = ""
    profile = Profile(
        pid=pid,
        name=proc.name(),
        cmdline=cmdline,
        started=datetime.now().isoformat(timespec="seconds"),
        interval_s=interval,
    )
    proc.cpu_percent(None)  # the first call only starts psutil's CPU clock
    start = time.monotonic()
    deadline = start + duration
    while True:
        now = time.monotonic()
        try:
            sample = take_sample(proc, now - start)
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            profile.stopped = "process exited"
            break
        profile.samples.append(sample)
        if on_sample is not None:
            on_sample(sample)
        if now + interval > deadline + 1e-6:
            break
        time.sleep(max(0.0, start + len(profile.samples) * interval - time.monotonic()))
    return profile


def fit(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least-squares slope of ys over xs and its r squared (0 when flat or undefined)."""
    n = len(xs)
    if n < 2:
        return 0.0, 0.0
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    if sxx == 0:
        return 0.0, 0.0
    slope = sxy / sxx
    r2 = (sxy * sxy) / (sxx * syy) if syy > 0 else 0.0
    return slope, r2


def trend(
    samples: list[Sample | dict[str, Any]],
    leak_mb_per_hour: float = LEAK_MB_PER_HOUR,
    leak_fds_per_hour: float = LEAK_FDS_PER_HOUR,
) -> dict[str, Any]:
    """RSS MB/h and fd growth with a leak verdict: ``leak``, ``stable`` or ``too few samples``."""
    rows = [s if isinstance(s, dict) else asdict(s) for s in samples]
    result: dict[str, Any] = {"samples": len(rows)}
    if len(rows) < MIN_SAMPLES or rows[-1]["t"] - rows[0]["t"] <= 0:
        result.update(verdict="too few samples", reasons=[f"need at least {MIN_SAMPLES} samples"])
        return result
    xs = [r["t"] / 3600.0 for r in rows]
    rss = [r["rss_mb"] for r in rows]
    rss_slope, rss_r2 = fit(xs, rss)
    growth = rss[-1] - rss[0]
    result.update(
        duration_s=round(rows[-1]["t"] - rows[0]["t"], 3),
        rss_start_mb=round(rss[0], 2),
        rss_end_mb=round(rss[-1], 2),
        rss_peak_mb=round(max(rss), 2),
        rss_mb_per_hour=round(rss_slope, 2),
        rss_r2=round(rss_r2, 3),
        rss_growth_mb=round(growth, 2),
        cpu_avg_pct=round(sum(r.get("cpu_pct", 0.0) for r in rows) / len(rows), 1),
        cpu_max_pct=max(r.get("cpu_pct", 0.0) for r in rows),
        threads_max=max(r.get("threads", 0) for r in rows),
    )
    reasons = []
    if rss_slope >= leak_mb_per_hour and rss_r2 >= MIN_R2 and growth >= MIN_GROWTH_MB:
        reasons.append(
            f"RSS grows {rss_slope:.1f} MB/h (fit r2 {rss_r2:.2f}; "
            f"{rss[0]:.1f} -> {rss[-1]:.1f} MB), threshold {leak_mb_per_hour:g} MB/h"
        )
    fd_rows = [r for r in rows if r.get("fds") is not None]
    if len(fd_rows) >= MIN_SAMPLES:
        fxs = [r["t"] / 3600.0 for r in fd_rows]
        fds = [float(r["fds"]) for r in fd_rows]
        fd_slope, fd_r2 = fit(fxs, fds)
        fd_growth = int(fds[-1] - fds[0])
        result.update(
            fds_start=int(fds[0]),
            fds_end=int(fds[-1]),
            fds_per_hour=round(fd_slope, 1),
            fds_r2=round(fd_r2, 3),
            fd_growth=fd_growth,
        )
        if fd_slope >= leak_fds_per_hour and fd_r2 >= MIN_R2 and fd_growth >= MIN_FD_GROWTH:
            reasons.append(
                f"open descriptors grow {fd_slope:.0f}/h ({int(fds[0])} -> {int(fds[-1])}), "
                f"threshold {leak_fds_per_hour:g}/h"
            )
    result["verdict"] = "leak" if reasons else "stable"
    result["reasons"] = reasons
    return result


def profile_paths(report_dir: Path, profile: Profile) -> dict[str, Path]:
    stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
    base = report_dir / PROFILE_DIR / f"profile_{profile.pid}_{stamp}"
    return {ext: base.with_suffix(f".{ext}") for ext in ("json", "csv", "png")}


def write_outputs(profile: Profile, report_dir: Path) -> dict[str, Path]:
    """JSON, CSV and PNG of ``profile`` under ``<report_dir>/profiles/``, plus latest.json."""
    paths = profile_paths(report_dir, profile)
    private_dir(paths["json"].parent)
    text = json.dumps(profile.to_dict(), indent=2) + "\n"
    write_atomic(paths["json"], text)
    write_atomic(paths["json"].parent / "latest.json", text)
    with open_private(paths["csv"], newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(Sample.__dataclass_fields__))
        writer.writeheader()
        writer.writerows(asdict(s) for s in profile.samples)
    chart(profile, paths["png"])
    return paths


def chart(profile: Profile, path: Path) -> Path:
    xs = [s.t for s in profile.samples] or [0.0]
    verdict = profile.trend()["verdict"]
    return png.write_chart(
        path,
        f"PID {profile.pid} {profile.name} - {verdict}",
        xs,
        [
            [
                ("RSS MB", [s.rss_mb for s in profile.samples], png.BLUE),
                ("USS MB", [s.uss_mb for s in profile.samples], png.ORANGE),
            ],
            [
                ("FDS", [s.fds for s in profile.samples], png.GREEN),
                ("THREADS", [s.threads for s in profile.samples], png.RED),
            ],
            [("CPU %", [s.cpu_pct for s in profile.samples], png.BLUE)],
        ],
    )


def read_latest_profile(report_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(
            read_text_bounded(report_dir / PROFILE_DIR / "latest.json", OWN_FILE_MAX, "strict")
        )
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("samples"), list) else None


def format_trend(result: dict[str, Any]) -> str:
    if result["verdict"] == "too few samples":
        return f"Verdict: too few samples ({result['samples']}) to judge a trend"
    lines = [
        f"Samples: {result['samples']} over {result['duration_s']:.0f} s",
        f"RSS: {result['rss_start_mb']:.1f} -> {result['rss_end_mb']:.1f} MB "
        f"(peak {result['rss_peak_mb']:.1f}), trend {result['rss_mb_per_hour']:+.1f} MB/h "
        f"(r2 {result['rss_r2']:.2f})",
        f"CPU: avg {result['cpu_avg_pct']:.1f} %, max {result['cpu_max_pct']:.1f} %; "
        f"threads max {result['threads_max']}",
    ]
    if "fds_start" in result:
        lines.append(
            f"Open descriptors: {result['fds_start']} -> {result['fds_end']}, "
            f"trend {result['fds_per_hour']:+.0f}/h"
        )
    verdict = "LEAK SUSPECTED" if result["verdict"] == "leak" else "stable"
    lines.append(f"Verdict: {verdict}")
    lines += [f"  - {reason}" for reason in result["reasons"]]
    return "\n".join(lines)
