"""The async network probe layer: named probes, run concurrently once per run.

Probes gather facts over HTTP (never judge, never raise for a bad answer). A run gathers
every probe the selected checks need in one event loop, each under its own timeout and the
whole under a budget; see :mod:`acore_doctor.netprobe.runner`.

Every module of this package is imported when the package is: a module that declares
probes with ``@probe(...)`` registers them in :data:`PROBES` that way, so adding a probe
is adding a module (and its fact fixture in ``acore_doctor/service_fixtures.py``). The two
helpers that declare none are left to their users: ``roots`` (for checks; it needs pytest)
and ``child`` (the process the probes run in, which must start without pytest).
"""

import importlib
import pkgutil

from acore_doctor.netprobe.runner import PROBES, ProbeContext, run_probes
from acore_doctor.netprobe.transport import HttpResult, Timeouts

_HELPERS = frozenset({"child", "roots"})

for _module in pkgutil.iter_modules(__path__):
    if _module.name not in _HELPERS:
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["PROBES", "HttpResult", "ProbeContext", "Timeouts", "run_probes"]
