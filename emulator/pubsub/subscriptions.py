"""Pub/Sub subscriptions: what a valid one is, its JSON, and the backlog and leases of a pull subscription."""

from __future__ import annotations

import copy
import itertools
import urllib.parse
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..clock import monotonic
from ..errors import ApiError, invalid
from .messages import Message
from .names import check_labels, check_topic

DEFAULT_ACK_DEADLINE_S = 10
MAX_ACK_DEADLINE_S = 600
DEFAULT_RETENTION = "604800s"  # 7 days
DEFAULT_EXPIRATION = {"ttl": "2678400s"}  # 31 days of inactivity
# Production shows this on every push config that sets no attributes of its own.
DEFAULT_PUSH_ATTRIBUTES = {"x-goog-version": "v1"}
# Writable Subscription fields (pubsub.v1 discovery document) stored as given.
_STORED = (
    "labels",
    "retainAckedMessages",
    "messageRetentionDuration",
    "enableMessageOrdering",
    "expirationPolicy",
    "deadLetterPolicy",
    "retryPolicy",
    "enableExactlyOnceDelivery",
)
_NOT_EMULATED = ("filter", "bigqueryConfig", "cloudStorageConfig", "bigtableConfig", "messageTransforms")
_OUTPUT_ONLY = ("name", "state", "topicMessageRetentionDuration", "analyticsHubSubscriptionInfo", "detached", "tags")

# (envelope, topic) -> (headers, body): how a push subscription turns a message into its HTTP request.
Wrap = Callable[[dict[str, Any], str], tuple[dict[str, str], bytes]]


@dataclass
class Subscription:
    name: str
    topic: str
    ack_deadline: int
    push_endpoint: str | None
    push_attributes: dict[str, str]
    stored: dict[str, Any]
    # Internal (never rendered): how pushes are made (Eventarc's CloudEvents), at most how many attempts per
    # message, and why a push subscription cannot deliver (an Eventarc destination the emulator cannot reach).
    wrap: Wrap | None = None
    max_attempts: int | None = None
    undeliverable: str | None = None
    backlog: deque[Message] = field(default_factory=deque)
    leases: dict[str, tuple[Message, float]] = field(default_factory=dict)

    @property
    def push(self) -> bool:
        return self.push_endpoint is not None or self.undeliverable is not None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"name": self.name, "topic": self.topic, "pushConfig": {}}
        if self.push_endpoint is not None:
            body["pushConfig"] = {"pushEndpoint": self.push_endpoint, "attributes": dict(self.push_attributes)}
        body["ackDeadlineSeconds"] = self.ack_deadline
        body["messageRetentionDuration"] = DEFAULT_RETENTION
        body["expirationPolicy"] = copy.deepcopy(DEFAULT_EXPIRATION)
        body.update(copy.deepcopy(self.stored))
        body["state"] = "ACTIVE"
        return body

    # ------------------------------------------------------------------------------------------ pull

    def _expire_leases(self) -> None:
        """Messages whose ack deadline passed unacknowledged go back to the front of the backlog."""
        clock = monotonic()
        expired = [ack_id for ack_id, (_, deadline) in self.leases.items() if deadline <= clock]
        for ack_id in reversed(expired):
            message, _ = self.leases.pop(ack_id)
            self.backlog.appendleft(message)

    def pull(self, max_messages: int, ack_ids: itertools.count[int]) -> list[dict[str, Any]]:
        self._expire_leases()
        received: list[dict[str, Any]] = []
        while self.backlog and len(received) < max_messages:
            message = self.backlog.popleft()
            ack_id = f"{self.name.rsplit('/', 1)[-1]}:{next(ack_ids)}"
            self.leases[ack_id] = (message, monotonic() + self.ack_deadline)
            received.append({"ackId": ack_id, "message": message.to_json()})
        return received

    def _check_ack_ids(self, ack_ids: list[str]) -> None:
        prefix = self.name.rsplit("/", 1)[-1] + ":"
        for ack_id in ack_ids:
            if not isinstance(ack_id, str) or not ack_id.startswith(prefix):
                raise invalid(f"You have passed an invalid ack ID to the service (ack_id={ack_id}).")

    def acknowledge(self, ack_ids: list[str]) -> None:
        self._check_ack_ids(ack_ids)
        for ack_id in ack_ids:
            self.leases.pop(ack_id, None)  # an expired or repeated ack id is accepted and does nothing

    def modify_ack_deadline(self, ack_ids: list[str], seconds: int) -> None:
        """Extend the leases by `seconds` from now; 0 hands the messages back at once (a nack)."""
        self._check_ack_ids(ack_ids)
        self._expire_leases()
        for ack_id in ack_ids:
            lease = self.leases.pop(ack_id, None)
            if lease is None:
                continue
            if seconds == 0:
                self.backlog.appendleft(lease[0])
            else:
                self.leases[ack_id] = (lease[0], monotonic() + seconds)

    def counts(self) -> dict[str, int]:
        self._expire_leases()
        return {"backlog": len(self.backlog), "outstanding": len(self.leases)}


