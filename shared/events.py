"""Decoding Cloud Run audit-log events into the one thing runway takes from them: which service.

Two envelopes carry the same audit LogEntry (`shared.event_envelope`): Eventarc's audit-log CloudEvent (one
project's triggers) and the Pub/Sub CloudEvent of an aggregated log sink's topic (a whole organization or folder).

The event is a pointer, never the state (docs/design.md §1): handlers re-read the live service, so this module
extracts the service identity, who did it and when, and nothing about labels or ingress.

`decode` never raises on bad input. It returns one of three frozen results:

- `ServiceEvent`: a successful Create/Replace/Update/DeleteService write of either API version;
- `Ignored`: well-formed, but nothing runway acts on (another Cloud Run method, or a write that failed);
- `Invalid`: malformed or foreign (wrong type, missing fields, not JSON, too big, not a Cloud Run name).

Each result carries what could be read of `event_id`, `method` and `principal`, so the `event_ignored` and
`event_invalid` decision-log entries still say which event and who (docs/design.md §6).

Choices worth knowing:

- The method name is `protoPayload.methodName`, falling back to the `methodname` attribute; when both are
  present they must agree (a mismatch means the envelope and the payload describe different things).
  `serviceName` and `resourceName` follow the same rule with their attributes.
- v1 names are `namespaces/P/services/S` (gcloud) or `projects/P/locations/R/services/S` (console). The
  namespace form has no region: it comes from the first present of `resource.labels.location`,
  `protoPayload.resourceLocation.currentLocations[0]`, `protoPayload.request.region` and the
  `cloud.googleapis.com/location` label of `protoPayload.request.service.metadata`.
- A namespace may be a project number (Knative namespaces are numbers in v1 responses). Digits are accepted
  as a project; when `resource.labels.project_id` names a valid project id it is used instead, so keys and
  `RUNWAY_EXEMPT` globs see the same project id whichever form the caller used. Cloud Run accepts either
  form in resource names, so an unresolved number still works for the re-read.
- A failed write (`protoPayload.status.code` non-zero) changed nothing, so it is `Ignored`.
- `event_time` is the audit entry's `timestamp` (when the write happened), falling back to the
  `recordedtime` then `time` attributes; it measures time to remediate, so an unparsable one is `None`
  rather than a reason to drop the event.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared import methods
from shared.event_envelope import MAX_DATA_BYTES, Envelope, open_envelope
from shared.model import PROJECT_ID, PROJECT_NUMBER, REGION, SERVICE_ID, ServiceKey

__all__ = ["MAX_DATA_BYTES", "Decoded", "Ignored", "Invalid", "Operation", "ServiceEvent", "decode"]

_PROJECT_RE = re.compile(rf"{PROJECT_ID}|{PROJECT_NUMBER}")
_PROJECT_ID_RE = re.compile(PROJECT_ID)
_REGION_RE = re.compile(REGION)
_SERVICE_RE = re.compile(SERVICE_ID)
_LOCATION_LABEL = "cloud.googleapis.com/location"
_SHOWN = 80  # characters of a bad value quoted in a reason


@dataclass(frozen=True)
class ServiceEvent:
    """A successful write to a Cloud Run service: the pointer handlers re-read from."""

    key: ServiceKey
    method: str
    api_version: str  # "v1" | "v2"
    verb: str  # "create" | "update" | "delete"
    principal: str | None
    event_id: str | None
    event_time: datetime | None
    operation: Operation | None = None

    def acted_on_by(self, stage: str) -> bool:
        """Whether a handler that acts on the `stage` ("first" or "last") entry of a long-running operation acts on
        this one. An entry that is not part of an operation (v1 writes) is acted on by every handler."""
        if self.operation is None:
            return True
        return self.operation.first if stage == "first" else self.operation.last


@dataclass(frozen=True)
class Operation:
    """The audit entry's `operation`: a long-running write is logged when it starts (`first`) and ends (`last`),
    both with the same `id` (docs/google-apis.md §2.2, §9.3)."""

    id: str
    first: bool
    last: bool


@dataclass(frozen=True)
class Ignored:
    """A well-formed event runway does not act on (`event_ignored`)."""

    reason: str
    event_id: str | None = None
    method: str | None = None
    principal: str | None = None
    key: ServiceKey | None = None


@dataclass(frozen=True)
class Invalid:
    """Malformed or foreign input (`event_invalid`): acknowledged, never retried."""

    reason: str
    event_id: str | None = None
    method: str | None = None
    principal: str | None = None


Decoded = ServiceEvent | Ignored | Invalid


class _Reject(Exception):
    """Internal: stops decoding with an Invalid reason."""


def decode(event: Any) -> Decoded:
    """Decode an audit-log CloudEvent or a Pub/Sub one carrying an audit LogEntry (as functions-framework hands
    it). Never raises on bad input."""
    envelope = open_envelope(event)
    event_id, data = envelope.event_id, envelope.entry
    proto = _dict(data.get("protoPayload")) if data is not None else None
    method_attr = _str_or_none(envelope.attribute("methodname"))
    method = _str_or_none(proto.get("methodName")) if proto is not None else None
    method = method or method_attr
    principal = _principal(proto)

    def invalid(reason: str) -> Invalid:
        return Invalid(reason, event_id=event_id, method=_clip(method), principal=principal)

    if data is None:
        return invalid(envelope.problem or "event has no data")
    if proto is None:
        return invalid("data has no protoPayload object")
    try:
        method = _agreed("methodName", proto.get("methodName"), method_attr)
        service_name = _agreed("serviceName", proto.get("serviceName"), envelope.attribute("servicename"))
        if service_name != methods.SERVICE_NAME:
            raise _Reject(f"serviceName {_show(service_name)} is not {methods.SERVICE_NAME}")
        resource_name = _agreed("resourceName", proto.get("resourceName"), envelope.attribute("resourcename"))
    except _Reject as reject:
        return invalid(str(reject))

    handled = methods.HANDLED.get(method)
    if handled is None:
        return Ignored(f"method {_show(method)} is not one runway handles", event_id, _clip(method), principal)
    api_version, verb = handled

    try:
        key = _service_key(api_version, resource_name, data, proto)
    except _Reject as reject:
        return invalid(str(reject))

    status_code = _get(proto, "status", "code")
    if status_code not in (None, 0):
        status_message = _get(proto, "status", "message")
        why = f"the write failed (status.code {_show(status_code)}"
        why += f": {_show(status_message)})" if status_message else ")"
        return Ignored(why, event_id, method, principal, key)

    return ServiceEvent(
        key=key,
        method=method,
        api_version=api_version,
        verb=verb,
        principal=principal,
        event_id=event_id,
        event_time=_event_time(data, envelope),
        operation=_operation(data),
    )


# --- reading the payload -------------------------------------------------------------------------


def _agreed(field: str, payload_value: Any, attribute_value: Any) -> str:
    """The payload's value, else the attribute's; both present must be equal strings."""
    if payload_value is not None and not isinstance(payload_value, str):
        raise _Reject(f"protoPayload.{field} is not a string: {_show(payload_value)}")
    if attribute_value is not None and not isinstance(attribute_value, str):
        raise _Reject(f"attribute {field.lower()} is not a string: {_show(attribute_value)}")
    if payload_value and attribute_value and payload_value != attribute_value:
        raise _Reject(
            f"protoPayload.{field} {_show(payload_value)} disagrees with attribute "
            f"{field.lower()} {_show(attribute_value)}"
        )
    value = payload_value or attribute_value
    if not value:
        raise _Reject(f"no {field} in protoPayload or attributes")
    return value


def _principal(proto: dict[str, Any] | None) -> str | None:
    email = _get(proto, "authenticationInfo", "principalEmail")
    return _clip(email, 320) if isinstance(email, str) and email else None


def _event_time(data: Mapping[str, Any], envelope: Envelope) -> datetime | None:
    for value in (data.get("timestamp"), envelope.attribute("recordedtime"), envelope.attribute("time")):
        parsed = _parse_time(value)
        if parsed is not None:
            return parsed
    return None


def _operation(data: Mapping[str, Any]) -> Operation | None:
    """The entry's operation, when it has a usable one; an entry with neither marker is a one-entry operation."""
    op = _dict(data.get("operation"))
    if op is None or not isinstance(op.get("id"), str) or not op["id"]:
        return None
    first, last = op.get("first") is True, op.get("last") is True
    if not first and not last:
        first = last = True
    return Operation(op["id"][:200], first, last)


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else None
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    # A naive time cannot be compared with now(UTC); audit timestamps always carry a zone.
    return parsed if parsed.tzinfo else None


