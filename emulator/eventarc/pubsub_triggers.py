"""Eventarc triggers on Pub/Sub messages: `type=google.cloud.pubsub.topic.v1.messagePublished`.

Such a trigger reads an existing topic (`transport.pubsub.topic`) or, when none is given, one Eventarc creates and
reports there; either way Eventarc creates a push subscription on it for the trigger (`transport.pubsub.subscription`)
that delivers each message to the destination as a binary-mode CloudEvent (docs/google-apis.md §9.5):

    ce-specversion: 1.0
    ce-type: google.cloud.pubsub.topic.v1.messagePublished
    ce-source: //pubsub.googleapis.com/projects/P/topics/T
    ce-id: <messageId>          ce-time: <publishTime>
    Content-Type: application/json

    {"message": {"attributes", "data", "messageId", "message_id", "publishTime", "publish_time"},
     "subscription": "projects/P/subscriptions/S"}

Deleting the trigger deletes its subscription, and the topic only if Eventarc created it ("the topic you provide
is not deleted by Eventarc at trigger deletion", eventarc.v1 discovery document, `Pubsub.topic`).
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any

from ..errors import invalid
from .cloudevent import USER_AGENT
from .triggers import etag_of

if TYPE_CHECKING:
    from ..pubsub.api import PubSubApi

MESSAGE_PUBLISHED = "google.cloud.pubsub.topic.v1.messagePublished"
CONTENT_TYPE = "application/json"


def is_pubsub_trigger(trigger: dict[str, Any]) -> bool:
    return any(f["attribute"] == "type" and f["value"] == MESSAGE_PUBLISHED for f in trigger["eventFilters"])


def cloudevent_request(envelope: dict[str, Any], topic: str) -> tuple[dict[str, str], bytes]:
    """The push of one message as Eventarc delivers it: CloudEvent attributes in `ce-*` headers, the push envelope
    as data."""
    message = envelope["message"]
    headers = {
        "Content-Type": CONTENT_TYPE,
        "User-Agent": USER_AGENT,
        "ce-specversion": "1.0",
        "ce-type": MESSAGE_PUBLISHED,
        "ce-source": f"//pubsub.googleapis.com/{topic}",
        "ce-id": message["messageId"],
        "ce-time": message["publishTime"],
    }
    return headers, json.dumps(envelope).encode()


class PubSubTransport:
    """The Pub/Sub side of Eventarc's Pub/Sub triggers: their topics and push subscriptions. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owned_topics: dict[str, str] = {}  # trigger name -> the topic Eventarc created for it
        self.pubsub: PubSubApi | None = None

    def reset(self) -> None:
        with self._lock:
            self._owned_topics.clear()

    def prepare(self, trigger: dict[str, Any], body: dict[str, Any]) -> None:
        """Check a Pub/Sub trigger and set its transport (the given topic, or the one Eventarc will create); no side
        effects, so `validateOnly` may call it."""
        extra = sorted(f["attribute"] for f in trigger["eventFilters"] if f["attribute"] != "type")
        if extra:
            raise invalid(
                f"The event filter attribute '{extra[0]}' is not supported for event type {MESSAGE_PUBLISHED}; "
                "a Pub/Sub trigger filters on 'type' only"
            )
        transport = body.get("transport") or {}
        pubsub = transport.get("pubsub") if isinstance(transport, dict) else None
        requested = pubsub.get("topic") if isinstance(pubsub, dict) else None
        if requested:
            if self.pubsub is None or not self.pubsub.topic_exists(str(requested)):
                raise invalid(f"The request was invalid: transport.pubsub.topic '{requested}' does not exist")
            trigger["transport"]["pubsub"]["topic"] = str(requested)
        trigger["etag"] = etag_of(trigger)

    def provision(self, trigger: dict[str, Any], body: dict[str, Any]) -> None:
        """Create the topic (unless given) and the trigger's push subscription."""
        if self.pubsub is None:
            return
        transport = trigger["transport"]["pubsub"]
        requested = ((body.get("transport") or {}).get("pubsub") or {}).get("topic")
        if not requested:
            self.pubsub.ensure_topic(transport["topic"])
            with self._lock:
                self._owned_topics[trigger["name"]] = transport["topic"]
        endpoint = (trigger["destination"].get("httpEndpoint") or {}).get("uri")
        kind = next(iter(trigger["destination"]))
        self.pubsub.add_push_subscription(
            transport["subscription"],
            transport["topic"],
            endpoint,
            wrap=cloudevent_request,
            max_attempts=1 if trigger.get("retryPolicy", {}).get("maxAttempts") else None,
            undeliverable=None
            if endpoint
            else f"destination {kind} is not emulated; only httpEndpoint receives events",
        )

    def deprovision(self, trigger: dict[str, Any]) -> None:
        """Delete the trigger's subscription, and its topic if Eventarc created it."""
        if self.pubsub is None:
            return
        self.pubsub.remove_subscription(trigger["transport"]["pubsub"]["subscription"])
        with self._lock:
            owned = self._owned_topics.pop(trigger["name"], None)
        if owned is not None:
            self.pubsub.remove_topic(owned)
