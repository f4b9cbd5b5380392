"""Delivery of audit-log CloudEvents to trigger destinations, received by a real HTTP server."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from cloudevents.http import from_http

from emulator import EmulatorServer
from emulator.audit import AdminActivity
from emulator.eventarc.matching import compile_path_pattern

from .receiver import Receiver

PROJECT = "example-proj"
AUDIT = "google.cloud.audit.log.v1.written"
REPLACE = "google.cloud.run.v1.Services.ReplaceService"
CREATE_V2 = "google.cloud.run.v2.Services.CreateService"


@pytest.fixture
def fast_retries(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = emulator.emulator.settings
    monkeypatch.setattr(settings, "delivery_initial_backoff", 0.02)
    monkeypatch.setattr(settings, "delivery_max_backoff", 0.1)


def activity(
    method: str = REPLACE, region: str = "us-central1", service: str = "hello", project: str = PROJECT
) -> AdminActivity:
    v1 = ".v1." in method
    return AdminActivity(
        project=project,
        region=region,
        service=service,
        method_name=method,
        resource_name=f"namespaces/{project}/services/{service}"
        if v1
        else f"projects/{project}/locations/{region}/services/{service}",
        permission="run.services.update" if v1 else "run.services.create",
        principal="dev@example.com",
        request={"@type": "type.googleapis.com/google.cloud.run.v1.ReplaceServiceRequest"},
        response={"@type": "type.googleapis.com/google.cloud.run.v1.Service"},
    )


def create_trigger(
    emulator: EmulatorServer,
    trigger_id: str,
    uri: str,
    *,
    method: str = REPLACE,
    location: str = "global",
    project: str = PROJECT,
    extra_filters: list[dict[str, str]] | None = None,
    **body: Any,
) -> None:
    filters = [
        {"attribute": "type", "value": AUDIT},
        {"attribute": "serviceName", "value": "run.googleapis.com"},
        {"attribute": "methodName", "value": method},
        *(extra_filters or []),
    ]
    response = requests.post(
        f"{emulator.url}/v1/projects/{project}/locations/{location}/triggers",
        params={"triggerId": trigger_id},
        json={"eventFilters": filters, "destination": {"httpEndpoint": {"uri": uri}}, **body},
        timeout=5,
    )
    assert response.ok, response.text


def drain(emulator: EmulatorServer, timeout: float = 5.0) -> None:
    assert emulator.emulator.eventarc.drain(timeout=timeout)


def _micros(timestamp: str) -> int:
    head, _, fraction = timestamp.rstrip("Z").partition(".")
    seconds = int(datetime.fromisoformat(head).replace(tzinfo=UTC).timestamp())
    return seconds * 1_000_000 + int(fraction[:6].ljust(6, "0"))


def test_binary_cloudevent_has_every_attribute(emulator: EmulatorServer, receiver: Receiver) -> None:
    create_trigger(emulator, "replace", receiver.uri)
    emulator.emulator.record_admin_activity(activity())
    drain(emulator)
    (got,) = receiver.received
    entry = emulator.emulator.snapshot()["logging"]["entries"][-1]
    log_name = f"projects/{PROJECT}/logs/cloudaudit.googleapis.com%2Factivity"
    assert got.path == "/events"
    ce_headers = {k.lower(): v for k, v in got.headers.items() if k.lower().startswith("ce-")}
    assert ce_headers == {
        "ce-specversion": "1.0",
        "ce-type": AUDIT,
        "ce-source": f"//cloudaudit.googleapis.com/projects/{PROJECT}/logs/activity",
        "ce-id": f"{log_name}{entry['insertId']}{_micros(entry['timestamp'])}",
        "ce-time": entry["receiveTimestamp"],
        "ce-subject": f"run.googleapis.com/namespaces/{PROJECT}/services/hello",
        "ce-dataschema": "https://googleapis.github.io/google-cloudevents/jsonschema/google/events/cloud/audit/v1/"
        "LogEntryData.json",
        "ce-methodname": REPLACE,
        "ce-servicename": "run.googleapis.com",
        "ce-resourcename": f"namespaces/{PROJECT}/services/hello",
        "ce-recordedtime": entry["timestamp"],
    }
    assert got.headers["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(got.body) == entry
    assert entry["logName"] == log_name

    event = from_http(got.headers, got.body)
    assert event["type"] == AUDIT and event["id"] == ce_headers["ce-id"]
    assert event["methodname"] == REPLACE and event["subject"] == ce_headers["ce-subject"]
    assert event.data["protoPayload"]["resourceName"] == f"namespaces/{PROJECT}/services/hello"


def test_record_does_not_wait_for_delivery(emulator: EmulatorServer, receiver: Receiver) -> None:
    receiver.delay = 0.5
    create_trigger(emulator, "slow", receiver.uri)
    started = time.monotonic()
    emulator.emulator.record_admin_activity(activity())
    assert time.monotonic() - started < 0.2
    assert emulator.emulator.eventarc.drain(timeout=0) is False
    drain(emulator)
    assert len(receiver.received) == 1


def test_only_matching_triggers_receive(emulator: EmulatorServer, receiver: Receiver) -> None:
    with Receiver() as other:
        create_trigger(emulator, "replace", receiver.uri)
        create_trigger(emulator, "create", other.uri, method=CREATE_V2)
        create_trigger(emulator, "other-project", other.uri, project="someone-else")
        emulator.emulator.record_admin_activity(activity())
        drain(emulator)
        assert len(receiver.received) == 1
        assert other.received == []


def test_global_trigger_gets_every_region_regional_only_its_own(emulator: EmulatorServer, receiver: Receiver) -> None:
    with Receiver() as central, Receiver() as europe:
        create_trigger(emulator, "everywhere", receiver.uri)
        create_trigger(emulator, "central", central.uri, location="us-central1")
        create_trigger(emulator, "europe", europe.uri, location="europe-west1")
        emulator.emulator.record_admin_activity(activity(region="us-central1"))
        emulator.emulator.record_admin_activity(activity(region="asia-east1"))
        drain(emulator)
        assert len(receiver.received) == 2
        assert [json.loads(r.body)["resource"]["labels"]["location"] for r in central.received] == ["us-central1"]
        assert europe.received == []


def test_resource_name_path_pattern(emulator: EmulatorServer, receiver: Receiver) -> None:
    pattern = {
        "attribute": "resourceName",
        "value": f"/projects/{PROJECT}/locations/*/services/api-*",
        "operator": "match-path-pattern",
    }
    create_trigger(emulator, "api-services", receiver.uri, method=CREATE_V2, extra_filters=[pattern])
    for service in ("api-users", "web", "api-orders"):
        emulator.emulator.record_admin_activity(activity(method=CREATE_V2, service=service))
    drain(emulator)
    assert sorted(r.headers["Ce-Resourcename"].rsplit("/", 1)[1] for r in receiver.received) == [
        "api-orders",
        "api-users",
    ]


@pytest.mark.parametrize(
    ("pattern", "name", "matches"),
    [
        pytest.param("/projects/p/locations/*/services/*", "projects/p/locations/r/services/s", True, id="stars"),
        pytest.param("/projects/p/locations/*/services/*", "projects/p/locations/r/services", False, id="too-short"),
        pytest.param("/projects/p/**", "projects/p/locations/r/services/s", True, id="double-star"),
        pytest.param("/projects/p/**", "projects/p", True, id="double-star-empty"),
        pytest.param("/projects/q/**", "projects/p/locations/r", False, id="double-star-prefix"),
        pytest.param("/namespaces/*/services/hello", "namespaces/p/services/hello", True, id="v1-name"),
        pytest.param(
            "/projects/{project}/locations/{rest=**}", "projects/p/locations/r/services/s", True, id="captures"
        ),
        pytest.param("projects/p/locations/r/services/s", "projects/p/locations/r/services/s", True, id="exact"),
        pytest.param(
            "/projects/p/locations/r/services/s*",
            "projects/p/locations/r/services/s/x",
            False,
            id="star-stays-in-segment",
        ),
    ],
)
def test_path_patterns(pattern: str, name: str, matches: bool) -> None:
    assert compile_path_pattern(pattern)(name) is matches


@pytest.mark.usefixtures("fast_retries")
def test_failed_push_is_retried_with_the_same_event(emulator: EmulatorServer, receiver: Receiver) -> None:
    receiver.script = [500, 503]
    create_trigger(emulator, "flaky", receiver.uri)
    emulator.emulator.record_admin_activity(activity())
    drain(emulator)
    assert len(receiver.received) == 3
    assert len({r.headers["Ce-Id"] for r in receiver.received}) == 1
    assert {r.body for r in receiver.received} == {receiver.received[0].body}
    attempts = emulator.emulator.eventarc.deliveries()
    assert [(a["attempt"], a["status"], a["outcome"]) for a in attempts] == [
        (1, 500, "retrying"),
        (2, 503, "retrying"),
        (3, 204, "delivered"),
    ]
    assert attempts[0]["trigger"] == f"projects/{PROJECT}/locations/global/triggers/flaky"


@pytest.mark.usefixtures("fast_retries")
def test_timeout_counts_as_failure(
    emulator: EmulatorServer, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(emulator.emulator.settings, "delivery_timeout", 0.2)
    receiver.first_delay = 0.6
    create_trigger(emulator, "slow-once", receiver.uri)
    emulator.emulator.record_admin_activity(activity())
    drain(emulator)
    attempts = emulator.emulator.eventarc.deliveries()
    assert [a["outcome"] for a in attempts] == ["retrying", "delivered"]
    assert "Timeout" in attempts[0]["error"] and "status" not in attempts[0]


@pytest.mark.usefixtures("fast_retries")
def test_event_is_dropped_after_max_attempts(
    emulator: EmulatorServer, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(emulator.emulator.settings, "delivery_max_attempts", 3)
    receiver.script = [500] * 10
    create_trigger(emulator, "broken", receiver.uri)
    emulator.emulator.record_admin_activity(activity())
    drain(emulator)
    assert len(receiver.received) == 3
    assert [a["outcome"] for a in emulator.emulator.eventarc.deliveries()] == ["retrying", "retrying", "dropped"]


def test_retry_policy_of_one_attempt(emulator: EmulatorServer, receiver: Receiver) -> None:
    receiver.script = [500]
    create_trigger(emulator, "no-retry", receiver.uri, retryPolicy={"maxAttempts": 1})
    emulator.emulator.record_admin_activity(activity())
    drain(emulator)
    assert [a["outcome"] for a in emulator.emulator.eventarc.deliveries()] == ["dropped"]


def test_unreachable_endpoint_is_an_error_attempt(
    emulator: EmulatorServer, fast_retries: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(emulator.emulator.settings, "delivery_max_attempts", 2)
    with Receiver() as gone:
        uri = gone.uri
    create_trigger(emulator, "gone", uri)
    emulator.emulator.record_admin_activity(activity())
    drain(emulator)
    attempts = emulator.emulator.eventarc.deliveries()
    assert [a["outcome"] for a in attempts] == ["retrying", "dropped"]
    assert "ConnectionError" in attempts[0]["error"]


def test_duplicate_deliveries_fault(emulator: EmulatorServer, receiver: Receiver) -> None:
    response = requests.post(f"{emulator.url}/_emulator/faults", json={"duplicateDeliveries": 2}, timeout=5)
    assert response.ok
    create_trigger(emulator, "dup", receiver.uri)
    emulator.emulator.record_admin_activity(activity())
    drain(emulator)
    assert len(receiver.received) == 3
    assert len({r.headers["Ce-Id"] for r in receiver.received}) == 1
    assert sorted(a["copy"] for a in emulator.emulator.eventarc.deliveries()) == [0, 1, 2]


def test_fifty_events_are_pushed_concurrently(emulator: EmulatorServer, receiver: Receiver) -> None:
    receiver.delay = 0.4
    create_trigger(emulator, "burst", receiver.uri)
    started = time.monotonic()
    for index in range(50):
        emulator.emulator.record_admin_activity(activity(service=f"svc-{index}"))
    assert time.monotonic() - started < 1.0
    drain(emulator, timeout=10)
    elapsed = time.monotonic() - started
    assert len(receiver.received) == 50
    assert len({r.headers["Ce-Id"] for r in receiver.received}) == 50
    assert receiver.max_in_flight >= 25, receiver.max_in_flight
    assert elapsed < 4.0  # one at a time would take 20 s


def test_drain_control_endpoint(emulator: EmulatorServer, receiver: Receiver) -> None:
    receiver.delay = 0.2
    create_trigger(emulator, "ctl", receiver.uri)
    emulator.emulator.record_admin_activity(activity())
    body = requests.post(f"{emulator.url}/_emulator/deliveries:drain", params={"timeout": "5"}, timeout=10).json()
    assert body == {"drained": True}
    assert len(receiver.received) == 1


def test_reset_drops_pending_deliveries(
    emulator: EmulatorServer, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(emulator.emulator.settings, "delivery_initial_backoff", 30.0)
    receiver.script = [500]
    create_trigger(emulator, "reset-me", receiver.uri)
    emulator.emulator.record_admin_activity(activity())
    receiver.wait_for(1)
    # The failed attempt is recorded and its retry queued 30 s out (recorded just after the receiver answers).
    deadline = time.monotonic() + 10
    while not emulator.emulator.snapshot()["eventarc"]["deliveries"]["attempts"] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert emulator.emulator.eventarc.drain(timeout=0) is False
    emulator.emulator.reset()
    assert emulator.emulator.eventarc.drain(timeout=0) is True
    state = emulator.emulator.snapshot()["eventarc"]
    assert state["triggers"] == [] and state["deliveries"] == {"pending": 0, "attempts": []}


def test_non_http_destinations_are_recorded_not_pushed(emulator: EmulatorServer) -> None:
    body = {
        "eventFilters": [
            {"attribute": "type", "value": AUDIT},
            {"attribute": "serviceName", "value": "run.googleapis.com"},
            {"attribute": "methodName", "value": REPLACE},
        ],
        "destination": {"cloudRun": {"service": "enforce-ingress", "region": "us-central1"}},
    }
    response = requests.post(
        f"{emulator.url}/v1/projects/{PROJECT}/locations/global/triggers",
        params={"triggerId": "to-run"},
        json=body,
        timeout=5,
    )
    assert response.ok
    emulator.emulator.record_admin_activity(activity())
    drain(emulator)
    (record,) = emulator.emulator.snapshot()["eventarc"]["deliveries"]["attempts"]
    assert record["outcome"] == "not_delivered" and "cloudRun is not emulated" in record["reason"]
