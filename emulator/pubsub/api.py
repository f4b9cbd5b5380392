"""Pub/Sub v1: topics (with their IAM policies), subscriptions, publish, pull and acknowledge, and push delivery.

Other APIs publish through `publish_as` (Logging's sinks, as their writer identity) and Eventarc provisions its
Pub/Sub triggers' topics and push subscriptions through `ensure_topic`/`add_push_subscription`.
"""

from __future__ import annotations

import copy
import itertools
import threading
from dataclasses import dataclass
from typing import Any

from ..errors import ApiError, invalid
from ..paging import list_page
from ..runtime import Runtime
from . import iam
from .messages import Message, check_publish, encode, publish_time
from .names import (
    DELETED_TOPIC,
    already_exists,
    check_labels,
    check_topic,
    not_found,
    subscription_name,
    topic_name,
)
from .push import PushQueue
from .subscriptions import Subscription, Wrap, build_subscription, check_lease_seconds

# Writable Topic fields (pubsub.v1 discovery document) stored as given; the others are refused or ignored.
_TOPIC_STORED = ("labels", "messageRetentionDuration", "kmsKeyName", "messageStoragePolicy", "schemaSettings")
_TOPIC_NOT_EMULATED = ("ingestionDataSourceSettings", "messageTransforms")
_TOPIC_OUTPUT_ONLY = ("name", "state", "satisfiesPzs", "tags")
FIRST_MESSAGE_ID = 10_000_000_000_000_000  # production ids are 16 to 17 digit decimal strings


@dataclass
class Topic:
    name: str
    stored: dict[str, Any]
    policy: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, **copy.deepcopy(self.stored)}


