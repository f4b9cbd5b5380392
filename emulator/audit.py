"""What an emulated Cloud Run Admin write tells the audit pipeline.

The Run API describes the write as an `AdminActivity`; `Emulator.record_admin_activity` turns it into the
Admin Activity LogEntry (stored in Logging) and hands that entry to Eventarc for delivery.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class AdminActivity:
    project: str
    region: str
    service: str  # the Cloud Run service id, for resource.labels.service_name
    method_name: str  # e.g. google.cloud.run.v2.Services.CreateService
    resource_name: str  # v2: projects/P/locations/R/services/S; v1: namespaces/P/services/S
    permission: str  # e.g. run.services.update
    principal: str
    request: dict[str, Any]  # with "@type"
    response: dict[str, Any]  # with "@type"
    service_name: str = "run.googleapis.com"
    status: dict[str, Any] = field(default_factory=dict)  # {} on success, {"code", "message"} on failure
    operation: dict[str, Any] | None = None  # LogEntryOperation {id, producer, first, last}
    caller_ip: str = "127.0.0.1"
    user_agent: str = ""
    # When it happened: the write accepted (a first or only entry) or the operation completed (a last entry).
    # Logging dates the entry then (never earlier, and strictly after the entry before it); None: when written.
    time: datetime | None = None
    request_time: datetime | None = None  # when the request was made (`requestAttributes.time`); default `time`
