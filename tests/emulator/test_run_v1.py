"""Cloud Run Admin API v1 (Knative `namespaces.services`) in the emulator: googleapiclient and raw gcloud-style
HTTP, over the same store as v2."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import run_v2
from googleapiclient import discovery
from googleapiclient.errors import HttpError

from emulator import EmulatorServer
from emulator.audit import AdminActivity

PROJECT = "runway-demo"
IMAGE = "us-docker.pkg.dev/cloudrun/container/hello"
LOCATION = "cloud.googleapis.com/location"
SERVICES = f"/apis/serving.knative.dev/v1/namespaces/{PROJECT}/services"


@pytest.fixture(autouse=True)
def activities(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> list[AdminActivity]:
    recorded: list[AdminActivity] = []
    monkeypatch.setattr(emulator.emulator, "record_admin_activity", recorded.append)
    return recorded


@pytest.fixture
def services(emulator: EmulatorServer) -> Any:
    run = discovery.build(
        "run",
        "v1",
        credentials=AnonymousCredentials(),
        static_discovery=True,
        client_options={"api_endpoint": emulator.url},
    )
    return run.namespaces().services()


@pytest.fixture
def client(emulator: EmulatorServer) -> Iterator[run_v2.ServicesClient]:
    c = run_v2.ServicesClient(
        credentials=AnonymousCredentials(), transport="rest", client_options=ClientOptions(api_endpoint=emulator.url)
    )
    yield c
    c.transport.close()


def knative(
    name: str = "hello",
    *,
    region: str | None = "us-central1",
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    all_labels = {**({LOCATION: region} if region else {}), **(labels or {})}
    return {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": PROJECT, "labels": all_labels, "annotations": annotations or {}},
        "spec": {"template": {"spec": {"containers": [{"image": IMAGE}]}}},
    }


def set_operation_delay(emulator: EmulatorServer, seconds: float) -> None:
    assert requests.post(f"{emulator.url}/_emulator/faults", json={"operationDelay": seconds}, timeout=5).ok


def test_create_get_list_replace_delete(services: Any, activities: list[AdminActivity]) -> None:
    created = services.create(parent=f"namespaces/{PROJECT}", body=knative(labels={"team": "web"})).execute()
    meta = created["metadata"]
    assert (created["apiVersion"], created["kind"]) == ("serving.knative.dev/v1", "Service")
    assert meta["name"] == "hello" and meta["generation"] == 1
    assert meta["namespace"].isdigit() and len(meta["namespace"]) == 12
    assert meta["labels"] == {LOCATION: "us-central1", "team": "web"}
    assert meta["annotations"]["run.googleapis.com/ingress"] == "all"
    assert meta["annotations"]["run.googleapis.com/ingress-status"] == "all"
    assert meta["annotations"]["serving.knative.dev/creator"] == "developer@example.com"
    assert meta["annotations"]["run.googleapis.com/operation-id"]
    assert meta["creationTimestamp"].endswith("Z") and meta["resourceVersion"] and meta["uid"]
    status = created["status"]
    assert status["observedGeneration"] == 1
    assert {c["type"]: c["status"] for c in status["conditions"]} == {
        "Ready": "True",
        "ConfigurationsReady": "True",
        "RoutesReady": "True",
    }
    assert status["url"].endswith(".a.run.app") and status["address"]["url"] == status["url"]
    assert status["latestReadyRevisionName"] == status["latestCreatedRevisionName"]
    assert status["traffic"] == [
        {"percent": 100, "latestRevision": True, "revisionName": status["latestReadyRevisionName"]}
    ]

    name = f"namespaces/{PROJECT}/services/hello"
    got = services.get(name=name).execute()
    assert got == created
    assert [i["metadata"]["name"] for i in services.list(parent=f"namespaces/{PROJECT}").execute()["items"]] == [
        "hello"
    ]

    changed = copy.deepcopy(got)
    changed["metadata"]["labels"]["public-route"] = "true"
    changed["metadata"]["annotations"]["run.googleapis.com/ingress"] = "internal-and-cloud-load-balancing"
    replaced = services.replaceService(name=name, body=changed).execute()
    assert replaced["metadata"]["generation"] == 2
    assert replaced["metadata"]["labels"] == {LOCATION: "us-central1", "team": "web", "public-route": "true"}
    assert replaced["metadata"]["annotations"]["run.googleapis.com/ingress"] == "internal-and-cloud-load-balancing"
    assert replaced["metadata"]["resourceVersion"] != got["metadata"]["resourceVersion"]

    deleted = services.delete(name=name).execute()
    assert deleted["status"] == "Success" and deleted["details"]["uid"] == meta["uid"]
    with pytest.raises(HttpError) as err:
        services.get(name=name).execute()
    assert err.value.status_code == 404
    assert "Resource 'hello' of kind 'SERVICE' in region 'us-central1' in project 'runway-demo' does not exist." in (
        err.value.reason
    )
    assert [a.method_name.rsplit(".", 1)[1] for a in activities] == ["CreateService", "ReplaceService", "DeleteService"]


def test_stale_resource_version_is_409_aborted(services: Any, activities: list[AdminActivity]) -> None:
    name = f"namespaces/{PROJECT}/services/hello"
    stale = services.create(parent=f"namespaces/{PROJECT}", body=knative()).execute()
    services.replaceService(name=name, body=stale).execute()
    activities.clear()
    with pytest.raises(HttpError) as err:
        services.replaceService(name=name, body=stale).execute()
    assert err.value.status_code == 409
    assert err.value.reason.startswith("Conflict for resource 'hello': version '")
    assert b'"status": "ABORTED"' in err.value.content
    assert activities == []


def test_duplicate_create_conflicts(services: Any) -> None:
    services.create(parent=f"namespaces/{PROJECT}", body=knative()).execute()
    with pytest.raises(HttpError) as err:
        services.create(parent=f"namespaces/{PROJECT}", body=knative()).execute()
    assert err.value.status_code == 409
    assert err.value.reason == "Resource 'hello' already exists."
    assert json.loads(err.value.content)["error"] == {
        "code": 409,
        "message": "Resource 'hello' already exists.",
        "status": "ALREADY_EXISTS",
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(
            knative(annotations={"run.googleapis.com/ingress": "public"}),
            "Invalid value at 'metadata.annotations[run.googleapis.com/ingress]': 'public'",
            id="ingress",
        ),
        pytest.param(knative(labels={"Bad": "x"}), "label key 'Bad' is invalid", id="label"),
        pytest.param(knative(name="9lives"), "Invalid service id '9lives'", id="name"),
    ],
)
def test_invalid_v1_object_is_400(
    services: Any, body: dict[str, Any], message: str, activities: list[AdminActivity]
) -> None:
    with pytest.raises(HttpError) as err:
        services.create(parent=f"namespaces/{PROJECT}", body=body).execute()
    assert err.value.status_code == 400
    assert message in err.value.reason
    assert activities == []


def test_region_from_location_label(services: Any, client: run_v2.ServicesClient) -> None:
    services.create(parent=f"namespaces/{PROJECT}", body=knative(region="europe-west1")).execute()
    svc = client.get_service(name=f"projects/{PROJECT}/locations/europe-west1/services/hello")
    assert LOCATION not in svc.labels  # the region is not a user label in the store
    assert svc.uri.endswith("-ew.a.run.app")


def test_region_from_gcloud_regional_host(emulator: EmulatorServer, client: run_v2.ServicesClient) -> None:
    # gcloud prepends the region to the API host (docs/google-apis.md §8) and sends no location label on describe.
    host = {"Host": "us-east1-run.emulator.invalid"}
    reply = requests.post(f"{emulator.url}{SERVICES}", json=knative(region=None), headers=host, timeout=5)
    assert reply.ok, reply.text
    assert reply.json()["metadata"]["labels"] == {LOCATION: "us-east1"}
    assert client.get_service(name=f"projects/{PROJECT}/locations/us-east1/services/hello").uid
    assert requests.get(f"{emulator.url}{SERVICES}/hello", headers=host, timeout=5).ok
    elsewhere = requests.get(f"{emulator.url}{SERVICES}/hello", headers={"Host": "europe-west1-run.x"}, timeout=5)
    assert elsewhere.status_code == 404
    assert "in region 'europe-west1'" in elsewhere.json()["error"]["message"]
    # The global endpoint lists every region; a regional one only its own.
    assert len(requests.get(f"{emulator.url}{SERVICES}", timeout=5).json()["items"]) == 1
    assert (
        requests.get(f"{emulator.url}{SERVICES}", headers={"Host": "europe-west1-run.x"}, timeout=5).json()["items"]
        == []
    )


def test_gcloud_update_labels_flow_converges(emulator: EmulatorServer) -> None:
    """`gcloud run services update hello --update-labels public-route=true`: GET, PUT of the whole object with
    the label in metadata and template, then polling until Ready is True at the new generation."""
    set_operation_delay(emulator, 0.3)
    host = {"Host": "us-central1-run.emulator.invalid", "User-Agent": "google-cloud-sdk gcloud/528.0.0"}
    url = f"{emulator.url}{SERVICES}/hello"
    requests.post(f"{emulator.url}{SERVICES}", json=knative(), headers=host, timeout=5).raise_for_status()

    current = requests.get(url, params={"alt": "json"}, headers=host, timeout=5).json()
    current["metadata"]["labels"]["public-route"] = "true"
    current["spec"]["template"].setdefault("metadata", {}).setdefault("labels", {})["public-route"] = "true"
    current["metadata"]["annotations"]["run.googleapis.com/client-name"] = "gcloud"
    put = requests.put(url, json=current, headers=host, timeout=5)
    assert put.ok, put.text
    assert put.json()["metadata"]["generation"] == 2

    polls = 0
    deadline = time.monotonic() + 5
    while True:
        polls += 1
        got = requests.get(url, headers=host, timeout=5).json()
        ready = next(c for c in got["status"]["conditions"] if c["type"] == "Ready")
        if ready["status"] == "True" and got["status"]["observedGeneration"] == got["metadata"]["generation"]:
            break
        assert ready["status"] == "Unknown"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert polls > 1
    assert got["metadata"]["labels"]["public-route"] == "true"
    assert got["spec"]["template"]["metadata"]["labels"] == {"public-route": "true"}
    assert got["metadata"]["annotations"]["run.googleapis.com/client-name"] == "gcloud"
    assert got["status"]["latestCreatedRevisionName"].startswith("hello-00002-")


def test_v1_and_v2_views_agree(services: Any, client: run_v2.ServicesClient) -> None:
    name = f"projects/{PROJECT}/locations/us-central1/services/hello"
    template = run_v2.RevisionTemplate(containers=[run_v2.Container(image=IMAGE)], labels={"tier": "a"})
    service = run_v2.Service(
        labels={"team": "web"}, template=template, ingress=run_v2.IngressTraffic.INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER
    )
    v2 = client.create_service(parent=name.rsplit("/services/", 1)[0], service=service, service_id="hello").result()

    v1 = services.get(name=f"namespaces/{PROJECT}/services/hello").execute()
    assert v1["metadata"]["uid"] == v2.uid
    assert v1["metadata"]["generation"] == v2.generation
    assert v1["metadata"]["resourceVersion"] == v2.etag
    assert v1["metadata"]["labels"] == {LOCATION: "us-central1", "team": "web"}
    assert v1["metadata"]["annotations"]["run.googleapis.com/ingress"] == "internal-and-cloud-load-balancing"
    assert v1["spec"]["template"]["metadata"]["labels"] == {"tier": "a"}
    assert v1["spec"]["template"]["spec"]["containers"][0]["image"] == IMAGE
    assert v1["spec"]["template"]["spec"]["timeoutSeconds"] == 300
    assert v1["status"]["url"] == v2.uri
    assert v1["status"]["latestReadyRevisionName"] == v2.latest_ready_revision.rsplit("/", 1)[1]

    v1["metadata"]["annotations"]["run.googleapis.com/ingress"] = "internal"
    v1["metadata"]["labels"].pop("team")
    v1["spec"]["template"]["metadata"]["annotations"] = {
        "run.googleapis.com/cpu-throttling": "false",
        "autoscaling.knative.dev/maxScale": "7",
    }
    replaced = services.replaceService(name=f"namespaces/{PROJECT}/services/hello", body=v1).execute()

    after = client.get_service(name=name)
    assert after.ingress == run_v2.IngressTraffic.INGRESS_TRAFFIC_INTERNAL_ONLY
    assert dict(after.labels) == {}
    assert after.template.scaling.max_instance_count == 7
    assert dict(after.template.annotations) == {}  # v1-only system annotations never show in v2
    assert after.etag == replaced["metadata"]["resourceVersion"]
    # ...but survive in v1, as gcloud expects on its next read-modify-write.
    again = services.get(name=f"namespaces/{PROJECT}/services/hello").execute()
    assert again["spec"]["template"]["metadata"]["annotations"] == {
        "autoscaling.knative.dev/maxScale": "7",
        "run.googleapis.com/cpu-throttling": "false",
    }


def test_namespace_may_be_the_project_number(services: Any) -> None:
    created = services.create(parent=f"namespaces/{PROJECT}", body=knative()).execute()
    number = created["metadata"]["namespace"]
    by_number = services.get(name=f"namespaces/{number}/services/hello").execute()
    assert by_number["metadata"]["uid"] == created["metadata"]["uid"]
    assert created["metadata"]["selfLink"] == f"/apis/serving.knative.dev/v1/namespaces/{number}/services/hello"


def test_list_label_selector_and_paging(services: Any) -> None:
    parent = f"namespaces/{PROJECT}"
    for i, route in enumerate(["true", "false", "true"]):
        services.create(parent=parent, body=knative(f"svc-{i}", labels={"public-route": route})).execute()

    def names(**kw: Any) -> list[str]:
        return [i["metadata"]["name"] for i in services.list(parent=parent, **kw).execute()["items"]]

    # "Results are sorted by creation time, descending." (run.v1.json namespaces.services.list)
    assert names() == ["svc-2", "svc-1", "svc-0"]
    assert names(labelSelector="public-route=true") == ["svc-2", "svc-0"]
    assert names(labelSelector="public-route!=true") == ["svc-1"]
    assert names(labelSelector="public-route in (false, maybe)") == ["svc-1"]
    assert names(labelSelector="public-route notIn (false)") == ["svc-2", "svc-0"]
    assert names(labelSelector="!public-route") == []
    assert names(labelSelector=f"{LOCATION}=us-central1,public-route") == ["svc-2", "svc-1", "svc-0"]
    first = services.list(parent=parent, limit=2).execute()
    assert len(first["items"]) == 2
    rest = services.list(parent=parent, limit=2, **{"continue": first["metadata"]["continue"]}).execute()
    assert [i["metadata"]["name"] for i in first["items"] + rest["items"]] == ["svc-2", "svc-1", "svc-0"]
    assert "continue" not in rest["metadata"]


def test_dry_run_writes_nothing(services: Any, activities: list[AdminActivity]) -> None:
    preview = services.create(parent=f"namespaces/{PROJECT}", body=knative(), dryRun="All").execute()
    assert preview["metadata"]["name"] == "hello"
    assert services.list(parent=f"namespaces/{PROJECT}").execute()["items"] == []
    assert activities == []


def test_each_v1_write_reports_its_admin_activity(services: Any, activities: list[AdminActivity]) -> None:
    parent, name = f"namespaces/{PROJECT}", f"namespaces/{PROJECT}/services/hello"
    body = knative(region="us-east1", labels={"team": "web"})
    created = services.create(parent=parent, body=body).execute()
    services.replaceService(name=name, body=created).execute()
    services.delete(name=name).execute()

    assert [
        (a.method_name, a.resource_name, a.permission, a.request["@type"], a.response["@type"], a.operation)
        for a in activities
    ] == [
        (
            "google.cloud.run.v1.Services.CreateService",
            name,
            "run.services.create",
            "type.googleapis.com/google.cloud.run.v1.CreateServiceRequest",
            "type.googleapis.com/google.cloud.run.v1.Service",
            None,
        ),
        (
            "google.cloud.run.v1.Services.ReplaceService",
            name,
            "run.services.update",
            "type.googleapis.com/google.cloud.run.v1.ReplaceServiceRequest",
            "type.googleapis.com/google.cloud.run.v1.Service",
            None,
        ),
        (
            "google.cloud.run.v1.Services.DeleteService",
            name,
            "run.services.delete",
            "type.googleapis.com/google.cloud.run.v1.DeleteServiceRequest",
            "type.googleapis.com/google.cloud.run.v1.Status",
            None,
        ),
    ]
    create, replace, delete = activities
    assert {a.region for a in activities} == {"us-east1"} and {a.service for a in activities} == {"hello"}
    assert create.request["parent"] == parent and create.request["region"] == "us-east1"
    assert create.request["service"] == body
    assert replace.request["name"] == name and replace.request["region"] == "us-east1"
    assert replace.response["metadata"]["generation"] == 2
    assert replace.response["metadata"]["labels"] == {LOCATION: "us-east1", "team": "web"}
    assert replace.response["status"] == {}  # as in captured v1 audit entries
    assert delete.request == {
        "@type": "type.googleapis.com/google.cloud.run.v1.DeleteServiceRequest",
        "name": name,
        "region": "us-east1",
    }


def test_v1_operation_wait_answers_with_the_v1_service(emulator: EmulatorServer) -> None:
    # gcloud waits on `projects.locations.operations.wait` of v1 with the `run.googleapis.com/operation-id`
    # annotation, then decodes `response` as a v1 Service.
    set_operation_delay(emulator, 0.2)
    created = requests.post(f"{emulator.url}{SERVICES}", json=knative(), timeout=5).json()
    op_id = created["metadata"]["annotations"]["run.googleapis.com/operation-id"]
    url = f"{emulator.url}/v1/projects/{PROJECT}/locations/us-central1/operations/{op_id}:wait"
    done = requests.post(url, json={"timeout": "30s"}, timeout=5).json()
    assert done["done"] is True
    assert done["response"]["@type"] == "type.googleapis.com/google.cloud.run.v1.Service"
    assert done["response"]["metadata"]["uid"] == created["metadata"]["uid"]
    assert done["response"]["status"]["conditions"][0] == {
        "type": "Ready",
        "status": "True",
        "lastTransitionTime": done["response"]["status"]["conditions"][0]["lastTransitionTime"],
    }


def test_revisions_are_readable_by_name_and_nonce(emulator: EmulatorServer) -> None:
    body = knative()
    body["spec"]["template"]["metadata"] = {"labels": {"client.knative.dev/nonce": "abc"}}
    created = requests.post(f"{emulator.url}{SERVICES}", json=body, timeout=5).json()
    revisions = f"{emulator.url}/apis/serving.knative.dev/v1/namespaces/{PROJECT}/revisions"
    found = requests.get(revisions, params={"labelSelector": "client.knative.dev/nonce=abc"}, timeout=5).json()
    [revision] = found["items"]
    assert revision["metadata"]["name"] == created["status"]["latestCreatedRevisionName"]
    assert revision["metadata"]["labels"]["serving.knative.dev/service"] == "hello"
    assert revision["spec"]["containers"][0]["image"] == IMAGE
    assert requests.get(f"{revisions}/{revision['metadata']['name']}", timeout=5).json() == revision
    unknown = requests.get(f"{revisions}/hello-99999-xyz", timeout=5)
    assert unknown.status_code == 404
    assert unknown.json()["error"] == {
        "code": 404,
        "message": "Resource 'hello-99999-xyz' of kind 'REVISION' in region 'us-central1' in project 'runway-demo' "
        "does not exist.",
        "status": "NOT_FOUND",
    }
    # The nonce is Knative's, not a user label: v2 does not show it.
    v2 = requests.get(f"{emulator.url}/v2/projects/{PROJECT}/locations/us-central1/services/hello", timeout=5).json()
    assert "labels" not in v2["template"]


def test_gcloud_list_reads_v1_projects_locations(emulator: EmulatorServer) -> None:
    requests.post(f"{emulator.url}{SERVICES}", json=knative(region="us-east1"), timeout=5).raise_for_status()
    url = f"{emulator.url}/v1/projects/{PROJECT}/locations/-/services"
    assert [i["metadata"]["name"] for i in requests.get(url, timeout=5).json()["items"]] == ["hello"]
    one = requests.get(f"{emulator.url}/v1/projects/{PROJECT}/locations/us-east1/services/hello", timeout=5)
    assert one.json()["metadata"]["labels"][LOCATION] == "us-east1"
