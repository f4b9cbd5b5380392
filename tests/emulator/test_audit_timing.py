"""Audit timestamps are causal and monotonic, and Eventarc pushes an entry `auditDeliveryDelay` after it.

An entry is dated when its write was accepted (a first or only entry) or when its operation completed (a last
entry): never before the write, `receiveTimestamp` never before `timestamp`, and strictly increasing in the
order entries are written. Assertions compare the emulator's own timestamps with each other and with a time
taken before the write: causal bounds, never durations.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from google.api_core.future import polling
from google.cloud import run_v2
from google.protobuf import field_mask_pb2

from devstack.bootstrap import create_triggers
from emulator import EmulatorServer
from shared import clients

from .receiver import Receiver

P, R = "runway-demo", "us-central1"
NAME = f"projects/{P}/locations/{R}/services/hello"
FAST_POLLING = polling.DEFAULT_POLLING.with_delay(initial=0.05, maximum=0.2).with_timeout(30)


def parse(text: str) -> datetime:
    head, _, fraction = text.rstrip("Z").partition(".")
    return datetime.fromisoformat(head).replace(tzinfo=UTC) + timedelta(microseconds=int(fraction[:6].ljust(6, "0")))


@pytest.fixture
def run(emulator: EmulatorServer) -> Iterator[run_v2.ServicesClient]:
    client = clients.run_services(emulator.url)
    yield client
    client.transport.close()


def knobs(emulator: EmulatorServer, **body: Any) -> None:
    faults = {k: v for k, v in body.items() if k == "operationDelay"}
    settings = {k: v for k, v in body.items() if k == "auditDeliveryDelay"}
    if faults:
        requests.post(f"{emulator.url}/_emulator/faults", json=faults, timeout=5).raise_for_status()
    if settings:
        requests.post(f"{emulator.url}/_emulator/settings", json=settings, timeout=5).raise_for_status()


def audit_entries(emulator: EmulatorServer) -> list[dict[str, Any]]:
    """Every audit entry, in the order the emulator wrote them."""
    entries = requests.get(f"{emulator.url}/_emulator/state", timeout=5).json()["logging"]["entries"]
    return [e for e in entries if e["logName"].endswith("cloudaudit.googleapis.com%2Factivity")]


def test_an_ingress_writes_entries_never_precede_it_and_strictly_increase(
    emulator: EmulatorServer, run: run_v2.ServicesClient
) -> None:
    service = run_v2.Service(template=run_v2.RevisionTemplate(containers=[run_v2.Container(image="hello")]))
    before_create = datetime.now(UTC)
    run.create_service(parent=f"projects/{P}/locations/{R}", service=service, service_id="hello").result()
    knobs(emulator, operationDelay=0.5)
    before_update = datetime.now(UTC)
    update = run.update_service(
        service=run_v2.Service(name=NAME, ingress=run_v2.IngressTraffic.INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER),
        update_mask=field_mask_pb2.FieldMask(paths=["ingress"]),
    )
    accepted = run.get_service(name=NAME).update_time  # when the ingress write was accepted
    updated = update.result(polling=FAST_POLLING)
    assert emulator.emulator.eventarc.drain(timeout=30)  # the last entry of the update is written on completion

    entries = audit_entries(emulator)
    stamps = [parse(e["timestamp"]) for e in entries]
    assert [(e["operation"]["id"], "first" in e["operation"]) for e in entries] == [
        (entries[0]["operation"]["id"], True),
        (entries[0]["operation"]["id"], False),
        (update.operation.name, True),
        (update.operation.name, False),
    ]
    assert all(b > a for a, b in itertools.pairwise(stamps)), stamps  # strictly increasing
    assert all(parse(e["receiveTimestamp"]) >= parse(e["timestamp"]) for e in entries)
    assert stamps[0] >= before_create and stamps[2] >= before_update  # never before the write
    # The first entry is dated when the write was accepted (the service's updateTime), the last when the
    # operation completed, at least the operation delay later.
    assert stamps[2] == accepted.replace(tzinfo=UTC)
    assert stamps[3] >= stamps[2] + timedelta(seconds=0.5)
    last = entries[3]["protoPayload"]
    assert parse(last["requestMetadata"]["requestAttributes"]["time"]) == stamps[2]  # the request it completes
    assert last["response"]["ingress"] == "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
    assert updated.ingress == run_v2.IngressTraffic.INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER
    # Logging lists them in the same order.
    logging = clients.logging_client(P, emulator.url)
    listed = logging.list_entries(filter_='protoPayload.serviceName="run.googleapis.com"')
    assert [e.insert_id for e in listed] == [e["insertId"] for e in entries]


def test_entries_are_pushed_after_the_audit_delivery_delay(
    emulator: EmulatorServer, run: run_v2.ServicesClient, receiver: Receiver
) -> None:
    create_triggers(emulator.url, P, "enforce_ingress", receiver.uri)
    knobs(emulator, auditDeliveryDelay=0.5)
    service = run_v2.Service(template=run_v2.RevisionTemplate(containers=[run_v2.Container(image="hello")]))
    run.create_service(parent=f"projects/{P}/locations/{R}", service=service, service_id="hello").result()
    assert len(audit_entries(emulator)) == 2  # in Logging at once
    assert emulator.emulator.eventarc.drain(timeout=30)

    received = {json.loads(r.body)["insertId"]: r for r in receiver.wait_for(2)}
    attempts = {a["eventId"]: a for a in emulator.emulator.eventarc.deliveries()}
    for entry in audit_entries(emulator):
        event = received[entry["insertId"]]
        attempt = attempts[event.headers["Ce-Id"]]
        # The push happened at least the delay after the entry was received by Logging.
        assert parse(attempt["time"]) >= parse(entry["receiveTimestamp"]) + timedelta(seconds=0.5)
        assert parse(event.headers["Ce-Time"]) >= parse(event.headers["Ce-Recordedtime"])
