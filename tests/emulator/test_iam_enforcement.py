"""Enforcement, API by API: a caller without the permission gets production's 403 (exact envelope and message),
and the same call goes through once a role grants it. No policy anywhere: everything is allowed."""

from __future__ import annotations

import pytest
import requests
from google.api_core import exceptions
from google.cloud import run_v2

from emulator import EmulatorServer
from emulator.run.rules import project_number

from .iam_support import (
    ADMIN,
    ALICE,
    BOB,
    IMAGE,
    OTHER,
    PROJECT,
    REGION,
    api,
    client_kwargs,
    compute_403,
    refused,
    rpc_403,
)

V2_PARENT = f"projects/{PROJECT}/locations/{REGION}"
DEFAULT_SA = f"{project_number(PROJECT)}-compute@developer.gserviceaccount.com"
COMPUTE = "https://www.googleapis.com/compute/v1/"


def lock(emulator: EmulatorServer, project: str = PROJECT) -> None:
    """Turn enforcement on for `project`: a policy naming only the admin as owner."""
    emulator.emulator.iam.set_policy(f"projects/{project}", {"roles/owner": [f"user:{ADMIN}"]})


def grant(emulator: EmulatorServer, role: str, who: str, resource: str = f"projects/{PROJECT}") -> None:
    emulator.emulator.iam.grant(resource, role, f"user:{who}")


def create_service(emulator: EmulatorServer, name: str = "hello", who: str | None = None, **template: object) -> None:
    body = {"template": {"containers": [{"image": IMAGE}], **template}}
    api(emulator, "run", "v2", who).projects().locations().services().create(
        parent=V2_PARENT, serviceId=name, body=body
    ).execute()


# -- permissive by default ------------------------------------------------------------------------------------


def test_no_policy_anywhere_allows_everything(emulator: EmulatorServer) -> None:
    lock(emulator, OTHER)  # a policy on another project changes nothing here
    create_service(emulator, who=BOB)
    services = api(emulator, "run", "v1", BOB).namespaces().services()
    assert services.get(name=f"namespaces/{PROJECT}/services/hello").execute()["metadata"]["name"] == "hello"
    assert emulator.emulator.iam.enforced(f"projects/{PROJECT}") is False
    assert emulator.emulator.iam.enforced(f"projects/{OTHER}") is True


# -- Cloud Run --------------------------------------------------------------------------------------------------


def test_run_v1_get_denied_then_allowed_by_run_viewer(emulator: EmulatorServer) -> None:
    create_service(emulator)
    lock(emulator)
    get = api(emulator, "run", "v1", ALICE).namespaces().services().get(name=f"namespaces/{PROJECT}/services/hello")
    assert refused(get) == rpc_403(
        f"Permission 'run.services.get' denied on resource 'namespaces/{PROJECT}/services/hello' "
        "(or resource may not exist)."
    )
    grant(emulator, "roles/run.viewer", ALICE)
    assert get.execute()["metadata"]["name"] == "hello"


def test_run_v2_get_denied_even_for_a_service_that_does_not_exist(emulator: EmulatorServer) -> None:
    lock(emulator)
    services = api(emulator, "run", "v2", ALICE).projects().locations().services()
    assert refused(services.get(name=f"{V2_PARENT}/services/nope")) == rpc_403(
        f"Permission 'run.services.get' denied on resource '{V2_PARENT}/services/nope' (or resource may not exist)."
    )
    client = run_v2.ServicesClient(**client_kwargs(emulator, ALICE))
    with pytest.raises(exceptions.Forbidden, match=r"Permission 'run\.services\.list' denied on resource "):
        client.list_services(parent=V2_PARENT)  # api-core maps HTTP 403 to Forbidden
    grant(emulator, "roles/run.viewer", ALICE)
    assert list(client.list_services(parent=V2_PARENT)) == []
    with pytest.raises(exceptions.NotFound):
        client.get_service(name=f"{V2_PARENT}/services/nope")
    client.transport.close()


