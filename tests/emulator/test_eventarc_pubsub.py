"""Eventarc Pub/Sub triggers (googleapiclient eventarc v1): a trigger's own push subscription turns each message of
its topic into a `messagePublished` CloudEvent at a real HTTP endpoint; end to end, an organization's aggregated
sink feeds the topic, so a Cloud Run write anywhere in the organization reaches one trigger."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from cloudevents.http import from_http
from googleapiclient.errors import HttpError

from emulator import EmulatorServer
from shared.methods import V2_CREATE

from .orgtree import ACTIVITY, HUB, ORG, TOPIC, WEB_PROD, api, create_service, seed
from .receiver import Received, Receiver

PUBLISHED = "google.cloud.pubsub.topic.v1.messagePublished"
PARENT = f"projects/{HUB}/locations/us-central1"


@pytest.fixture
def clients(emulator: EmulatorServer) -> Iterator[tuple[Any, Any]]:
    seed(emulator)
    eventarc, pubsub = api(emulator, "eventarc", "v1"), api(emulator, "pubsub", "v1")
    yield eventarc, pubsub
    eventarc.close()
    pubsub.close()


def create_trigger(eventarc: Any, trigger_id: str, uri: str, topic: str | None = TOPIC, **body: Any) -> dict[str, Any]:
    body = {
        "eventFilters": [{"attribute": "type", "value": PUBLISHED}],
        "destination": {"httpEndpoint": {"uri": uri}},
        **body,
    }
    if topic:
        body["transport"] = {"pubsub": {"topic": topic}}
    operation = eventarc.projects().locations().triggers().create(parent=PARENT, triggerId=trigger_id, body=body)
    response = operation.execute()["response"]
    return {k: v for k, v in response.items() if k != "@type"}


def publish(pubsub: Any, data: bytes, topic: str = TOPIC, **attributes: str) -> str:
    message: dict[str, Any] = {"data": base64.b64encode(data).decode()}
    if attributes:
        message["attributes"] = attributes
    ids = pubsub.projects().topics().publish(topic=topic, body={"messages": [message]}).execute()["messageIds"]
    return str(ids[0])


def drain(emulator: EmulatorServer) -> None:
    assert emulator.emulator.eventarc.drain(timeout=10)


def event_of(received: Received) -> Any:
    return from_http(received.headers, received.body)


def test_a_pubsub_trigger_pushes_message_published_cloudevents(
    emulator: EmulatorServer, clients: tuple[Any, Any], receiver: Receiver
) -> None:
    eventarc, pubsub = clients
    pubsub.projects().topics().create(name=TOPIC, body={}).execute()
    trigger = create_trigger(eventarc, "on-audit", receiver.uri)
    subscription = trigger["transport"]["pubsub"]["subscription"]
    assert trigger["transport"]["pubsub"]["topic"] == TOPIC
    assert subscription.startswith(f"projects/{HUB}/subscriptions/eventarc-us-central1-on-audit-sub-")
    pushed = pubsub.projects().subscriptions().get(subscription=subscription).execute()
    assert (pushed["topic"], pushed["pushConfig"]["pushEndpoint"]) == (TOPIC, receiver.uri)

    payload = bytes(range(200))
    message_id = publish(pubsub, payload, kind="test")
    drain(emulator)
    (request,) = receiver.wait_for(1)
    headers = {k.lower(): v for k, v in request.headers.items()}
    assert headers["ce-type"] == PUBLISHED and headers["ce-specversion"] == "1.0"
    assert headers["ce-source"] == f"//pubsub.googleapis.com/{TOPIC}"
    assert headers["ce-id"] == message_id and headers["content-type"] == "application/json"
    event = event_of(request)
    assert event["type"] == PUBLISHED and event["id"] == message_id and event["time"]
    assert list(event.data) == ["message", "subscription"] and event.data["subscription"] == subscription
    message = event.data["message"]
    assert list(message) == ["attributes", "data", "messageId", "message_id", "publishTime", "publish_time"]
    assert base64.b64decode(message["data"]) == payload and message["attributes"] == {"kind": "test"}
    assert message["messageId"] == message["message_id"] == message_id
    assert message["publishTime"] == message["publish_time"] == headers["ce-time"]


def test_eventarc_creates_a_topic_when_none_is_given_and_deletes_only_its_own(
    clients: tuple[Any, Any], receiver: Receiver
) -> None:
    eventarc, pubsub = clients
    triggers, topics = eventarc.projects().locations().triggers(), pubsub.projects().topics()
    own = create_trigger(eventarc, "own-topic", receiver.uri, topic=None)
    created = own["transport"]["pubsub"]["topic"]
    assert created.startswith(f"projects/{HUB}/topics/eventarc-us-central1-own-topic-")
    assert topics.get(topic=created).execute() == {"name": created}
    assert triggers.get(name=own["name"]).execute()["transport"] == own["transport"]

    topics.create(name=TOPIC, body={}).execute()
    given = create_trigger(eventarc, "given-topic", receiver.uri)
    for trigger in (own, given):
        triggers.delete(name=trigger["name"]).execute()
        with pytest.raises(HttpError) as missing:
            pubsub.projects().subscriptions().get(subscription=trigger["transport"]["pubsub"]["subscription"]).execute()
        assert missing.value.resp.status == 404
    with pytest.raises(HttpError) as gone:
        topics.get(topic=created).execute()
    assert gone.value.resp.status == 404
    assert topics.get(topic=TOPIC).execute() == {"name": TOPIC}  # the topic given to the trigger stays


@pytest.mark.parametrize(
    ("filters", "topic"),
    [
        ([{"attribute": "type", "value": PUBLISHED}, {"attribute": "methodName", "value": V2_CREATE}], TOPIC),
        ([{"attribute": "type", "value": PUBLISHED}], f"projects/{HUB}/topics/missing"),
    ],
)
def test_pubsub_trigger_create_refuses(
    clients: tuple[Any, Any], receiver: Receiver, filters: list[dict[str, str]], topic: str
) -> None:
    eventarc, pubsub = clients
    pubsub.projects().topics().create(name=TOPIC, body={}).execute()
    with pytest.raises(HttpError) as refused:
        create_trigger(eventarc, "bad", receiver.uri, topic=topic, eventFilters=filters)
    assert refused.value.resp.status == 400
    assert pubsub.projects().subscriptions().list(project=f"projects/{HUB}").execute() == {}


def test_validate_only_provisions_nothing(clients: tuple[Any, Any], receiver: Receiver) -> None:
    eventarc, pubsub = clients
    body = {
        "eventFilters": [{"attribute": "type", "value": PUBLISHED}],
        "destination": {"httpEndpoint": {"uri": "http://x/"}},
    }
    eventarc.projects().locations().triggers().create(
        parent=PARENT, triggerId="dry", body=body, validateOnly=True
    ).execute()
    assert pubsub.projects().topics().list(project=f"projects/{HUB}").execute() == {}


def test_retry_policy_max_attempts_one_is_honoured(
    emulator: EmulatorServer, clients: tuple[Any, Any], receiver: Receiver
) -> None:
    eventarc, pubsub = clients
    pubsub.projects().topics().create(name=TOPIC, body={}).execute()
    create_trigger(eventarc, "once", receiver.uri, retryPolicy={"maxAttempts": 1})
    receiver.script = [500]
    publish(pubsub, b"only once")
    drain(emulator)
    assert len(receiver.received) == 1
    (attempt,) = emulator.emulator.snapshot()["pubsub"]["deliveries"]["attempts"]
    assert (attempt["status"], attempt["outcome"]) == (500, "dropped")


def test_destinations_other_than_http_are_recorded_not_pushed(
    emulator: EmulatorServer, clients: tuple[Any, Any], receiver: Receiver
) -> None:
    eventarc, pubsub = clients
    pubsub.projects().topics().create(name=TOPIC, body={}).execute()
    create_trigger(
        eventarc, "to-run", receiver.uri, destination={"cloudRun": {"service": "sync", "region": "us-central1"}}
    )
    message_id = publish(pubsub, b"nowhere to go")
    drain(emulator)
    (record,) = emulator.emulator.snapshot()["pubsub"]["deliveries"]["attempts"]
    assert (record["messageId"], record["outcome"]) == (message_id, "not_delivered")
    assert "cloudRun is not emulated" in record["reason"] and receiver.received == []


def test_org_sink_to_topic_to_pubsub_trigger_end_to_end(
    emulator: EmulatorServer, clients: tuple[Any, Any], receiver: Receiver
) -> None:
    """A Cloud Run v2 create in a project two folders down becomes a messagePublished CloudEvent whose message data
    is that project's audit LogEntry."""
    eventarc, pubsub = clients
    pubsub.projects().topics().create(name=TOPIC, body={}).execute()
    logging_v2 = api(emulator, "logging", "v2")
    sink = (
        logging_v2.organizations()
        .sinks()
        .create(
            parent=ORG,
            body={
                "name": "run-writes",
                "destination": f"pubsub.googleapis.com/{TOPIC}",
                "filter": f'{ACTIVITY} AND protoPayload.serviceName="run.googleapis.com" AND operation.last=true',
                "includeChildren": True,
            },
        )
        .execute()
    )
    grant = {"role": "roles/pubsub.publisher", "members": [sink["writerIdentity"]]}
    pubsub.projects().topics().setIamPolicy(resource=TOPIC, body={"policy": {"bindings": [grant]}}).execute()
    trigger = create_trigger(eventarc, "org-run-writes", receiver.uri)

    name = create_service(emulator, WEB_PROD)
    drain(emulator)
    (request,) = receiver.wait_for(1)
    event = event_of(request)
    assert event["type"] == PUBLISHED and event["source"] == f"//pubsub.googleapis.com/{TOPIC}"
    assert event.data["subscription"] == trigger["transport"]["pubsub"]["subscription"]
    entry = json.loads(base64.b64decode(event.data["message"]["data"]))
    assert entry["logName"] == f"projects/{WEB_PROD}/logs/cloudaudit.googleapis.com%2Factivity"
    assert entry["protoPayload"]["methodName"] == V2_CREATE and entry["protoPayload"]["resourceName"] == name
    assert entry["operation"]["last"] is True
    assert event.data["message"]["attributes"] == {"logging.googleapis.com/timestamp": entry["timestamp"]}
    listed = (
        logging_v2.entries()
        .list(body={"resourceNames": [f"projects/{WEB_PROD}"], "filter": f'insertId="{entry["insertId"]}"'})
        .execute()
    )
    assert listed["entries"] == [entry]
    logging_v2.close()
