"""Compute emulator: serverless NEGs, backend services, security policies and backend buckets, driven by
google-cloud-compute over HTTP."""

from __future__ import annotations

import base64

import pytest
from google.api_core import exceptions
from google.cloud import compute_v1

from emulator import EmulatorServer

from .test_compute_support import (
    BASE,
    PROJECT,
    REGION,
    clients,
    error_message,
    from_wire,
    make_backend_service,
    make_neg,
    make_url_map,
    raw,
)


def test_neg_lifecycle(emulator: EmulatorServer) -> None:
    c = clients(emulator)
    neg = make_neg(c)
    assert neg.kind == "compute#networkEndpointGroup"
    assert neg.network_endpoint_type == "SERVERLESS"
    assert neg.cloud_run.service == "hello"
    assert neg.region == f"{BASE}projects/{PROJECT}/regions/{REGION}"
    assert neg.self_link == f"{BASE}projects/{PROJECT}/regions/{REGION}/networkEndpointGroups/neg-hello"
    assert neg.id > 0 and neg.creation_timestamp and neg.size == 0
    assert [n.name for n in c.negs.list(project=PROJECT, region=REGION)] == ["neg-hello"]
    assert list(c.negs.list(project=PROJECT, region="europe-west1")) == []

    c.negs.delete(project=PROJECT, region=REGION, network_endpoint_group="neg-hello").result(timeout=10)
    with pytest.raises(exceptions.NotFound) as err:
        c.negs.get(project=PROJECT, region=REGION, network_endpoint_group="neg-hello")
    assert error_message(err.value) == (
        f"The resource 'projects/{PROJECT}/regions/{REGION}/networkEndpointGroups/neg-hello' was not found"
    )


@pytest.mark.parametrize(
    ("resource", "message"),
    [
        pytest.param(
            {"name": "Bad_Name", "networkEndpointType": "SERVERLESS", "cloudRun": {"service": "s"}},
            "Invalid value for field 'resource.name': 'Bad_Name'. "
            "Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'",
            id="bad-name",
        ),
        pytest.param(
            {"networkEndpointType": "SERVERLESS", "cloudRun": {"service": "s"}},
            "Required field 'resource.name' not specified",
            id="no-name",
        ),
        pytest.param(
            {
                "name": "n",
                "networkEndpointType": "SERVERLESS",
                "cloudRun": {"service": "s"},
                "appEngine": {"service": "a"},
            },
            "A SERVERLESS network endpoint group must specify exactly one of cloudRun, appEngine or cloudFunction; "
            "got 2.",
            id="two-sources",
        ),
        pytest.param(
            {"name": "n", "networkEndpointType": "SERVERLESS", "cloudRun": {"service": "s"}, "defaultPort": 80},
            "Invalid value for field 'resource.defaultPort': '80'. "
            "Default port must not be specified for SERVERLESS network endpoint groups.",
            id="default-port",
        ),
        pytest.param(
            {"name": "n", "networkEndpointType": "SERVERLESS", "cloudRun": {"tag": "blue"}},
            "The service must be provided explicitly or in the URL mask.",
            id="no-service",
        ),
        pytest.param(
            {"name": "n", "cloudRun": {"service": "s"}},
            "Invalid value for field 'resource.networkEndpointType': 'GCE_VM_IP_PORT'. "
            "The emulator supports only SERVERLESS regional network endpoint groups.",
            id="not-serverless",
        ),
    ],
)
def test_neg_rules(emulator: EmulatorServer, resource: dict, message: str) -> None:
    c = clients(emulator)
    with pytest.raises(exceptions.BadRequest) as err:
        neg = from_wire(compute_v1.NetworkEndpointGroup, resource)
        c.negs.insert(project=PROJECT, region=REGION, network_endpoint_group_resource=neg)
    assert error_message(err.value) == message


def test_duplicate_insert_is_409_already_exists(emulator: EmulatorServer) -> None:
    c = clients(emulator)
    make_neg(c)
    with pytest.raises(exceptions.Conflict) as err:
        make_neg(c)
    assert error_message(err.value) == (
        f"The resource 'projects/{PROJECT}/regions/{REGION}/networkEndpointGroups/neg-hello' already exists"
    )
    assert err.value.errors[0]["reason"] == "alreadyExists"


