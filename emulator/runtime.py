"""What every emulated API shares: the settings, one lock, the faults and the call log.

The APIs take a `Runtime`; `state.Emulator` is the runtime plus the APIs. So an API module never imports the
module that assembles the APIs, and the import graph stays acyclic.
"""

from __future__ import annotations

import threading

from .calls import CallLog
from .faults import Faults
from .settings import Settings


class Runtime:
    """Handlers take `self.lock` for any read-modify-write of shared state."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.lock = threading.RLock()
        self.calls = CallLog()
        self.faults = Faults()


__all__ = ["Runtime", "Settings"]
