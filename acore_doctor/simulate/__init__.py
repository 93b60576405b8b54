"""Stand-ins for the services acore_bot talks to, on loopback ports (see docs/simulate.md).

``Simulator`` runs them in a background thread; each has fault modes (down, hang, slow,
error statuses, malformed JSON and service-specific ones such as a missing model).
"""

from acore_doctor.simulate.core import GENERIC_MODES, FaultState, ServiceSim, Simulator
from acore_doctor.simulate.registry import SERVICES, modes_of

__all__ = ["GENERIC_MODES", "SERVICES", "FaultState", "ServiceSim", "Simulator", "modes_of"]