def test_backend_service_lifecycle_with_server_defaults_and_patch(emulator: EmulatorServer) -> None:
    c = clients(emulator)
    neg = make_neg(c)
    bs = make_backend_service(c, groups=[neg.self_link])
    assert bs.kind == "compute#backendService"
    assert bs.self_link == f"{BASE}projects/{PROJECT}/global/backendServices/bs-hello"
    assert bs.backends[0].group == neg.self_link
    assert (bs.load_balancing_scheme, bs.protocol, bs.timeout_sec) == ("EXTERNAL_MANAGED", "HTTPS", 30)
    assert bs.fingerprint

    patch = compute_v1.BackendService(description="owned", fingerprint=bs.fingerprint)
    c.backend_services.patch(project=PROJECT, backend_service="bs-hello", backend_service_resource=patch).result(
        timeout=10
    )
    after = c.backend_services.get(project=PROJECT, backend_service="bs-hello")
    assert after.description == "owned"
    assert after.backends[0].group == neg.self_link  # merge patch keeps what the patch does not name
    assert after.fingerprint != bs.fingerprint

    after.backends = []
    c.backend_services.update(project=PROJECT, backend_service="bs-hello", backend_service_resource=after).result()
    assert list(c.backend_services.get(project=PROJECT, backend_service="bs-hello").backends) == []
    c.negs.delete(project=PROJECT, region=REGION, network_endpoint_group="neg-hello").result()
    c.backend_services.delete(project=PROJECT, backend_service="bs-hello").result()
    assert list(c.backend_services.list(project=PROJECT)) == []


def test_backend_service_stale_fingerprint_is_412(emulator: EmulatorServer) -> None:
    c = clients(emulator)
    bs = make_backend_service(c)
    c.backend_services.patch(
        project=PROJECT,
        backend_service="bs-hello",
        backend_service_resource=compute_v1.BackendService(description="one", fingerprint=bs.fingerprint),
    ).result()
    with pytest.raises(exceptions.PreconditionFailed) as err:
        c.backend_services.patch(
            project=PROJECT,
            backend_service="bs-hello",
            backend_service_resource=compute_v1.BackendService(description="two", fingerprint=bs.fingerprint),
        )
    assert error_message(err.value) == "Precondition Failed"
    assert err.value.errors[0]["reason"] == "conditionNotMet"
    with pytest.raises(exceptions.PreconditionFailed, match="the request has no fingerprint"):
        c.backend_services.patch(
            project=PROJECT, backend_service="bs-hello", backend_service_resource=compute_v1.BackendService()
        )


def test_backend_group_must_be_a_full_url_of_an_existing_neg(emulator: EmulatorServer) -> None:
    c = clients(emulator)
    partial = f"projects/{PROJECT}/regions/{REGION}/networkEndpointGroups/neg-hello"
    with pytest.raises(exceptions.BadRequest) as err:
        make_backend_service(c, groups=[partial])
    assert error_message(err.value) == (
        f"Invalid value for field 'resource.backends[0].group': '{partial}'. The URL is malformed."
    )
    with pytest.raises(exceptions.NotFound) as missing:
        make_backend_service(c, groups=[BASE + partial])
    assert error_message(missing.value) == f"The resource '{partial}' was not found"


