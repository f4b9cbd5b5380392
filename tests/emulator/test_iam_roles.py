"""IAM roles through googleapiclient (iam v1): predefined roles with their permissions, and custom roles in
projects and organizations (create, get, list, patch, delete, undelete), which grant what they include while they
are neither deleted nor disabled."""

from __future__ import annotations

import json

import pytest
from googleapiclient.errors import HttpError

from emulator import EmulatorServer

from .iam_support import ADMIN, ALICE, PROJECT, api

PARENT = f"projects/{PROJECT}"


def failure(call: object) -> tuple[int, str]:
    with pytest.raises(HttpError) as caught:
        call.execute()  # type: ignore[attr-defined]
    return caught.value.status_code, json.loads(caught.value.content)["error"]["message"]


def test_predefined_roles_get(emulator: EmulatorServer) -> None:
    roles = api(emulator, "iam", "v1").roles()
    user = roles.get(name="roles/compute.loadBalancerServiceUser").execute()
    assert {"compute.backendServices.use", "compute.backendBuckets.use"} <= set(user["includedPermissions"])
    assert user["stage"] == "GA" and user["title"] == "Compute Load Balancer Services User"
    assert roles.get(name="roles/iam.serviceAccountUser").execute()["includedPermissions"][0] == (
        "iam.serviceAccounts.actAs"
    )
    owner = set(roles.get(name="roles/owner").execute()["includedPermissions"])
    assert {"compute.urlMaps.update", "run.services.setIamPolicy", "resourcemanager.projects.setIamPolicy"} <= owner
    editor = set(roles.get(name="roles/editor").execute()["includedPermissions"])
    assert "compute.urlMaps.update" in editor and "resourcemanager.projects.setIamPolicy" not in editor
    code, message = failure(roles.get(name="roles/no.such"))
    assert code == 404 and message == "The role named roles/no.such was not found."


def test_predefined_roles_list_basic_and_full(emulator: EmulatorServer) -> None:
    roles = api(emulator, "iam", "v1").roles()
    basic = roles.list(pageSize=5).execute()
    assert len(basic["roles"]) == 5 and "nextPageToken" in basic
    assert all("includedPermissions" not in r for r in basic["roles"])
    names = []
    request = roles.list(view="FULL")
    while request is not None:
        page = request.execute()
        names += [r["name"] for r in page["roles"] if r["includedPermissions"]]
        request = roles.list_next(request, page)
    assert {"roles/run.invoker", "roles/logging.logWriter", "roles/pubsub.publisher"} <= set(names)


def test_custom_role_lifecycle(emulator: EmulatorServer) -> None:
    roles = api(emulator, "iam", "v1").projects().roles()
    body = {"roleId": "runway_sync", "role": {"title": "sync", "includedPermissions": ["run.services.get"]}}
    created = roles.create(parent=PARENT, body=body).execute()
    name = f"{PARENT}/roles/runway_sync"
    assert created == {
        "name": name,
        "title": "sync",
        "includedPermissions": ["run.services.get"],
        "stage": "ALPHA",
        "etag": created["etag"],
    }
    assert failure(roles.create(parent=PARENT, body=body))[0] == 409
    assert roles.get(name=name).execute() == created
    assert roles.list(parent=PARENT).execute()["roles"] == [
        {k: v for k, v in created.items() if k != "includedPermissions"}
    ]
    assert roles.list(parent=PARENT, view="FULL").execute()["roles"] == [created]

    patched = roles.patch(
        name=name,
        updateMask="includedPermissions,stage",
        body={"includedPermissions": ["run.services.list"], "stage": "GA"},
    ).execute()
    assert patched["includedPermissions"] == ["run.services.list"] and patched["title"] == "sync"
    assert failure(roles.patch(name=name, body={"title": "x", "etag": created["etag"]}))[0] == 409

    deleted = roles.delete(name=name).execute()
    assert deleted["deleted"] is True
    assert roles.list(parent=PARENT).execute() == {}
    assert roles.list(parent=PARENT, showDeleted=True).execute()["roles"][0]["deleted"] is True
    assert failure(roles.patch(name=name, body={"title": "x"}))[0] == 400
    assert "deleted" not in roles.undelete(name=name, body={}).execute()


def test_bad_custom_roles_are_refused(emulator: EmulatorServer) -> None:
    roles = api(emulator, "iam", "v1").projects().roles()
    code, message = failure(
        roles.create(parent=PARENT, body={"roleId": "ok_id", "role": {"includedPermissions": ["nope"]}})
    )
    assert (code, message) == (400, "Permission nope is not valid.")
    assert failure(roles.create(parent=PARENT, body={"roleId": "no way", "role": {}}))[0] == 400
    assert failure(roles.create(parent=PARENT, body={"roleId": "ok_id", "role": {"stage": "BETTER"}}))[0] == 400
    assert failure(roles.get(name=f"{PARENT}/roles/absent"))[0] == 404


def test_organization_roles(emulator: EmulatorServer) -> None:
    org = emulator.emulator.resource_manager.add_org("123456789012")
    roles = api(emulator, "iam", "v1").organizations().roles()
    created = roles.create(parent=org.name, body={"roleId": "viewer_x", "role": {"includedPermissions": []}}).execute()
    assert created["name"] == f"{org.name}/roles/viewer_x"
    assert failure(roles.list(parent="organizations/999"))[0] == 403  # no such organization


def test_a_custom_role_grants_until_disabled_or_deleted(emulator: EmulatorServer) -> None:
    iam = emulator.emulator.iam
    iam.add_role(PARENT, "reader", ["run.services.get"])
    iam.set_policy(PARENT, {"roles/owner": [f"user:{ADMIN}"], f"{PARENT}/roles/reader": [f"user:{ALICE}"]})
    assert iam.holds(ALICE, "run.services.get", PARENT)
    roles = api(emulator, "iam", "v1", ADMIN).projects().roles()
    roles.patch(name=f"{PARENT}/roles/reader", updateMask="stage", body={"stage": "DISABLED"}).execute()
    assert not iam.holds(ALICE, "run.services.get", PARENT)
    roles.patch(name=f"{PARENT}/roles/reader", updateMask="stage", body={"stage": "GA"}).execute()
    assert iam.holds(ALICE, "run.services.get", PARENT)
    roles.delete(name=f"{PARENT}/roles/reader").execute()
    assert not iam.holds(ALICE, "run.services.get", PARENT)
    roles.undelete(name=f"{PARENT}/roles/reader", body={}).execute()
    assert iam.holds(ALICE, "run.services.get", PARENT)
