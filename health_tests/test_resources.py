"""The bot process and the host's disk, memory and CPU (thresholds: --disk-*, --memory-*,
--cpu-* options or the same names in pytest.ini)."""

import pytest

from acore_doctor import check
from acore_doctor.deployment import Deployment
from acore_doctor.local_fixtures import Thresholds
from acore_doctor.options import option
from acore_doctor.probes.bot_process import BotProcess, process_usage
from acore_doctor.probes.resources import CpuSampler, DiskUsage, disk_usage, memory_usage

DEPLOY_GUIDE = "guides/deployment_issues.md"
PERF_GUIDE = "guides/performance_issues.md"


@pytest.fixture(scope="module")
def disks(deployment: Deployment) -> list[DiskUsage]:
    """One entry per filesystem holding data/ or the log directory."""
    settings = deployment.settings
    paths = [
        deployment.path("data"),
        deployment.path(settings.get("LOG_FILE_PATH")).parent,
    ]
    seen, result = set(), []
    for path in paths:
        usage = disk_usage(path)
        if usage.mount not in seen:
            seen.add(usage.mount)
            result.append(usage)
    return result


@pytest.mark.critical
@check(
    "The bot process is running",
    "Start the bot ('systemctl start discordbot', or 'uv run python main.py' / "
    "'.venv/bin/python launcher.py' in its directory). Use --allow-stopped to check a "
    "deployment before its first start.",
    guide=f"{DEPLOY_GUIDE}#bot-process-not-running",
)
def test_bot_process_running(
    request: pytest.FixtureRequest,
    bot_processes: list[BotProcess],
    deployment: Deployment,
    record_details,
) -> None:
    if option(request.config, "allow_stopped") and not bot_processes:
        pytest.skip("not applicable: --allow-stopped")
    usages = [u for u in (process_usage(p) for p in bot_processes) if u is not None]
    record_details("; ".join(u.describe() for u in usages))
    assert usages, (
        f"expected a python process running main.py or launcher.py from {deployment.bot_dir}, "
        "found none"
    )


@pytest.mark.warning
@check(
    "Only one bot process runs this deployment",
    "Stop the extra copies (keep the systemd one): two processes with one token answer every "
    "message twice and overwrite each other's JSON state.",
    guide=f"{DEPLOY_GUIDE}#bot-process-not-running",
)
def test_single_bot_process(bot_processes: list[BotProcess]) -> None:
    if not bot_processes:
        pytest.skip("not applicable: no bot process (see the critical process check)")
    assert len(bot_processes) == 1, (
        f"expected one bot process, found {len(bot_processes)}: "
        + "; ".join(f"pid {p.pid}: {p.command}" for p in bot_processes)
    )


@pytest.mark.critical
@check(
    "The data and log filesystems have room",
    "Free space now: rotate or delete old logs (logs/bot.log.*.gz), prune data/temp and old "
    "metrics, or grow the filesystem. A full disk corrupts the bot's JSON state.",
    guide=f"{PERF_GUIDE}#disk-almost-full",
)
def test_disk_not_full(disks: list[DiskUsage], thresholds: Thresholds, record_details) -> None:
    record_details("; ".join(d.describe() for d in disks))
    full = [
        d
        for d in disks
        if d.error is None
        and (
            d.free < thresholds.disk_critical_free_gib * 2**30
            or d.used_percent > thresholds.disk_critical_percent
        )
    ]
    assert not full, (
        f"expected > {thresholds.disk_critical_free_gib:g} GiB free and <= "
        f"{thresholds.disk_critical_percent:g} % used, found: "
        + "; ".join(d.describe() for d in full)
    )


@pytest.mark.warning
@check(
    "The data and log filesystems are not filling up",
    "Plan space: rotate logs (LOG_BACKUP_COUNT), lower LOG_LEVEL from DEBUG, prune old data.",
    guide=f"{PERF_GUIDE}#disk-almost-full",
)
def test_disk_headroom(disks: list[DiskUsage], thresholds: Thresholds) -> None:
    busy = [
        d for d in disks if d.error is None and d.used_percent > thresholds.disk_warning_percent
    ]
    assert not busy, f"expected <= {thresholds.disk_warning_percent:g} % used, found: " + "; ".join(
        d.describe() for d in busy
    )


@pytest.mark.warning
@check(
    "Host memory is not nearly exhausted",
    "Find the biggest processes ('ps aux --sort=-rss | head'); a local LLM and the bot on one "
    "small host compete for memory.",
    guide=f"{PERF_GUIDE}#high-memory-use",
)
def test_memory(thresholds: Thresholds) -> None:
    memory = memory_usage()
    assert memory.percent <= thresholds.memory_warning_percent, (
        f"expected <= {thresholds.memory_warning_percent:g} % memory used, found "
        f"{memory.describe()}"
    )


@pytest.mark.warning
@check(
    "Host CPU is not saturated",
    "Find what uses the CPU ('top -o %CPU'); a local LLM on CPU slows every reply.",
    guide=f"{PERF_GUIDE}#host-cpu-saturated",
)
def test_cpu(cpu_sampler: CpuSampler, thresholds: Thresholds) -> None:
    percent, window = cpu_sampler.percent()
    assert percent <= thresholds.cpu_warning_percent, (
        f"expected <= {thresholds.cpu_warning_percent:g} % CPU use, found {percent:.1f} % "
        f"over the last {window:.1f} s"
    )