@pytest.mark.parametrize(
    ("backend", "extra", "message"),
    [
        pytest.param(
            {"balancingMode": "RATE"},
            {},
            "Invalid value for field 'resource.backends[0].balancingMode': 'RATE'. "
            "Balancing mode is not supported for Serverless network endpoint groups.",
            id="balancing-mode",
        ),
        pytest.param(
            {"capacityScaler": 1.0},
            {},
            "Invalid value for field 'resource.backends[0].capacityScaler': '1.0'. "
            "'capacityScaler' is not supported for Serverless network endpoint groups.",
            id="capacity-scaler",
        ),
        pytest.param(
            {},
            {"healthChecks": ["global/healthChecks/hc"]},
            "Invalid value for field 'resource.healthChecks': '[\"global/healthChecks/hc\"]'. "
            "Backend services with internet or serverless NEG backends must not have a health check.",
            id="health-check",
        ),
        pytest.param(
            {},
            {"loadBalancingScheme": "GLOBAL"},
            "Invalid value for field 'resource.loadBalancingScheme': 'GLOBAL'. Must be one of [EXTERNAL, "
            "EXTERNAL_MANAGED, EXTERNAL_PASSTHROUGH, INTERNAL, INTERNAL_MANAGED, INTERNAL_SELF_MANAGED].",
            id="scheme",
        ),
    ],
)
def test_serverless_backend_restrictions(emulator: EmulatorServer, backend: dict, extra: dict, message: str) -> None:
    c = clients(emulator)
    neg = make_neg(c)
    resource = from_wire(
        compute_v1.BackendService, {"name": "bs", "backends": [{"group": neg.self_link, **backend}], **extra}
    )
    with pytest.raises(exceptions.BadRequest) as err:
        c.backend_services.insert(project=PROJECT, backend_service_resource=resource)
    assert error_message(err.value) == message


def test_in_use_neg_and_backend_service_cannot_be_deleted(emulator: EmulatorServer) -> None:
    c = clients(emulator)
    neg = make_neg(c)
    bs = make_backend_service(c, groups=[neg.self_link])
    make_url_map(c, "lb", bs.self_link)
    assert [u.reference for u in c.backend_services.get(project=PROJECT, backend_service="bs-hello").used_by] == [
        f"{BASE}projects/{PROJECT}/global/urlMaps/lb"
    ]

    with pytest.raises(exceptions.BadRequest) as neg_err:
        c.negs.delete(project=PROJECT, region=REGION, network_endpoint_group="neg-hello")
    assert error_message(neg_err.value) == (
        f"The networkEndpointGroup resource 'projects/{PROJECT}/regions/{REGION}/networkEndpointGroups/neg-hello' "
        f"is already being used by 'projects/{PROJECT}/global/backendServices/bs-hello'"
    )
    assert neg_err.value.errors[0]["reason"] == "resourceInUseByAnotherResource"

    with pytest.raises(exceptions.BadRequest) as bs_err:
        c.backend_services.delete(project=PROJECT, backend_service="bs-hello")
    assert error_message(bs_err.value) == (
        f"The backendService resource 'projects/{PROJECT}/global/backendServices/bs-hello' "
        f"is already being used by 'projects/{PROJECT}/global/urlMaps/lb'"
    )
    assert bs_err.value.errors[0]["reason"] == "resourceInUseByAnotherResource"

    # Reverse dependency order works.
    c.url_maps.delete(project=PROJECT, url_map="lb").result()
    c.backend_services.delete(project=PROJECT, backend_service="bs-hello").result()
    c.negs.delete(project=PROJECT, region=REGION, network_endpoint_group="neg-hello").result()
    assert emulator.emulator.compute.snapshot()["resources"] == {}


def test_security_policy_attach_detach_and_in_use(emulator: EmulatorServer) -> None:
    c = clients(emulator)
    policy = compute_v1.SecurityPolicy(name="armor", description="edge")
    c.security_policies.insert(project=PROJECT, security_policy_resource=policy).result()
    got = c.security_policies.get(project=PROJECT, security_policy="armor")
    assert got.kind == "compute#securityPolicy" and got.type_ == "CLOUD_ARMOR"
    assert [r.priority for r in got.rules] == [2147483647]  # production's default rule
    bs = make_backend_service(c)

    c.backend_services.set_security_policy(
        project=PROJECT,
        backend_service="bs-hello",
        security_policy_reference_resource=compute_v1.SecurityPolicyReference(security_policy=got.self_link),
    ).result()
    attached = c.backend_services.get(project=PROJECT, backend_service="bs-hello")
    assert attached.security_policy == got.self_link
    assert attached.fingerprint != bs.fingerprint

    with pytest.raises(exceptions.BadRequest) as err:
        c.security_policies.delete(project=PROJECT, security_policy="armor")
    assert error_message(err.value) == (
        f"The securityPolicy resource 'projects/{PROJECT}/global/securityPolicies/armor' "
        f"is already being used by 'projects/{PROJECT}/global/backendServices/bs-hello'"
    )
    assert err.value.errors[0]["reason"] == "resourceInUseByAnotherResource"

    # An update cannot change or drop the output-only field; only setSecurityPolicy does.
    attached.security_policy = ""
    c.backend_services.update(project=PROJECT, backend_service="bs-hello", backend_service_resource=attached).result()
    assert c.backend_services.get(project=PROJECT, backend_service="bs-hello").security_policy == got.self_link

    c.backend_services.set_security_policy(
        project=PROJECT,
        backend_service="bs-hello",
        security_policy_reference_resource=compute_v1.SecurityPolicyReference(),
    ).result()
    assert not c.backend_services.get(project=PROJECT, backend_service="bs-hello").security_policy
    c.security_policies.delete(project=PROJECT, security_policy="armor").result()
    assert list(c.security_policies.list(project=PROJECT)) == []


