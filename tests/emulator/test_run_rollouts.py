"""Requested vs observed: a Cloud Run write starts a rollout, and the service shows the old state until it completes
(docs/google-apis.md §9.3). v2 `ingress` is the observed setting; v1 shows the requested one in
`run.googleapis.com/ingress` and the observed one in `run.googleapis.com/ingress-status`.

Each test makes its operations last ROLLOUT seconds, reads the service while they run (asserting it is
`reconciling`, so a read that came too late fails loudly instead of passing vacuously), then waits for the
operation with the real client.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from google.api_core.client_options import ClientOptions
from google.api_core.future import polling
from google.auth.credentials import AnonymousCredentials
from google.cloud import run_v2
from google.protobuf import field_mask_pb2

from emulator import EmulatorServer
from emulator.audit import AdminActivity

PROJECT = "runway-demo"
REGION = "us-central1"
PARENT = f"projects/{PROJECT}/locations/{REGION}"
IMAGE = "us-docker.pkg.dev/cloudrun/container/hello"
V1_SERVICE = f"/apis/serving.knative.dev/v1/namespaces/{PROJECT}/services/hello"
ROLLOUT = 2.0
FAST_POLLING = polling.DEFAULT_POLLING.with_delay(initial=0.05, maximum=0.2).with_timeout(30)
Ingress = run_v2.IngressTraffic
State = run_v2.Condition.State


@pytest.fixture
def client(emulator: EmulatorServer) -> Iterator[run_v2.ServicesClient]:
    c = run_v2.ServicesClient(
        credentials=AnonymousCredentials(), transport="rest", client_options=ClientOptions(api_endpoint=emulator.url)
    )
    yield c
    c.transport.close()


def operation_delay(emulator: EmulatorServer, seconds: float) -> None:
    requests.post(f"{emulator.url}/_emulator/faults", json={"operationDelay": seconds}, timeout=5).raise_for_status()


def create(client: run_v2.ServicesClient, **fields: Any) -> Any:
    service = run_v2.Service(template=run_v2.RevisionTemplate(containers=[run_v2.Container(image=IMAGE)]), **fields)
    return client.create_service(parent=PARENT, service=service, service_id="hello")


def set_ingress(client: run_v2.ServicesClient, ingress: Ingress) -> Any:
    service = run_v2.Service(name=f"{PARENT}/services/hello", ingress=ingress)
    return client.update_service(service=service, update_mask=field_mask_pb2.FieldMask(paths=["ingress"]))


def v1_view(emulator: EmulatorServer) -> dict[str, Any]:
    reply = requests.get(f"{emulator.url}{V1_SERVICE}", headers={"Host": f"{REGION}-run.emulator.invalid"}, timeout=5)
    reply.raise_for_status()
    return reply.json()


def v1_ready(service: dict[str, Any]) -> str:
    return next(c["status"] for c in service["status"]["conditions"] if c["type"] == "Ready")


def test_a_new_service_observes_no_ingress_until_its_first_rollout_completes(
    emulator: EmulatorServer, client: run_v2.ServicesClient
) -> None:
    operation_delay(emulator, ROLLOUT)
    op = create(client, ingress=Ingress.INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER)

    pending = client.get_service(name=f"{PARENT}/services/hello")
    assert pending.reconciling
    assert pending.ingress == Ingress.INGRESS_TRAFFIC_UNSPECIFIED
    assert (pending.generation, pending.observed_generation) == (1, 0)
    assert pending.terminal_condition.state == State.CONDITION_PENDING
    raw = requests.get(f"{emulator.url}/v2/{PARENT}/services/hello", timeout=5).json()
    assert "ingress" not in raw and "observedGeneration" not in raw  # proto3 JSON omits the defaults
    v1 = v1_view(emulator)
    assert v1["metadata"]["annotations"]["run.googleapis.com/ingress"] == "internal-and-cloud-load-balancing"
    assert "run.googleapis.com/ingress-status" not in v1["metadata"]["annotations"]
    assert v1_ready(v1) == "Unknown" and "observedGeneration" not in v1["status"]

    done = op.result(polling=FAST_POLLING)
    assert done.ingress == Ingress.INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER
    assert (done.generation, done.observed_generation, done.reconciling) == (1, 1, False)
    assert done.terminal_condition.state == State.CONDITION_SUCCEEDED
    assert client.get_service(name=done.name) == done
    v1 = v1_view(emulator)
    assert v1["metadata"]["annotations"]["run.googleapis.com/ingress-status"] == "internal-and-cloud-load-balancing"
    assert v1_ready(v1) == "True" and v1["status"]["observedGeneration"] == 1


def test_an_ingress_change_shows_the_old_ingress_while_it_rolls_out(
    emulator: EmulatorServer, client: run_v2.ServicesClient
) -> None:
    first = create(client).result()
    operation_delay(emulator, ROLLOUT)
    op = set_ingress(client, Ingress.INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER)

    rolling = client.get_service(name=first.name)
    assert rolling.reconciling
    assert rolling.ingress == Ingress.INGRESS_TRAFFIC_ALL  # observed: the revision serving now
    assert (rolling.generation, rolling.observed_generation) == (2, 1)
    assert rolling.terminal_condition.state == State.CONDITION_RECONCILING
    assert rolling.latest_ready_revision == first.latest_ready_revision  # no new revision for an ingress change
    v1 = v1_view(emulator)
    annotations = v1["metadata"]["annotations"]
    assert annotations["run.googleapis.com/ingress"] == "internal-and-cloud-load-balancing"  # requested
    assert annotations["run.googleapis.com/ingress-status"] == "all"  # observed
    assert v1_ready(v1) == "Unknown"
    assert (v1["metadata"]["generation"], v1["status"]["observedGeneration"]) == (2, 1)

    done = op.result(polling=FAST_POLLING)
    assert done.ingress == Ingress.INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER
    assert (done.observed_generation, done.reconciling) == (2, False)
    v1 = v1_view(emulator)
    assert v1["metadata"]["annotations"]["run.googleapis.com/ingress-status"] == "internal-and-cloud-load-balancing"
    assert v1_ready(v1) == "True" and v1["status"]["observedGeneration"] == 2


def test_a_later_rollout_that_completes_first_wins(emulator: EmulatorServer, client: run_v2.ServicesClient) -> None:
    create(client).result()
    operation_delay(emulator, ROLLOUT)
    slow = set_ingress(client, Ingress.INGRESS_TRAFFIC_INTERNAL_ONLY)
    operation_delay(emulator, 0)
    fast = set_ingress(client, Ingress.INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER).result()
    assert fast.ingress == Ingress.INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER
    assert (fast.generation, fast.observed_generation, fast.reconciling) == (3, 3, False)

    # The older operation still completes, describing the service as its write left it; the service keeps
    # observing the newer generation.
    older = slow.result(polling=FAST_POLLING)
    assert (older.generation, older.ingress) == (2, Ingress.INGRESS_TRAFFIC_INTERNAL_ONLY)
    now = client.get_service(name=fast.name)
    assert (now.generation, now.observed_generation, now.ingress) == (3, 3, fast.ingress)


def test_a_label_change_is_a_new_generation_and_an_operation_without_a_revision(
    emulator: EmulatorServer, client: run_v2.ServicesClient
) -> None:
    first = create(client, labels={"team": "web"}).result()
    operation_delay(emulator, ROLLOUT)
    service = run_v2.Service(name=first.name, labels={"team": "web", "public-route": "true"})
    op = client.update_service(service=service, update_mask=field_mask_pb2.FieldMask(paths=["labels"]))

    rolling = client.get_service(name=first.name)
    assert rolling.reconciling and rolling.labels["public-route"] == "true"  # requested fields show at once
    assert (rolling.generation, rolling.observed_generation) == (2, 1)
    done = op.result(polling=FAST_POLLING)
    assert (done.generation, done.observed_generation, done.reconciling) == (2, 2, False)
    assert done.latest_created_revision == first.latest_created_revision


def test_a_whole_object_write_during_a_rollout_sends_the_observed_ingress_back(
    emulator: EmulatorServer, client: run_v2.ServicesClient
) -> None:
    """The read-modify-write hazard production has: a client that reads a service mid-rollout and writes the
    whole object back (no update mask) asks for the ingress it read, the old one."""
    create(client).result()
    operation_delay(emulator, ROLLOUT)
    set_ingress(client, Ingress.INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER)
    read = client.get_service(name=f"{PARENT}/services/hello")
    assert read.reconciling and read.ingress == Ingress.INGRESS_TRAFFIC_ALL
    operation_delay(emulator, 0)
    read.labels["touched"] = "yes"
    done = client.update_service(service=read).result(polling=FAST_POLLING)
    assert done.ingress == Ingress.INGRESS_TRAFFIC_ALL
    assert done.generation == done.observed_generation == 3


def test_the_last_entry_waits_for_the_operation(
    emulator: EmulatorServer, client: run_v2.ServicesClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    activities: list[AdminActivity] = []
    monkeypatch.setattr(emulator.emulator, "record_admin_activity", activities.append)
    operation_delay(emulator, ROLLOUT)
    op = create(client)
    written = [a.operation for a in activities]
    # Read before asking: the operation still running now, it was when the entries were read.
    assert not op.done()
    assert written == [{"id": op.operation.name, "producer": "run.googleapis.com", "first": True}]
    assert emulator.emulator.eventarc.drain(timeout=10)  # drain waits for entries still to be written
    assert [a.operation for a in activities][1:] == [
        {"id": op.operation.name, "producer": "run.googleapis.com", "last": True}
    ]
    assert op.done() and "reconciling" not in activities[1].response
