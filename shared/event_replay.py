"""CloudEvents made from what a person has at hand, for `python main.py replay` and tests: an HTTP capture of an
Eventarc delivery, or an audit LogEntry exported from Cloud Logging."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from shared import methods

if TYPE_CHECKING:
    from cloudevents.http import CloudEvent


def event_from_http(headers: Mapping[str, str], body: bytes | str | Mapping[str, Any] | None) -> CloudEvent:
    """Build a CloudEvent the way functions-framework does, from HTTP headers and a body (tests, replay).

    A mapping body is JSON-encoded first, so the example files (`{"headers":…, "body":{…}}`) load directly.
    Raises the SDK's own errors for headers that are not a CloudEvent.
    """
    from cloudevents.http import from_http

    if body is not None and not isinstance(body, bytes | str):
        body = json.dumps(body)
    return from_http(dict(headers), body)


def event_from_log_entry(entry: Mapping[str, Any]) -> CloudEvent:
    """The CloudEvent Eventarc makes of an audit LogEntry (as exported from Cloud Logging), for `replay`.

    Attributes as docs/google-apis.md §2.3 records them; the id only has to be unique, so it follows the observed
    shape (logName + insertId + the timestamp) without claiming to be byte-identical.
    """
    from cloudevents.http import CloudEvent

    payload = entry.get("protoPayload")
    proto: Mapping[str, Any] = payload if isinstance(payload, Mapping) else {}
    log_name = str(entry.get("logName", ""))
    parts = log_name.split("/")
    project = parts[1] if len(parts) > 1 else ""
    log_kind = log_name.rsplit("%2F", 1)[-1] if "%2F" in log_name else "activity"
    service_name, resource_name = str(proto.get("serviceName", "")), str(proto.get("resourceName", ""))
    timestamp = str(entry.get("timestamp", ""))
    attributes = {
        "type": methods.EVENT_TYPE,
        "source": f"//cloudaudit.googleapis.com/projects/{project}/logs/{log_kind}",
        "id": f"{log_name}{entry.get('insertId', '')}{timestamp}",
        "time": str(entry.get("receiveTimestamp") or timestamp) or None,
        "subject": f"{service_name}/{resource_name}",
        "methodname": str(proto.get("methodName", "")),
        "servicename": service_name,
        "resourcename": resource_name,
        "recordedtime": timestamp,
    }
    return CloudEvent({k: v for k, v in attributes.items() if v}, dict(entry))