def check_lease_seconds(value: Any) -> int:
    """modifyAckDeadline's ackDeadlineSeconds: 0 (nack) to 600."""
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        raise invalid(f"Invalid value at 'ack_deadline_seconds' (TYPE_INT32), {value!r}") from None
    if not 0 <= seconds <= MAX_ACK_DEADLINE_S:
        raise invalid(
            f"The value for ack_deadline_seconds is out of range. Valid values are in the range [0, "
            f"{MAX_ACK_DEADLINE_S}]. You passed {seconds} in the request."
        )
    return seconds


def check_ack_deadline(value: Any) -> int:
    if value in (None, 0, "0"):
        return DEFAULT_ACK_DEADLINE_S
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        raise invalid(f"Invalid value at 'ack_deadline_seconds' (TYPE_INT32), {value!r}") from None
    if not DEFAULT_ACK_DEADLINE_S <= seconds <= MAX_ACK_DEADLINE_S:
        raise invalid(
            f"The value for ack_deadline_seconds is out of range. Valid values are in the range "
            f"[{DEFAULT_ACK_DEADLINE_S}, {MAX_ACK_DEADLINE_S}]. You passed {seconds} in the request."
        )
    return seconds


def check_push_config(raw: Any) -> tuple[str | None, dict[str, str]]:
    if not raw:
        return None, {}
    if not isinstance(raw, dict):
        raise invalid("pushConfig must be an object")
    if raw.get("oidcToken") or raw.get("noWrapper") or raw.get("pubsubWrapper"):
        raise ApiError(501, "The emulator does not implement pushConfig oidcToken, noWrapper or pubsubWrapper")
    endpoint = raw.get("pushEndpoint")
    attributes = raw.get("attributes") or {}
    if not isinstance(attributes, dict) or not all(isinstance(v, str) for v in attributes.values()):
        raise invalid("pushConfig.attributes must be a map of strings")
    if not endpoint:
        return None, {}
    parsed = urllib.parse.urlsplit(str(endpoint))
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise invalid(
            f"Invalid push endpoint given (endpoint={endpoint}). Refer to "
            "https://cloud.google.com/pubsub/docs/create-push-subscription#properties for more information."
        )
    return str(endpoint), dict(attributes) or dict(DEFAULT_PUSH_ATTRIBUTES)


def build_subscription(name: str, body: dict[str, Any]) -> Subscription:
    """A new subscription from a create body (its topic's existence is the API's to check)."""
    unknown = sorted(set(body) - {"topic", "pushConfig", "ackDeadlineSeconds", *_STORED, *_NOT_EMULATED, *_OUTPUT_ONLY})
    if unknown:
        raise invalid(f'Invalid JSON payload received. Unknown name "{unknown[0]}": Cannot find field.')
    if body.get("name") and body["name"] != name:
        raise invalid(f"The subscription name in the body ({body['name']}) does not match the URL ({name}).")
    for key in _NOT_EMULATED:
        if body.get(key):
            raise ApiError(501, f"The emulator does not implement subscription {key}")
    topic = body.get("topic")
    if not isinstance(topic, str) or not topic:
        raise invalid("The topic field is required: projects/{project}/topics/{topic}")
    check_topic(topic)
    check_labels(body.get("labels"))
    endpoint, attributes = check_push_config(body.get("pushConfig"))
    stored = {key: copy.deepcopy(body[key]) for key in _STORED if body.get(key) not in (None, {}, "", False)}
    return Subscription(
        name=name,
        topic=topic,
        ack_deadline=check_ack_deadline(body.get("ackDeadlineSeconds")),
        push_endpoint=endpoint,
        push_attributes=attributes,
        stored=stored,
    )
