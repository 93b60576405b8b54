"""acore-doctor: health and troubleshooting suite for acore_bot deployments."""

from acore_doctor.findings import Blocked, check

__version__ = "0.1.0"

__all__ = ["Blocked", "__version__", "check"]
