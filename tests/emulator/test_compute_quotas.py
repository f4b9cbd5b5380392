"""Compute emulator: project and region quotas (`projects.get`, `regions.get`), through the real
google-cloud-compute client; usage counted from the store, limits settable with `/_emulator/computeQuotas`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from google.api_core import exceptions
from google.cloud import compute_v1

from emulator import EmulatorServer
from shared.clients import client_kwargs

from .test_compute_support import PROJECT, REGION, clients, make_backend_service, make_neg

CONTROL = "/_emulator/computeQuotas"


@pytest.fixture
def quotas(emulator: EmulatorServer) -> Iterator[str]:
    """The control's URL; the limits are put back afterwards (a reset leaves them, see emulator/README.md)."""
    url = f"{emulator.url}{CONTROL}"
    yield url
    requests.delete(url, timeout=5).raise_for_status()


def project_quotas(emulator: EmulatorServer, project: str = PROJECT) -> dict[str, tuple[float, float]]:
    found = compute_v1.ProjectsClient(**client_kwargs(emulator.url)).get(project=project)
    assert found.name == project and found.self_link.endswith(f"/compute/v1/projects/{project}")
    return {q.metric: (q.usage, q.limit) for q in found.quotas}


def region_quotas(emulator: EmulatorServer, region: str = REGION) -> dict[str, tuple[float, float]]:
    found = compute_v1.RegionsClient(**client_kwargs(emulator.url)).get(project=PROJECT, region=region)
    assert (found.name, found.status) == (region, "UP")
    return {q.metric: (q.usage, q.limit) for q in found.quotas}


def test_project_quotas_count_what_the_project_holds(emulator: EmulatorServer, quotas: str) -> None:
    assert project_quotas(emulator)["BACKEND_SERVICES"] == (0, 50)
    c = clients(emulator)
    make_backend_service(c, "bs-a")
    make_backend_service(c, "bs-b")
    found = project_quotas(emulator)
    assert found == {
        "BACKEND_BUCKETS": (0, 50),
        "BACKEND_SERVICES": (2, 50),
        "SECURITY_POLICIES": (0, 10),
        "URL_MAPS": (0, 10),
    }
    assert project_quotas(emulator, "other-project")["BACKEND_SERVICES"] == (0, 50)  # per project


def test_region_quotas_count_the_regions_negs(emulator: EmulatorServer, quotas: str) -> None:
    c = clients(emulator)
    make_neg(c, "neg-a")
    make_neg(c, "neg-b", region="europe-west1")
    assert region_quotas(emulator) == {"NETWORK_ENDPOINT_GROUPS": (1, 100)}
    assert region_quotas(emulator, "europe-west1") == {"NETWORK_ENDPOINT_GROUPS": (1, 100)}
    assert region_quotas(emulator, "asia-east1") == {"NETWORK_ENDPOINT_GROUPS": (0, 100)}


def test_a_region_name_compute_would_not_know_is_404(emulator: EmulatorServer) -> None:
    with pytest.raises(exceptions.NotFound):
        compute_v1.RegionsClient(**client_kwargs(emulator.url)).get(project=PROJECT, region="nowhere")


def test_limits_are_set_partially_read_and_put_back(emulator: EmulatorServer, quotas: str) -> None:
    reply = requests.post(quotas, json={"BACKEND_SERVICES": 4, "NETWORK_ENDPOINT_GROUPS": "2"}, timeout=5)
    assert reply.status_code == 200, reply.text
    assert reply.json()["BACKEND_SERVICES"] == 4 and reply.json()["URL_MAPS"] == 10
    assert requests.get(quotas, timeout=5).json()["NETWORK_ENDPOINT_GROUPS"] == 2
    assert project_quotas(emulator)["BACKEND_SERVICES"] == (0, 4)
    assert region_quotas(emulator)["NETWORK_ENDPOINT_GROUPS"] == (0, 2)
    assert requests.delete(quotas, timeout=5).json()["BACKEND_SERVICES"] == 50
    assert project_quotas(emulator)["BACKEND_SERVICES"] == (0, 50)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"BACKEND_SERVICE": 3}, "BACKEND_SERVICE: unknown field"),
        ({"BACKEND_SERVICES": -1}, "BACKEND_SERVICES: must be between 0 and 1000000, got -1"),
        ({"BACKEND_SERVICES": "many"}, "BACKEND_SERVICES: expected an integer, got 'many'"),
        ({"URL_MAPS": 3, "BACKEND_SERVICES": True}, "BACKEND_SERVICES: expected an integer, got True"),
    ],
)
def test_bad_limits_are_400_naming_the_metric_and_change_nothing(
    emulator: EmulatorServer, quotas: str, body: dict[str, object], message: str
) -> None:
    reply = requests.post(quotas, json=body, timeout=5)
    assert reply.status_code == 400 and message in reply.json()["error"]["message"]
    assert requests.get(quotas, timeout=5).json()["URL_MAPS"] == 10


def test_the_control_is_not_an_api_call(emulator: EmulatorServer, quotas: str) -> None:
    mark = max((c["seq"] for c in emulator.emulator.calls.since(0)), default=0)
    requests.get(quotas, timeout=5).raise_for_status()
    project_quotas(emulator)
    paths = [c["path"] for c in emulator.emulator.calls.since(mark)]
    assert paths == [f"/compute/v1/projects/{PROJECT}"]


@pytest.mark.parametrize(
    ("path", "schema"), [(f"projects/{PROJECT}", "Project"), (f"projects/{PROJECT}/regions/{REGION}", "Region")]
)
def test_answers_have_the_discovery_documents_shape(emulator: EmulatorServer, path: str, schema: str) -> None:
    from .test_conformance import check_value

    body = requests.get(f"{emulator.url}/compute/v1/{path}", timeout=5).json()
    problems: list[str] = []
    check_value("compute.v1", body, {"$ref": schema}, schema, problems)
    assert problems == [] and body["quotas"]
