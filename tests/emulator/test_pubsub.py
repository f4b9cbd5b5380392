"""Pub/Sub v1 through googleapiclient: topics, subscriptions, publish, pull and acknowledge, topic IAM policies, and
push delivery to a real HTTP endpoint (the production envelope, at least once, retried)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from google.auth.credentials import AnonymousCredentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from emulator import EmulatorServer

from .receiver import Receiver

P = "runway-demo"
TOPIC = f"projects/{P}/topics/events"
WRITER = "serviceAccount:service-org-123456789012@gcp-sa-logging.iam.gserviceaccount.com"


def pubsub(emulator: EmulatorServer) -> Any:
    return build(
        "pubsub",
        "v1",
        credentials=AnonymousCredentials(),
        static_discovery=True,
        client_options={"api_endpoint": emulator.url},
        cache_discovery=False,
    )


@pytest.fixture
def ps(emulator: EmulatorServer) -> Iterator[Any]:
    client = pubsub(emulator)
    yield client
    client.close()


@pytest.fixture
def fast_retries(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = emulator.emulator.settings
    monkeypatch.setattr(settings, "delivery_initial_backoff", 0.02)
    monkeypatch.setattr(settings, "delivery_max_backoff", 0.1)


def status_of(call: Any) -> tuple[int, str]:
    with pytest.raises(HttpError) as caught:
        call.execute()
    body = json.loads(caught.value.content)["error"]
    return caught.value.resp.status, body["status"]


def publish(ps: Any, data: bytes, attributes: dict[str, str] | None = None, topic: str = TOPIC) -> str:
    message: dict[str, Any] = {"data": base64.b64encode(data).decode()}
    if attributes:
        message["attributes"] = attributes
    (message_id,) = ps.projects().topics().publish(topic=topic, body={"messages": [message]}).execute()["messageIds"]
    return str(message_id)


def drain(emulator: EmulatorServer) -> None:
    body = requests.post(f"{emulator.url}/_emulator/deliveries:drain", params={"timeout": "10"}, timeout=15).json()
    assert body == {"drained": True}


# ---------------------------------------------------------------------------------------------- topics


def test_topic_create_get_list_delete(ps: Any) -> None:
    topics = ps.projects().topics()
    created = topics.create(name=TOPIC, body={"labels": {"team": "web"}}).execute()
    assert created == {"name": TOPIC, "labels": {"team": "web"}}
    assert topics.get(topic=TOPIC).execute() == created
    topics.create(name=f"projects/{P}/topics/audit", body={}).execute()
    topics.create(name="projects/other-proj/topics/elsewhere", body={}).execute()
    listed = topics.list(project=f"projects/{P}", pageSize=1).execute()
    assert [t["name"] for t in listed["topics"]] == [f"projects/{P}/topics/audit"] and listed["nextPageToken"]
    rest = topics.list(project=f"projects/{P}", pageToken=listed["nextPageToken"]).execute()
    assert rest == {"topics": [created]}
    assert status_of(topics.create(name=TOPIC, body={})) == (409, "ALREADY_EXISTS")
    assert topics.delete(topic=TOPIC).execute() == {}
    assert status_of(topics.get(topic=TOPIC)) == (404, "NOT_FOUND")
    assert status_of(topics.delete(topic=TOPIC)) == (404, "NOT_FOUND")


@pytest.mark.parametrize("topic_id", ["ab", "goog-topic", "1topic", "with space"])
def test_topic_names_follow_pubsub_rules(ps: Any, topic_id: str) -> None:
    assert status_of(ps.projects().topics().create(name=f"projects/{P}/topics/{topic_id}", body={})) == (
        400,
        "INVALID_ARGUMENT",
    )


def test_deleting_a_topic_detaches_its_subscriptions(ps: Any) -> None:
    ps.projects().topics().create(name=TOPIC, body={}).execute()
    subs = ps.projects().subscriptions()
    subs.create(name=f"projects/{P}/subscriptions/keep", body={"topic": TOPIC}).execute()
    ps.projects().topics().delete(topic=TOPIC).execute()
    assert subs.get(subscription=f"projects/{P}/subscriptions/keep").execute()["topic"] == "_deleted-topic_"


# ---------------------------------------------------------------------------------------------- subscriptions


def test_subscription_create_get_list_delete(ps: Any, receiver: Receiver) -> None:
    ps.projects().topics().create(name=TOPIC, body={}).execute()
    subs = ps.projects().subscriptions()
    pull = subs.create(name=f"projects/{P}/subscriptions/reader", body={"topic": TOPIC}).execute()
    assert pull == {
        "name": f"projects/{P}/subscriptions/reader",
        "topic": TOPIC,
        "pushConfig": {},
        "ackDeadlineSeconds": 10,
        "messageRetentionDuration": "604800s",
        "expirationPolicy": {"ttl": "2678400s"},
        "state": "ACTIVE",
    }
    push = subs.create(
        name=f"projects/{P}/subscriptions/pusher",
        body={"topic": TOPIC, "pushConfig": {"pushEndpoint": receiver.uri}, "ackDeadlineSeconds": 60},
    ).execute()
    assert push["pushConfig"] == {"pushEndpoint": receiver.uri, "attributes": {"x-goog-version": "v1"}}
    assert push["ackDeadlineSeconds"] == 60
    assert subs.get(subscription=push["name"]).execute() == push
    assert subs.list(project=f"projects/{P}").execute() == {"subscriptions": [push, pull]}
    by_topic = ps.projects().topics().subscriptions().list(topic=TOPIC).execute()
    assert by_topic == {"subscriptions": [push["name"], pull["name"]]}
    assert status_of(subs.create(name=pull["name"], body={"topic": TOPIC})) == (409, "ALREADY_EXISTS")
    assert subs.delete(subscription=pull["name"]).execute() == {}
    assert status_of(subs.get(subscription=pull["name"])) == (404, "NOT_FOUND")


@pytest.mark.parametrize(
    "body",
    [
        {"topic": f"projects/{P}/topics/missing"},
        {"topic": TOPIC, "ackDeadlineSeconds": 5},
        {"topic": TOPIC, "ackDeadlineSeconds": 601},
        {"topic": TOPIC, "pushConfig": {"pushEndpoint": "not a url"}},
        {},
    ],
)
def test_subscription_create_refuses_what_pubsub_refuses(ps: Any, body: dict[str, Any]) -> None:
    ps.projects().topics().create(name=TOPIC, body={}).execute()
    status, _ = status_of(ps.projects().subscriptions().create(name=f"projects/{P}/subscriptions/sub", body=body))
    assert status == (404 if "missing" in json.dumps(body) else 400)


# ---------------------------------------------------------------------------------------------- publish, pull, ack


def test_publish_pull_acknowledge_round_trips_bytes(ps: Any) -> None:
    ps.projects().topics().create(name=TOPIC, body={}).execute()
    subs = ps.projects().subscriptions()
    reader = f"projects/{P}/subscriptions/reader"
    subs.create(name=reader, body={"topic": TOPIC}).execute()
    payload = bytes(range(256))
    first = publish(ps, payload, {"origin": "test"})
    second = publish(ps, b"second")
    assert first.isdigit() and int(second) > int(first)

    pulled = subs.pull(subscription=reader, body={"maxMessages": 1}).execute()["receivedMessages"]
    assert len(pulled) == 1
    message = pulled[0]["message"]
    assert base64.b64decode(message["data"]) == payload
    assert (message["messageId"], message["attributes"]) == (first, {"origin": "test"})
    assert message["publishTime"].endswith("Z")
    rest = subs.pull(subscription=reader, body={"maxMessages": 10}).execute()["receivedMessages"]
    assert [m["message"]["messageId"] for m in rest] == [second] and "attributes" not in rest[0]["message"]
    # Leased until acknowledged (or the 10 s ack deadline passes): nothing more to pull.
    assert subs.pull(subscription=reader, body={"maxMessages": 10}).execute() == {}
    ack_ids = [pulled[0]["ackId"], rest[0]["ackId"]]
    assert subs.acknowledge(subscription=reader, body={"ackIds": ack_ids}).execute() == {}
    assert subs.acknowledge(subscription=reader, body={"ackIds": ack_ids}).execute() == {}  # again: accepted
    assert status_of(subs.acknowledge(subscription=reader, body={"ackIds": ["bogus"]})) == (400, "INVALID_ARGUMENT")


def test_modify_ack_deadline_zero_hands_a_message_back(ps: Any) -> None:
    ps.projects().topics().create(name=TOPIC, body={}).execute()
    subs = ps.projects().subscriptions()
    reader = f"projects/{P}/subscriptions/reader"
    subs.create(name=reader, body={"topic": TOPIC}).execute()
    message_id = publish(ps, b"nack me")
    (first,) = subs.pull(subscription=reader, body={"maxMessages": 5}).execute()["receivedMessages"]
    assert (
        subs.modifyAckDeadline(
            subscription=reader, body={"ackIds": [first["ackId"]], "ackDeadlineSeconds": 60}
        ).execute()
        == {}
    )
    assert subs.pull(subscription=reader, body={"maxMessages": 5}).execute() == {}  # extended, still leased
    subs.modifyAckDeadline(subscription=reader, body={"ackIds": [first["ackId"]], "ackDeadlineSeconds": 0}).execute()
    (again,) = subs.pull(subscription=reader, body={"maxMessages": 5}).execute()["receivedMessages"]
    assert again["message"]["messageId"] == message_id and again["ackId"] != first["ackId"]
    call = subs.modifyAckDeadline(subscription=reader, body={"ackIds": [again["ackId"]], "ackDeadlineSeconds": 601})
    assert status_of(call) == (400, "INVALID_ARGUMENT")


def test_only_subscriptions_that_exist_receive_a_message(ps: Any) -> None:
    ps.projects().topics().create(name=TOPIC, body={}).execute()
    publish(ps, b"before")
    reader = f"projects/{P}/subscriptions/late"
    ps.projects().subscriptions().create(name=reader, body={"topic": TOPIC}).execute()
    after = publish(ps, b"after")
    pulled = ps.projects().subscriptions().pull(subscription=reader, body={"maxMessages": 10}).execute()
    assert [m["message"]["messageId"] for m in pulled["receivedMessages"]] == [after]


@pytest.mark.parametrize(
    "messages",
    [[], [{}], [{"data": "not base64!"}], [{"attributes": {"k": 1}}]],
)
def test_publish_refuses_bad_messages(ps: Any, messages: list[dict[str, Any]]) -> None:
    ps.projects().topics().create(name=TOPIC, body={}).execute()
    call = ps.projects().topics().publish(topic=TOPIC, body={"messages": messages})
    assert status_of(call) == (400, "INVALID_ARGUMENT")


def test_publish_to_a_missing_topic_is_404(ps: Any) -> None:
    assert status_of(ps.projects().topics().publish(topic=TOPIC, body={"messages": [{"data": "eA=="}]})) == (
        404,
        "NOT_FOUND",
    )


# ---------------------------------------------------------------------------------------------- push


def test_push_delivers_the_production_envelope(emulator: EmulatorServer, ps: Any, receiver: Receiver) -> None:
    ps.projects().topics().create(name=TOPIC, body={}).execute()
    pusher = f"projects/{P}/subscriptions/pusher"
    ps.projects().subscriptions().create(
        name=pusher, body={"topic": TOPIC, "pushConfig": {"pushEndpoint": receiver.uri}}
    ).execute()
    payload = "é✓ binary \x00 safe".encode()
    with_attributes = publish(ps, payload, {"kind": "test"})
    without = publish(ps, b"plain")
    drain(emulator)
    received = {json.loads(r.body)["message"]["messageId"]: r for r in receiver.wait_for(2)}

    request = received[with_attributes]
    headers = {k.lower(): v for k, v in request.headers.items()}
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"].startswith("APIs-Google")
    assert not any(h.startswith("ce-") for h in headers)
    body = json.loads(request.body)
    assert list(body) == ["message", "subscription"] and body["subscription"] == pusher
    message = body["message"]
    assert list(message) == ["attributes", "data", "messageId", "message_id", "publishTime", "publish_time"]
    assert base64.b64decode(message["data"]) == payload
    assert message["attributes"] == {"kind": "test"}
    assert message["messageId"] == message["message_id"] == with_attributes
    assert message["publishTime"] == message["publish_time"]
    plain = json.loads(received[without].body)["message"]
    assert list(plain) == ["data", "messageId", "message_id", "publishTime", "publish_time"]

    attempts = emulator.emulator.snapshot()["pubsub"]["deliveries"]["attempts"]
    assert {(a["subscription"], a["messageId"], a["outcome"]) for a in attempts} == {
        (pusher, with_attributes, "delivered"),
        (pusher, without, "delivered"),
    }


def test_push_retries_non_2xx_with_backoff(
    emulator: EmulatorServer, ps: Any, receiver: Receiver, fast_retries: None
) -> None:
    receiver.script = [500, 203, 429]  # 203 is 2xx but not an acknowledgement for Pub/Sub push
    ps.projects().topics().create(name=TOPIC, body={}).execute()
    ps.projects().subscriptions().create(
        name=f"projects/{P}/subscriptions/flaky", body={"topic": TOPIC, "pushConfig": {"pushEndpoint": receiver.uri}}
    ).execute()
    message_id = publish(ps, b"again")
    drain(emulator)
    assert len(receiver.received) == 4
    assert {json.loads(r.body)["message"]["messageId"] for r in receiver.received} == {message_id}
    attempts = emulator.emulator.snapshot()["pubsub"]["deliveries"]["attempts"]
    assert [(a["attempt"], a["status"], a["outcome"]) for a in attempts] == [
        (1, 500, "retrying"),
        (2, 203, "retrying"),
        (3, 429, "retrying"),
        (4, 204, "delivered"),
    ]


def test_duplicate_deliveries_fault_applies_to_push(emulator: EmulatorServer, ps: Any, receiver: Receiver) -> None:
    requests.post(f"{emulator.url}/_emulator/faults", json={"duplicateDeliveries": 1}, timeout=5).raise_for_status()
    ps.projects().topics().create(name=TOPIC, body={}).execute()
    ps.projects().subscriptions().create(
        name=f"projects/{P}/subscriptions/twice", body={"topic": TOPIC, "pushConfig": {"pushEndpoint": receiver.uri}}
    ).execute()
    message_id = publish(ps, b"at least once")
    drain(emulator)
    assert [json.loads(r.body)["message"]["messageId"] for r in receiver.wait_for(2)] == [message_id] * 2


def test_pull_on_a_push_subscription_is_refused(ps: Any, receiver: Receiver) -> None:
    ps.projects().topics().create(name=TOPIC, body={}).execute()
    pusher = f"projects/{P}/subscriptions/pusher"
    body = {"topic": TOPIC, "pushConfig": {"pushEndpoint": receiver.uri}}
    ps.projects().subscriptions().create(name=pusher, body=body).execute()
    assert status_of(ps.projects().subscriptions().pull(subscription=pusher, body={"maxMessages": 1})) == (
        400,
        "FAILED_PRECONDITION",
    )


# ---------------------------------------------------------------------------------------------- topic IAM


def test_topic_iam_policy_round_trip(ps: Any) -> None:
    topics = ps.projects().topics()
    topics.create(name=TOPIC, body={}).execute()
    assert topics.getIamPolicy(resource=TOPIC).execute() == {"etag": "ACAB"}
    binding = {"role": "roles/pubsub.publisher", "members": [WRITER]}
    policy = topics.setIamPolicy(resource=TOPIC, body={"policy": {"bindings": [binding]}}).execute()
    assert policy["bindings"] == [binding] and policy["version"] == 1 and policy["etag"] != "ACAB"
    assert topics.getIamPolicy(resource=TOPIC).execute() == policy
    stale = {"policy": {"bindings": [], "etag": "ACAB"}}
    assert status_of(topics.setIamPolicy(resource=TOPIC, body=stale)) == (409, "ABORTED")
    cleared = topics.setIamPolicy(resource=TOPIC, body={"policy": {"bindings": [], "etag": policy["etag"]}}).execute()
    assert cleared == {"etag": "ACAB"}


@pytest.mark.parametrize(
    "binding",
    [
        {"role": "roles/run.invoker", "members": ["user:a@example.com"]},
        {"role": "roles/pubsub.publisher", "members": ["a@example.com"]},
        {"role": "roles/pubsub.publisher", "members": ["user:a@example.com"], "condition": {"expression": "true"}},
    ],
)
def test_set_iam_policy_refuses_bad_bindings(ps: Any, binding: dict[str, Any]) -> None:
    ps.projects().topics().create(name=TOPIC, body={}).execute()
    call = ps.projects().topics().setIamPolicy(resource=TOPIC, body={"policy": {"bindings": [binding]}})
    assert status_of(call) == (400, "INVALID_ARGUMENT")


def test_test_iam_permissions_reads_the_topic_policy(emulator: EmulatorServer, ps: Any) -> None:
    topics = ps.projects().topics()
    topics.create(name=TOPIC, body={}).execute()
    url = f"{emulator.url}/v1/{TOPIC}:testIamPermissions"
    asked = {"permissions": ["pubsub.topics.publish", "pubsub.topics.delete"]}

    def held(principal: str) -> Any:
        response = requests.post(url, json=asked, headers={"X-Emulator-Principal": principal}, timeout=5)
        assert response.ok, response.text
        return response.json()

    assert held("dana@example.com") == asked  # no policy: permissive
    bindings = [
        {"role": "roles/pubsub.publisher", "members": ["user:dana@example.com"]},
        {"role": "roles/pubsub.editor", "members": ["serviceAccount:ops@p.iam.gserviceaccount.com"]},
    ]
    topics.setIamPolicy(resource=TOPIC, body={"policy": {"bindings": bindings}}).execute()
    assert held("dana@example.com") == {"permissions": ["pubsub.topics.publish"]}
    assert held("ops@p.iam.gserviceaccount.com") == asked
    assert held("eve@example.com") == {}
    assert status_of(topics.testIamPermissions(resource=TOPIC, body={"permissions": ["run.services.get"]})) == (
        400,
        "INVALID_ARGUMENT",
    )


def test_publish_as_checks_the_topic_policy(emulator: EmulatorServer, ps: Any) -> None:
    """What Logging's sinks call: a member publishes only where the topic's policy lets it (or there is none)."""
    api = emulator.emulator.pubsub
    assert api.publish_as(TOPIC, b"x", {}, WRITER) == ("NOT_FOUND", None)
    ps.projects().topics().create(name=TOPIC, body={}).execute()
    outcome, message_id = api.publish_as(TOPIC, b"x", {}, WRITER)
    assert outcome == "published" and message_id
    viewer = {"role": "roles/pubsub.viewer", "members": [WRITER]}
    ps.projects().topics().setIamPolicy(resource=TOPIC, body={"policy": {"bindings": [viewer]}}).execute()
    assert api.publish_as(TOPIC, b"x", {}, WRITER) == ("PERMISSION_DENIED", None)
    editor = {"role": "roles/pubsub.editor", "members": [WRITER]}
    ps.projects().topics().setIamPolicy(resource=TOPIC, body={"policy": {"bindings": [viewer, editor]}}).execute()
    assert api.publish_as(TOPIC, b"x", {}, WRITER)[0] == "published"


def test_reset_empties_pubsub(emulator: EmulatorServer, ps: Any) -> None:
    ps.projects().topics().create(name=TOPIC, body={}).execute()
    ps.projects().subscriptions().create(name=f"projects/{P}/subscriptions/sub", body={"topic": TOPIC}).execute()
    requests.post(f"{emulator.url}/_emulator/reset", timeout=5).raise_for_status()
    state = requests.get(f"{emulator.url}/_emulator/state", timeout=5).json()["pubsub"]
    assert state == {"topics": [], "subscriptions": [], "deliveries": {"pending": 0, "attempts": []}}
