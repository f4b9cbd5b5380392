"""Cloud Resource Manager: the hierarchy of organizations, folders and projects, through googleapiclient (v1, v2,
v3), the `/_emulator/hierarchy` control and the Python API other emulated APIs use (`ancestors`)."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from google.auth.credentials import AnonymousCredentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from emulator import EmulatorServer
from emulator.run.rules import project_number

ORG = "123456789012"


def crm(emulator: EmulatorServer, version: str) -> Any:
    return build(
        "cloudresourcemanager",
        version,
        credentials=AnonymousCredentials(),
        static_discovery=True,
        client_options={"api_endpoint": emulator.url},
        cache_discovery=False,
    )


@pytest.fixture
def tree(emulator: EmulatorServer) -> dict[str, str]:
    """organizations/ORG > folders/eng > folders/web > project web-prod; org > project shared-lb; a parentless one."""
    rm = emulator.emulator.resource_manager
    org = rm.add_org(ORG, "example.com")
    eng = rm.add_folder(org.name, "eng")
    web = rm.add_folder(eng.name, "web", folder_id="4242")
    rm.add_project("web-prod", parent=web.name, labels={"env": "prod"})
    rm.add_project("shared-lb", parent=org.name, display_name="Shared LB")
    rm.add_project("loose-proj")
    return {"org": org.name, "eng": eng.name, "web": web.name}


def test_ancestors_nearest_first(emulator: EmulatorServer, tree: dict[str, str]) -> None:
    rm = emulator.emulator.resource_manager
    assert rm.ancestors("web-prod") == [tree["web"], tree["eng"], tree["org"]]
    assert rm.ancestors("projects/shared-lb") == [tree["org"]]
    assert rm.ancestors(tree["web"]) == [tree["eng"], tree["org"]]
    assert rm.ancestors("never-created") == []  # implicit projects have no parent


def test_v1_get_project_has_number_state_and_parent(emulator: EmulatorServer, tree: dict[str, str]) -> None:
    got = crm(emulator, "v1").projects().get(projectId="web-prod").execute()
    assert got == {
        "projectNumber": project_number("web-prod"),
        "projectId": "web-prod",
        "lifecycleState": "ACTIVE",
        "name": "web-prod",
        "createTime": got["createTime"],
        "labels": {"env": "prod"},
        "parent": {"type": "folder", "id": "4242"},
    }


def test_a_project_never_created_exists_without_parent(emulator: EmulatorServer) -> None:
    v1 = crm(emulator, "v1").projects().get(projectId="anything-goes").execute()
    assert v1["projectNumber"] == project_number("anything-goes") and "parent" not in v1
    v3 = crm(emulator, "v3").projects().get(name="projects/anything-goes").execute()
    assert v3["name"] == f"projects/{project_number('anything-goes')}" and "parent" not in v3
    # once named, the number finds it
    by_number = crm(emulator, "v3").projects().get(name=f"projects/{project_number('anything-goes')}").execute()
    assert by_number["projectId"] == "anything-goes"


def test_an_unknown_number_is_denied_as_production_does(emulator: EmulatorServer) -> None:
    with pytest.raises(HttpError) as err:
        crm(emulator, "v3").projects().get(name="projects/999999999999").execute()
    assert err.value.status_code == 403
    assert err.value.reason == (
        "Permission 'resourcemanager.projects.get' denied on resource "
        "'//cloudresourcemanager.googleapis.com/projects/999999999999' (or it may not exist)."
    )


def test_v1_get_ancestry(emulator: EmulatorServer, tree: dict[str, str]) -> None:
    got = crm(emulator, "v1").projects().getAncestry(projectId="web-prod", body={}).execute()
    ids = [(a["resourceId"]["type"], a["resourceId"]["id"]) for a in got["ancestor"]]
    assert ids == [
        ("project", "web-prod"),
        ("folder", "4242"),
        ("folder", tree["eng"].split("/")[1]),
        ("organization", ORG),
    ]


def test_v1_list_with_gcloud_filters(emulator: EmulatorServer, tree: dict[str, str]) -> None:
    projects = crm(emulator, "v1").projects()

    def ids(filter_text: str) -> list[str]:
        return [p["projectId"] for p in projects.list(filter=filter_text).execute().get("projects", [])]

    assert ids("lifecycleState:ACTIVE") == ["loose-proj", "shared-lb", "web-prod"]
    assert ids(f"lifecycleState:ACTIVE AND (parent.id={ORG})") == ["shared-lb"]
    assert ids("parent.type:folder parent.id:4242") == ["web-prod"]
    assert ids("labels.env:prod") == ["web-prod"]
    assert ids("name:shared*") == ["shared-lb"]
    with pytest.raises(HttpError) as err:
        ids("color:red")
    assert err.value.status_code == 400 and "unknown field 'color'" in err.value.reason


def test_v3_projects_get_search_and_list(emulator: EmulatorServer, tree: dict[str, str]) -> None:
    projects = crm(emulator, "v3").projects()
    got = projects.get(name="projects/shared-lb").execute()
    assert got["parent"] == tree["org"] and got["state"] == "ACTIVE" and got["displayName"] == "Shared LB"

    def search(query: str) -> list[str]:
        return [p["projectId"] for p in projects.search(query=query).execute().get("projects", [])]

    assert search(f"parent:{tree['web']}") == ["web-prod"]
    assert search("parent:organizations/*") == ["shared-lb"]
    assert search("id:web-prod OR id:loose-proj") == ["loose-proj", "web-prod"]
    assert search("NOT parent:*") == ["loose-proj"]
    listed = projects.list(parent=tree["org"]).execute()["projects"]
    assert [p["projectId"] for p in listed] == ["shared-lb"]  # direct children only
    assert projects.list(parent=tree["eng"]).execute() == {}


def test_v3_project_create_is_a_done_operation(emulator: EmulatorServer, tree: dict[str, str]) -> None:
    v3 = crm(emulator, "v3")
    op = v3.projects().create(body={"projectId": "new-proj-1", "parent": tree["eng"], "displayName": "New"}).execute()
    assert op["done"] is True
    assert op["metadata"]["@type"] == "type.googleapis.com/google.cloud.resourcemanager.v3.CreateProjectMetadata"
    assert op["response"]["@type"] == "type.googleapis.com/google.cloud.resourcemanager.v3.Project"
    assert op["response"]["projectId"] == "new-proj-1" and op["response"]["parent"] == tree["eng"]
    assert v3.operations().get(name=op["name"]).execute() == op
    assert emulator.emulator.resource_manager.ancestors("new-proj-1") == [tree["eng"], tree["org"]]
    with pytest.raises(HttpError) as err:
        v3.projects().create(body={"projectId": "new-proj-1", "parent": tree["eng"]}).execute()
    assert err.value.status_code == 409
    with pytest.raises(HttpError) as err:
        v3.projects().create(body={"projectId": "Bad_Id", "parent": tree["eng"]}).execute()
    assert err.value.status_code == 400


def test_v3_folders(emulator: EmulatorServer, tree: dict[str, str]) -> None:
    folders = crm(emulator, "v3").folders()
    op = folders.create(body={"parent": tree["eng"], "displayName": "api"}).execute()
    assert op["done"] is True and op["metadata"] == {
        "@type": "type.googleapis.com/google.cloud.resourcemanager.v3.CreateFolderMetadata",
        "displayName": "api",
        "parent": tree["eng"],
    }
    api = op["response"]["name"]
    assert folders.get(name=api).execute()["parent"] == tree["eng"]
    listed = folders.list(parent=tree["eng"]).execute()["folders"]
    assert [f["displayName"] for f in listed] == ["api", "web"]  # by display name
    assert [
        f["name"] for f in folders.search(query=f"parent={tree['eng']} AND displayName=w*").execute()["folders"]
    ] == [tree["web"]]
    with pytest.raises(HttpError) as err:
        folders.create(body={"parent": tree["eng"], "displayName": "api"}).execute()
    assert err.value.status_code == 400 and "already exists" in err.value.reason
    with pytest.raises(HttpError) as err:
        folders.get(name="folders/1").execute()
    assert err.value.status_code == 403


def test_v2_folders_as_gcloud_reads_them(emulator: EmulatorServer, tree: dict[str, str]) -> None:
    folders = crm(emulator, "v2").folders()
    got = folders.get(name=tree["web"]).execute()
    assert got == {
        "name": tree["web"],
        "parent": tree["eng"],
        "displayName": "web",
        "lifecycleState": "ACTIVE",
        "createTime": got["createTime"],
    }
    assert [f["name"] for f in folders.list(parent=tree["org"]).execute()["folders"]] == [tree["eng"]]
    assert [f["name"] for f in folders.search(body={"query": "displayName=web"}).execute()["folders"]] == [tree["web"]]


def test_organizations(emulator: EmulatorServer, tree: dict[str, str]) -> None:
    v3 = crm(emulator, "v3").organizations()
    got = v3.get(name=tree["org"]).execute()
    assert got["displayName"] == "example.com" and got["state"] == "ACTIVE" and got["directoryCustomerId"]
    assert [o["name"] for o in v3.search(query="domain:example.com").execute()["organizations"]] == [tree["org"]]
    assert v3.search(query="domain:other.org").execute() == {}
    v1 = crm(emulator, "v1").organizations()
    assert v1.get(name=tree["org"]).execute()["owner"] == {"directoryCustomerId": got["directoryCustomerId"]}
    assert len(v1.search(body={}).execute()["organizations"]) == 1


def test_hierarchy_control(emulator: EmulatorServer) -> None:
    body = {
        "organizations": [{"id": "555", "displayName": "corp.example"}],
        "folders": [{"id": "7", "parent": "organizations/555", "displayName": "platform"}],
        "projects": [{"projectId": "lb-host", "parent": "folders/7", "labels": {"team": "net"}}],
    }
    answer = requests.post(f"{emulator.url}/_emulator/hierarchy", json=body, timeout=5)
    assert answer.status_code == 200, answer.text
    assert answer.json()["folders"] == [{"id": "7", "parent": "organizations/555", "displayName": "platform"}]
    assert emulator.emulator.resource_manager.ancestors("lb-host") == ["folders/7", "organizations/555"]
    assert requests.get(f"{emulator.url}/_emulator/hierarchy", timeout=5).json() == answer.json()


def test_hierarchy_control_is_all_or_nothing(emulator: EmulatorServer) -> None:
    body = {
        "organizations": [{"id": "555"}],
        "projects": [
            {"projectId": "fine-proj", "parent": "organizations/555"},
            {"projectId": "x", "parent": "folders/1"},
        ],
    }
    answer = requests.post(f"{emulator.url}/_emulator/hierarchy", json=body, timeout=5)
    assert answer.status_code == 400
    assert requests.get(f"{emulator.url}/_emulator/hierarchy", timeout=5).json()["organizations"] == []
    bad_field = requests.post(f"{emulator.url}/_emulator/hierarchy", json={"folders": [{"nme": "x"}]}, timeout=5)
    assert bad_field.status_code == 400 and bad_field.json()["error"]["message"].startswith("folders[0].nme")


def test_folders_cannot_loop(emulator: EmulatorServer, tree: dict[str, str]) -> None:
    rm = emulator.emulator.resource_manager
    eng_id = tree["eng"].split("/")[1]
    with pytest.raises(Exception, match="under itself"):
        rm.add_folder(tree["web"], "eng", folder_id=eng_id)


def test_reset_forgets_the_hierarchy(emulator: EmulatorServer, tree: dict[str, str]) -> None:
    emulator.emulator.reset()
    assert emulator.emulator.resource_manager.ancestors("web-prod") == []
