"""The Resource Manager route table: REST paths of the cloudresourcemanager.v1 and .v3 discovery documents.

v1 is what gcloud calls (`projects describe`, `projects list`, `projects get-ancestors`, `organizations list`, and
`run services replace` looking up the project of a YAML's namespace), v2 folders what `gcloud resource-manager
folders` calls; v3 is what current client libraries call.
"""

from __future__ import annotations

from typing import Any

from flask import request

from ..http import arg, principal, request_json
from ..routing import Route, RouteTable
from . import views
from .api import ResourceManagerApi

# -- v1 ------------------------------------------------------------------------------------------------------


def get_project_v1(api: ResourceManagerApi, project_id: str) -> Any:
    return api.get_project_v1(project_id)


def get_ancestry_v1(api: ResourceManagerApi, project_id: str) -> Any:
    return api.get_ancestry_v1(project_id)


def list_projects_v1(api: ResourceManagerApi) -> Any:
    return api.list_projects_v1(request.args.get("filter"), arg("pageSize"), arg("pageToken"))


def get_organization_v1(api: ResourceManagerApi, org_id: str) -> Any:
    return api.get_organization_v1(org_id)


def search_organizations_v1(api: ResourceManagerApi) -> Any:
    return api.search_organizations_v1(request_json())


# -- v3 ------------------------------------------------------------------------------------------------------


def get_project(api: ResourceManagerApi, project: str) -> Any:
    return api.get_project(project)


def create_project(api: ResourceManagerApi) -> Any:
    return api.create_project(request_json())


def list_projects(api: ResourceManagerApi) -> Any:
    return api.list_projects(arg("parent"), arg("pageSize"), arg("pageToken"))


def search_projects(api: ResourceManagerApi) -> Any:
    return api.search_projects(request.args.get("query"), arg("pageSize"), arg("pageToken"))


def create_folder(api: ResourceManagerApi) -> Any:
    return api.create_folder(request_json())


def get_folder(api: ResourceManagerApi, folder_id: str) -> Any:
    return api.get_folder(folder_id)


def list_folders(api: ResourceManagerApi) -> Any:
    return api.list_folders(arg("parent"), arg("pageSize"), arg("pageToken"))


def search_folders(api: ResourceManagerApi) -> Any:
    return api.search_folders(request.args.get("query"), arg("pageSize"), arg("pageToken"))


# -- v2 folders (gcloud `resource-manager folders`) ----------------------------------------------------------


def get_folder_v2(api: ResourceManagerApi, folder_id: str) -> Any:
    return api.get_folder(folder_id, views.folder_v2)


def list_folders_v2(api: ResourceManagerApi) -> Any:
    return api.list_folders(arg("parent"), arg("pageSize"), arg("pageToken"), views.folder_v2)


def search_folders_v2(api: ResourceManagerApi) -> Any:
    body = request_json()
    return api.search_folders(body.get("query"), body.get("pageSize"), body.get("pageToken"), views.folder_v2)


def get_organization(api: ResourceManagerApi, org_id: str) -> Any:
    return api.get_organization(org_id)


def search_organizations(api: ResourceManagerApi) -> Any:
    return api.search_organizations(request.args.get("query"), arg("pageSize"), arg("pageToken"))


def get_operation(api: ResourceManagerApi, op_id: str) -> Any:
    return api.get_operation(op_id)


# -- IAM policies (kept by the IAM API) -----------------------------------------------------------------------

_KINDS = {"project": "projects", "folder_id": "folders", "org_id": "organizations"}


def get_iam_policy(api: ResourceManagerApi, **ident: str) -> Any:
    ((key, value),) = ident.items()
    kind = _KINDS[key]
    return api.iam.get_policy(api.node_name(kind, value, f"resourcemanager.{kind}.getIamPolicy"))


def set_iam_policy(api: ResourceManagerApi, **ident: str) -> Any:
    ((key, value),) = ident.items()
    kind = _KINDS[key]
    return api.iam.set_iam_policy(api.node_name(kind, value, f"resourcemanager.{kind}.setIamPolicy"), request_json())


def test_iam_permissions(api: ResourceManagerApi, **ident: str) -> Any:
    ((key, value),) = ident.items()
    kind = _KINDS[key]
    name = api.node_name(kind, value, f"resourcemanager.{kind}.get")
    return api.iam.test_permissions(principal(), request_json(), name)


def _iam_routes(rule: str) -> tuple[Route, ...]:
    return (
        Route("POST", f"{rule}:getIamPolicy", get_iam_policy),
        Route("POST", f"{rule}:setIamPolicy", set_iam_policy),
        Route("POST", f"{rule}:testIamPermissions", test_iam_permissions),
    )


TABLE = RouteTable(
    "resourcemanager",
    (
        Route("GET", "/v1/projects/<project_id>", get_project_v1),
        Route("POST", "/v1/projects/<project_id>:getAncestry", get_ancestry_v1),
        Route("GET", "/v1/projects", list_projects_v1),
        Route("GET", "/v1/organizations/<org_id>", get_organization_v1),
        Route("POST", "/v1/organizations:search", search_organizations_v1),
        Route("GET", "/v2/folders/<folder_id>", get_folder_v2),
        Route("GET", "/v2/folders", list_folders_v2),
        Route("POST", "/v2/folders:search", search_folders_v2),
        Route("GET", "/v3/projects/<project>", get_project),
        Route("POST", "/v3/projects", create_project),
        Route("GET", "/v3/projects", list_projects),
        Route("GET", "/v3/projects:search", search_projects),
        Route("POST", "/v3/folders", create_folder),
        Route("GET", "/v3/folders/<folder_id>", get_folder),
        Route("GET", "/v3/folders", list_folders),
        Route("GET", "/v3/folders:search", search_folders),
        Route("GET", "/v3/organizations/<org_id>", get_organization),
        Route("GET", "/v3/organizations:search", search_organizations),
        Route("GET", "/v3/operations/<op_id>", get_operation),
        *_iam_routes("/v1/projects/<project>"),
        *_iam_routes("/v1/organizations/<org_id>"),
        *_iam_routes("/v2/folders/<folder_id>"),
        *_iam_routes("/v3/projects/<project>"),
        *_iam_routes("/v3/folders/<folder_id>"),
        *_iam_routes("/v3/organizations/<org_id>"),
    ),
)