# --- the service key ------------------------------------------------------------------------------


def _service_key(api_version: str, resource_name: str, data: Mapping[str, Any], proto: Mapping[str, Any]) -> ServiceKey:
    parts = resource_name.split("/")
    if len(parts) == 6 and parts[0] == "projects" and parts[2] == "locations" and parts[4] == "services":
        project, region, service = parts[1], parts[3], parts[5]
        _check(project, _PROJECT_RE, "project", resource_name)
        _check(region, _REGION_RE, "region", resource_name)
    elif api_version == "v1" and len(parts) == 4 and parts[0] == "namespaces" and parts[2] == "services":
        project, service = parts[1], parts[3]
        _check(project, _PROJECT_RE, "project", resource_name)
        region = _v1_region(data, proto)
    else:
        expected = (
            "namespaces/P/services/S or projects/P/locations/R/services/S"
            if api_version == "v1"
            else "projects/P/locations/R/services/S"
        )
        raise _Reject(f"resourceName {_show(resource_name)} is not a Cloud Run {api_version} service name ({expected})")
    _check(service, _SERVICE_RE, "service id", resource_name)
    if project.isdigit():
        project_id = _get(data, "resource", "labels", "project_id")
        if isinstance(project_id, str) and _PROJECT_ID_RE.fullmatch(project_id):
            project = project_id
    return ServiceKey(project, region, service)


