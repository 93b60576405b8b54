"""The async network probe layer: named probes, run concurrently once per run.

Probes gather facts over HTTP (never judge, never raise for a bad answer). A run gathers
every probe the selected checks need in one event loop, each under its own timeout and the
whole under a budget; see :mod:`acore_doctor.netprobe.runner`.
"""

from acore_doctor.netprobe.runner import PROBES, ProbeContext, run_probes
from acore_doctor.netprobe.transport import HttpResult, Timeouts

__all__ = ["PROBES", "HttpResult", "ProbeContext", "Timeouts", "run_probes"]