def test_run_v2_patch_needs_act_as_on_the_runtime_account(emulator: EmulatorServer) -> None:
    create_service(emulator)
    lock(emulator)
    grant(emulator, "roles/run.developer", ALICE)
    services = api(emulator, "run", "v2", ALICE).projects().locations().services()
    patch = services.patch(
        name=f"{V2_PARENT}/services/hello", updateMask="labels", body={"labels": {"public-route": "true"}}
    )
    assert refused(patch) == rpc_403(
        f"Permission 'iam.serviceaccounts.actAs' denied on service account {DEFAULT_SA} (or it may not exist)."
    )
    # Granted on the account itself, not the project (the account's project is found from its number).
    grant(emulator, "roles/iam.serviceAccountUser", ALICE, f"projects/{PROJECT}/serviceAccounts/{DEFAULT_SA}")
    assert patch.execute()["done"] is True


def test_run_v2_patch_with_allow_missing_is_a_create(emulator: EmulatorServer) -> None:
    lock(emulator)
    emulator.emulator.iam.add_role(
        f"projects/{PROJECT}", "updater", ["run.services.update", "run.services.get", "iam.serviceAccounts.actAs"]
    )
    grant(emulator, f"projects/{PROJECT}/roles/updater", ALICE)
    services = api(emulator, "run", "v2", ALICE).projects().locations().services()
    upsert = services.patch(
        name=f"{V2_PARENT}/services/fresh", allowMissing=True, body={"template": {"containers": [{"image": IMAGE}]}}
    )
    assert refused(upsert)["error"]["message"].startswith("Permission 'run.services.create' denied on resource")
    grant(emulator, "roles/run.developer", ALICE)
    upsert.execute()
    assert services.get(name=f"{V2_PARENT}/services/fresh").execute()["name"] == f"{V2_PARENT}/services/fresh"


def test_run_v1_replace_needs_act_as_on_the_templates_account(emulator: EmulatorServer) -> None:
    runner = f"runner@{PROJECT}.iam.gserviceaccount.com"
    create_service(emulator, serviceAccount=runner)
    lock(emulator)
    grant(emulator, "roles/run.developer", ALICE)
    services = api(emulator, "run", "v1", ALICE).namespaces().services()
    current = services.get(name=f"namespaces/{PROJECT}/services/hello").execute()
    assert current["spec"]["template"]["spec"]["serviceAccountName"] == runner
    current["metadata"]["labels"]["public-route"] = "true"
    replace = services.replaceService(name=f"namespaces/{PROJECT}/services/hello", body=current)
    assert refused(replace)["error"]["message"] == (
        f"Permission 'iam.serviceaccounts.actAs' denied on service account {runner} (or it may not exist)."
    )
    grant(emulator, "roles/iam.serviceAccountUser", ALICE)  # project-wide: every account of the project
    assert replace.execute()["metadata"]["labels"]["public-route"] == "true"


def test_run_operations(emulator: EmulatorServer) -> None:
    lock(emulator)
    grant(emulator, "roles/run.developer", ADMIN)
    created = (
        api(emulator, "run", "v2", ADMIN)
        .projects()
        .locations()
        .services()
        .create(parent=V2_PARENT, serviceId="hello", body={"template": {"containers": [{"image": IMAGE}]}})
        .execute()
    )
    operations = api(emulator, "run", "v2", BOB).projects().locations().operations()
    assert refused(operations.get(name=created["name"])) == rpc_403(
        f"Permission 'run.operations.get' denied on resource '{created['name']}' (or resource may not exist)."
    )
    grant(emulator, "roles/run.viewer", BOB)
    assert operations.get(name=created["name"]).execute()["done"] is True


