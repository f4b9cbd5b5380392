"""The Admin Activity audit entries Cloud Run writes for service writes (docs/google-apis.md §2.1, §2.4)."""

from __future__ import annotations

import copy
from typing import Any

from ..audit import AdminActivity
from ..http import caller_ip, principal, user_agent
from .model import ServiceRecord

V2_REQUEST = "type.googleapis.com/google.cloud.run.v2.{}Request"
V1_REQUEST = "type.googleapis.com/google.cloud.run.v1.{}Request"
OPERATION_TYPE = "type.googleapis.com/google.longrunning.Operation"
PRODUCER = "run.googleapis.com"


def v2(record: ServiceRecord, method: str, permission: str, request: dict[str, Any], operation: str) -> AdminActivity:
    """A v2 write: the response is the Operation (by name), and the entry is the operation's first one."""
    return AdminActivity(
        project=record.project,
        region=record.region,
        service=record.service_id,
        method_name=f"google.cloud.run.v2.Services.{method}",
        resource_name=record.name,
        permission=f"run.services.{permission}",
        principal=principal(),
        request={"@type": V2_REQUEST.format(method), **copy.deepcopy(request)},
        response={"@type": OPERATION_TYPE, "name": operation},
        operation={"id": operation, "producer": PRODUCER, "first": True},
        caller_ip=caller_ip(),
        user_agent=user_agent(),
    )


def v1_resource_name(record: ServiceRecord) -> str:
    # v1 audit resource names carry no region: `namespaces/{PROJECT_ID}/services/{SERVICE}` (docs/google-apis.md §2.1).
    return f"namespaces/{record.project}/services/{record.service_id}"


def v1(
    record: ServiceRecord, method: str, permission: str, request: dict[str, Any], response: dict[str, Any]
) -> AdminActivity:
    """A v1 write: one entry at request time, the response is the v1 object itself, no `operation`."""
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
    )
