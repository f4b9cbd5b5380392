"""Pub/Sub messages: what a publish request may hold, the PubsubMessage JSON, and the push envelope.

A push subscription POSTs each message as JSON (docs/google-apis.md §9.5; key order and snake_case duplicates as
in published captures of real push requests):

    {"message": {"attributes": {...}, "data": "<base64>", "messageId": "1", "message_id": "1",
                 "publishTime": "2026-01-02T03:04:05.678Z", "publish_time": "2026-01-02T03:04:05.678Z"},
     "subscription": "projects/P/subscriptions/S"}
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from dataclasses import dataclass, field
from typing import Any

from ..errors import invalid
from ..logging.entries import format_timestamp

MAX_MESSAGES_PER_PUBLISH = 1000
MAX_REQUEST_BYTES = 10_000_000
JSON_CONTENT_TYPE = "application/json"
# What Pub/Sub push announces itself as.
PUSH_USER_AGENT = "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)"


@dataclass(frozen=True)
class Message:
    """One published message; immutable, shared by every subscription it is delivered to."""

    message_id: str
    data: str  # base64, as sent
    publish_time: str
    topic: str  # the topic it was published to (a subscription's topic may be deleted since)
    attributes: dict[str, str] = field(default_factory=dict)
    ordering_key: str = ""

    def to_json(self) -> dict[str, Any]:
        """The PubsubMessage of pull answers (proto3 JSON: empty fields omitted)."""
        body: dict[str, Any] = {}
        if self.data:
            body["data"] = self.data
        if self.attributes:
            body["attributes"] = dict(self.attributes)
        body["messageId"] = self.message_id
        body["publishTime"] = self.publish_time
        if self.ordering_key:
            body["orderingKey"] = self.ordering_key
        return body

    def push_envelope(self, subscription: str) -> dict[str, Any]:
        """The body a push subscription POSTs: the message, with Pub/Sub's snake_case duplicates, and the
        subscription's name."""
        message: dict[str, Any] = {}
        if self.attributes:
            message["attributes"] = dict(self.attributes)
        if self.data:
            message["data"] = self.data
        message["messageId"] = message["message_id"] = self.message_id
        message["publishTime"] = message["publish_time"] = self.publish_time
        if self.ordering_key:
            message["orderingKey"] = self.ordering_key
        return {"message": message, "subscription": subscription}


def publish_time() -> str:
    """Now, as Pub/Sub prints it: millisecond precision."""
    return format_timestamp(time.time_ns() // 1_000_000 * 1_000_000)


def encode(data: bytes) -> str:
    return base64.b64encode(data).decode()


def check_publish(body: dict[str, Any]) -> list[tuple[str, dict[str, str], str]]:
    """The (data, attributes, orderingKey) of each message of a publish request; 400 for what Pub/Sub refuses."""
    raw = body.get("messages")
    if not isinstance(raw, list) or not raw:
        raise invalid("The request contains no messages. At least one message is required.")
    if len(raw) > MAX_MESSAGES_PER_PUBLISH:
        raise invalid(
            f"The value for message_count is too large. You passed {len(raw)} in the request, but the "
            f"maximum value is {MAX_MESSAGES_PER_PUBLISH}."
        )
    if len(json.dumps(raw)) > MAX_REQUEST_BYTES:
        raise invalid(f"The value for request_size is too large. The maximum value is {MAX_REQUEST_BYTES}.")
    checked = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise invalid(f"messages[{index}] must be a PubsubMessage object")
        data = item.get("data") or ""
        attributes = item.get("attributes") or {}
        if not isinstance(data, str):
            raise invalid(f"messages[{index}].data must be a base64 string")
        try:
            base64.b64decode(data.encode(), validate=True)
        except (binascii.Error, ValueError):
            raise invalid(f"Invalid value at 'messages[{index}].data' (TYPE_BYTES), Base64 decoding failed") from None
        if not isinstance(attributes, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in attributes.items()
        ):
            raise invalid(f"messages[{index}].attributes must be a map of strings to strings")
        if not data and not attributes:
            raise invalid(
                "Some messages in the publish request are empty. Each message must contain a non-empty data field, "
                "or at least one attribute."
            )
        checked.append((data, dict(attributes), str(item.get("orderingKey") or "")))
    return checked


def push_request(envelope: dict[str, Any], topic: str) -> tuple[dict[str, str], bytes]:
    """Headers and body of a plain push: the envelope as JSON."""
    del topic  # a plain push does not name it; Eventarc's CloudEvent wrapping does
    return {"Content-Type": JSON_CONTENT_TYPE, "User-Agent": PUSH_USER_AGENT}, json.dumps(envelope).encode()