def test_a_service_policy_grants_on_that_service_only(emulator: EmulatorServer) -> None:
    create_service(emulator, "hello")
    create_service(emulator, "other")
    lock(emulator)
    admin = api(emulator, "run", "v2", ADMIN).projects().locations().services()
    admin.setIamPolicy(
        resource=f"{V2_PARENT}/services/hello",
        body={"policy": {"bindings": [{"role": "roles/run.viewer", "members": [f"user:{ALICE}"]}]}},
    ).execute()
    services = api(emulator, "run", "v2", ALICE).projects().locations().services()
    assert services.get(name=f"{V2_PARENT}/services/hello").execute()["name"].endswith("/hello")
    refused(services.get(name=f"{V2_PARENT}/services/other"))
    # Deleted and created again: a new service, without the old one's policy.
    admin.delete(name=f"{V2_PARENT}/services/hello").execute()
    create_service(emulator, "hello", who=ADMIN)
    refused(services.get(name=f"{V2_PARENT}/services/hello"))


# -- Compute ----------------------------------------------------------------------------------------------------


def _bucket(emulator: EmulatorServer, project: str, name: str, who: str | None = None) -> str:
    compute = api(emulator, "compute", "v1", who)
    compute.backendBuckets().insert(project=project, body={"name": name, "bucketName": f"{project}-{name}"}).execute()
    return f"{COMPUTE}projects/{project}/global/backendBuckets/{name}"


def _backend_service(emulator: EmulatorServer, project: str, name: str, who: str | None = None) -> str:
    compute = api(emulator, "compute", "v1", who)
    body = {"name": name, "loadBalancingScheme": "EXTERNAL_MANAGED", "protocol": "HTTPS"}
    compute.backendServices().insert(project=project, body=body).execute()
    return f"{COMPUTE}projects/{project}/global/backendServices/{name}"


def _url_map(emulator: EmulatorServer, default: str) -> None:
    body = {"name": "lb", "defaultService": default}
    api(emulator, "compute", "v1").urlMaps().insert(project=PROJECT, body=body).execute()


def _patch(emulator: EmulatorServer, who: str, body: dict[str, object]) -> object:
    url_maps = api(emulator, "compute", "v1", who).urlMaps()
    current = api(emulator, "compute", "v1", ADMIN).urlMaps().get(project=PROJECT, urlMap="lb").execute()
    return url_maps.patch(project=PROJECT, urlMap="lb", body={"fingerprint": current["fingerprint"], **body})


def test_compute_url_map_patch_denied_then_allowed(emulator: EmulatorServer) -> None:
    _url_map(emulator, _bucket(emulator, PROJECT, "default-404"))
    lock(emulator)
    patch = _patch(emulator, ALICE, {"description": "shared"})
    assert refused(patch) == compute_403("compute.urlMaps.update", f"projects/{PROJECT}/global/urlMaps/lb")
    grant(emulator, "roles/compute.loadBalancerAdmin", ALICE)
    assert patch.execute()["status"] == "DONE"


def test_url_map_needs_use_on_a_backend_service_in_another_project(emulator: EmulatorServer) -> None:
    bucket = _bucket(emulator, PROJECT, "default-404")
    shared = _backend_service(emulator, OTHER, "shared-bs")
    _url_map(emulator, bucket)
    lock(emulator)
    lock(emulator, OTHER)
    grant(emulator, "roles/compute.loadBalancerAdmin", ALICE)  # in PROJECT only
    body = {
        "hostRules": [{"hosts": ["shop.example.com"], "pathMatcher": "shop"}],
        "pathMatchers": [{"name": "shop", "defaultService": shared}],
    }
    assert refused(_patch(emulator, ALICE, body)) == compute_403(
        "compute.backendServices.use", f"projects/{OTHER}/global/backendServices/shared-bs"
    )
    grant(emulator, "roles/compute.loadBalancerServiceUser", ALICE, f"projects/{OTHER}")
    assert _patch(emulator, ALICE, body).execute()["status"] == "DONE"


