"""Cloud Run Admin API v2 in the emulator, driven by google-cloud-run and googleapiclient over real HTTP."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from google.api import launch_stage_pb2
from google.api_core import exceptions
from google.api_core.client_options import ClientOptions
from google.api_core.future import polling
from google.auth.credentials import AnonymousCredentials
from google.cloud import run_v2
from google.protobuf import field_mask_pb2
from googleapiclient import discovery
from googleapiclient.errors import HttpError

from emulator import EmulatorServer
from emulator.audit import AdminActivity

PROJECT = "runway-demo"
REGION = "us-central1"
PARENT = f"projects/{PROJECT}/locations/{REGION}"
IMAGE = "us-docker.pkg.dev/cloudrun/container/hello"
FAST_POLLING = polling.DEFAULT_POLLING.with_delay(initial=0.05, maximum=0.1)


@pytest.fixture(autouse=True)
def activities(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> list[AdminActivity]:
    """Every Admin Activity the Run API reports; the Logging/Eventarc side is tested elsewhere."""
    recorded: list[AdminActivity] = []
    monkeypatch.setattr(emulator.emulator, "record_admin_activity", recorded.append)
    return recorded


@pytest.fixture
def client(emulator: EmulatorServer) -> Iterator[run_v2.ServicesClient]:
    c = run_v2.ServicesClient(
        credentials=AnonymousCredentials(), transport="rest", client_options=ClientOptions(api_endpoint=emulator.url)
    )
    yield c
    c.transport.close()


@pytest.fixture
def discovery_v2(emulator: EmulatorServer) -> Any:
    return discovery.build(
        "run",
        "v2",
        credentials=AnonymousCredentials(),
        static_discovery=True,
        client_options={"api_endpoint": emulator.url},
    )


def set_operation_delay(emulator: EmulatorServer, seconds: float) -> None:
    reply = requests.post(f"{emulator.url}/_emulator/faults", json={"operationDelay": seconds}, timeout=5)
    assert reply.ok


def hello(**fields: Any) -> run_v2.Service:
    fields.setdefault("template", run_v2.RevisionTemplate(containers=[run_v2.Container(image=IMAGE)]))
    return run_v2.Service(**fields)


def create(client: run_v2.ServicesClient, service_id: str = "hello", **fields: Any) -> run_v2.Service:
    return client.create_service(parent=PARENT, service=hello(**fields), service_id=service_id).result(timeout=5)


# -- create / get ---------------------------------------------------------------------------------------------


def test_create_fills_output_fields_like_production(client: run_v2.ServicesClient) -> None:
    op = client.create_service(parent=PARENT, service=hello(labels={"team": "web"}), service_id="hello")
    assert re.fullmatch(rf"{PARENT}/operations/[0-9a-f-]{{36}}", op.operation.name)
    svc = op.result(timeout=5)

    assert svc.name == f"{PARENT}/services/hello"
    assert svc.generation == 1 and svc.observed_generation == 1
    assert svc.ingress == run_v2.IngressTraffic.INGRESS_TRAFFIC_ALL
    assert svc.labels == {"team": "web"}
    assert svc.creator == svc.last_modifier == "developer@example.com"
    assert re.fullmatch(r"https://hello-[a-z2-7]{10}-uc\.a\.run\.app", svc.uri)
    assert svc.uri in svc.urls
    assert svc.terminal_condition.type_ == "Ready"
    assert svc.terminal_condition.state == run_v2.Condition.State.CONDITION_SUCCEEDED
    assert not svc.reconciling
    assert re.fullmatch(rf"{PARENT}/services/hello/revisions/hello-00001-[a-z]{{3}}", svc.latest_ready_revision)
    assert svc.latest_created_revision == svc.latest_ready_revision
    assert svc.traffic_statuses[0].percent == 100
    assert svc.etag and svc.uid
    assert client.get_service(name=svc.name) == svc


def test_create_with_operation_delay_reconciles_then_finishes(
    emulator: EmulatorServer, client: run_v2.ServicesClient
) -> None:
    set_operation_delay(emulator, 0.3)
    op = client.create_service(parent=PARENT, service=hello(), service_id="slow")
    assert not op.operation.done

    pending = client.get_service(name=f"{PARENT}/services/slow")
    assert pending.reconciling
    assert pending.terminal_condition.state == run_v2.Condition.State.CONDITION_PENDING
    assert not pending.latest_ready_revision

    svc = op.result(timeout=5, polling=FAST_POLLING)
    assert svc.terminal_condition.state == run_v2.Condition.State.CONDITION_SUCCEEDED
    assert not client.get_service(name=svc.name).reconciling


def test_duplicate_create_is_already_exists(client: run_v2.ServicesClient) -> None:
    create(client)
    with pytest.raises(exceptions.Conflict) as err:
        create(client)
    assert err.value.message.endswith("Resource 'hello' already exists.")
    assert err.value.response.json()["error"]["status"] == "ALREADY_EXISTS"


def test_get_missing_service_is_not_found_with_googles_message(client: run_v2.ServicesClient) -> None:
    with pytest.raises(exceptions.NotFound) as err:
        client.get_service(name=f"{PARENT}/services/nope")
    assert err.value.message.endswith(
        f"Resource 'nope' of kind 'SERVICE' in region '{REGION}' in project '{PROJECT}' does not exist."
    )


@pytest.mark.parametrize(
    ("service", "message"),
    [
        pytest.param(hello(labels={"Team": "x"}), "label key 'Team' is invalid", id="uppercase-key"),
        pytest.param(hello(labels={"team": "Web"}), "label value 'Web' of key 'team' is invalid", id="bad-value"),
        pytest.param(hello(labels={"k" * 64: "x"}), "Keys must be 1-63 characters long", id="long-key"),
        pytest.param(
            hello(labels={"run.googleapis.com/x": "y"}),
            "label key 'run.googleapis.com/x' is in the reserved namespace 'run.googleapis.com'",
            id="reserved-label",
        ),
        pytest.param(
            hello(annotations={"serving.knative.dev/creator": "me"}),
            "annotation key 'serving.knative.dev/creator' is in the reserved namespace",
            id="reserved-ann",
        ),
        pytest.param(hello(annotations={"bad key": "v"}), "annotation key 'bad key' is invalid", id="bad-ann"),
        pytest.param(hello(labels={f"k{i}": "v" for i in range(65)}), "at most 64 labels", id="too-many"),
        pytest.param(
            hello(template=run_v2.RevisionTemplate(labels={"-x": "y"})),
            "Invalid value at 'service.template.labels'",
            id="template-label",
        ),
    ],
)
def test_invalid_metadata_is_invalid_argument(
    client: run_v2.ServicesClient, service: run_v2.Service, message: str, activities: list[AdminActivity]
) -> None:
    # google-api-core maps HTTP 400 to BadRequest (InvalidArgument is its gRPC-side subclass); the body carries
    # the google.rpc status.
    with pytest.raises(exceptions.BadRequest) as err:
        client.create_service(parent=PARENT, service=service, service_id="hello")
    assert message in err.value.message
    assert err.value.response.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert activities == []


@pytest.mark.parametrize("service_id", ["1abc", "abc-", "Abc", "a_b", "a" * 50])
def test_invalid_service_id_is_invalid_argument(client: run_v2.ServicesClient, service_id: str) -> None:
    with pytest.raises(exceptions.BadRequest) as err:
        client.create_service(parent=PARENT, service=hello(), service_id=service_id)
    assert f"Invalid service id '{service_id}'" in err.value.message


def test_validate_only_creates_nothing(client: run_v2.ServicesClient, activities: list[AdminActivity]) -> None:
    request = run_v2.CreateServiceRequest(parent=PARENT, service=hello(), service_id="hello", validate_only=True)
    svc = client.create_service(request=request).result(timeout=5)
    assert svc.name == f"{PARENT}/services/hello"
    assert svc.template.max_instance_request_concurrency == 80  # defaults are populated
    assert list(client.list_services(parent=PARENT)) == []
    assert activities == []


# -- list -----------------------------------------------------------------------------------------------------


def test_list_pages_through_every_service(client: run_v2.ServicesClient) -> None:
    for i in range(5):
        create(client, f"svc-{i}")
    pager = client.list_services(request=run_v2.ListServicesRequest(parent=PARENT, page_size=2))
    assert [s.name.rsplit("/", 1)[1] for s in pager] == [f"svc-{i}" for i in range(5)]
    pages = list(client.list_services(request=run_v2.ListServicesRequest(parent=PARENT, page_size=2)).pages)
    assert [len(p.services) for p in pages] == [2, 2, 1]
    assert list(client.list_services(parent=f"projects/{PROJECT}/locations/europe-west1")) == []


# -- update ---------------------------------------------------------------------------------------------------


def test_update_with_mask_changes_only_the_masked_fields(client: run_v2.ServicesClient) -> None:
    before = create(client, labels={"team": "web"})
    changed = run_v2.Service(before)
    changed.labels["public-route"] = "true"
    changed.ingress = run_v2.IngressTraffic.INGRESS_TRAFFIC_NONE  # not in the mask: ignored
    op = client.update_service(service=changed, update_mask=field_mask_pb2.FieldMask(paths=["labels"]))
    after = op.result(timeout=5)

    assert after.labels == {"team": "web", "public-route": "true"}
    assert after.ingress == run_v2.IngressTraffic.INGRESS_TRAFFIC_ALL
    assert after.generation == 2
    assert after.etag != before.etag
    assert after.latest_created_revision == before.latest_created_revision  # template unchanged
    assert after.create_time == before.create_time and after.update_time > before.update_time


def test_update_without_mask_replaces_populated_fields_and_rolls_a_revision(client: run_v2.ServicesClient) -> None:
    before = create(client)
    changed = run_v2.Service(before)
    changed.ingress = run_v2.IngressTraffic.INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER
    changed.template.containers[0].image = IMAGE + ":v2"
    after = client.update_service(service=changed).result(timeout=5)
    assert after.ingress == run_v2.IngressTraffic.INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER
    assert re.search(r"/revisions/hello-00002-[a-z]{3}$", after.latest_created_revision)


def test_update_with_stale_etag_is_aborted_conflict(
    client: run_v2.ServicesClient, activities: list[AdminActivity]
) -> None:
    stale = create(client)
    fresh = run_v2.Service(stale)
    fresh.labels["a"] = "1"
    current = client.update_service(service=fresh).result(timeout=5)
    activities.clear()

    stale.labels["b"] = "2"
    with pytest.raises(exceptions.Conflict) as err:
        client.update_service(service=stale)
    # 409 maps to Conflict (not its Aborted subclass) in google-api-core; the body says ABORTED.
    assert type(err.value) is exceptions.Conflict
    assert re.search(
        r"Conflict for resource 'hello': version '\d{16}' was specified but current version is '\d{16}'\.$",
        err.value.message,
    )
    assert current.etag not in err.value.message  # versions are printed as numbers, as production does
    assert activities == []


def test_stale_etag_body_says_aborted(emulator: EmulatorServer, client: run_v2.ServicesClient) -> None:
    stale = create(client)
    client.update_service(service=run_v2.Service(stale)).result(timeout=5)
    reply = requests.patch(f"{emulator.url}/v2/{PARENT}/services/hello", json={"etag": stale.etag}, timeout=5)
    assert reply.status_code == 409
    assert reply.json()["error"]["status"] == "ABORTED"


def test_update_missing_service_is_not_found_unless_allow_missing(
    client: run_v2.ServicesClient, activities: list[AdminActivity]
) -> None:
    service = hello(name=f"{PARENT}/services/upsert", labels={"team": "x"})
    with pytest.raises(exceptions.NotFound) as err:
        client.update_service(service=service)
    assert err.value.message.endswith(
        ": Resource 'upsert' of kind 'SERVICE' in region 'us-central1' in project 'runway-demo' does not exist."
    )

    request = run_v2.UpdateServiceRequest(service=service, allow_missing=True)
    created = client.update_service(request=request).result(timeout=5)
    assert created.generation == 1 and created.labels == {"team": "x"}
    assert client.get_service(name=f"{PARENT}/services/upsert").uid == created.uid
    assert [
        (a.method_name, a.permission, a.operation["first" if i == 0 else "last"]) for i, a in enumerate(activities)
    ] == [
        ("google.cloud.run.v2.Services.UpdateService", "run.services.create", True),
        ("google.cloud.run.v2.Services.UpdateService", "run.services.create", True),
    ]


def test_unknown_update_mask_output_field_is_rejected(client: run_v2.ServicesClient) -> None:
    svc = create(client)
    with pytest.raises(exceptions.BadRequest) as err:
        client.update_service(service=svc, update_mask=field_mask_pb2.FieldMask(paths=["uri"]))
    assert "'uri' is an output-only field" in err.value.message


# -- delete ---------------------------------------------------------------------------------------------------


def test_delete_returns_the_deleted_service(client: run_v2.ServicesClient) -> None:
    svc = create(client)
    deleted = client.delete_service(name=svc.name).result(timeout=5)
    assert deleted.uid == svc.uid
    assert deleted.delete_time
    missing = "Resource 'hello' of kind 'SERVICE' in region 'us-central1' in project 'runway-demo' does not exist."
    with pytest.raises(exceptions.NotFound) as err:
        client.get_service(name=svc.name)
    assert err.value.message.endswith(": " + missing)
    with pytest.raises(exceptions.NotFound) as err:
        client.delete_service(name=svc.name)
    assert err.value.message.endswith(": " + missing)


def test_delete_with_stale_etag_conflicts_and_validate_only_keeps_it(
    client: run_v2.ServicesClient, activities: list[AdminActivity]
) -> None:
    stale = create(client)
    current = client.update_service(service=run_v2.Service(stale)).result(timeout=5)
    activities.clear()
    with pytest.raises(exceptions.Conflict) as err:
        client.delete_service(request=run_v2.DeleteServiceRequest(name=stale.name, etag=stale.etag))
    assert re.search(
        r": Conflict for resource 'hello': version '\d{16}' was specified but current version is '\d{16}'\.$",
        err.value.message,
    )
    request = run_v2.DeleteServiceRequest(name=stale.name, etag=current.etag, validate_only=True)
    client.delete_service(request=request).result(timeout=5)
    assert client.get_service(name=stale.name).uid == stale.uid
    assert activities == []
    client.delete_service(request=run_v2.DeleteServiceRequest(name=stale.name, etag=current.etag)).result(timeout=5)


# -- wire formats ---------------------------------------------------------------------------------------------


def test_googleapiclient_string_enums_agree_with_python_client(
    discovery_v2: Any, client: run_v2.ServicesClient
) -> None:
    services = discovery_v2.projects().locations().services()
    body = {
        "ingress": "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER",
        "launchStage": "BETA",
        "template": {"containers": [{"image": IMAGE}]},
        "traffic": [{"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", "percent": 100}],
    }
    op = services.create(parent=PARENT, serviceId="hello", body=body).execute()
    assert op["done"] is True
    assert op["response"]["@type"] == "type.googleapis.com/google.cloud.run.v2.Service"
    assert op["response"]["ingress"] == "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
    got = services.get(name=f"{PARENT}/services/hello").execute()
    assert got["generation"] == "1"  # int64 as a JSON string
    assert got["launchStage"] == "BETA"

    svc = client.get_service(name=f"{PARENT}/services/hello")
    assert svc.ingress == run_v2.IngressTraffic.INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER
    assert svc.launch_stage == launch_stage_pb2.LaunchStage.BETA


def test_int_enums_in_replies_are_names_and_bad_enums_are_rejected(emulator: EmulatorServer) -> None:
    url = f"{emulator.url}/v2/{PARENT}/services"
    params = {"serviceId": "hello", "$alt": "json;enum-encoding=int"}
    reply = requests.post(url, params=params, json={"ingress": 2, "launchStage": 2}, timeout=5)
    assert reply.ok, reply.text
    service = reply.json()["response"]
    assert (service["ingress"], service["launchStage"]) == ("INGRESS_TRAFFIC_INTERNAL_ONLY", "ALPHA")

    bad = requests.post(url, params={"serviceId": "other"}, json={"ingress": "PUBLIC"}, timeout=5)
    assert bad.status_code == 400
    assert bad.json()["error"] == {
        "code": 400,
        "status": "INVALID_ARGUMENT",
        "message": "Invalid value at 'service.ingress' (type.googleapis.com/google.cloud.run.v2.IngressTraffic), "
        '"PUBLIC"',
    }


def test_unknown_fields_are_stored_and_echoed_and_output_fields_ignored(
    emulator: EmulatorServer, client: run_v2.ServicesClient
) -> None:
    body = {
        "futureField": {"nested": [1, 2]},
        "uid": "mine",
        "generation": "42",
        "uri": "https://x",
        "template": {"containers": [{"image": IMAGE}]},
    }
    reply = requests.post(f"{emulator.url}/v2/{PARENT}/services", params={"serviceId": "hello"}, json=body, timeout=5)
    assert reply.ok, reply.text
    got = requests.get(f"{emulator.url}/v2/{PARENT}/services/hello", timeout=5).json()
    assert got["futureField"] == {"nested": [1, 2]}
    assert got["uid"] != "mine" and got["generation"] == "1" and got["uri"] != "https://x"
    assert client.get_service(name=f"{PARENT}/services/hello").uid == got["uid"]  # the client ignores the rest


def test_project_number_names_the_same_project(emulator: EmulatorServer, client: run_v2.ServicesClient) -> None:
    svc = create(client)
    v1 = requests.get(f"{emulator.url}/apis/serving.knative.dev/v1/namespaces/{PROJECT}/services/hello", timeout=5)
    number = v1.json()["metadata"]["namespace"]
    assert number.isdigit() and len(number) == 12
    assert client.get_service(name=f"projects/{number}/locations/{REGION}/services/hello").uid == svc.uid


# -- operations -----------------------------------------------------------------------------------------------


def test_operations_get_list_wait_delete(emulator: EmulatorServer, discovery_v2: Any) -> None:
    set_operation_delay(emulator, 0.4)
    services = discovery_v2.projects().locations().services()
    operations = discovery_v2.projects().locations().operations()
    op = services.create(parent=PARENT, serviceId="hello", body={}).execute()
    assert "done" not in op and op["metadata"]["reconciling"] is True

    short = operations.wait(name=op["name"], body={"timeout": "0.05s"}).execute()
    assert "done" not in short
    assert [o["name"] for o in operations.list(name=PARENT, filter="done:false").execute()["operations"]] == [
        op["name"]
    ]
    assert operations.list(name=PARENT, filter="done:true").execute() == {}

    done = operations.wait(name=op["name"], body={}).execute()
    assert done["done"] is True
    assert done["response"]["terminalCondition"]["state"] == "CONDITION_SUCCEEDED"
    assert operations.get(name=op["name"]).execute() == done

    assert operations.delete(name=op["name"]).execute() == {}
    with pytest.raises(HttpError) as err:
        operations.get(name=op["name"]).execute()
    assert err.value.status_code == 404


def test_bad_wait_timeout_is_invalid_argument(emulator: EmulatorServer, discovery_v2: Any) -> None:
    op = discovery_v2.projects().locations().services().create(parent=PARENT, serviceId="h", body={}).execute()
    with pytest.raises(HttpError) as err:
        discovery_v2.projects().locations().operations().wait(name=op["name"], body={"timeout": "soon"}).execute()
    assert err.value.status_code == 400
    message = "Invalid value at 'timeout' (type.googleapis.com/google.protobuf.Duration), \"soon\""
    assert err.value.reason == message
    assert json.loads(err.value.content)["error"] == {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}


# -- audit ----------------------------------------------------------------------------------------------------


def test_each_write_reports_its_admin_activity(client: run_v2.ServicesClient, activities: list[AdminActivity]) -> None:
    create_op = client.create_service(parent=PARENT, service=hello(labels={"team": "a"}), service_id="hello")
    svc = create_op.result(timeout=5)
    update_op = client.update_service(
        service=run_v2.Service(svc, labels={"team": "b"}), update_mask=field_mask_pb2.FieldMask(paths=["labels"])
    )
    update_op.result(timeout=5)
    delete_op = client.delete_service(name=svc.name)

    name = f"{PARENT}/services/hello"
    # Every v2 write is a long-running operation: a first entry when accepted, a last one when done (here at once).
    firsts, lasts = activities[0::2], activities[1::2]
    assert [(a.method_name, a.resource_name, a.permission, a.request["@type"]) for a in firsts] == [
        (
            "google.cloud.run.v2.Services.CreateService",
            name,
            "run.services.create",
            "type.googleapis.com/google.cloud.run.v2.CreateServiceRequest",
        ),
        (
            "google.cloud.run.v2.Services.UpdateService",
            name,
            "run.services.update",
            "type.googleapis.com/google.cloud.run.v2.UpdateServiceRequest",
        ),
        (
            "google.cloud.run.v2.Services.DeleteService",
            name,
            "run.services.delete",
            "type.googleapis.com/google.cloud.run.v2.DeleteServiceRequest",
        ),
    ]
    ops = [create_op.operation.name, update_op.operation.name, delete_op.operation.name]
    assert [a.response for a in firsts] == [
        {"@type": "type.googleapis.com/google.longrunning.Operation", "name": op} for op in ops
    ]
    assert [a.operation for a in firsts] == [{"id": op, "producer": "run.googleapis.com", "first": True} for op in ops]
    assert [a.operation for a in lasts] == [{"id": op, "producer": "run.googleapis.com", "last": True} for op in ops]
    # The last entry repeats the write (method, request, caller) and answers with the Service it finished with.
    for first, last in zip(firsts, lasts, strict=True):
        assert (last.method_name, last.request, last.principal) == (first.method_name, first.request, first.principal)
        assert last.response["@type"] == "type.googleapis.com/google.cloud.run.v2.Service"
        assert last.response["name"] == name and last.response["uid"] == svc.uid
    assert [last.response["labels"] for last in lasts] == [{"team": "a"}, {"team": "b"}, {"team": "b"}]
    assert lasts[1].response["generation"] == lasts[1].response["observedGeneration"] == "2"
    assert "reconciling" not in lasts[1].response
    assert "deleteTime" in lasts[2].response
    first, second, third = firsts
    assert (first.project, first.region, first.service, first.principal) == (
        PROJECT,
        REGION,
        "hello",
        "developer@example.com",
    )
    assert first.request["parent"] == PARENT and first.request["serviceId"] == "hello"
    assert first.request["service"]["labels"] == {"team": "a"}
    assert second.request["service"]["name"] == name and second.request["updateMask"] == "labels"
    assert third.request == {"@type": "type.googleapis.com/google.cloud.run.v2.DeleteServiceRequest", "name": name}
    assert first.user_agent.startswith("python-requests/")  # the REST transport's HTTP library
    assert first.caller_ip == "127.0.0.1"


def test_principal_header_names_the_caller(emulator: EmulatorServer, activities: list[AdminActivity]) -> None:
    reply = requests.post(
        f"{emulator.url}/v2/{PARENT}/services",
        params={"serviceId": "hello"},
        json={},
        headers={"X-Emulator-Principal": "alice@example.com"},
        timeout=5,
    )
    assert reply.json()["metadata"]["creator"] == "alice@example.com"
    assert activities[0].principal == "alice@example.com"


# -- concurrency and test controls ----------------------------------------------------------------------------


def test_fifty_concurrent_clients(emulator: EmulatorServer, activities: list[AdminActivity]) -> None:
    url = f"{emulator.url}/v2/{PARENT}/services"
    requests.post(url, params={"serviceId": "shared"}, json={}, timeout=5).raise_for_status()

    def work(i: int) -> tuple[int, int]:
        with requests.Session() as session:
            created = session.post(url, params={"serviceId": f"svc-{i}"}, json={"labels": {"n": str(i)}}, timeout=10)
            etag = session.get(f"{url}/shared", timeout=10).json()["etag"]
            patched = session.patch(
                f"{url}/shared",
                params={"updateMask": "labels"},
                json={"etag": etag, "labels": {"last": str(i)}},
                timeout=10,
            )
            return created.status_code, patched.status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(work, range(50)))
    assert all(created == 200 for created, _ in results)
    assert {patched for _, patched in results} <= {200, 409}
    wins = sum(patched == 200 for _, patched in results)
    assert wins >= 1
    listed = requests.get(url, params={"pageSize": 1000}, timeout=5).json()["services"]
    assert len(listed) == 51
    shared = requests.get(f"{url}/shared", timeout=5).json()
    assert shared["generation"] == str(1 + wins)  # every successful update counted exactly once
    assert len(activities) == 2 * (1 + 50 + wins)  # a first and a last entry for each


def test_state_snapshot_and_reset(emulator: EmulatorServer, client: run_v2.ServicesClient) -> None:
    create(client)
    state = requests.get(f"{emulator.url}/_emulator/state", timeout=5).json()["run"]
    assert [s["name"] for s in state["services"]] == [f"{PARENT}/services/hello"]
    assert len(state["operations"]) == 1
    requests.post(f"{emulator.url}/_emulator/reset", timeout=5)
    assert requests.get(f"{emulator.url}/_emulator/state", timeout=5).json()["run"] == {
        "services": [],
        "operations": [],
    }
