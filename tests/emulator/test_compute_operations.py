"""Compute emulator: operations (delay, wait, list, delete, requestId), readiness, and the discovery client."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from google.api_core import exceptions
from google.auth.credentials import AnonymousCredentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from emulator import EmulatorServer

from .test_compute_support import (
    BASE,
    PROJECT,
    REGION,
    clients,
    error_message,
    make_backend_service,
    make_neg,
    raw,
    set_operation_delay,
)


def test_operation_is_done_at_once_without_delay(emulator: EmulatorServer) -> None:
    reply = raw(
        emulator, "POST", "global/backendServices", json={"name": "bs"}, headers={"X-Emulator-Principal": "a@x.io"}
    )
    op = reply.json()
    assert op["kind"] == "compute#operation"
    assert (op["status"], op["progress"], op["operationType"], op["user"]) == ("DONE", 100, "insert", "a@x.io")
    assert op["targetLink"] == f"{BASE}projects/{PROJECT}/global/backendServices/bs"
    assert op["targetId"] == raw(emulator, "GET", "global/backendServices/bs").json()["id"]
    assert op["selfLink"] == f"{BASE}projects/{PROJECT}/global/operations/{op['name']}"
    assert op["insertTime"] and op["startTime"] and op["endTime"]
    assert "region" not in op and "error" not in op


def test_operations_run_for_the_configured_delay(emulator: EmulatorServer) -> None:
    set_operation_delay(emulator, 0.4)
    c = clients(emulator)
    started = time.monotonic()
    neg = make_neg(c)  # the client polls regionOperations.get until DONE
    op = c.negs.delete(project=PROJECT, region=REGION, network_endpoint_group=neg.name)
    assert op.status == op.status.RUNNING and not op.done()
    assert op.result(timeout=10) is None and op.status == op.status.DONE
    assert time.monotonic() - started >= 0.8

    op = raw(emulator, "POST", "global/backendServices", json={"name": "bs"}).json()
    assert (op["status"], op["progress"]) == ("RUNNING", 0)
    assert "endTime" not in op
    waited = raw(emulator, "POST", f"global/operations/{op['name']}/wait").json()
    assert (waited["status"], waited["progress"]) == ("DONE", 100)

    regional = raw(emulator, "GET", f"regions/{REGION}/operations").json()
    assert [o["operationType"] for o in regional["items"]] == ["insert", "delete"]
    assert all(o["region"] == f"{BASE}projects/{PROJECT}/regions/{REGION}" for o in regional["items"])
    assert raw(emulator, "DELETE", f"global/operations/{op['name']}").json() == {}
    gone = raw(emulator, "GET", f"global/operations/{op['name']}")
    assert gone.status_code == 404
    assert (
        gone.json()["error"]["message"]
        == f"The resource 'projects/{PROJECT}/global/operations/{op['name']}' was not found"
    )


def test_global_operations_client(emulator: EmulatorServer) -> None:
    c = clients(emulator)
    make_backend_service(c)
    [op] = list(c.global_operations.list(project=PROJECT))
    assert op.operation_type == "insert" and op.status == op.Status.DONE
    assert c.global_operations.get(project=PROJECT, operation=op.name).target_link.endswith("/backendServices/bs-hello")
    assert c.global_operations.wait(project=PROJECT, operation=op.name).status == op.Status.DONE
    c.global_operations.delete(project=PROJECT, operation=op.name)
    with pytest.raises(exceptions.NotFound) as err:
        c.global_operations.get(project=PROJECT, operation=op.name)
    assert error_message(err.value) == f"The resource 'projects/{PROJECT}/global/operations/{op.name}' was not found"
    assert err.value.errors[0]["reason"] == "notFound"


def test_building_on_a_resource_still_being_inserted_is_not_ready(emulator: EmulatorServer) -> None:
    set_operation_delay(emulator, 0.3)
    c = clients(emulator)
    neg_body = {"name": "neg", "networkEndpointType": "SERVERLESS", "cloudRun": {"service": "hello"}}
    op = raw(emulator, "POST", f"regions/{REGION}/networkEndpointGroups", json=neg_body).json()
    group = op["targetLink"]
    with pytest.raises(exceptions.BadRequest) as err:
        make_backend_service(c, groups=[group])
    assert error_message(err.value) == (
        f"The resource 'projects/{PROJECT}/regions/{REGION}/networkEndpointGroups/neg' is not ready"
    )
    assert err.value.errors[0]["reason"] == "resourceNotReady"
    raw(emulator, "POST", f"regions/{REGION}/operations/{op['name']}/wait")
    assert make_backend_service(c, groups=[group]).backends[0].group == group


def test_request_id_makes_a_retry_return_the_same_operation(emulator: EmulatorServer) -> None:
    request_id = str(uuid.uuid4())
    body = {"name": "bs"}
    first = raw(emulator, "POST", "global/backendServices", json=body, params={"requestId": request_id}).json()
    again = raw(emulator, "POST", "global/backendServices", json=body, params={"requestId": request_id})
    assert again.status_code == 200
    assert again.json()["name"] == first["name"]
    assert first["clientOperationId"] == request_id
    bad = raw(emulator, "POST", "global/backendServices", json=body, params={"requestId": "retry-1"})
    assert bad.status_code == 400
    assert bad.json()["error"]["message"] == (
        "Invalid value for field 'requestId': 'retry-1'. "
        "The request ID must be a valid UUID with the exception that zero UUID is not supported."
    )


@pytest.fixture
def discovery(emulator: EmulatorServer) -> Any:
    return build(
        "compute",
        "v1",
        credentials=AnonymousCredentials(),
        static_discovery=True,
        client_options={"api_endpoint": emulator.url + "/compute/v1/"},
    )


def test_discovery_client_calls_and_errors(emulator: EmulatorServer, discovery: Any) -> None:
    neg = {"name": "neg", "networkEndpointType": "SERVERLESS", "cloudRun": {"service": "hello"}}
    op = discovery.regionNetworkEndpointGroups().insert(project=PROJECT, region=REGION, body=neg).execute()
    assert op["status"] == "DONE" and op["region"].endswith(f"/regions/{REGION}")
    got = (
        discovery.regionNetworkEndpointGroups()
        .get(project=PROJECT, region=REGION, networkEndpointGroup="neg")
        .execute()
    )
    assert got["cloudRun"] == {"service": "hello"}
    bs = {"name": "bs", "loadBalancingScheme": "EXTERNAL_MANAGED", "backends": [{"group": got["selfLink"]}]}
    discovery.backendServices().insert(project=PROJECT, body=bs).execute()
    listed = discovery.backendServices().list(project=PROJECT).execute()
    assert [b["name"] for b in listed["items"]] == ["bs"]

    with pytest.raises(HttpError) as err:
        discovery.backendServices().insert(project=PROJECT, body=bs).execute()
    assert err.value.status_code == 409
    assert err.value.error_details == [
        {
            "message": f"The resource 'projects/{PROJECT}/global/backendServices/bs' already exists",
            "domain": "global",
            "reason": "alreadyExists",
        }
    ]
    with pytest.raises(HttpError) as in_use:
        discovery.regionNetworkEndpointGroups().delete(
            project=PROJECT, region=REGION, networkEndpointGroup="neg"
        ).execute()
    assert in_use.value.status_code == 400
    assert in_use.value.error_details[0]["reason"] == "resourceInUseByAnotherResource"
    with pytest.raises(HttpError) as stale:
        discovery.backendServices().patch(
            project=PROJECT, backendService="bs", body={"fingerprint": "c3RhbGU="}
        ).execute()
    assert stale.value.status_code == 412
    assert stale.value.error_details[0]["reason"] == "conditionNotMet"
    assert stale.value.reason == "Precondition Failed"
