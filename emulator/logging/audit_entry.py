"""AdminActivity → the Admin Activity audit LogEntry, shaped like the captures in docs/google-apis.md §2.4."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from ..audit import AdminActivity
from ..clock import rfc3339
from .entries import new_insert_id

ACTIVITY_LOG_ID = "cloudaudit.googleapis.com%2Factivity"
AUDIT_LOG_TYPE = "type.googleapis.com/google.cloud.audit.AuditLog"


def activity_log_name(project: str) -> str:
    return f"projects/{project}/logs/{ACTIVITY_LOG_ID}"


def build_audit_entry(activity: AdminActivity, timestamp: datetime, received: datetime) -> dict[str, Any]:
    """The LogEntry JSON: `timestamp` when the write was accepted or its operation completed, `received` (never
    earlier) when Logging got it; `requestAttributes.time` when the request was made."""
    request_time = activity.request_time or timestamp
    failed = bool(activity.status.get("code"))
    user_agent = f"{activity.user_agent},gzip(gfe)" if activity.user_agent else ""
    payload: dict[str, Any] = {
        "@type": AUDIT_LOG_TYPE,
        "status": copy.deepcopy(activity.status),
        "authenticationInfo": {"principalEmail": activity.principal},
        "requestMetadata": {
            "callerIp": activity.caller_ip,
            "callerSuppliedUserAgent": user_agent,
            "requestAttributes": {"time": rfc3339(request_time), "auth": {}},
            "destinationAttributes": {},
        },
        "serviceName": activity.service_name,
        "methodName": activity.method_name,
        "authorizationInfo": [
            {
                "resource": activity.resource_name,
                "permission": activity.permission,
                "granted": True,
                "resourceAttributes": {},
            }
        ],
        "resourceName": activity.resource_name,
        "request": copy.deepcopy(activity.request),
        "response": copy.deepcopy(activity.response),
        "resourceLocation": {"currentLocations": [activity.region]},
    }
    if not user_agent:
        del payload["requestMetadata"]["callerSuppliedUserAgent"]
    entry: dict[str, Any] = {
        "protoPayload": payload,
        "insertId": new_insert_id(),
        "resource": {
            "type": "cloud_run_revision",
            "labels": {
                "project_id": activity.project,
                "location": activity.region,
                "service_name": activity.service,
                "revision_name": "",
                "configuration_name": "",
            },
        },
        "timestamp": rfc3339(timestamp),
        "severity": "ERROR" if failed else "NOTICE",
        "logName": activity_log_name(activity.project),
    }
    if activity.operation:
        entry["operation"] = copy.deepcopy(activity.operation)
    entry["receiveTimestamp"] = rfc3339(received, nanos=True)
    return entry
