"""IAM policies through the real clients: Resource Manager v1/v2/v3 get/set/testIamPermissions on projects, folders
and organizations, Cloud Run services (run v2 and v1), service accounts (iam v1); etags, versions, validation."""

from __future__ import annotations

import json

import pytest
from googleapiclient.errors import HttpError

from emulator import EmulatorServer

from .iam_support import ADMIN, ALICE, BOB, IMAGE, OTHER, PROJECT, REGION, api

V2_PARENT = f"projects/{PROJECT}/locations/{REGION}"
OWNER = {"role": "roles/owner", "members": ["user:developer@example.com"]}  # the default caller keeps control


def failure(call: object) -> tuple[int, dict[str, object]]:
    with pytest.raises(HttpError) as caught:
        call.execute()  # type: ignore[attr-defined]
    return caught.value.status_code, json.loads(caught.value.content)["error"]


def binding(role: str, *members: str) -> dict[str, object]:
    return {"role": role, "members": list(members)}


def test_a_project_without_policy_answers_the_empty_policy(emulator: EmulatorServer) -> None:
    projects = api(emulator, "cloudresourcemanager", "v3").projects()
    assert projects.getIamPolicy(resource=f"projects/{PROJECT}", body={}).execute() == {"version": 1, "etag": "ACAB"}


def test_set_and_get_project_policy_v3_and_v1_share_one_policy(emulator: EmulatorServer) -> None:
    v3 = api(emulator, "cloudresourcemanager", "v3").projects()
    policy = {
        "bindings": [
            binding("roles/run.viewer", f"user:{BOB}", f"user:{ALICE}"),
            binding("roles/owner", f"user:{ADMIN}"),
            binding("roles/run.viewer", f"user:{ALICE}", "group:team@example.com"),
            binding("roles/editor"),
        ]
    }
    stored = v3.setIamPolicy(resource=f"projects/{PROJECT}", body={"policy": policy}).execute()
    assert stored["version"] == 1 and stored["etag"] != "ACAB"
    assert stored["bindings"] == [  # sorted by role, members merged and sorted, empty bindings dropped
        binding("roles/owner", f"user:{ADMIN}"),
        binding("roles/run.viewer", "group:team@example.com", f"user:{ALICE}", f"user:{BOB}"),
    ]
    v1 = api(emulator, "cloudresourcemanager", "v1", ADMIN).projects()
    assert v1.getIamPolicy(resource=PROJECT, body={}).execute() == stored


def test_a_stale_etag_is_refused(emulator: EmulatorServer) -> None:
    v3 = api(emulator, "cloudresourcemanager", "v3").projects()
    first = v3.setIamPolicy(resource=f"projects/{PROJECT}", body={"policy": {"bindings": [OWNER]}}).execute()
    again = {"policy": {"bindings": [OWNER], "etag": first["etag"]}}
    v3.setIamPolicy(resource=f"projects/{PROJECT}", body=again).execute()
    code, error = failure(v3.setIamPolicy(resource=f"projects/{PROJECT}", body=again))
    assert code == 409 and error["status"] == "ABORTED"
    assert str(error["message"]).startswith("There were concurrent policy changes.")


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (binding("roles/run.viewer", "alice@example.com"), "is not a member"),
        (binding("roles/not.a.role", f"user:{ALICE}"), "Role roles/not.a.role is not supported for this resource."),
        (
            binding(f"projects/{OTHER}/roles/elsewhere", f"user:{ALICE}"),
            f"Role (projects/{OTHER}/roles/elsewhere) does not exist in the resource's hierarchy.",
        ),
    ],
)
def test_bad_bindings_are_refused(emulator: EmulatorServer, bad: dict[str, object], message: str) -> None:
    emulator.emulator.iam.add_role(f"projects/{OTHER}", "elsewhere", ["run.services.get"])
    v3 = api(emulator, "cloudresourcemanager", "v3").projects()
    code, error = failure(v3.setIamPolicy(resource=f"projects/{PROJECT}", body={"policy": {"bindings": [bad]}}))
    assert code == 400 and message in str(error["message"])
    assert v3.getIamPolicy(resource=f"projects/{PROJECT}", body={}).execute()["etag"] == "ACAB"  # nothing stored