def test_url_map_needs_backend_buckets_use_for_a_bucket(emulator: EmulatorServer) -> None:
    bucket = _bucket(emulator, PROJECT, "default-404")
    other_bucket = _bucket(emulator, PROJECT, "static")
    _url_map(emulator, bucket)
    lock(emulator)
    role = ["compute.urlMaps.get", "compute.urlMaps.update", "compute.backendServices.use"]
    emulator.emulator.iam.add_role(f"projects/{PROJECT}", "urlmapper", role)
    grant(emulator, f"projects/{PROJECT}/roles/urlmapper", ALICE)
    body = {"defaultService": other_bucket}
    assert refused(_patch(emulator, ALICE, body)) == compute_403(
        "compute.backendBuckets.use", f"projects/{PROJECT}/global/backendBuckets/static"
    )
    # A bucket-level grant is enough (§9.4: on the project or on the resource).
    grant(emulator, "roles/compute.loadBalancerServiceUser", ALICE, f"projects/{PROJECT}/global/backendBuckets/static")
    assert _patch(emulator, ALICE, body).execute()["status"] == "DONE"


def test_backend_service_insert_needs_neg_use_and_set_security_policy_needs_policy_use(
    emulator: EmulatorServer,
) -> None:
    compute = api(emulator, "compute", "v1")
    neg = {"name": "neg-hello", "networkEndpointType": "SERVERLESS", "cloudRun": {"service": "hello"}}
    compute.regionNetworkEndpointGroups().insert(project=PROJECT, region=REGION, body=neg).execute()
    compute.securityPolicies().insert(project=PROJECT, body={"name": "edge"}).execute()
    lock(emulator)
    emulator.emulator.iam.add_role(
        f"projects/{PROJECT}",
        "bs_writer",
        ["compute.backendServices.create", "compute.backendServices.setSecurityPolicy"],
    )
    grant(emulator, f"projects/{PROJECT}/roles/bs_writer", ALICE)
    services = api(emulator, "compute", "v1", ALICE).backendServices()
    group = f"{COMPUTE}projects/{PROJECT}/regions/{REGION}/networkEndpointGroups/neg-hello"
    body = {"name": "bs-hello", "loadBalancingScheme": "EXTERNAL_MANAGED", "backends": [{"group": group}]}
    assert refused(services.insert(project=PROJECT, body=body)) == compute_403(
        "compute.regionNetworkEndpointGroups.use",
        f"projects/{PROJECT}/regions/{REGION}/networkEndpointGroups/neg-hello",
    )
    grant(
        emulator,
        "roles/compute.loadBalancerAdmin",
        ALICE,
        f"projects/{PROJECT}/regions/{REGION}/networkEndpointGroups/neg-hello",
    )
    services.insert(project=PROJECT, body=body).execute()

    attach = services.setSecurityPolicy(
        project=PROJECT,
        backendService="bs-hello",
        body={"securityPolicy": f"projects/{PROJECT}/global/securityPolicies/edge"},
    )
    assert refused(attach) == compute_403(
        "compute.securityPolicies.use", f"projects/{PROJECT}/global/securityPolicies/edge"
    )
    grant(emulator, "roles/compute.securityAdmin", ALICE)
    assert attach.execute()["status"] == "DONE"


def test_compute_operations_and_lists(emulator: EmulatorServer) -> None:
    op = api(emulator, "compute", "v1").securityPolicies().insert(project=PROJECT, body={"name": "edge"}).execute()
    lock(emulator)
    compute = api(emulator, "compute", "v1", BOB)
    assert refused(compute.globalOperations().get(project=PROJECT, operation=op["name"])) == compute_403(
        "compute.globalOperations.get", f"projects/{PROJECT}/global/operations/{op['name']}"
    )
    assert refused(compute.securityPolicies().list(project=PROJECT)) == compute_403(
        "compute.securityPolicies.list", f"projects/{PROJECT}"
    )
    grant(emulator, "roles/compute.viewer", BOB)
    assert compute.globalOperations().get(project=PROJECT, operation=op["name"]).execute()["status"] == "DONE"
    assert [p["name"] for p in compute.securityPolicies().list(project=PROJECT).execute()["items"]] == ["edge"]


# -- Logging and Eventarc ---------------------------------------------------------------------------------------


