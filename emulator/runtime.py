"""What every emulated API shares: the settings, one lock, the faults, the call log, the scheduler and the run-time
settings.

The APIs take a `Runtime`; `state.Emulator` is the runtime plus the APIs. So an API module never imports the
module that assembles the APIs, and the import graph stays acyclic.
"""

from __future__ import annotations

import threading
from typing import Any

from . import params
from .calls import CallLog
from .faults import Faults
from .scheduler import Scheduler
from .settings import Settings, UrlMapLimits, audit_delivery_delay


class Runtime:
    """Handlers take `self.lock` for any read-modify-write of shared state."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.lock = threading.RLock()
        self.calls = CallLog()
        self.faults = Faults()
        self.scheduler = Scheduler()  # work due later: the last audit entries of running operations
        self._initial_limits = self.settings.limits
        self.url_map_limits = self._initial_limits  # replaced whole, never mutated: readers need no lock
        self.audit_delivery_delay = self.settings.audit_delivery_delay  # seconds from an audit entry to its push

    def configure_settings(self, body: Any) -> None:
        """Apply a `POST /_emulator/settings` body; nothing changes unless all of it is valid."""
        body = params.mapping(body, "", ("urlMapLimits", "auditDeliveryDelay"))
        limits = self.url_map_limits.updated(body["urlMapLimits"]) if "urlMapLimits" in body else None
        delay = audit_delivery_delay(body["auditDeliveryDelay"]) if "auditDeliveryDelay" in body else None
        if limits is not None:
            self.url_map_limits = limits
        if delay is not None:
            self.audit_delivery_delay = delay

    def restore_settings(self) -> None:
        self.url_map_limits = self._initial_limits
        self.audit_delivery_delay = self.settings.audit_delivery_delay

    def settings_snapshot(self) -> dict[str, Any]:
        return {"urlMapLimits": self.url_map_limits.to_json(), "auditDeliveryDelay": self.audit_delivery_delay}


__all__ = ["Runtime", "Settings", "UrlMapLimits"]
