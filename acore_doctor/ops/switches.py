"""The switches in the bot's settings that steer ``watch`` and ``serve``.

Read again before every run, so an operator turns diagnostics or resource monitoring off and
on by editing the ``.env``, without restarting the service:

- ``DIAGNOSTIC_ENABLED=false``: no suite run at all; ``watch`` and ``serve`` idle and say so.
- ``RESOURCE_MONITORING_ENABLED=false``: the resource checks (:data:`RESOURCE_CHECKS`) are
  left out of ``watch``'s runs.
- ``PERFORMANCE_ALERTS=true``: a resource check's *warning* alerts as a critical issue does
  (same damping and rate limit); otherwise only critical issues alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from acore_doctor.deployment import load_deployment

#: The resource checks the two switches steer. A full disk (``test_disk_not_full``) is not
#: among them: it is critical (the bot loses data) and no switch hides a critical issue.
RESOURCE_CHECKS: tuple[str, ...] = (
    "health_tests/test_resources.py::test_disk_headroom",
    "health_tests/test_resources.py::test_memory",
    "health_tests/test_resources.py::test_cpu",
    "health_tests/test_profile.py::test_no_leak_trend",
)


@dataclass(frozen=True)
class Switches:
    diagnostics: bool = True
    resource_monitoring: bool = True
    performance_alerts: bool = False
    env_file: Path | None = None

    def suite_args(self) -> list[str]:
        """pytest arguments that leave out what is switched off."""
        if self.resource_monitoring:
            return []
        return [arg for check in RESOURCE_CHECKS for arg in ("--deselect", check)]

    def alerting_warnings(self) -> frozenset[str]:
        """Warning checks that alert like critical ones."""
        return frozenset(RESOURCE_CHECKS) if self.performance_alerts else frozenset()

    def idle_reason(self) -> str:
        where = f" in {self.env_file}" if self.env_file else ""
        return f"DIAGNOSTIC_ENABLED=false{where}: diagnostics are off, no suite run"


def read_switches(bot_dir: Path, env_file: Path | None = None) -> Switches:
    """The switches as the bot's ``.env`` and the process environment set them now."""
    deployment = load_deployment(bot_dir, env_file)
    settings = deployment.settings
    return Switches(
        diagnostics=settings.get("DIAGNOSTIC_ENABLED"),
        resource_monitoring=settings.get("RESOURCE_MONITORING_ENABLED"),
        performance_alerts=settings.get("PERFORMANCE_ALERTS"),
        env_file=deployment.env_file,
    )