def test_logging_write_and_list(emulator: EmulatorServer) -> None:
    lock(emulator)
    entries = api(emulator, "logging", "v2", ALICE).entries()
    entry = {"logName": f"projects/{PROJECT}/logs/app", "resource": {"type": "global"}, "textPayload": "hi"}
    write = entries.write(body={"entries": [entry]})
    assert refused(write) == rpc_403("Permission 'logging.logEntries.create' denied on resource (or it may not exist).")
    grant(emulator, "roles/logging.logWriter", ALICE)
    write.execute()
    read = entries.list(body={"resourceNames": [f"projects/{PROJECT}"]})
    assert refused(read) == rpc_403("Permission 'logging.logEntries.list' denied on resource (or it may not exist).")
    grant(emulator, "roles/logging.viewer", ALICE)
    assert [e["textPayload"] for e in read.execute()["entries"]] == ["hi"]


def test_eventarc_triggers(emulator: EmulatorServer) -> None:
    lock(emulator)
    parent = f"projects/{PROJECT}/locations/global"
    account = f"trigger@{PROJECT}.iam.gserviceaccount.com"
    body = {
        "eventFilters": [
            {"attribute": "type", "value": "google.cloud.audit.log.v1.written"},
            {"attribute": "serviceName", "value": "run.googleapis.com"},
            {"attribute": "methodName", "value": "google.cloud.run.v1.Services.ReplaceService"},
        ],
        "destination": {"httpEndpoint": {"uri": "http://127.0.0.1:9/events"}},
        "serviceAccount": account,
    }
    triggers = api(emulator, "eventarc", "v1", ALICE).projects().locations().triggers()
    create = triggers.create(parent=parent, triggerId="on-replace", body=body)
    assert refused(create) == rpc_403(
        f"Permission 'eventarc.triggers.create' denied on resource '{parent}/triggers/on-replace' "
        "(or it may not exist)."
    )
    grant(emulator, "roles/eventarc.admin", ALICE)
    assert refused(create)["error"]["message"] == (
        f"Permission 'iam.serviceaccounts.actAs' denied on service account {account} (or it may not exist)."
    )
    grant(emulator, "roles/iam.serviceAccountUser", ALICE, f"projects/{PROJECT}/serviceAccounts/{account}")
    create.execute()
    get = (
        api(emulator, "eventarc", "v1", BOB).projects().locations().triggers().get(name=f"{parent}/triggers/on-replace")
    )
    assert refused(get)["error"]["message"].startswith("Permission 'eventarc.triggers.get' denied")
    grant(emulator, "roles/eventarc.viewer", BOB)
    assert get.execute()["name"] == f"{parent}/triggers/on-replace"


# -- Resource Manager and IAM -----------------------------------------------------------------------------------


def test_resource_manager(emulator: EmulatorServer) -> None:
    rm = emulator.emulator.resource_manager
    org = rm.add_org("123456789012")
    rm.add_project(PROJECT, parent=org.name)
    rm.add_project(OTHER, parent=org.name)
    lock(emulator, PROJECT)
    v3 = api(emulator, "cloudresourcemanager", "v3", ALICE)
    assert refused(v3.projects().get(name=f"projects/{PROJECT}")) == rpc_403(
        "Permission 'resourcemanager.projects.get' denied on resource "
        f"'//cloudresourcemanager.googleapis.com/projects/{PROJECT}' (or it may not exist)."
    )
    # search answers only what the caller may get: OTHER has no policy (permissive), PROJECT has one
    found = v3.projects().search(query=f"parent:{org.name}").execute()["projects"]
    assert [p["projectId"] for p in found] == [OTHER]
    grant(emulator, "roles/browser", ALICE)
    assert v3.projects().get(name=f"projects/{PROJECT}").execute()["projectId"] == PROJECT
    assert len(v3.projects().search(query=f"parent:{org.name}").execute()["projects"]) == 2


def test_custom_role_writes_need_iam_roles_permissions(emulator: EmulatorServer) -> None:
    lock(emulator)
    roles = api(emulator, "iam", "v1", ALICE).projects().roles()
    create = roles.create(
        parent=f"projects/{PROJECT}", body={"roleId": "role_one", "role": {"includedPermissions": []}}
    )
    assert refused(create) == rpc_403(
        "Permission 'iam.roles.create' denied on resource "
        f"'//cloudresourcemanager.googleapis.com/projects/{PROJECT}' (or it may not exist)."
    )
    grant(emulator, "roles/iam.roleAdmin", ALICE)
    assert create.execute()["name"] == f"projects/{PROJECT}/roles/role_one"