def _v1_region(data: Mapping[str, Any], proto: Mapping[str, Any]) -> str:
    locations = _get(proto, "resourceLocation", "currentLocations")
    sources = (
        ("resource.labels.location", _get(data, "resource", "labels", "location")),
        (
            "protoPayload.resourceLocation.currentLocations[0]",
            locations[0] if isinstance(locations, list) and locations else None,
        ),
        ("protoPayload.request.region", _get(proto, "request", "region")),
        (
            f"the {_LOCATION_LABEL} label of protoPayload.request.service",
            _get(proto, "request", "service", "metadata", "labels", _LOCATION_LABEL),
        ),
    )
    for where, value in sources:
        if value in (None, ""):
            continue
        if not isinstance(value, str) or not _REGION_RE.fullmatch(value):
            raise _Reject(f"{where} {_show(value)} is not a region")
        return value
    raise _Reject(
        "no region for a namespaces/ name: none of resource.labels.location, "
        "protoPayload.resourceLocation.currentLocations, protoPayload.request.region or the "
        f"{_LOCATION_LABEL} label is set"
    )


def _check(value: str, pattern: re.Pattern[str], what: str, resource_name: str) -> None:
    if not pattern.fullmatch(value):
        raise _Reject(f"{what} {_show(value)} in resourceName {_show(resource_name)} is not valid")


# --- small helpers --------------------------------------------------------------------------------


def _get(obj: Any, *path: str) -> Any:
    for step in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(step)
    return obj


def _dict(value: Any) -> dict[str, Any] | None:
    return dict(value) if isinstance(value, Mapping) else None


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _clip(value: str | None, limit: int = 200) -> str | None:
    if value is None or len(value) <= limit:
        return value
    return value[:limit] + "…"


def _show(value: Any) -> str:
    """A bad value quoted for a reason: repr, truncated, so a hostile event cannot flood the log."""
    text = repr(value)
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "…"