class PubSubApi:
    name = "pubsub"

    def __init__(self, emu: Runtime) -> None:
        self.emu = emu
        self._lock = threading.Lock()
        self._topics: dict[str, Topic] = {}
        self._subscriptions: dict[str, Subscription] = {}
        self._message_ids = itertools.count(FIRST_MESSAGE_ID)
        self._ack_ids = itertools.count(1)
        self.pushes = PushQueue(lambda: self.emu.settings)

    # ------------------------------------------------------------------------------------------ the emulator seam

    def publish_as(self, topic: str, data: bytes, attributes: dict[str, str], member: str) -> tuple[str, str | None]:
        """Publish one message on behalf of `member` (a policy member such as `serviceAccount:…`), as Logging does
        for a sink: `("published", message id)`, or `("PERMISSION_DENIED" | "NOT_FOUND", None)` when the topic's
        policy does not let the member publish or there is no such topic."""
        with self._lock:
            found = self._topics.get(topic)
            if found is None:
                return "NOT_FOUND", None
            if not iam.granted(found.policy, {member}, iam.PUBLISH):
                return "PERMISSION_DENIED", None
        (message_id,) = self._publish(topic, [(encode(data), attributes, "")])
        return "published", message_id

    def ensure_topic(self, name: str) -> None:
        """Create the topic unless it exists (Eventarc's own topics)."""
        check_topic(name)
        with self._lock:
            self._topics.setdefault(name, Topic(name, {}))

    def topic_exists(self, name: str) -> bool:
        with self._lock:
            return name in self._topics

    def add_push_subscription(
        self,
        name: str,
        topic: str,
        endpoint: str | None,
        *,
        wrap: Wrap | None = None,
        max_attempts: int | None = None,
        undeliverable: str | None = None,
    ) -> None:
        """A push subscription made by another API (Eventarc's per-trigger subscription): `wrap` shapes each push."""
        body: dict[str, Any] = {"topic": topic, "pushConfig": {"pushEndpoint": endpoint} if endpoint else {}}
        subscription = build_subscription(name, body)
        subscription.wrap, subscription.max_attempts, subscription.undeliverable = wrap, max_attempts, undeliverable
        with self._lock:
            if topic not in self._topics:
                raise not_found(topic)
            if name in self._subscriptions:
                raise already_exists(name)
            self._subscriptions[name] = subscription

    def remove_subscription(self, name: str) -> None:
        with self._lock:
            self._subscriptions.pop(name, None)

    def remove_topic(self, name: str) -> None:
        with self._lock:
            self._drop_topic(name)

    def drain(self, timeout: float | None) -> bool:
        """Wait until every push is delivered or dropped; False if `timeout` passed first."""
        return self.pushes.drain(timeout)

    def reset(self) -> None:
        with self._lock:
            self._topics.clear()
            self._subscriptions.clear()
            self._message_ids = itertools.count(FIRST_MESSAGE_ID)
        self.pushes.reset()

    def close(self) -> None:
        self.pushes.close()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            topics = [{**t.to_json(), "iamPolicy": iam.render(t.policy)} for t in self._topics.values()]
            subscriptions = [{**s.to_json(), **s.counts()} for s in self._subscriptions.values()]
        return {"topics": topics, "subscriptions": subscriptions, "deliveries": self.pushes.snapshot()}

    # ------------------------------------------------------------------------------------------ topics

    def create_topic(self, project: str, topic_id: str, body: dict[str, Any]) -> dict[str, Any]:
        name = topic_name(project, topic_id)
        unknown = sorted(set(body) - {*_TOPIC_STORED, *_TOPIC_NOT_EMULATED, *_TOPIC_OUTPUT_ONLY})
        if unknown:
            raise invalid(f'Invalid JSON payload received. Unknown name "{unknown[0]}": Cannot find field.')
        if body.get("name") and body["name"] != name:
            raise invalid(f"The topic name in the body ({body['name']}) does not match the URL ({name}).")
        for key in _TOPIC_NOT_EMULATED:
            if body.get(key):
                raise ApiError(501, f"The emulator does not implement topic {key}")
        check_labels(body.get("labels"))
        topic = Topic(name, {k: copy.deepcopy(body[k]) for k in _TOPIC_STORED if body.get(k) not in (None, {}, "")})
        with self._lock:
            if name in self._topics:
                raise already_exists(name)
            self._topics[name] = topic
            return topic.to_json()

    def get_topic(self, project: str, topic_id: str) -> dict[str, Any]:
        with self._lock:
            return self._topic(project, topic_id).to_json()

    def list_topics(self, project: str, page_size: Any, page_token: Any) -> dict[str, Any]:
        prefix = f"projects/{project}/topics/"
        with self._lock:
            topics = [t.to_json() for n, t in sorted(self._topics.items()) if n.startswith(prefix)]
        return list_page(topics, "topics", page_size, page_token, default=100, maximum=1000)

    def delete_topic(self, project: str, topic_id: str) -> dict[str, Any]:
        with self._lock:
            self._drop_topic(self._topic(project, topic_id).name)
        return {}

    def list_topic_subscriptions(self, project: str, topic_id: str, page_size: Any, page_token: Any) -> dict[str, Any]:
        with self._lock:
            name = self._topic(project, topic_id).name
            names = sorted(s.name for s in self._subscriptions.values() if s.topic == name)
        return list_page(names, "subscriptions", page_size, page_token, default=100, maximum=1000)

    def publish(self, project: str, topic_id: str, body: dict[str, Any]) -> dict[str, Any]:
        messages = check_publish(body)
        with self._lock:
            name = self._topic(project, topic_id).name
        return {"messageIds": self._publish(name, messages)}

    # ------------------------------------------------------------------------------------------ topic IAM

    def get_iam_policy(self, project: str, topic_id: str) -> dict[str, Any]:
        with self._lock:
            return iam.render(self._topic(project, topic_id).policy)

    def set_iam_policy(self, project: str, topic_id: str, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            topic = self._topic(project, topic_id)
            topic.policy = iam.build_policy(body, topic.policy)
            return iam.render(topic.policy)

    def test_iam_permissions(self, project: str, topic_id: str, body: dict[str, Any], caller: str) -> dict[str, Any]:
        requested = iam.check_permissions(body.get("permissions") or [])
        with self._lock:
            policy = self._topic(project, topic_id).policy
        held = [p for p in requested if iam.granted(policy, iam.members_of(caller), p)]
        return {"permissions": held} if held else {}

    # ------------------------------------------------------------------------------------------ subscriptions

    def create_subscription(self, project: str, subscription_id: str, body: dict[str, Any]) -> dict[str, Any]:
        subscription = build_subscription(subscription_name(project, subscription_id), body)
        with self._lock:
            if subscription.topic not in self._topics:
                raise not_found(subscription.topic)
            if subscription.name in self._subscriptions:
                raise already_exists(subscription.name)
            self._subscriptions[subscription.name] = subscription
            return subscription.to_json()

    def get_subscription(self, project: str, subscription_id: str) -> dict[str, Any]:
        with self._lock:
            return self._subscription(project, subscription_id).to_json()

    def list_subscriptions(self, project: str, page_size: Any, page_token: Any) -> dict[str, Any]:
        prefix = f"projects/{project}/subscriptions/"
        with self._lock:
            found = [s.to_json() for n, s in sorted(self._subscriptions.items()) if n.startswith(prefix)]
        return list_page(found, "subscriptions", page_size, page_token, default=100, maximum=1000)

    def delete_subscription(self, project: str, subscription_id: str) -> dict[str, Any]:
        with self._lock:
            del self._subscriptions[self._subscription(project, subscription_id).name]
        return {}

    def pull(self, project: str, subscription_id: str, body: dict[str, Any]) -> dict[str, Any]:
        raw = body.get("maxMessages")
        try:
            max_messages = int(raw) if raw is not None else 0
        except (TypeError, ValueError):
            raise invalid(f"Invalid value at 'max_messages' (TYPE_INT32), {raw!r}") from None
        if max_messages <= 0:
            raise invalid("The value for max_messages is out of range. It must be positive.")
        with self._lock:
            subscription = self._subscription(project, subscription_id)
            if subscription.push:
                raise ApiError(
                    400,
                    f"The emulator delivers the messages of push subscription {subscription.name} to its endpoint; "
                    "pull is served for pull subscriptions only",
                    status="FAILED_PRECONDITION",
                )
            received = subscription.pull(max_messages, self._ack_ids)
        return {"receivedMessages": received} if received else {}

    def acknowledge(self, project: str, subscription_id: str, body: dict[str, Any]) -> dict[str, Any]:
        ack_ids = body.get("ackIds")
        if not isinstance(ack_ids, list) or not ack_ids:
            raise invalid("ack_ids is required: at least one ack ID")
        with self._lock:
            self._subscription(project, subscription_id).acknowledge(ack_ids)
        return {}

    def modify_ack_deadline(self, project: str, subscription_id: str, body: dict[str, Any]) -> dict[str, Any]:
        ack_ids = body.get("ackIds")
        if not isinstance(ack_ids, list) or not ack_ids:
            raise invalid("ack_ids is required: at least one ack ID")
        seconds = check_lease_seconds(body.get("ackDeadlineSeconds", 0))
        with self._lock:
            self._subscription(project, subscription_id).modify_ack_deadline(ack_ids, seconds)
        return {}

    # ------------------------------------------------------------------------------------------ internals

    def _topic(self, project: str, topic_id: str) -> Topic:
        """The topic, or 404. Caller holds the lock."""
        name = topic_name(project, topic_id)
        topic = self._topics.get(name)
        if topic is None:
            raise not_found(name)
        return topic

    def _subscription(self, project: str, subscription_id: str) -> Subscription:
        name = subscription_name(project, subscription_id)
        subscription = self._subscriptions.get(name)
        if subscription is None:
            raise not_found(name)
        return subscription

    def _drop_topic(self, name: str) -> None:
        """Delete a topic: its subscriptions stay, detached (`topic: _deleted-topic_`). Caller holds the lock."""
        self._topics.pop(name, None)
        for subscription in self._subscriptions.values():
            if subscription.topic == name:
                subscription.topic = DELETED_TOPIC

    def _publish(self, topic: str, messages: list[tuple[str, dict[str, str], str]]) -> list[str]:
        """Store each message in the backlog of every pull subscription of the topic and queue it for every push
        one; only subscriptions that exist now receive it."""
        pushes: list[tuple[Subscription, Message]] = []
        ids: list[str] = []
        with self._lock:
            subscriptions = [s for s in self._subscriptions.values() if s.topic == topic]
            for data, attributes, ordering_key in messages:
                message = Message(str(next(self._message_ids)), data, publish_time(), topic, attributes, ordering_key)
                ids.append(message.message_id)
                for subscription in subscriptions:
                    if subscription.push:
                        pushes.append((subscription, message))
                    else:
                        subscription.backlog.append(message)
        copies = 1 + self.emu.faults.duplicate_deliveries
        for subscription, message in pushes:
            self.pushes.push(subscription, message, copies)
        return ids