# -- inheritance, and what a refusal leaves ---------------------------------------------------------------------


def test_policies_on_folders_and_the_organization_are_inherited(emulator: EmulatorServer) -> None:
    rm = emulator.emulator.resource_manager
    org = rm.add_org("123456789012")
    folder = rm.add_folder(org.name, "platform")
    rm.add_project(PROJECT, parent=folder.name)
    create_service(emulator)
    emulator.emulator.iam.set_policy(org.name, {"roles/run.viewer": [f"user:{ALICE}"]})
    assert emulator.emulator.iam.enforced(f"projects/{PROJECT}")  # a policy above turns it on
    name = f"namespaces/{PROJECT}/services/hello"
    assert api(emulator, "run", "v1", ALICE).namespaces().services().get(name=name).execute()
    refused(api(emulator, "run", "v1", BOB).namespaces().services().get(name=name))
    emulator.emulator.iam.set_policy(folder.name, {"roles/run.viewer": ["domain:example.com"]})
    assert api(emulator, "run", "v1", BOB).namespaces().services().get(name=name).execute()
    # OTHER is outside the organization: no policy applies there.
    create_service_elsewhere = requests.post(
        f"{emulator.url}/v2/projects/{OTHER}/locations/{REGION}/services",
        params={"serviceId": "free"},
        json={"template": {"containers": [{"image": IMAGE}]}},
        headers={"X-Emulator-Principal": BOB},
        timeout=5,
    )
    assert create_service_elsewhere.status_code == 200


def test_a_refused_write_changes_nothing_and_is_logged(emulator: EmulatorServer) -> None:
    create_service(emulator)
    lock(emulator)
    mark = requests.get(f"{emulator.url}/_emulator/requests", timeout=5).json()["requests"][-1]["seq"]
    delete = (
        api(emulator, "run", "v2", BOB).projects().locations().services().delete(name=f"{V2_PARENT}/services/hello")
    )
    refused(delete)
    calls = requests.get(f"{emulator.url}/_emulator/requests", params={"since": mark}, timeout=5).json()["requests"]
    assert [(c["method"], c["status"], c["principal"]) for c in calls] == [("DELETE", 403, BOB)]
    assert [s["name"] for s in emulator.emulator.snapshot()["run"]["services"]] == [f"{V2_PARENT}/services/hello"]


def test_the_control_sets_policies_over_http(emulator: EmulatorServer) -> None:
    create_service(emulator)
    body = {
        "roles": [{"parent": f"projects/{PROJECT}", "roleId": "reader", "includedPermissions": ["run.services.get"]}],
        "policies": {
            f"projects/{PROJECT}": {
                "bindings": [{"role": f"projects/{PROJECT}/roles/reader", "members": [f"user:{ALICE}"]}]
            }
        },
    }
    answer = requests.post(f"{emulator.url}/_emulator/iam", json=body, timeout=5)
    assert answer.status_code == 200, answer.text
    assert answer.json()["roles"][0]["name"] == f"projects/{PROJECT}/roles/reader"
    get = api(emulator, "run", "v1", ALICE).namespaces().services().get(name=f"namespaces/{PROJECT}/services/hello")
    assert get.execute()
    refused(api(emulator, "run", "v1", BOB).namespaces().services().get(name=f"namespaces/{PROJECT}/services/hello"))
    cleared = requests.post(
        f"{emulator.url}/_emulator/iam", json={"policies": {f"projects/{PROJECT}": None}}, timeout=5
    )
    assert cleared.json()["policies"] == {}
    assert (
        api(emulator, "run", "v1", BOB)
        .namespaces()
        .services()
        .get(name=f"namespaces/{PROJECT}/services/hello")
        .execute()
    )
