"""The binary-mode CloudEvent Eventarc makes of an audit LogEntry (docs/google-apis.md §2.3)."""

from __future__ import annotations

import json
from typing import Any

from ..logging.query import parse_timestamp
from .triggers import AUDIT_LOG_EVENT_TYPE

DATA_SCHEMA = (
    "https://googleapis.github.io/google-cloudevents/jsonschema/google/events/cloud/audit/v1/LogEntryData.json"
)
CONTENT_TYPE = "application/json; charset=utf-8"
# What Pub/Sub push, Eventarc Standard's transport, announces itself as.
USER_AGENT = "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)"


def event_attributes(entry: dict[str, Any]) -> dict[str, str]:
    """The CloudEvent attributes (lowercase names, as CloudEvents requires) of one audit LogEntry."""
    payload = entry.get("protoPayload") or {}
    log_name = str(entry["logName"])
    project = log_name.split("/")[1]
    log_kind = log_name.rsplit("%2F", 1)[-1]  # activity, data_access, system_event, policy
    timestamp_ns = parse_timestamp(entry["timestamp"]) or 0
    service_name = str(payload.get("serviceName", ""))
    resource_name = str(payload.get("resourceName", ""))
    return {
        "specversion": "1.0",
        "type": AUDIT_LOG_EVENT_TYPE,
        "source": f"//cloudaudit.googleapis.com/projects/{project}/logs/{log_kind}",
        # Observed ids are logName + insertId + the entry timestamp in microseconds since the epoch.
        "id": f"{log_name}{entry['insertId']}{timestamp_ns // 1000}",
        "time": str(entry.get("receiveTimestamp") or entry["timestamp"]),
        "subject": f"{service_name}/{resource_name}",
        "dataschema": DATA_SCHEMA,
        "methodname": str(payload.get("methodName", "")),
        "servicename": service_name,
        "resourcename": resource_name,
        "recordedtime": str(entry["timestamp"]),
    }


def binary_request(entry: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    """Headers and body of the push: `ce-*` headers for the attributes, the LogEntry JSON as data."""
    headers = {"Content-Type": CONTENT_TYPE, "User-Agent": USER_AGENT}
    headers.update({f"ce-{name}": value for name, value in event_attributes(entry).items()})
    return headers, json.dumps(entry).encode()


def event_locations(entry: dict[str, Any]) -> list[str]:
    payload = entry.get("protoPayload") or {}
    locations = list((payload.get("resourceLocation") or {}).get("currentLocations") or [])
    region = ((entry.get("resource") or {}).get("labels") or {}).get("location")
    if region and region not in locations:
        locations.append(region)
    return locations
