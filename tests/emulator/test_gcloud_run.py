"""`gcloud run deploy`, `gcloud run revisions list` and `gcloud logging read` as a platform engineer types them,
every result read back through the API (docs/google-apis.md §8).

`gcloud run deploy` asks Service Usage whether Cloud Run is enabled, reads the service (404 for a new one), asks
`testIamPermissions` for a new one, then creates it (v1 CreateService) or replaces it (v1 ReplaceService) and,
without `--async`, waits for the operation. Each v1 write is one Admin Activity entry with no `operation`
(docs/google-apis.md §2.2), delivered to the triggers on its method.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests
from google.cloud import run_v2

from devstack.bootstrap import create_triggers
from emulator import EmulatorServer
from shared import clients
from shared.methods import V1_CREATE, V1_REPLACE

from .gcloud_support import IMAGE, MARKS, PRINCIPAL, PROJECT, REGION, V2_PARENT, Gcloud
from .receiver import Receiver

pytestmark = MARKS

NAME = f"{V2_PARENT}/services/hello"


@pytest.fixture
def run(emulator: EmulatorServer) -> Iterator[run_v2.ServicesClient]:
    client = clients.run_services(emulator.url)
    yield client
    client.transport.close()


def deploy(gcloud: Gcloud, *extra: str) -> str:
    return gcloud("run", "deploy", "hello", "--image", IMAGE, "--region", REGION, *extra).stderr


def audit_entries(emulator: EmulatorServer, method: str) -> list[dict]:
    logging = clients.logging_client(PROJECT, emulator.url)
    return [e.to_api_repr() for e in logging.list_entries(filter_=f'protoPayload.methodName="{method}"')]


def test_run_deploy_creates_then_replaces_with_one_entry_and_one_event_each(
    emulator: EmulatorServer, gcloud: Gcloud, run: run_v2.ServicesClient, receiver: Receiver
) -> None:
    create_triggers(emulator.url, PROJECT, "sync_routes", receiver.uri)

    out = deploy(gcloud)  # a new service: v1 CreateService

    assert "Service URL:" in out
    created = run.get_service(name=NAME)
    assert created.template.containers[0].image == IMAGE
    assert (created.generation, created.observed_generation, created.reconciling) == (1, 1, False)
    assert created.ingress == run_v2.IngressTraffic.INGRESS_TRAFFIC_ALL
    assert created.creator == PRINCIPAL and created.client == "gcloud"
    [entry] = audit_entries(emulator, V1_CREATE)
    assert "operation" not in entry
    assert entry["protoPayload"]["resourceName"] == f"namespaces/{PROJECT}/services/hello"
    assert entry["protoPayload"]["authenticationInfo"]["principalEmail"] == PRINCIPAL
    calls = requests.get(f"{emulator.url}/_emulator/requests", timeout=5).json()["requests"]
    assert f"/v1/projects/{PROJECT}/services/run.googleapis.com" in [c["path"] for c in calls]  # Service Usage

    # An existing service, its rollout taking a while: gcloud waits for it (v1 ReplaceService).
    requests.post(f"{emulator.url}/_emulator/faults", json={"operationDelay": 0.5}, timeout=5).raise_for_status()
    deploy(gcloud, "--update-labels", "public-route=true")

    replaced = run.get_service(name=NAME)
    assert replaced.labels == {"public-route": "true"}
    assert (replaced.generation, replaced.observed_generation, replaced.reconciling) == (2, 2, False)
    assert replaced.latest_ready_revision == replaced.latest_created_revision != created.latest_created_revision
    [replace_entry] = audit_entries(emulator, V1_REPLACE)
    assert "operation" not in replace_entry
    assert replace_entry["protoPayload"]["request"]["service"]["metadata"]["labels"]["public-route"] == "true"

    assert emulator.emulator.eventarc.drain(timeout=30)
    delivered = {r.headers["Ce-Methodname"]: json.loads(r.body)["insertId"] for r in receiver.received}
    assert len(receiver.received) == 2
    assert delivered == {V1_CREATE: entry["insertId"], V1_REPLACE: replace_entry["insertId"]}


def test_run_revisions_list(emulator: EmulatorServer, gcloud: Gcloud, run: run_v2.ServicesClient) -> None:
    deploy(gcloud)
    deploy(gcloud, "--update-env-vars", "MODE=two")

    listed = gcloud.json("run", "revisions", "list", "--region", REGION, "--service", "hello")

    service = run.get_service(name=NAME)
    names = [r["metadata"]["name"] for r in listed]
    assert names[0] == service.latest_created_revision.rsplit("/", 1)[1]  # newest first
    assert len(names) == 2 and names[1].startswith("hello-00001-")
    # Only the revision serving traffic is Active; gcloud prints who deployed each.
    active = {r["metadata"]["name"]: {c["type"]: c["status"] for c in r["status"]["conditions"]} for r in listed}
    assert active[names[0]] == {"Ready": "True", "Active": "True"}
    assert active[names[1]] == {"Ready": "True"}
    assert {r["metadata"]["annotations"]["serving.knative.dev/creator"] for r in listed} == {PRINCIPAL}
    env = listed[0]["spec"]["containers"][0]["env"]
    assert {"name": "MODE", "value": "two"} in env
    table = gcloud("run", "revisions", "list", "--region", REGION).stdout
    assert names[0] in table and names[1] in table and PRINCIPAL in table


def test_logging_read_with_timestamp_and_json_payload_filters(emulator: EmulatorServer, gcloud: Gcloud) -> None:
    logger = clients.logging_client(PROJECT, emulator.url).logger("runway-decisions")
    start = datetime.now(UTC) - timedelta(hours=2)
    for minutes, (event, service) in enumerate(
        [("route_published", "hello"), ("route_refused", "shop"), ("route_published", "shop")]
    ):
        logger.log_struct(
            {"event": event, "service": service, "attempt": minutes}, timestamp=start + timedelta(minutes=minutes * 30)
        )
    since, until = ((start + timedelta(minutes=m)).strftime("%Y-%m-%dT%H:%M:%SZ") for m in (15, 75))

    # (The client also logs a diagnostic entry of its own, now: the upper bound leaves it out.)
    query = f'logName:"runway-decisions" AND timestamp>="{since}" AND timestamp<"{until}"'
    by_time = gcloud.json("logging", "read", query, "--freshness=1d")
    assert [(e["jsonPayload"]["event"], e["jsonPayload"]["service"]) for e in by_time] == [
        ("route_published", "shop"),  # newest first
        ("route_refused", "shop"),
    ]

    by_payload = gcloud.json(
        "logging", "read", 'jsonPayload.event="route_published" AND jsonPayload.attempt>=1', "--freshness=1d"
    )
    assert [e["jsonPayload"]["service"] for e in by_payload] == ["shop"]
    assert all(e["logName"] == f"projects/{PROJECT}/logs/runway-decisions" for e in by_time + by_payload)
