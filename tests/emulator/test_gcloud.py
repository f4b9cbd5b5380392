"""The real Google Cloud SDK CLI against the emulator: every API gcloud users touch, sent through the emulator as
their HTTP proxy (docs/google-apis.md §8), with a throwaway configuration directory.

What gcloud prints is compared with what the Python clients see of the same resources, and a gcloud write is
followed through the whole pipeline: its Admin Activity audit entry in Logging and its CloudEvent at a trigger.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from google.auth.credentials import AnonymousCredentials
from google.cloud import compute_v1, run_v2
from googleapiclient.discovery import build

from devstack.bootstrap import create_triggers
from emulator import EmulatorServer
from emulator.audit import AdminActivity
from shared import clients
from shared.methods import EVENT_TYPE, HANDLED_METHODS, SERVICE_NAME, V1_REPLACE

from .gcloud_support import COMPUTE, IMAGE, MARKS, PRINCIPAL, PROJECT, REGION, V2_PARENT, Gcloud
from .receiver import Receiver

pytestmark = MARKS


def set_operation_delay(emulator: EmulatorServer, seconds: float) -> None:
    requests.post(f"{emulator.url}/_emulator/faults", json={"operationDelay": seconds}, timeout=5).raise_for_status()


def create_v2_service(emulator: EmulatorServer, name: str, labels: dict[str, str]) -> run_v2.Service:
    client = run_v2.ServicesClient(**clients.client_kwargs(emulator.url))
    try:
        service = run_v2.Service(
            labels=labels, template=run_v2.RevisionTemplate(containers=[run_v2.Container(image=IMAGE)])
        )
        return client.create_service(parent=V2_PARENT, service=service, service_id=name).result(timeout=10)
    finally:
        client.transport.close()


def eventarc_client(endpoint: str) -> Any:
    return build(
        "eventarc",
        "v1",
        credentials=AnonymousCredentials(),
        static_discovery=True,
        client_options={"api_endpoint": endpoint},
        cache_discovery=False,
    )


# ---------------------------------------------------------------------------------------------- Compute


def test_url_maps_describe(emulator: EmulatorServer, gcloud: Gcloud) -> None:
    compute = clients.compute(emulator.url)
    buckets = clients.compute_client(compute_v1.BackendBucketsClient, emulator.url)
    buckets.insert(
        project=PROJECT,
        backend_bucket_resource=compute_v1.BackendBucket(name="default-404", bucket_name=f"{PROJECT}-default"),
    ).result(timeout=10)
    bucket = f"projects/{PROJECT}/global/backendBuckets/default-404"
    compute.url_maps.insert(
        project=PROJECT,
        url_map_resource=compute_v1.UrlMap(
            name="runway-lb",
            description="shared ALB",
            default_service=bucket,
            host_rules=[compute_v1.HostRule(hosts=["shop.example.com", "www.shop.example.com"], path_matcher="shop")],
            path_matchers=[compute_v1.PathMatcher(name="shop", default_service=bucket)],
        ),
    ).result(timeout=10)
    buckets.transport.close()
    stored = compute.url_maps.get(project=PROJECT, url_map="runway-lb")

    described = json.loads(gcloud("compute", "url-maps", "describe", "runway-lb", "--global", "--format=json").stdout)

    # Partial references come back as full URLs, as production prints them.
    assert described["name"] == "runway-lb"
    assert described["kind"] == "compute#urlMap"
    assert described["selfLink"] == f"{COMPUTE}projects/{PROJECT}/global/urlMaps/runway-lb"
    assert described["defaultService"] == COMPUTE + bucket
    assert described["hostRules"] == [{"hosts": ["shop.example.com", "www.shop.example.com"], "pathMatcher": "shop"}]
    assert described["pathMatchers"] == [{"name": "shop", "defaultService": COMPUTE + bucket}]
    assert described["id"] == str(stored.id)
    # `fingerprint` is a bytes field (`format: byte`): apitools decodes it and gcloud prints it URL-safe base64
    # encoded ("-" and "_"), where the wire and the Python client have standard base64. Same bytes.
    assert base64.urlsafe_b64decode(described["fingerprint"]) == base64.b64decode(stored.fingerprint)
    # Otherwise nothing lost or added between the wire and gcloud's printer: the REST resource, field for field.
    raw = requests.get(f"{emulator.url}/compute/v1/projects/{PROJECT}/global/urlMaps/runway-lb", timeout=5).json()
    assert {**described, "fingerprint": raw["fingerprint"]} == raw


# ---------------------------------------------------------------------------------------------- Logging


def test_logging_read(emulator: EmulatorServer, gcloud: Gcloud) -> None:
    logger = clients.logging_client(PROJECT, emulator.url).logger("gcloud-read")
    start = datetime.now(UTC) - timedelta(minutes=5)
    for minute, (severity, text) in enumerate(
        [("INFO", "started"), ("WARNING", "slow backend"), ("ERROR", "route missing"), ("WARNING", "retrying")]
    ):
        logger.log_text(
            text, severity=severity, labels={"step": str(minute)}, timestamp=start + timedelta(minutes=minute)
        )
    clients.logging_client(PROJECT, emulator.url).logger("other").log_text("not this log", severity="ERROR")

    log_name = f"projects/{PROJECT}/logs/gcloud-read"
    out = gcloud("logging", "read", f'logName="{log_name}" AND severity>=WARNING', "--format=json", "--limit=2")
    entries = json.loads(out.stdout)

    # Newest first, at most --limit, only that log and only WARNING and above.
    assert [(e["severity"], e["textPayload"], e["labels"]) for e in entries] == [
        ("WARNING", "retrying", {"step": "3"}),
        ("ERROR", "route missing", {"step": "2"}),
    ]
    assert {e["logName"] for e in entries} == {log_name}
    assert entries[0]["timestamp"].startswith((start + timedelta(minutes=3)).strftime("%Y-%m-%dT%H:%M:%S"))


# ---------------------------------------------------------------------------------------------- Eventarc


def test_eventarc_triggers_list(emulator: EmulatorServer, gcloud: Gcloud) -> None:
    names = create_triggers(emulator.url, PROJECT, "sync_routes", "http://127.0.0.1:9/events")

    listed = json.loads(gcloud("eventarc", "triggers", "list", "--location", "global", "--format=json").stdout)

    assert sorted(t["name"] for t in listed) == sorted(names)
    assert len(listed) == len(HANDLED_METHODS)
    by_method = {}
    for trigger in listed:
        filters = {f["attribute"]: f["value"] for f in trigger["eventFilters"]}
        assert filters["type"] == EVENT_TYPE and filters["serviceName"] == SERVICE_NAME
        assert trigger["destination"] == {"httpEndpoint": {"uri": "http://127.0.0.1:9/events"}}
        assert trigger["serviceAccount"] == f"runway-trigger@{PROJECT}.iam.gserviceaccount.com"
        by_method[filters["methodName"]] = trigger["name"].rsplit("/", 1)[1]
    assert by_method[V1_REPLACE] == "sync-routes-v1-replaceservice"
    assert set(by_method) == HANDLED_METHODS


# ---------------------------------------------------------------------------------------------- Cloud Run


def test_run_services_describe(emulator: EmulatorServer, gcloud: Gcloud) -> None:
    created = create_v2_service(emulator, "hello", {"team": "web"})

    described = json.loads(gcloud("run", "services", "describe", "hello", "--region", REGION, "--format=json").stdout)

    meta = described["metadata"]
    assert (described["apiVersion"], described["kind"]) == ("serving.knative.dev/v1", "Service")
    assert meta["name"] == "hello"
    assert meta["labels"] == {"cloud.googleapis.com/location": REGION, "team": "web"}
    assert meta["annotations"]["run.googleapis.com/ingress"] == "all"
    assert meta["uid"] == created.uid
    assert described["status"]["url"] == created.uri
    assert json.loads(meta["annotations"]["run.googleapis.com/urls"]) == list(created.urls)
    assert {c["type"]: c["status"] for c in described["status"]["conditions"]}["Ready"] == "True"
    assert described["spec"]["template"]["spec"]["containers"][0]["image"] == IMAGE
    # gcloud read the regional host it built, through the proxy.
    calls = requests.get(f"{emulator.url}/_emulator/requests", timeout=5).json()["requests"]
    assert (calls[-1]["method"], calls[-1]["path"], calls[-1]["host"]) == (
        "GET",
        f"/apis/serving.knative.dev/v1/namespaces/{PROJECT}/services/hello",
        f"{REGION}-run.emulator.invalid",
    )


def test_run_services_update_writes_one_audit_entry_and_one_event(
    emulator: EmulatorServer, gcloud: Gcloud, receiver: Receiver
) -> None:
    eventarc = eventarc_client(emulator.url)
    eventarc.projects().locations().triggers().create(
        parent=f"projects/{PROJECT}/locations/global",
        triggerId="on-replace",
        body={
            "eventFilters": [
                {"attribute": "type", "value": EVENT_TYPE},
                {"attribute": "serviceName", "value": SERVICE_NAME},
                {"attribute": "methodName", "value": V1_REPLACE},
            ],
            "destination": {"httpEndpoint": {"uri": receiver.url}},
        },
    ).execute()
    create_v2_service(emulator, "hello", {"team": "web"})
    set_operation_delay(emulator, 0.3)  # so gcloud, without --async, really waits for Ready

    gcloud("run", "services", "update", "hello", "--region", REGION, "--update-labels", "public-route=true")

    service = clients.run_services(emulator.url).get_service(name=f"{V2_PARENT}/services/hello")
    assert dict(service.labels) == {"team": "web", "public-route": "true"}

    logging = clients.logging_client(PROJECT, emulator.url)
    entries = list(logging.list_entries(filter_=f'protoPayload.methodName="{V1_REPLACE}"'))
    assert len(entries) == 1
    entry = entries[0]
    payload = entry.payload
    assert payload["serviceName"] == SERVICE_NAME
    assert payload["resourceName"] == f"namespaces/{PROJECT}/services/hello"
    assert payload["request"]["service"]["metadata"]["labels"]["public-route"] == "true"
    assert "gcloud" in payload["requestMetadata"]["callerSuppliedUserAgent"]
    assert payload["authenticationInfo"]["principalEmail"] == PRINCIPAL
    assert entry.resource.labels["service_name"] == "hello" and entry.resource.labels["location"] == REGION

    assert emulator.emulator.eventarc.drain(30)
    assert len(receiver.received) == 1
    event = receiver.received[0]
    assert event.path == "/events"
    assert event.headers["Ce-Type"] == EVENT_TYPE
    assert event.headers["Ce-Methodname"] == V1_REPLACE
    assert event.headers["Ce-Resourcename"] == f"namespaces/{PROJECT}/services/hello"
    assert event.headers["Ce-Subject"] == f"{SERVICE_NAME}/namespaces/{PROJECT}/services/hello"
    delivered = json.loads(event.body)
    assert delivered["insertId"] == entry.insert_id
    assert delivered["protoPayload"]["methodName"] == V1_REPLACE


def test_run_services_update_labels_and_ingress(
    emulator: EmulatorServer, gcloud: Gcloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    """gcloud's read-modify-write of the v1 object, seen through v2 (moved here from test_run_gcloud.py)."""
    activities: list[AdminActivity] = []
    monkeypatch.setattr(emulator.emulator, "record_admin_activity", activities.append)
    body = {"labels": {"team": "web"}, "template": {"containers": [{"image": IMAGE}]}}
    requests.post(
        f"{emulator.url}/v2/{V2_PARENT}/services", params={"serviceId": "hello"}, json=body, timeout=5
    ).raise_for_status()
    set_operation_delay(emulator, 0.3)

    gcloud(
        "run", "services", "update", "hello", "--region", REGION,
        "--update-labels", "public-route=true", "--ingress", "internal-and-cloud-load-balancing",
    )  # fmt: skip

    service = requests.get(f"{emulator.url}/v2/{V2_PARENT}/services/hello", timeout=5).json()
    assert service["labels"] == {"team": "web", "public-route": "true"}
    assert service["ingress"] == "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
    assert service["client"] == "gcloud"
    # activities[:2]: the v2 create's first and last entries; gcloud's v1 replace has one.
    assert [(a.method_name, a.resource_name, a.operation) for a in activities[2:]] == [
        (V1_REPLACE, f"namespaces/{PROJECT}/services/hello", None)
    ]
    assert "gcloud" in activities[2].user_agent

    describe = gcloud(
        "run", "services", "describe", "hello", "--region", REGION,
        "--format=value(metadata.labels.public-route,status.url)",
    )  # fmt: skip
    assert describe.stdout.split() == ["true", service["uri"]]