def test_organization_roles_work_below_the_organization(emulator: EmulatorServer) -> None:
    rm = emulator.emulator.resource_manager
    org = rm.add_org("123456789012")
    rm.add_project(PROJECT, parent=org.name)
    emulator.emulator.iam.add_role(org.name, "reader", ["run.services.list"])
    v3 = api(emulator, "cloudresourcemanager", "v3").projects()
    role = f"{org.name}/roles/reader"
    stored = v3.setIamPolicy(
        resource=f"projects/{PROJECT}", body={"policy": {"bindings": [binding(role, f"user:{ALICE}")]}}
    ).execute()
    assert stored["bindings"][0]["role"] == role
    services = api(emulator, "run", "v2", ALICE).projects().locations().services()
    assert services.list(parent=V2_PARENT).execute() == {}


def test_conditional_bindings_need_version_3_and_grant_nothing(emulator: EmulatorServer) -> None:
    v3 = api(emulator, "cloudresourcemanager", "v3").projects()
    conditional = {**binding("roles/run.viewer", f"user:{ALICE}"), "condition": {"expression": "true", "title": "t"}}
    code, _ = failure(v3.setIamPolicy(resource=f"projects/{PROJECT}", body={"policy": {"bindings": [conditional]}}))
    assert code == 400
    body = {"policy": {"version": 3, "bindings": [conditional]}}
    assert v3.setIamPolicy(resource=f"projects/{PROJECT}", body=body).execute()["version"] == 3
    assert not emulator.emulator.iam.holds(ALICE, "run.services.get", f"projects/{PROJECT}")


def test_folder_and_organization_policies(emulator: EmulatorServer) -> None:
    rm = emulator.emulator.resource_manager
    org = rm.add_org("123456789012")
    folder = rm.add_folder(org.name, "platform")
    policy = {"policy": {"bindings": [OWNER, binding("roles/resourcemanager.folderViewer", f"user:{ALICE}")]}}
    v3 = api(emulator, "cloudresourcemanager", "v3")
    v3.folders().setIamPolicy(resource=folder.name, body=policy).execute()
    v2 = api(emulator, "cloudresourcemanager", "v2")
    assert (
        v2.folders().getIamPolicy(resource=folder.name, body={}).execute()["bindings"] == policy["policy"]["bindings"]
    )
    v3.organizations().setIamPolicy(resource=org.name, body=policy).execute()
    v1 = api(emulator, "cloudresourcemanager", "v1")
    assert v1.organizations().getIamPolicy(resource=org.name, body={}).execute()["bindings"]
    code, error = failure(v3.folders().getIamPolicy(resource="folders/1", body={}))
    assert code == 403 and "'//cloudresourcemanager.googleapis.com/folders/1'" in str(error["message"])


def test_test_iam_permissions(emulator: EmulatorServer) -> None:
    wanted = ["run.services.get", "run.services.update", "compute.urlMaps.update"]
    as_alice = api(emulator, "cloudresourcemanager", "v3", ALICE).projects()
    permissive = as_alice.testIamPermissions(resource=f"projects/{PROJECT}", body={"permissions": wanted}).execute()
    assert permissive == {"permissions": wanted}  # no policy: everything
    emulator.emulator.iam.grant(f"projects/{PROJECT}", "roles/run.viewer", f"user:{ALICE}")
    held = as_alice.testIamPermissions(resource=f"projects/{PROJECT}", body={"permissions": wanted}).execute()
    assert held == {"permissions": ["run.services.get"]}
    as_bob = api(emulator, "cloudresourcemanager", "v1", BOB).projects()
    assert as_bob.testIamPermissions(resource=PROJECT, body={"permissions": wanted}).execute() == {}


def test_cloud_run_service_policies_v2_and_v1(emulator: EmulatorServer) -> None:
    v2 = api(emulator, "run", "v2").projects().locations().services()
    code, error = failure(v2.getIamPolicy(resource=f"{V2_PARENT}/services/hello"))
    assert code == 404 and error["message"] == (
        f"Resource 'hello' of kind 'SERVICE' in region '{REGION}' in project '{PROJECT}' does not exist."
    )
    v2.create(parent=V2_PARENT, serviceId="hello", body={"template": {"containers": [{"image": IMAGE}]}}).execute()
    policy = {"bindings": [binding("roles/run.invoker", "allUsers")]}
    stored = v2.setIamPolicy(resource=f"{V2_PARENT}/services/hello", body={"policy": policy}).execute()
    assert stored["bindings"] == policy["bindings"]
    v1 = api(emulator, "run", "v1").projects().locations().services()
    assert v1.getIamPolicy(resource=f"{V2_PARENT}/services/hello").execute() == stored
    tested = v1.testIamPermissions(
        resource=f"{V2_PARENT}/services/hello", body={"permissions": ["run.routes.invoke"]}
    ).execute()
    assert tested == {"permissions": ["run.routes.invoke"]}
    assert emulator.emulator.iam.get_policy(f"{V2_PARENT}/services/hello") == stored


