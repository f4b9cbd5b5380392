"""`gcloud compute` as a platform engineer types it, every result read back through the API with the Python client.

gcloud builds the URLs of the resources a command names on its endpoint override
(`http://compute.emulator.invalid/compute/v1/projects/...`); the emulator stores and answers them as
`https://www.googleapis.com/compute/v1/...`. gcloud sends fingerprints URL-safe base64 encoded, and lists without
`--global`/`--regions` through the aggregated lists.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from google.cloud import compute_v1

from emulator import EmulatorServer
from shared import clients
from shared.clients import ComputeClients

from .gcloud_support import COMPUTE, MARKS, PROJECT, REGION, Gcloud

pytestmark = MARKS

NEG = f"{COMPUTE}projects/{PROJECT}/regions/{REGION}/networkEndpointGroups/neg-hello"
BACKEND = f"{COMPUTE}projects/{PROJECT}/global/backendServices/bs-hello"
OTHER_BACKEND = f"{COMPUTE}projects/{PROJECT}/global/backendServices/bs-other"
BUCKET = f"{COMPUTE}projects/{PROJECT}/global/backendBuckets/default-404"
POLICY = f"{COMPUTE}projects/{PROJECT}/global/securityPolicies/edge"


@pytest.fixture
def compute(emulator: EmulatorServer) -> Iterator[ComputeClients]:
    yield clients.compute(emulator.url)


def raw(emulator: EmulatorServer, path: str) -> Any:
    reply = requests.get(f"{emulator.url}/compute/v1/projects/{PROJECT}/{path}", timeout=5)
    reply.raise_for_status()
    return reply.json()


def neg(c: ComputeClients, name: str = "neg-hello", service: str = "hello") -> None:
    resource = compute_v1.NetworkEndpointGroup(
        name=name,
        network_endpoint_type="SERVERLESS",
        cloud_run=compute_v1.NetworkEndpointGroupCloudRun(service=service),
    )
    c.negs.insert(project=PROJECT, region=REGION, network_endpoint_group_resource=resource).result(timeout=10)


def backend_service(c: ComputeClients, name: str = "bs-hello", groups: tuple[str, ...] = ()) -> None:
    resource = compute_v1.BackendService(
        name=name, load_balancing_scheme="EXTERNAL_MANAGED", backends=[compute_v1.Backend(group=g) for g in groups]
    )
    c.backend_services.insert(project=PROJECT, backend_service_resource=resource).result(timeout=10)


def bucket(emulator: EmulatorServer) -> None:
    buckets = clients.compute_client(compute_v1.BackendBucketsClient, emulator.url)
    resource = compute_v1.BackendBucket(name="default-404", bucket_name=f"{PROJECT}-default")
    buckets.insert(project=PROJECT, backend_bucket_resource=resource).result(timeout=10)
    buckets.transport.close()


def test_network_endpoint_groups_create_and_describe(emulator: EmulatorServer, gcloud: Gcloud) -> None:
    gcloud(
        "compute", "network-endpoint-groups", "create", "neg-hello", "--region", REGION,
        "--network-endpoint-type=serverless", "--cloud-run-service=hello",
    )  # fmt: skip

    stored = clients.compute(emulator.url).negs.get(project=PROJECT, region=REGION, network_endpoint_group="neg-hello")
    assert (stored.network_endpoint_type, stored.cloud_run.service, stored.self_link) == ("SERVERLESS", "hello", NEG)
    described = gcloud.json("compute", "network-endpoint-groups", "describe", "neg-hello", "--region", REGION)
    assert described == raw(emulator, f"regions/{REGION}/networkEndpointGroups/neg-hello")


def test_backend_services_add_backend_and_security_policy(
    emulator: EmulatorServer, gcloud: Gcloud, compute: ComputeClients
) -> None:
    neg(compute)
    backend_service(compute)
    gcloud("compute", "security-policies", "create", "edge", "--description=edge policy")

    gcloud(
        "compute", "backend-services", "add-backend", "bs-hello", "--global",
        "--network-endpoint-group=neg-hello", f"--network-endpoint-group-region={REGION}",
    )  # fmt: skip
    gcloud("compute", "backend-services", "update", "bs-hello", "--global", "--security-policy", "edge")

    stored = compute.backend_services.get(project=PROJECT, backend_service="bs-hello")
    assert [b.group for b in stored.backends] == [NEG]  # gcloud's override-host URL, stored as Google's
    assert stored.security_policy == POLICY
    policy = compute.security_policies.get(project=PROJECT, security_policy="edge")
    assert policy.description == "edge policy"
    # gcloud prints `security-policies describe` as a one-element list (its batch helper); the resource is the API's.
    [described] = gcloud.json("compute", "security-policies", "describe", "edge")
    assert {**described, "fingerprint": policy.fingerprint} == raw(emulator, "global/securityPolicies/edge")
    assert base64.urlsafe_b64decode(described["fingerprint"]) == base64.b64decode(policy.fingerprint)


def test_url_maps_create_add_set_validate_remove(
    emulator: EmulatorServer, gcloud: Gcloud, compute: ComputeClients
) -> None:
    neg(compute)
    backend_service(compute, groups=(NEG,))
    backend_service(compute, "bs-other")
    bucket(emulator)

    gcloud("compute", "url-maps", "create", "runway-lb", "--default-backend-bucket=default-404")
    assert compute.url_maps.get(project=PROJECT, url_map="runway-lb").default_service == BUCKET

    gcloud(
        "compute", "url-maps", "add-path-matcher", "runway-lb", "--path-matcher-name=shop",
        "--default-service=bs-hello", "--new-hosts=shop.example.com", "--path-rules=/cart=bs-other,/cart/*=bs-other",
    )  # fmt: skip
    stored = compute.url_maps.get(project=PROJECT, url_map="runway-lb")
    assert [(list(h.hosts), h.path_matcher) for h in stored.host_rules] == [(["shop.example.com"], "shop")]
    [matcher] = stored.path_matchers
    assert (matcher.name, matcher.default_service) == ("shop", BACKEND)
    assert sorted((tuple(r.paths), r.service) for r in matcher.path_rules) == [(("/cart", "/cart/*"), OTHER_BACKEND)]

    gcloud("compute", "url-maps", "set-default-service", "runway-lb", "--default-service=bs-hello")
    assert compute.url_maps.get(project=PROJECT, url_map="runway-lb").default_service == BACKEND

    gcloud("compute", "url-maps", "remove-path-matcher", "runway-lb", "--path-matcher-name=shop")
    stored = compute.url_maps.get(project=PROJECT, url_map="runway-lb")
    assert (list(stored.path_matchers), list(stored.host_rules), stored.default_service) == ([], [], BACKEND)


def test_url_maps_validate_reports_the_tests(emulator: EmulatorServer, gcloud: Gcloud, tmp_path: Path) -> None:
    c = clients.compute(emulator.url)
    neg(c)
    backend_service(c, groups=(NEG,))
    bucket(emulator)
    source = tmp_path / "lb.yaml"  # JSON is YAML
    source.write_text(
        json.dumps(
            {
                "name": "runway-lb",
                "defaultService": BUCKET,
                "hostRules": [{"hosts": ["shop.example.com"], "pathMatcher": "shop"}],
                "pathMatchers": [{"name": "shop", "defaultService": BACKEND}],
                "tests": [
                    {"host": "shop.example.com", "path": "/", "service": BACKEND},
                    {"host": "other.example.com", "path": "/", "service": BACKEND},
                ],
            }
        )
    )

    result = gcloud.json("compute", "url-maps", "validate", f"--source={source}", "--global")["result"]

    assert result["loadSucceeded"] is True and result["testPassed"] is False
    [failure] = result["testFailures"]
    assert (failure["host"], failure["expectedService"], failure["actualService"]) == (
        "other.example.com",
        BACKEND,
        BUCKET,
    )
    assert list(c.url_maps.list(project=PROJECT)) == []  # validate stores nothing


def test_updates_carry_gcloud_s_url_safe_fingerprints(
    emulator: EmulatorServer, gcloud: Gcloud, compute: ComputeClients
) -> None:
    """gcloud sends a fingerprint it read URL-safe base64 encoded: `-` and `_` where the wire has `+` and `/`."""
    neg(compute)
    backend_service(compute, groups=(NEG,))
    bucket(emulator)
    compute.url_maps.insert(
        project=PROJECT, url_map_resource=compute_v1.UrlMap(name="runway-lb", default_service=BUCKET)
    ).result(timeout=10)
    # Random fingerprints: patch until the stored one has a character the two alphabets spell differently.
    for attempt in range(200):
        fingerprint = compute.url_maps.get(project=PROJECT, url_map="runway-lb").fingerprint
        if "+" in fingerprint or "/" in fingerprint:
            break
        patch = compute_v1.UrlMap(fingerprint=fingerprint, description=f"attempt {attempt}")
        compute.url_maps.patch(project=PROJECT, url_map="runway-lb", url_map_resource=patch).result(timeout=10)
    assert "+" in fingerprint or "/" in fingerprint

    mark = requests.get(f"{emulator.url}/_emulator/requests", timeout=5).json()["requests"][-1]["seq"]

    gcloud("compute", "url-maps", "set-default-service", "runway-lb", "--default-service=bs-hello")

    calls = requests.get(f"{emulator.url}/_emulator/requests", params={"since": mark}, timeout=5).json()["requests"]
    writes = [(c["method"], c["path"], c["status"]) for c in calls if c["write"]]
    assert writes == [("PUT", f"/compute/v1/projects/{PROJECT}/global/urlMaps/runway-lb", 200)]
    stored = compute.url_maps.get(project=PROJECT, url_map="runway-lb")
    assert stored.default_service == BACKEND and stored.fingerprint != fingerprint


def test_lists_without_a_scope_are_aggregated(
    emulator: EmulatorServer, gcloud: Gcloud, compute: ComputeClients
) -> None:
    neg(compute)
    backend_service(compute, groups=(NEG,))
    bucket(emulator)
    compute.security_policies.insert(
        project=PROJECT, security_policy_resource=compute_v1.SecurityPolicy(name="edge")
    ).result(timeout=10)
    compute.url_maps.insert(
        project=PROJECT, url_map_resource=compute_v1.UrlMap(name="runway-lb", default_service=BACKEND)
    ).result(timeout=10)

    def names(*command: str) -> list[str]:
        return sorted(item["name"] for item in gcloud.json("compute", *command, "list"))

    assert names("backend-services") == ["bs-hello"]
    assert names("url-maps") == ["runway-lb"]
    assert names("network-endpoint-groups") == ["neg-hello"]
    assert names("security-policies") == ["edge"]
    assert names("backend-buckets") == ["default-404"]
    listed = gcloud.json("compute", "operations", "list")
    expected = [op.name for op in compute.global_operations.list(project=PROJECT)]
    expected += [op.name for op in compute.region_operations.list(project=PROJECT, region=REGION)]
    assert sorted(op["name"] for op in listed) == sorted(expected)
    assert {op["operationType"] for op in listed} == {"insert"} and {op["status"] for op in listed} == {"DONE"}
    # The wire shape: every scope, the empty ones with Compute's warning.
    body = raw(emulator, "aggregated/backendServices")
    assert body["items"]["global"]["backendServices"][0]["selfLink"] == BACKEND
    assert body["items"][f"regions/{REGION}"]["warning"]["code"] == "NO_RESULTS_ON_PAGE"
