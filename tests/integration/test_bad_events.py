"""Malformed and foreign events posted to the functions as Eventarc would: always acknowledged (200), never a
write, exactly one decision: `event_invalid`, `event_ignored`, or for a well-formed event about a service that does
not exist, the decision that there is nothing to do."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from typing import Any

import functions_framework
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devstack.bootstrap import create_load_balancer
from emulator import EmulatorServer

REGION = "us-central1"

MAIN = "main.py"
AUDIT_TYPE = "google.cloud.audit.log.v1.written"


@pytest.fixture(scope="module")
def function_clients(emulator_server: EmulatorServer) -> Iterator[dict[str, Any]]:
    """enforce_ingress and sync_routes served in-process by functions-framework, pointed at the emulator
    with the shared load balancer in place and no services."""
    emulator_server.emulator.reset()
    create_load_balancer(emulator_server.url, "runway-demo")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RUNWAY_API_ENDPOINT", emulator_server.url)
        mp.setenv("RUNWAY_URL_MAP", "runway-lb")
        mp.setenv("RUNWAY_PROJECT", "runway-demo")
        yield {
            target: functions_framework.create_app(target, MAIN).test_client()
            for target in ("enforce_ingress", "sync_routes")
        }


def _headers(**overrides: str) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "ce-specversion": "1.0",
        "ce-type": AUDIT_TYPE,
        "ce-source": "//cloudaudit.googleapis.com/projects/runway-demo/logs/activity",
        "ce-id": "evt-1",
        "ce-time": "2026-01-02T03:04:05.812345Z",
        "ce-subject": "run.googleapis.com/projects/runway-demo/locations/us-central1/services/hello",
        "ce-methodname": "google.cloud.run.v2.Services.CreateService",
        "ce-servicename": "run.googleapis.com",
        "ce-resourcename": f"projects/runway-demo/locations/{REGION}/services/hello",
    }
    headers.update(overrides)
    return {k: v for k, v in headers.items() if v != "<drop>"}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
names = st.sampled_from(
    [
        "projects/runway-demo/locations/us-central1/services/hello",
        "namespaces/runway-demo/services/hello",
        "projects/RUNWAY/locations/us-central1/services/hello",
        "namespaces/p/services/",
        "../../etc/passwd",
        "projects/runway-demo/locations/us-central1/services/" + "a" * 80,
        "",
        "projects/runway-demo",
    ]
) | st.text(max_size=60)
methods = st.sampled_from(
    [
        "google.cloud.run.v2.Services.CreateService",
        "google.cloud.run.v1.Services.ReplaceService",
        "google.cloud.run.v2.Services.SetIamPolicy",
        "google.cloud.run.v9.Services.Boom",
        "",
    ]
) | st.text(max_size=40)


@st.composite
def audit_like(draw: st.DrawFn) -> dict[str, Any]:
    """Mostly-right audit entries with one or more parts broken: the hard cases for a decoder."""
    method = draw(methods)
    proto: dict[str, Any] = {
        "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
        "serviceName": draw(st.sampled_from(["run.googleapis.com", "compute.googleapis.com", ""])),
        "methodName": method,
        "resourceName": draw(names),
        "authenticationInfo": draw(st.sampled_from([{"principalEmail": "x@example.com"}, {}, "nope", None])),
        "status": draw(st.sampled_from([{}, {"code": 10, "message": "conflict"}, "bad", None])),
        "request": draw(json_values),
        "resourceLocation": draw(
            st.sampled_from(
                [{"currentLocations": ["us-central1"]}, {"currentLocations": []}, {"currentLocations": ["Mars"]}, None]
            )
        ),
    }
    body: dict[str, Any] = {"protoPayload": proto, "resource": draw(json_values), "timestamp": draw(json_values)}
    for key in draw(st.sets(st.sampled_from(list(proto)), max_size=3)):
        del proto[key]
    return body


bodies = (
    st.binary(max_size=200).map(lambda b: ("raw", b))
    | json_values.map(lambda v: ("json", json.dumps(v).encode()))
    | audit_like().map(lambda v: ("json", json.dumps(v).encode()))
)
header_variants = st.sampled_from(
    [
        {},
        {"ce-type": "google.cloud.pubsub.topic.v1.messagePublished"},
        {"ce-methodname": "<drop>"},
        {"ce-methodname": "google.cloud.run.v2.Services.DeleteService"},
        {"ce-resourcename": "<drop>"},
        {"ce-servicename": "storage.googleapis.com"},
        {"Content-Type": "text/plain"},
    ]
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(target=st.sampled_from(["enforce_ingress", "sync_routes"]), body=bodies, extra=header_variants)
def test_malformed_events_are_acknowledged_logged_and_change_nothing(
    function_clients: dict[str, Any],
    emulator_server: EmulatorServer,
    target: str,
    body: tuple[str, bytes],
    extra: dict[str, str],
) -> None:
    before = len(api_calls_writes(emulator_server))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        reply = function_clients[target].post("/", data=body[1], headers=_headers(**extra))
    # Acknowledged (any non-2xx would make Eventarc redeliver a message that can never succeed), nothing written.
    assert reply.status_code == 200, (reply.status_code, reply.data[:300])
    assert len(api_calls_writes(emulator_server)) == before
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == 1, lines
    [decision] = lines
    # Refused as malformed or foreign, ignored as not runway's business, or well-formed enough to look the
    # service up: it does not exist in this empty emulator, so there is nothing to do either way.
    assert decision["action"] in {"event_invalid", "event_ignored", "route_unchanged"}, decision
    if decision["action"] == "event_invalid":
        assert decision["severity"] == "ERROR" and decision["reason"]
    else:
        assert decision["severity"] == "DEBUG"


def api_calls_writes(server: EmulatorServer) -> list[dict[str, Any]]:
    return [c for c in server.emulator.calls.since(0) if c["write"]]


def test_event_without_cloudevent_headers_is_refused_by_the_framework(function_clients: dict[str, Any]) -> None:
    reply = function_clients["enforce_ingress"].post("/", data=b"{}", headers={"Content-Type": "application/json"})
    assert reply.status_code == 400
    body = reply.get_data(as_text=True)
    # The rest of the page echoes the request headers, among them a random Function-Execution-Id.
    assert body.startswith(
        "<!doctype html>\n<html lang=en>\n<title>400 Bad Request</title>\n<h1>Bad Request</h1>\n"
        "<p>Function was defined with FUNCTION_SIGNATURE_TYPE=cloudevent but parsing CloudEvent failed and "
        "converting from background event to CloudEvent also failed.<br>Got HTTP headers: "
    )
    assert body.endswith(
        "<br><br>Got data: b&#39;{}&#39;<br>"
        "Got CloudEvent exception: MissingRequiredFields(&#39;Failed to find specversion in HTTP request&#39;)<br>"
        "Got background event conversion exception: EventConversionException(&#39;Failed to parse JSON&#39;)</p>\n"
    )


def test_foreign_event_type_is_invalid_not_retried(function_clients: dict[str, Any]) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        reply = function_clients["enforce_ingress"].post(
            "/",
            data=b'{"bucket": "b", "name": "o"}',
            headers=_headers(**{"ce-type": "google.cloud.storage.object.v1.finalized"}),
        )
    assert reply.status_code == 200
    [line] = [json.loads(x) for x in out.getvalue().splitlines()]
    assert line["action"] == "event_invalid"
    assert "google.cloud.storage.object.v1.finalized" in line["reason"]
