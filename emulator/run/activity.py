"""The Admin Activity audit entries Cloud Run writes for service writes (docs/google-apis.md §2.1, §2.2, §2.4).

A v2 write is a long-running operation: two entries linked by `operation.id`, `first: true` when it is accepted
and `last: true` when it completes. A v1 write: one entry, no `operation` (its completion goes to the
system_event log, which the emulator does not write).
"""

from __future__ import annotations

import copy
import dataclasses
from datetime import datetime
from typing import Any

from ..audit import AdminActivity
from ..http import caller_ip, principal, user_agent
from .record import Operation, ServiceRecord

V2_REQUEST = "type.googleapis.com/google.cloud.run.v2.{}Request"
V1_REQUEST = "type.googleapis.com/google.cloud.run.v1.{}Request"
OPERATION_TYPE = "type.googleapis.com/google.longrunning.Operation"
SERVICE_TYPE = "type.googleapis.com/google.cloud.run.v2.Service"
PRODUCER = "run.googleapis.com"


def v2(record: ServiceRecord, method: str, permission: str, request: dict[str, Any], op: Operation) -> AdminActivity:
    """A v2 write's first entry, dated when the write was accepted: the response is the Operation (by name)."""
    return AdminActivity(
        project=record.project,
        region=record.region,
        service=record.service_id,
        method_name=f"google.cloud.run.v2.Services.{method}",
        resource_name=record.name,
        permission=f"run.services.{permission}",
        principal=principal(),
        request={"@type": V2_REQUEST.format(method), **copy.deepcopy(request)},
        response={"@type": OPERATION_TYPE, "name": op.name},
        operation={"id": op.name, "producer": PRODUCER, "first": True},
        caller_ip=caller_ip(),
        user_agent=user_agent(),
        time=op.create_time,
    )


def v2_last(first: AdminActivity, service: dict[str, Any], done: datetime) -> AdminActivity:
    """The same write's last entry, dated when its operation completed: same request, caller and operation id;
    the response is what the finished operation returns, the Service (for a delete, the deleted one)."""
    assert first.operation is not None
    return dataclasses.replace(
        first,
        response={"@type": SERVICE_TYPE, **copy.deepcopy(service)},
        operation={"id": first.operation["id"], "producer": PRODUCER, "last": True},
        time=done,
        request_time=first.time,
    )


def v1_resource_name(record: ServiceRecord) -> str:
    # v1 audit resource names carry no region: `namespaces/{PROJECT_ID}/services/{SERVICE}` (docs/google-apis.md §2.1).
    return f"namespaces/{record.project}/services/{record.service_id}"


def v1(
    record: ServiceRecord, method: str, permission: str, request: dict[str, Any], response: dict[str, Any]
) -> AdminActivity:
    """A v1 write: one entry, dated when the write was accepted; the response is the v1 object, no `operation`."""
    return AdminActivity(
        project=record.project,
        region=record.region,
        service=record.service_id,
        method_name=f"google.cloud.run.v1.Services.{method}",
        resource_name=v1_resource_name(record),
        permission=f"run.services.{permission}",
        principal=principal(),
        request={"@type": V1_REQUEST.format(method), **copy.deepcopy(request)},
        response=copy.deepcopy(response),
        caller_ip=caller_ip(),
        user_agent=user_agent(),
        time=record.delete_time or record.update_time,
    )