def test_a_cloud_run_service_set_iam_policy_is_audit_logged_v2_and_v1(emulator: EmulatorServer) -> None:
    """Who may invoke a service is an Admin Activity of Cloud Run: one entry each (not long-running), which
    runway's sync_routes is triggered by (reachability)."""
    v2 = api(emulator, "run", "v2").projects().locations().services()
    v2.create(parent=V2_PARENT, serviceId="hello", body={"template": {"containers": [{"image": IMAGE}]}}).execute()
    policy = {"bindings": [binding("roles/run.invoker", "allUsers")]}
    v2.setIamPolicy(resource=f"{V2_PARENT}/services/hello", body={"policy": policy}).execute()
    v1 = api(emulator, "run", "v1").projects().locations().services()
    v1.setIamPolicy(resource=f"{V2_PARENT}/services/hello", body={"policy": {"bindings": []}}).execute()
    entries = [
        e
        for e in emulator.emulator.logging.store.all()
        if e.get("protoPayload", {}).get("methodName", "").endswith("Services.SetIamPolicy")
    ]
    assert [e["protoPayload"]["methodName"] for e in entries] == [
        "google.cloud.run.v2.Services.SetIamPolicy",
        "google.cloud.run.v1.Services.SetIamPolicy",
    ]
    for entry in entries:
        assert entry["protoPayload"]["resourceName"] == f"{V2_PARENT}/services/hello"
        assert "operation" not in entry
    assert entries[0]["protoPayload"]["request"]["policy"] == policy


def test_service_account_policies_grant_act_as(emulator: EmulatorServer) -> None:
    account = f"runner@{PROJECT}.iam.gserviceaccount.com"
    emulator.emulator.iam.grant(f"projects/{PROJECT}", "roles/owner", f"user:{ADMIN}")
    accounts = api(emulator, "iam", "v1", ADMIN).projects().serviceAccounts()
    name = f"projects/-/serviceAccounts/{account}"
    accounts.setIamPolicy(
        resource=name, body={"policy": {"bindings": [binding("roles/iam.serviceAccountUser", f"user:{ALICE}")]}}
    ).execute()
    assert accounts.getIamPolicy(resource=name).execute()["bindings"][0]["members"] == [f"user:{ALICE}"]
    iam = emulator.emulator.iam
    assert iam.holds(
        ALICE, "iam.serviceAccounts.actAs", f"projects/{PROJECT}", f"projects/{PROJECT}/serviceAccounts/{account}"
    )
    assert not iam.holds(ALICE, "iam.serviceAccounts.actAs", f"projects/{PROJECT}")
    as_alice = api(emulator, "iam", "v1", ALICE).projects().serviceAccounts()
    tested = as_alice.testIamPermissions(resource=name, body={"permissions": ["iam.serviceAccounts.actAs"]}).execute()
    assert tested == {"permissions": ["iam.serviceAccounts.actAs"]}


def test_the_iam_control_validates_and_is_all_or_nothing(emulator: EmulatorServer) -> None:
    import requests

    good = {"bindings": [binding("roles/run.viewer", f"user:{ALICE}")]}
    body = {
        "policies": {
            f"projects/{PROJECT}": good,
            f"projects/{OTHER}": {"bindings": [binding("roles/nope", "allUsers")]},
        }
    }
    answer = requests.post(f"{emulator.url}/_emulator/iam", json=body, timeout=5)
    assert answer.status_code == 400
    assert requests.get(f"{emulator.url}/_emulator/iam", timeout=5).json() == {"policies": {}, "roles": []}
    bad_name = requests.post(f"{emulator.url}/_emulator/iam", json={"policies": {"proj/x": good}}, timeout=5)
    assert bad_name.status_code == 400 and bad_name.json()["error"]["message"].startswith("policies.proj/x")
    requests.post(f"{emulator.url}/_emulator/iam", json={"policies": {f"projects/{PROJECT}": good}}, timeout=5)
    assert requests.delete(f"{emulator.url}/_emulator/iam", timeout=5).json() == {"policies": {}, "roles": []}
