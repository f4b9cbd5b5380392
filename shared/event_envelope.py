"""The envelope an audit LogEntry arrives in, opened: both forms runway is triggered by give the same entry.

- Eventarc audit-log triggers (one project): CloudEvent `google.cloud.audit.log.v1.written`, the LogEntry as the
  data, and the `methodname`, `servicename`, `resourcename` and `recordedtime` attributes (docs/google-apis.md §2.3).
- An aggregated log sink (an organization or folder) routes the entries to a Pub/Sub topic, and an Eventarc Pub/Sub
  trigger delivers each message: CloudEvent `google.cloud.pubsub.topic.v1.messagePublished` whose data is
  `{"message": {"data": base64(LogEntry JSON), "messageId", "publishTime", "attributes"}, "subscription"}`
  (docs/google-apis.md §9.5). It has no audit attributes: everything comes from the entry itself.

Never raises on bad input: what cannot be opened is a `problem`, for an `event_invalid` reason.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shared import methods

# A Cloud Logging entry is at most 256 KB (larger audit entries are split), so a bigger body is not one.
MAX_DATA_BYTES = 256 * 1024
# The base64 of such an entry inside a Pub/Sub push body, with room for the rest of the message.
_MAX_MESSAGE_BYTES = MAX_DATA_BYTES * 4 // 3 + 16 * 1024
_SHOWN = 80


@dataclass(frozen=True)
class Envelope:
    event_id: str | None
    entry: dict[str, Any] | None  # the audit LogEntry, or None with `problem`
    problem: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)  # the audit-log attributes (Eventarc audit form only)

    def attribute(self, name: str) -> Any:
        return self.attributes.get(name)


def open_envelope(event: Any) -> Envelope:
    event_id = attribute(event, "id")
    event_id = event_id if isinstance(event_id, str) and event_id else None
    event_type = attribute(event, "type")
    if event_type == methods.EVENT_TYPE:
        entry, problem = _payload(_data_of(event), MAX_DATA_BYTES)
        names = ("methodname", "servicename", "resourcename", "recordedtime", "time")
        return Envelope(event_id, entry, problem, {name: attribute(event, name) for name in names})
    if event_type == methods.PUBSUB_EVENT_TYPE:
        entry, problem = _from_message(_data_of(event))
        return Envelope(event_id, entry, problem)
    expected = f"{methods.EVENT_TYPE} or {methods.PUBSUB_EVENT_TYPE}"
    return Envelope(event_id, None, f"event type {_show(event_type)} is not {expected}")


def _from_message(data: Any) -> tuple[dict[str, Any] | None, str | None]:
    body, problem = _payload(data, _MAX_MESSAGE_BYTES)
    if body is None:
        return None, problem
    message = body.get("message")
    encoded = message.get("data") if isinstance(message, Mapping) else None
    if not isinstance(encoded, str) or not encoded:
        return None, "Pub/Sub message has no data"
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None, "Pub/Sub message data is not base64"
    return _payload(raw, MAX_DATA_BYTES)


def attribute(event: Any, name: str) -> Any:
    # CloudEvent.get covers the SDK's event; anything else (garbage handed in) has no attributes.
    getter = getattr(event, "get", None)
    if not callable(getter):
        return None
    try:
        return getter(name)
    except Exception:  # a foreign object's .get may do anything; it is not an event either way
        return None


def _data_of(event: Any) -> Any:
    try:
        return getattr(event, "data", None)
    except Exception:
        return None


def _payload(data: Any, limit: int) -> tuple[dict[str, Any] | None, str | None]:
    """A JSON object as a dict, or why there is none. Size is checked before any parsing."""
    if data is None:
        return None, "event has no data"
    if isinstance(data, bytes | bytearray | str):
        size = len(data.encode("utf-8", "replace") if isinstance(data, str) else data)
        if size > limit:
            return None, f"data is {size} bytes, over the {limit}-byte limit"
        try:
            data = json.loads(data)
        except (ValueError, RecursionError):
            return None, "data is not JSON"
    elif isinstance(data, Mapping):
        try:
            size = len(json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=str).encode())
        except (ValueError, TypeError, RecursionError):
            return None, "data cannot be serialized as JSON"
        if size > limit:
            return None, f"data is {size} bytes, over the {limit}-byte limit"
    if not isinstance(data, Mapping):
        return None, f"data is a JSON {type(data).__name__}, not an object"
    return dict(data), None


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "…"
