"""The run's network probes in a child process, on another core than the checks.

Importing aiohttp and building its TLS contexts, then sending and parsing every request, is a
tenth of a second of CPU or more; in a thread of the pytest process it takes that time from
the local checks (one interpreter lock). A child started as soon as the command line asks for
a whole-suite run (else when the run is configured) does it beside them instead.

Protocol: the parent starts this module's :func:`main` with the interpreter it runs on. The
child imports the probes and aiohttp at once, then reads one pickled request from its stdin
(probe names, the deployment's settings, timeouts, canary) and writes one pickled dict of
results (what :func:`~acore_doctor.netprobe.runner.run_probes` returns) to its stdout. The
request travels through the pipe only: the settings' secrets are never on a command line, in
an environment or in a file. A closed stdin without a request means nothing to probe.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from acore_doctor.netprobe.transport import Timeouts
from acore_doctor.settings import BotSettings

#: Seconds the child may take beyond the probes' own budget (interpreter start, imports).
START_GRACE_S = 10.0
#: The package's parent directory, so that the child imports this very copy of acore_doctor.
_PACKAGE_PARENT = str(Path(__file__).resolve().parent.parent.parent)
_BOOT = (
    "import sys; sys.path[0] = sys.argv[1]; "
    "from acore_doctor.netprobe.child import main; raise SystemExit(main())"
)


class ProbeChildFailed(Exception):
    """The child gave no results; ``timed_out`` when it was still running at the deadline."""

    def __init__(self, reason: str, timed_out: bool = False) -> None:
        super().__init__(reason)
        self.timed_out = timed_out


class ProbeChild:
    """One child process running the network probes (see the module's docstring)."""

    def __init__(self) -> None:
        self._child = subprocess.Popen(
            [sys.executable, "-c", _BOOT, _PACKAGE_PARENT],
            cwd="/",  # never a directory whose modules could shadow ours
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._writer: threading.Thread | None = None
        self._deadline: float | None = None
        self._finished = False
        #: the settings each probe read (probe name -> ``setting:KEY`` tokens)
        self.reads: dict[str, set[str]] = {}

    @property
    def pid(self) -> int:
        return self._child.pid

    def send(
        self, names: list[str], settings: BotSettings, timeouts: Timeouts, canary: bool
    ) -> None:
        """Give the child its request (from a thread: the pipe may be full while it imports)."""
        request = pickle.dumps((names, settings, timeouts, canary))
        self._deadline = time.monotonic() + timeouts.budget + START_GRACE_S
        self._writer = threading.Thread(
            target=self._write, args=(request,), name="acore-doctor-probe-request", daemon=True
        )
        self._writer.start()

    def _write(self, request: bytes) -> None:
        stdin = self._child.stdin
        assert stdin is not None
        try:
            stdin.write(request)
            stdin.close()
        except OSError:  # the child is gone: results() says why
            pass

    def results(self) -> dict[str, Any]:
        """The child's results; raises ProbeChildFailed when there are none."""
        assert self._deadline is not None, "send() first"
        if self._writer is not None:
            self._writer.join()
        self._child.stdin = None  # the writer closed it; communicate() must not flush it
        timeout = max(0.0, self._deadline - time.monotonic())
        try:
            out, err = self._child.communicate(timeout=timeout)
            self._finished = True
        except subprocess.TimeoutExpired:
            self.stop()
            raise ProbeChildFailed(
                f"the probe process did not finish within {timeout:.0f} s", timed_out=True
            ) from None
        except (OSError, ValueError) as exc:
            self.stop()
            raise ProbeChildFailed(f"the probe process could not be read: {exc}") from None
        if self._child.returncode != 0 or not out:
            lines = err.decode("utf-8", "replace").strip().splitlines() or ["no output"]
            raise ProbeChildFailed(
                f"the probe process exited with {self._child.returncode}: {lines[-1][:300]}"
            )
        try:
            results, self.reads = pickle.loads(out)
        except Exception as exc:  # noqa: BLE001 - any unreadable answer is one failure
            raise ProbeChildFailed(f"unreadable answer from the probe process: {exc}") from None
        if not isinstance(results, dict) or not isinstance(self.reads, dict):
            raise ProbeChildFailed("unreadable answer from the probe process")
        return results

    def stop(self) -> None:
        """End the child: a run that will not read its results (or gave up waiting)."""
        if self._finished:
            return
        self._finished = True
        if self._child.poll() is None:
            self._child.kill()
        if self._writer is not None:
            self._writer.join()
        self._child.stdin = None
        with contextlib.suppress(OSError, ValueError):
            self._child.communicate()


def main() -> int:
    answer = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed goes to stderr, never into the answer
    # Warm up while the parent collects: aiohttp builds its TLS contexts when imported.
    import aiohttp  # noqa: F401

    from acore_doctor.netprobe import run_probes
    from acore_doctor.redact import set_run_redactor, settings_redactor

    request = sys.stdin.buffer.read()
    if not request:
        return 0
    names, settings, timeouts, canary = pickle.loads(request)
    # Error bodies are cut to fit a message: mask the deployment's secrets before any cut.
    set_run_redactor(settings_redactor(settings.file_values, settings.environ))
    reads: dict[str, set[str]] = {}
    results = run_probes(names, settings, timeouts, canary, reads)
    pickle.dump((results, reads), answer, protocol=pickle.HIGHEST_PROTOCOL)
    answer.close()
    return 0
