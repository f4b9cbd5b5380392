"""The emulator's whole state: one object shared by every API and the test controls."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Protocol

from flask import Blueprint

from .audit import AdminActivity
from .calls import CallLog
from .faults import Faults

DEFAULT_PRINCIPAL = "developer@example.com"


@dataclass
class Settings:
    default_project: str = "runway-demo"
    default_region: str = "us-central1"
    # Eventarc retries a failed push with exponential backoff (production: 10 s to 600 s for 24 h,
    # docs/google-apis.md §2.3); the emulator keeps the shape but compresses the clock so tests stay fast.
    delivery_initial_backoff: float = 0.2
    delivery_max_backoff: float = 5.0
    delivery_max_attempts: int = 12
    delivery_timeout: float = 30.0


class Api(Protocol):
    """One emulated Google API: routes, state, and the test-control hooks."""

    name: str

    def blueprint(self) -> Blueprint: ...

    def reset(self) -> None: ...

    def snapshot(self) -> dict[str, Any]: ...


class Emulator:
    """Holds every emulated API. Handlers take `self.lock` for any read-modify-write of shared state."""

    def __init__(self, settings: Settings | None = None) -> None:
        # Imported here: each API module imports this module for the type.
        from .compute.api import ComputeApi
        from .eventarc.api import EventarcApi
        from .logging.api import LoggingApi
        from .run.api import RunApi

        self.settings = settings or Settings()
        self.lock = threading.RLock()
        self.calls = CallLog()
        self.faults = Faults()
        self.run = RunApi(self)
        self.compute = ComputeApi(self)
        self.logging = LoggingApi(self)
        self.eventarc = EventarcApi(self)
        self.apis: list[Api] = [self.run, self.compute, self.logging, self.eventarc]

    def record_admin_activity(self, activity: AdminActivity) -> None:
        """Write the Admin Activity audit entry of a Cloud Run write and deliver it to matching triggers."""
        entry = self.logging.append_audit_entry(activity)
        self.eventarc.deliver_audit_entry(entry)

    def reset(self) -> None:
        self.eventarc.drain(timeout=0)
        with self.lock:
            for api in self.apis:
                api.reset()
            self.calls.clear()
            self.faults.clear()

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {api.name: api.snapshot() for api in self.apis}

    def close(self) -> None:
        self.eventarc.close()
