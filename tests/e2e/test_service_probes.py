"""The network probe package, seen from a fresh interpreter."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from acore_doctor import netprobe


def test_every_probe_module_registers_itself_when_the_package_is_imported():
    package = Path(netprobe.__file__).parent
    declaring = {
        f"acore_doctor.netprobe.{path.stem}"
        for path in package.glob("*.py")
        if re.search(
            r"^from acore_doctor\.netprobe\.runner import .*\bprobe\b", path.read_text(), re.M
        )
    }
    # A fresh interpreter: this module's own imports must not do the registering.
    code = (
        "import acore_doctor.netprobe as n\n"
        "print(' '.join(sorted({s.func.__module__ for s in n.PROBES.values()})))"
    )
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert child.returncode == 0, child.stderr
    assert declaring and set(child.stdout.split()) == declaring
