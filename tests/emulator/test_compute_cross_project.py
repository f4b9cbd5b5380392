"""Across projects (docs/google-apis.md §9.4), with the real google-cloud-compute client.

A load balancer's backend service uses serverless NEGs of its own project (cross-project NEGs exist only for
Cloud Service Mesh, `INTERNAL_SELF_MANAGED`); a URL map may name backend services and buckets of other projects
(cross-project service referencing), each resolved in its own project.
"""

from __future__ import annotations

import pytest
from google.api_core import exceptions
from google.cloud import compute_v1

from emulator import EmulatorServer
from shared.clients import ComputeClients, compute_client

from .test_compute_support import BASE, PROJECT, REGION, clients, error_message, make_url_map

OTHER = "runway-other"


def neg_in(c: ComputeClients, project: str, name: str = "neg-hello") -> str:
    resource = compute_v1.NetworkEndpointGroup(
        name=name,
        network_endpoint_type="SERVERLESS",
        cloud_run=compute_v1.NetworkEndpointGroupCloudRun(service="hello"),
    )
    c.negs.insert(project=project, region=REGION, network_endpoint_group_resource=resource).result(timeout=10)
    return f"{BASE}projects/{project}/regions/{REGION}/networkEndpointGroups/{name}"


def backend_service_in(c: ComputeClients, project: str, name: str, groups: list[str], scheme: str) -> str:
    resource = compute_v1.BackendService(
        name=name, load_balancing_scheme=scheme, backends=[compute_v1.Backend(group=g) for g in groups]
    )
    c.backend_services.insert(project=project, backend_service_resource=resource).result(timeout=10)
    return f"{BASE}projects/{project}/global/backendServices/{name}"


def cross_project_message(index: int, group: str) -> str:
    return (
        f"Invalid value for field 'resource.backends[{index}].group': '{group}'. The network endpoint group is in "
        f"project '{OTHER}', not in the backend service's project '{PROJECT}': a backend service can only use "
        "network endpoint groups of its own project (cross-project network endpoint groups need "
        "loadBalancingScheme INTERNAL_SELF_MANAGED, Cloud Service Mesh)."
    )


def test_a_backend_service_refuses_a_neg_of_another_project_on_insert(emulator: EmulatorServer) -> None:
    c = clients(emulator)
    own, foreign = neg_in(c, PROJECT), neg_in(c, OTHER)
    with pytest.raises(exceptions.BadRequest) as err:
        backend_service_in(c, PROJECT, "bs", [own, foreign], "EXTERNAL_MANAGED")
    assert error_message(err.value) == cross_project_message(1, foreign)
    assert err.value.errors[0]["reason"] == "invalid"
    assert list(c.backend_services.list(project=PROJECT)) == []
    # Refused as cross-project even when the NEG does not exist: the rule, not the lookup, decides.
    missing = f"{BASE}projects/{OTHER}/regions/{REGION}/networkEndpointGroups/nope"
    with pytest.raises(exceptions.BadRequest) as err:
        backend_service_in(c, PROJECT, "bs", [missing], "EXTERNAL_MANAGED")
    assert error_message(err.value) == cross_project_message(0, missing)


def test_a_backend_service_refuses_a_neg_of_another_project_on_patch_and_update(emulator: EmulatorServer) -> None:
    c = clients(emulator)
    own, foreign = neg_in(c, PROJECT), neg_in(c, OTHER)
    backend_service_in(c, PROJECT, "bs", [own], "EXTERNAL_MANAGED")
    current = c.backend_services.get(project=PROJECT, backend_service="bs")

    patch = compute_v1.BackendService(fingerprint=current.fingerprint, backends=[compute_v1.Backend(group=foreign)])
    with pytest.raises(exceptions.BadRequest) as err:
        c.backend_services.patch(project=PROJECT, backend_service="bs", backend_service_resource=patch)
    assert error_message(err.value) == cross_project_message(0, foreign)

    current.backends.append(compute_v1.Backend(group=foreign))
    with pytest.raises(exceptions.BadRequest) as err:
        c.backend_services.update(project=PROJECT, backend_service="bs", backend_service_resource=current)
    assert error_message(err.value) == cross_project_message(1, foreign)
    stored = c.backend_services.get(project=PROJECT, backend_service="bs")
    assert [b.group for b in stored.backends] == [own]  # nothing changed


def test_cloud_service_mesh_may_attach_a_neg_of_another_project(emulator: EmulatorServer) -> None:
    c = clients(emulator)
    foreign = neg_in(c, OTHER)
    backend_service_in(c, PROJECT, "mesh", [foreign], "INTERNAL_SELF_MANAGED")
    stored = c.backend_services.get(project=PROJECT, backend_service="mesh")
    assert [b.group for b in stored.backends] == [foreign]


def test_a_url_map_may_name_backend_services_and_buckets_of_other_projects(emulator: EmulatorServer) -> None:
    c = clients(emulator)
    foreign_service = backend_service_in(c, OTHER, "shop", [neg_in(c, OTHER)], "EXTERNAL_MANAGED")
    bucket = compute_v1.BackendBucket(name="assets", bucket_name=f"{OTHER}-assets")
    bucket_client = compute_client(compute_v1.BackendBucketsClient, emulator.url)
    bucket_client.insert(project=OTHER, backend_bucket_resource=bucket).result(timeout=10)
    foreign_bucket = f"{BASE}projects/{OTHER}/global/backendBuckets/assets"

    um = make_url_map(c, "lb", foreign_bucket, {foreign_service: ["/shop", "/shop/*"]})
    assert um.default_service == foreign_bucket
    assert um.path_matchers[0].path_rules[0].service == foreign_service
    used_by = c.backend_services.get(project=OTHER, backend_service="shop").used_by
    assert [u.reference for u in used_by] == [f"{BASE}projects/{PROJECT}/global/urlMaps/lb"]
    # What another project's URL map uses cannot be deleted from under it.
    with pytest.raises(exceptions.BadRequest) as err:
        c.backend_services.delete(project=OTHER, backend_service="shop")
    assert err.value.errors[0]["reason"] == "resourceInUseByAnotherResource"
    bucket_client.transport.close()


def test_a_url_map_resolves_a_backend_service_in_its_own_project(emulator: EmulatorServer) -> None:
    c = clients(emulator)
    backend_service_in(c, OTHER, "shop", [neg_in(c, OTHER)], "EXTERNAL_MANAGED")
    # The same name in the URL map's project is not the other project's service: 404 naming the path asked for.
    missing = f"{BASE}projects/{PROJECT}/global/backendServices/shop"
    with pytest.raises(exceptions.NotFound) as err:
        make_url_map(c, "lb", missing)
    assert error_message(err.value) == f"The resource 'projects/{PROJECT}/global/backendServices/shop' was not found"
    third = f"{BASE}projects/runway-third/global/backendServices/shop"
    with pytest.raises(exceptions.NotFound) as err:
        make_url_map(c, "lb", third)
    assert error_message(err.value) == "The resource 'projects/runway-third/global/backendServices/shop' was not found"
    assert list(c.url_maps.list(project=PROJECT)) == []
