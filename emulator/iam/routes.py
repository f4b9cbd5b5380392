"""The IAM route table: iam.v1 roles (predefined and custom) and the IAM methods of service accounts, and the
IAM methods of Cloud Run services (run.v2 and run.v1 `projects.locations.services` getIamPolicy, setIamPolicy,
testIamPermissions), whose policies this API keeps.

Resource Manager's own getIamPolicy/setIamPolicy/testIamPermissions are in its table and call this API too.
"""

from __future__ import annotations

from typing import Any

from flask import request

from ..audit import AdminActivity
from ..errors import not_found
from ..http import arg, caller_ip, principal, request_json, user_agent
from ..routing import Route, RouteTable
from .api import IamApi
from .needs import project_scope, service_account_project
from .permissions_others import SERVICE_ACCOUNT
from .permissions_run import V1_LOCATION, V2, service_name

# -- roles -----------------------------------------------------------------------------------------------------


def get_predefined_role(api: IamApi, role_id: str) -> Any:
    return api.get_role(f"roles/{role_id}")


def list_predefined_roles(api: IamApi) -> Any:
    return api.list_roles(arg("parent"), request.args)


def query_testable_permissions(api: IamApi) -> Any:
    return api.testable_permissions(request_json())


def _parent(project: str | None, org_id: str | None) -> str:
    return f"projects/{project}" if project is not None else f"organizations/{org_id}"


def create_role(api: IamApi, project: str | None = None, org_id: str | None = None) -> Any:
    return api.create_role(_parent(project, org_id), request_json())


def list_roles(api: IamApi, project: str | None = None, org_id: str | None = None) -> Any:
    return api.list_roles(_parent(project, org_id), request.args)


def get_role(api: IamApi, role_id: str, project: str | None = None, org_id: str | None = None) -> Any:
    return api.get_role(f"{_parent(project, org_id)}/roles/{role_id}")


def patch_role(api: IamApi, role_id: str, project: str | None = None, org_id: str | None = None) -> Any:
    return api.patch_role(f"{_parent(project, org_id)}/roles/{role_id}", request_json(), arg("updateMask"))


def delete_role(api: IamApi, role_id: str, project: str | None = None, org_id: str | None = None) -> Any:
    return api.delete_role(f"{_parent(project, org_id)}/roles/{role_id}", arg("etag"))


def undelete_role(api: IamApi, role_id: str, project: str | None = None, org_id: str | None = None) -> Any:
    return api.undelete_role(f"{_parent(project, org_id)}/roles/{role_id}")


def _role_routes(prefix: str) -> tuple[Route, ...]:
    return (
        Route("POST", f"{prefix}/roles", create_role),
        Route("GET", f"{prefix}/roles", list_roles),
        Route("GET", f"{prefix}/roles/<role_id>", get_role),
        Route("PATCH", f"{prefix}/roles/<role_id>", patch_role),
        Route("DELETE", f"{prefix}/roles/<role_id>", delete_role),
        Route("POST", f"{prefix}/roles/<role_id>:undelete", undelete_role),
    )


# -- Cloud Run services ----------------------------------------------------------------------------------------


def _service(api: IamApi, project: str, location: str, service: str) -> str:
    """The service's policy name; Cloud Run's 404 if there is no such service."""
    project_id = api.canonical(project_scope(project)).split("/")[1]
    if api.run_service(project, location, service) is None:
        raise not_found(
            f"Resource '{service}' of kind 'SERVICE' in region '{location}' in project '{project_id}' does not exist."
        )
    return service_name(project_id, location, service)


def get_service_policy(api: IamApi, project: str, location: str, service: str) -> Any:
    return api.get_policy(_service(api, project, location, service))


def set_service_policy(api: IamApi, project: str, location: str, service: str, version: str = "v2") -> Any:
    """setIamPolicy on a Cloud Run service; like every Admin Activity of Cloud Run, it is audit-logged (one entry,
    not a long-running operation) and delivered to matching triggers."""
    name = _service(api, project, location, service)
    body = request_json()
    policy = api.set_iam_policy(name, body)
    project_id = name.split("/")[1]
    api.audit(
        AdminActivity(
            project=project_id,
            region=location,
            service=service,
            method_name=f"google.cloud.run.{version}.Services.SetIamPolicy",
            resource_name=name,
            permission="run.services.setIamPolicy",
            principal=principal(),
            request={"@type": "type.googleapis.com/google.iam.v1.SetIamPolicyRequest", "resource": name, **body},
            response={"@type": "type.googleapis.com/google.iam.v1.Policy", **policy},
            caller_ip=caller_ip(),
            user_agent=user_agent(),
        )
    )
    return policy


def set_v1_service_policy(api: IamApi, project: str, location: str, service: str) -> Any:
    return set_service_policy(api, project, location, service, "v1")


def test_service_permissions(api: IamApi, project: str, location: str, service: str) -> Any:
    # Answered for a service that does not exist yet too (what the caller holds through the project): `gcloud run
    # deploy` asks it before creating a service, and production lets the deploy go on.
    project_id = api.canonical(project_scope(project)).split("/")[1]
    name = service_name(project_id, location, service)
    return api.test_permissions(principal(), request_json(), project_scope(project), name)


def _service_routes(prefix: str) -> tuple[Route, ...]:
    rule = f"{prefix}/services/<service>"
    return (
        Route("GET", f"{rule}:getIamPolicy", get_service_policy),
        Route("POST", f"{rule}:setIamPolicy", set_v1_service_policy if prefix == V1_LOCATION else set_service_policy),
        Route("POST", f"{rule}:testIamPermissions", test_service_permissions),
    )


# -- service accounts (exist implicitly, like projects) --------------------------------------------------------


def _account(api: IamApi, project: str, account: str) -> tuple[str, str]:
    owner = service_account_project(account, project)
    return api.canonical(f"projects/{owner}/serviceAccounts/{account}"), project_scope(owner)


def get_account_policy(api: IamApi, project: str, account: str) -> Any:
    return api.get_policy(_account(api, project, account)[0])


def set_account_policy(api: IamApi, project: str, account: str) -> Any:
    return api.set_iam_policy(_account(api, project, account)[0], request_json())


def test_account_permissions(api: IamApi, project: str, account: str) -> Any:
    name, scope = _account(api, project, account)
    return api.test_permissions(principal(), request_json(), scope, name)


TABLE = RouteTable(
    "iam",
    (
        Route("GET", "/v1/roles/<role_id>", get_predefined_role),
        Route("GET", "/v1/roles", list_predefined_roles),
        Route("POST", "/v1/permissions:queryTestablePermissions", query_testable_permissions),
        *_role_routes("/v1/projects/<project>"),
        *_role_routes("/v1/organizations/<org_id>"),
        Route("POST", f"{SERVICE_ACCOUNT}:getIamPolicy", get_account_policy),
        Route("POST", f"{SERVICE_ACCOUNT}:setIamPolicy", set_account_policy),
        Route("POST", f"{SERVICE_ACCOUNT}:testIamPermissions", test_account_permissions),
        *_service_routes(V2),
        *_service_routes(V1_LOCATION),
    ),
)