def test_set_security_policy_must_resolve(emulator: EmulatorServer) -> None:
    c = clients(emulator)
    make_backend_service(c)
    with pytest.raises(exceptions.NotFound) as err:
        c.backend_services.set_security_policy(
            project=PROJECT,
            backend_service="bs-hello",
            security_policy_reference_resource=compute_v1.SecurityPolicyReference(
                security_policy=f"{BASE}projects/{PROJECT}/global/securityPolicies/nope"
            ),
        )
    assert error_message(err.value) == f"The resource 'projects/{PROJECT}/global/securityPolicies/nope' was not found"


def test_backend_bucket_lifecycle_and_in_use(emulator: EmulatorServer) -> None:
    body = {"name": "static", "bucketName": "my-bucket", "description": "assets"}
    assert raw(emulator, "POST", "global/backendBuckets", json=body).json()["status"] == "DONE"
    got = raw(emulator, "GET", "global/backendBuckets/static").json()
    assert (got["kind"], got["bucketName"], got["description"]) == ("compute#backendBucket", "my-bucket", "assets")
    c = clients(emulator)
    make_url_map(c, "lb", "global/backendBuckets/static")
    reply = raw(emulator, "DELETE", "global/backendBuckets/static")
    assert reply.status_code == 400
    assert reply.json()["error"]["message"] == (
        f"The backendBucket resource 'projects/{PROJECT}/global/backendBuckets/static' "
        f"is already being used by 'projects/{PROJECT}/global/urlMaps/lb'"
    )
    missing = raw(emulator, "POST", "global/backendBuckets", json={"name": "b2"})
    assert missing.status_code == 400
    assert missing.json()["error"]["errors"][0] == {
        "message": "Required field 'resource.bucketName' not specified",
        "domain": "global",
        "reason": "required",
    }


def test_unemulated_method_says_so(emulator: EmulatorServer) -> None:
    reply = raw(emulator, "PATCH", "global/securityPolicies/armor", json={})
    assert reply.status_code == 501
    assert reply.json()["error"]["message"] == "compute.securityPolicies.patch is not implemented by the emulator."


def test_fingerprints_in_either_base64_alphabet_and_urls_on_any_host(emulator: EmulatorServer) -> None:
    """What gcloud sends with an endpoint override: URL-safe fingerprints, resource URLs on the override's host."""
    c = clients(emulator)
    make_neg(c)
    bs = make_backend_service(c)
    urlsafe = base64.urlsafe_b64encode(base64.b64decode(bs.fingerprint)).decode()
    group = f"http://compute.emulator.invalid/compute/v1/projects/{PROJECT}/regions/{REGION}/networkEndpointGroups/neg-hello"
    reply = raw(
        emulator,
        "PATCH",
        "global/backendServices/bs-hello",
        json={"fingerprint": urlsafe, "backends": [{"group": group}]},
    )
    assert reply.status_code == 200, reply.text
    stored = c.backend_services.get(project=PROJECT, backend_service="bs-hello")
    assert [b.group for b in stored.backends] == [
        f"{BASE}projects/{PROJECT}/regions/{REGION}/networkEndpointGroups/neg-hello"
    ]
    for stale in (urlsafe, "not base64!", ""):
        reply = raw(
            emulator, "PATCH", "global/backendServices/bs-hello", json={"fingerprint": stale, "description": "x"}
        )
        assert reply.status_code == 412, stale
