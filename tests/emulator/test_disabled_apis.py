"""A disabled API refuses its calls: Cloud Run Admin and Compute Engine on a project where Service Usage says the API
is disabled answer production's 403 (reason `SERVICE_DISABLED`; Compute's envelope also `accessNotConfigured`)."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from google.api_core import exceptions as gexc
from google.cloud import run_v2

from emulator import EmulatorServer
from emulator.run.rules import project_number
from shared import clients

P, OTHER, REGION = "team-b", "team-a", "us-central1"


def set_api(emulator: EmulatorServer, project: str, service: str, *, enabled: bool) -> None:
    verb = "enable" if enabled else "disable"
    reply = requests.post(f"{emulator.url}/v1/projects/{project}/services/{service}:{verb}", json={}, timeout=5)
    assert reply.ok, reply.text


def get(emulator: EmulatorServer, path: str) -> requests.Response:
    return requests.get(f"{emulator.url}{path}", timeout=5)


def message(title: str, service: str, number: str) -> str:
    return (
        f"{title} has not been used in project {number} before or it is disabled. Enable it by visiting "
        f"https://console.developers.google.com/apis/api/{service}/overview?project={number} then retry. If you "
        "enabled this API recently, wait a few minutes for the action to propagate to our systems and retry."
    )


def error_info(service: str, title: str, project: str) -> dict[str, Any]:
    number = project_number(project)
    return {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "SERVICE_DISABLED",
        "domain": "googleapis.com",
        "metadata": {
            "activationUrl": f"https://console.developers.google.com/apis/api/{service}/overview?project={number}",
            "service": service,
            "containerInfo": project,
            "serviceTitle": title,
            "consumer": f"projects/{number}",
        },
    }


def test_every_api_is_served_until_it_is_disabled(emulator: EmulatorServer) -> None:
    assert get(emulator, f"/compute/v1/projects/{P}/global/backendServices").status_code == 200
    assert get(emulator, f"/v2/projects/{P}/locations/{REGION}/services").status_code == 200


def test_a_disabled_compute_api_answers_productions_403_on_that_project_only(emulator: EmulatorServer) -> None:
    set_api(emulator, P, "compute.googleapis.com", enabled=False)
    reply = get(emulator, f"/compute/v1/projects/{P}/global/backendServices")
    text = message("Compute Engine API", "compute.googleapis.com", project_number(P))
    assert reply.status_code == 403
    body = reply.json()["error"]
    assert (body["code"], body["message"], body["status"]) == (403, text, "PERMISSION_DENIED")
    assert body["errors"] == [
        {
            "message": text,
            "domain": "usageLimits",
            "reason": "accessNotConfigured",
            "extendedHelp": "https://console.developers.google.com",
        }
    ]
    assert body["details"][0] == error_info("compute.googleapis.com", "Compute Engine API", P)
    assert [d["@type"].rsplit(".", 1)[1] for d in body["details"]] == ["ErrorInfo", "LocalizedMessage", "Help"]
    # Every Compute method of the project, writes too (nothing is made); other projects and other APIs served.
    insert = requests.post(
        f"{emulator.url}/compute/v1/projects/{P}/global/securityPolicies", json={"name": "edge"}, timeout=5
    )
    assert insert.status_code == 403
    assert get(emulator, f"/compute/v1/projects/{OTHER}/global/backendServices").status_code == 200
    assert get(emulator, f"/v2/projects/{P}/locations/{REGION}/services").status_code == 200
    # The client library sees Google's reason (what runway decides on).
    with pytest.raises(gexc.Forbidden) as refused:
        clients.compute(emulator.url).backend_services.list(project=P)
    assert refused.value.reason == "SERVICE_DISABLED"

    set_api(emulator, P, "compute.googleapis.com", enabled=True)
    assert get(emulator, f"/compute/v1/projects/{P}/global/securityPolicies").json().get("items") is None


def test_a_disabled_cloud_run_api_refuses_v2_v1_and_service_iam_calls(emulator: EmulatorServer) -> None:
    run = clients.run_services(emulator.url)
    template = run_v2.RevisionTemplate(containers=[run_v2.Container(image="x")])
    run.create_service(
        parent=f"projects/{P}/locations/{REGION}", service_id="hello", service=run_v2.Service(template=template)
    ).result()
    set_api(emulator, P, "run.googleapis.com", enabled=False)
    number = project_number(P)
    for path in (
        f"/v2/projects/{P}/locations/{REGION}/services",
        f"/v2/projects/{P}/locations/{REGION}/services/hello",
        f"/v2/projects/{P}/locations/{REGION}/services/hello:getIamPolicy",
        f"/apis/serving.knative.dev/v1/namespaces/{number}/services",
        f"/v1/projects/{P}/locations/{REGION}/services/hello",
    ):
        reply = get(emulator, path)
        assert reply.status_code == 403, path
        body = reply.json()["error"]
        assert body["message"] == message("Cloud Run Admin API", "run.googleapis.com", number), path
        assert (body["status"], "errors" in body) == ("PERMISSION_DENIED", False), path
        assert body["details"][0]["reason"] == "SERVICE_DISABLED", path
        assert body["details"][0]["metadata"]["service"] == "run.googleapis.com", path
    with pytest.raises(gexc.Forbidden) as refused:
        run.delete_service(name=f"projects/{P}/locations/{REGION}/services/hello")
    assert refused.value.reason == "SERVICE_DISABLED"
    assert get(emulator, f"/v2/projects/{OTHER}/locations/{REGION}/services").status_code == 200
    assert get(emulator, f"/compute/v1/projects/{P}/global/backendServices").status_code == 200

    emulator.emulator.reset()  # a reset enables every API again
    assert get(emulator, f"/v2/projects/{P}/locations/{REGION}/services").status_code == 200


def test_a_refused_call_is_in_the_call_log_and_changes_nothing(emulator: EmulatorServer) -> None:
    set_api(emulator, P, "run.googleapis.com", enabled=False)
    body = {"template": {"containers": [{"image": "x"}]}}
    reply = requests.post(f"{emulator.url}/v2/projects/{P}/locations/{REGION}/services?serviceId=s", json=body)
    assert reply.status_code == 403
    calls = requests.get(f"{emulator.url}/_emulator/requests", timeout=5).json()["requests"]
    assert (calls[-1]["method"], calls[-1]["status"]) == ("POST", 403)
    set_api(emulator, P, "run.googleapis.com", enabled=True)
    assert get(emulator, f"/v2/projects/{P}/locations/{REGION}/services").json() == {}
