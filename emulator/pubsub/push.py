"""Push delivery: every message of a push subscription POSTed to its endpoint, at least once.

Pub/Sub acknowledges a push on 102, 200, 201, 202 or 204 and retries anything else with exponential backoff
(docs/google-apis.md §2.3, §9.5). The pushes go through the same delay queue and worker pool as Eventarc's direct
deliveries (`eventarc.delivery.Dispatcher`), on the same compressed clock (`Settings.delivery_*`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..eventarc.delivery import Dispatcher
from ..settings import Settings
from .messages import Message, push_request
from .subscriptions import Subscription

# The dispatcher names an event's target `trigger` and its id `eventId`; here they are a subscription and a message.
_RENAMED = {"trigger": "subscription", "eventId": "messageId"}


class PushQueue:
    """Thread-safe (the dispatcher is)."""

    def __init__(self, settings: Callable[[], Settings]) -> None:
        self._settings = settings
        self.dispatcher = Dispatcher(settings)

    def push(self, subscription: Subscription, message: Message, copies: int) -> None:
        """Queue `copies` deliveries of the message to the subscription's endpoint; returns at once."""
        if subscription.undeliverable is not None or subscription.push_endpoint is None:
            self.dispatcher.record(
                trigger=subscription.name,
                eventId=message.message_id,
                outcome="not_delivered",
                reason=subscription.undeliverable or "no push endpoint",
            )
            return
        wrap = subscription.wrap or push_request
        headers, body = wrap(message.push_envelope(subscription.name), message.topic)
        self.dispatcher.submit(
            trigger=subscription.name,
            uri=subscription.push_endpoint,
            headers=headers,
            body=body,
            event_id=message.message_id,
            copies=copies,
            max_attempts=subscription.max_attempts or self._settings().delivery_max_attempts,
        )

    def drain(self, timeout: float | None) -> bool:
        return self.dispatcher.drain(timeout)

    def reset(self) -> None:
        self.dispatcher.reset()

    def close(self) -> None:
        self.dispatcher.close()

    def snapshot(self) -> dict[str, Any]:
        state = self.dispatcher.snapshot()
        attempts = [{_RENAMED.get(k, k): v for k, v in record.items()} for record in state["attempts"]]
        return {"pending": state["pending"], "attempts": attempts}
