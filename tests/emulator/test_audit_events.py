"""Cloud Run writes made with the real clients arrive at a trigger's endpoint as Eventarc delivers them."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
import requests
from cloudevents.http import from_http
from google.auth.credentials import AnonymousCredentials
from google.cloud import run_v2
from googleapiclient.discovery import build

from devstack.bootstrap import create_triggers
from emulator import EmulatorServer
from shared import clients
from shared.methods import V1_REPLACE, V2_CREATE

from .receiver import Receiver

P, R = "runway-demo", "us-central1"
DATASCHEMA = "https://googleapis.github.io/google-cloudevents/jsonschema/google/events/cloud/audit/v1/LogEntryData.json"


def deliveries(emulator: EmulatorServer, receiver: Receiver, count: int) -> list[dict]:
    assert emulator.emulator.eventarc.drain(timeout=10)
    return [
        {"headers": {k.lower(): v for k, v in r.headers.items()}, "body": json.loads(r.body)}
        for r in receiver.wait_for(count)
    ]


def test_v2_create_with_google_cloud_run_arrives_with_the_exact_attributes(
    emulator: EmulatorServer, receiver: Receiver
) -> None:
    create_triggers(emulator.url, P, "enforce_ingress", receiver.uri)
    clients.run_services(emulator.url).create_service(
        parent=f"projects/{P}/locations/{R}",
        service_id="hello",
        service=run_v2.Service(template=run_v2.RevisionTemplate(containers=[run_v2.Container(image="hello")])),
        metadata=[("x-emulator-principal", "alice@example.com")],
    ).result()

    # A v2 write is a long-running operation: two entries, delivered in no particular order.
    events = sorted(deliveries(emulator, receiver, 2), key=lambda e: "last" in e["body"]["operation"])
    event, last = events
    h, body = event["headers"], event["body"]
    assert last["body"]["operation"] == {"id": body["operation"]["id"], "producer": "run.googleapis.com", "last": True}
    assert last["headers"]["ce-methodname"] == V2_CREATE and last["headers"]["ce-id"] != h["ce-id"]
    assert last["body"]["protoPayload"]["response"]["@type"] == "type.googleapis.com/google.cloud.run.v2.Service"
    name = f"projects/{P}/locations/{R}/services/hello"
    assert h["content-type"] == "application/json; charset=utf-8"
    assert (h["ce-specversion"], h["ce-type"]) == ("1.0", "google.cloud.audit.log.v1.written")
    assert h["ce-source"] == f"//cloudaudit.googleapis.com/projects/{P}/logs/activity"
    assert (h["ce-methodname"], h["ce-servicename"], h["ce-resourcename"]) == (V2_CREATE, "run.googleapis.com", name)
    assert h["ce-subject"] == f"run.googleapis.com/{name}"
    assert h["ce-dataschema"] == DATASCHEMA
    assert h["ce-recordedtime"] == body["timestamp"] and h["ce-time"] == body["receiveTimestamp"]
    recorded = datetime.fromisoformat(body["timestamp"].replace("Z", "+00:00"))
    micros = int(recorded.timestamp()) * 1_000_000 + recorded.microsecond
    assert h["ce-id"] == f"projects/{P}/logs/cloudaudit.googleapis.com%2Factivity{body['insertId']}{micros}"
    proto = body["protoPayload"]
    assert proto["authenticationInfo"]["principalEmail"] == "alice@example.com"
    assert proto["request"]["@type"] == "type.googleapis.com/google.cloud.run.v2.CreateServiceRequest"
    assert body["operation"]["producer"] == "run.googleapis.com" and body["operation"]["first"] is True
    assert body["resource"] == {
        "type": "cloud_run_revision",
        "labels": {
            "project_id": P,
            "location": R,
            "service_name": "hello",
            "revision_name": "",
            "configuration_name": "",
        },
    }
    # The CloudEvents SDK (what functions-framework uses) reads it back as the same event.
    parsed = from_http(event["headers"], json.dumps(body))
    assert parsed["methodname"] == V2_CREATE and parsed.data["insertId"] == body["insertId"]


def test_v1_replace_arrives_with_v1_names_and_no_region(emulator: EmulatorServer, receiver: Receiver) -> None:
    create_triggers(emulator.url, P, "sync_routes", receiver.uri)
    v1 = build(
        "run",
        "v1",
        credentials=AnonymousCredentials(),
        static_discovery=True,
        client_options={"api_endpoint": emulator.url},
        cache_discovery=False,
    )
    services = v1.namespaces().services()
    services.create(
        parent=f"namespaces/{P}",
        body={
            "apiVersion": "serving.knative.dev/v1",
            "kind": "Service",
            "metadata": {"name": "api", "labels": {"cloud.googleapis.com/location": R}},
            "spec": {"template": {"spec": {"containers": [{"image": "hello"}]}}},
        },
    ).execute()
    current = services.get(name=f"namespaces/{P}/services/api").execute()
    current["metadata"]["labels"]["public-route"] = "true"
    services.replaceService(name=f"namespaces/{P}/services/api", body=current).execute()

    events = deliveries(emulator, receiver, 2)
    replace = [e for e in events if e["headers"]["ce-methodname"] == V1_REPLACE]
    assert len(replace) == 1
    h, body = replace[0]["headers"], replace[0]["body"]
    assert h["ce-resourcename"] == f"namespaces/{P}/services/api"  # v1 names carry no region
    assert h["ce-subject"] == f"run.googleapis.com/namespaces/{P}/services/api"
    assert body["resource"]["labels"]["location"] == R
    assert body["protoPayload"]["resourceLocation"] == {"currentLocations": [R]}
    assert body["protoPayload"]["request"]["@type"] == "type.googleapis.com/google.cloud.run.v1.ReplaceServiceRequest"
    assert "operation" not in body


def test_an_endpoint_that_answers_500_gets_the_event_again(
    emulator: EmulatorServer, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(emulator.emulator.settings, "delivery_initial_backoff", 0.05)
    receiver.script = [500]
    create_triggers(emulator.url, P, "enforce_ingress", receiver.uri)
    clients.run_services(emulator.url).create_service(
        parent=f"projects/{P}/locations/{R}",
        service_id="again",
        service=run_v2.Service(template=run_v2.RevisionTemplate(containers=[run_v2.Container(image="x")])),
    ).result()
    pushes = deliveries(emulator, receiver, 3)  # the first and last entries, one of them twice
    by_id: dict[str, list[dict]] = {}
    for push in pushes:
        by_id.setdefault(push["headers"]["ce-id"], []).append(push["body"])
    [(first, second)] = [bodies for bodies in by_id.values() if len(bodies) == 2]
    assert first == second and len(by_id) == 2


def test_python_m_emulator_serves_health() -> None:
    """What the README promises: `python -m emulator --port P` answers on /_emulator/health."""
    from devstack.functions import free_port

    port = free_port()
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--port", str(port)],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                reply = requests.get(f"http://127.0.0.1:{port}/_emulator/health", timeout=1)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "the emulator did not listen"
                time.sleep(0.05)
        assert reply.json()["status"] == "ok"
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=10)
    assert f"emulator listening on http://127.0.0.1:{port}" in out
    assert process.returncode == 0
