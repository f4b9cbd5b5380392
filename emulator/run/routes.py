"""The Cloud Run route table: REST paths of the run.v2 and run.v1 discovery documents → handlers.

Handlers read the request and call `v2`, `v1` or `operations`, which hold what each method does.
"""

from __future__ import annotations

from typing import Any

from flask import request

from ..errors import ApiError
from ..http import arg, flag, region_from_host, request_json
from ..routing import Route, RouteTable
from . import operations, v1, v2
from .api import RunApi
from .knative import API_VERSION

V2 = "/v2/projects/<project>/locations/<location>"
V1_NAMESPACE = f"/apis/{API_VERSION}/namespaces/<namespace>"
V1_LOCATION = "/v1/projects/<project>/locations/<location>"
_UPDATE_PARAMS = ("updateMask", "allowMissing", "forceNewRevision")

# -- v2 services -----------------------------------------------------------------------------------------


def create_service(api: RunApi, project: str, location: str) -> Any:
    spec = v2.incoming_service(request_json())
    return v2.create(api, project, location, arg("serviceId"), spec, validate_only=flag("validateOnly"))


def list_services(api: RunApi, project: str, location: str) -> Any:
    return v2.list_services(api, project, location, arg("pageSize"), arg("pageToken"))


def get_service(api: RunApi, project: str, location: str, service: str) -> Any:
    return v2.get(api, project, location, service)


def update_service(api: RunApi, project: str, location: str, service: str) -> Any:
    body = request_json()
    patch = v2.Update(
        body=body,
        incoming=v2.incoming_service(body),
        update_mask=arg("updateMask"),
        allow_missing=flag("allowMissing"),
        force_new_revision=flag("forceNewRevision"),
        validate_only=flag("validateOnly"),
        logged_params={p: request.args[p] for p in _UPDATE_PARAMS if request.args.get(p)},
    )
    return v2.update(api, project, location, service, patch)


def delete_service(api: RunApi, project: str, location: str, service: str) -> Any:
    return v2.delete(api, project, location, service, arg("etag"), validate_only=flag("validateOnly"))


# -- operations (v2, and v1's projects.locations.operations) ---------------------------------------------


def list_operations(api: RunApi, project: str, location: str, version: str) -> Any:
    filter_text = request.args.get("filter", "")
    return operations.list_operations(api, project, location, version, filter_text, arg("pageSize"), arg("pageToken"))


def get_operation(api: RunApi, project: str, location: str, op_id: str, version: str) -> Any:
    return operations.get_operation(api, project, location, op_id, version)


def delete_operation(api: RunApi, project: str, location: str, op_id: str, version: str) -> Any:
    operations.delete_operation(api, project, location, op_id)
    return {}


def wait_operation(api: RunApi, project: str, location: str, op_id: str, version: str) -> Any:
    op_id, sep, verb = op_id.partition(":")
    if not sep or verb != "wait":
        raise ApiError(501, f"Method '{verb or 'POST'}' is not implemented for operations.", status="UNIMPLEMENTED")
    timeout = request_json().get("timeout")
    return operations.wait_operation(api, project, location, op_id, version, timeout)


# -- v1 (Knative) ----------------------------------------------------------------------------------------


def _dry_run() -> bool:
    # Kubernetes semantics: `dryRun=All` validates without persisting.
    return request.args.get("dryRun", "").lower() == "all"


def _v1_list_args() -> tuple[str, str | None, str | None]:
    """The label selector and the Kubernetes paging (`limit`, `continue`) of a v1 list."""
    return request.args.get("labelSelector", ""), arg("limit"), arg("continue")


def create_v1_service(api: RunApi, namespace: str) -> Any:
    return v1.create(api, namespace, request_json(), dry_run=_dry_run())


def list_v1_services(api: RunApi, namespace: str) -> Any:
    # The regional endpoint lists its region; the global one every region.
    self_link = f"/apis/{API_VERSION}/namespaces/{namespace}/services"
    return v1.list_services(api, namespace, region_from_host(), self_link, *_v1_list_args())


def list_v1_services_in_location(api: RunApi, project: str, location: str) -> Any:
    # gcloud's `run services list` reads `projects.locations.services` of v1, `-` meaning every region.
    region = None if location == "-" else location
    self_link = f"/apis/{API_VERSION}/namespaces/{project}/services"
    return v1.list_services(api, project, region, self_link, *_v1_list_args())


def get_v1_service_in_location(api: RunApi, project: str, location: str, name: str) -> Any:
    return v1.get_in_location(api, project, location, name)


def get_v1_service(api: RunApi, namespace: str, name: str) -> Any:
    return v1.get(api, namespace, name)


def replace_v1_service(api: RunApi, namespace: str, name: str) -> Any:
    return v1.replace(api, namespace, name, request_json(), dry_run=_dry_run())


def delete_v1_service(api: RunApi, namespace: str, name: str) -> Any:
    return v1.delete(api, namespace, name, dry_run=_dry_run())


def list_v1_revisions(api: RunApi, namespace: str) -> Any:
    return v1.list_revisions(api, namespace, *_v1_list_args())


def get_v1_revision(api: RunApi, namespace: str, name: str) -> Any:
    return v1.get_revision(api, namespace, name)


def _operations_routes(version: str, prefix: str) -> tuple[Route, ...]:
    at = {"version": version}
    return (
        Route("GET", f"{prefix}/operations", list_operations, at),
        Route("GET", f"{prefix}/operations/<op_id>", get_operation, at),
        Route("DELETE", f"{prefix}/operations/<op_id>", delete_operation, at),
        Route("POST", f"{prefix}/operations/<op_id>", wait_operation, at),  # `<id>:wait`
    )


TABLE = RouteTable(
    "run",
    (
        Route("POST", f"{V2}/services", create_service),
        Route("GET", f"{V2}/services", list_services),
        Route("GET", f"{V2}/services/<service>", get_service),
        Route("PATCH", f"{V2}/services/<service>", update_service),
        Route("DELETE", f"{V2}/services/<service>", delete_service),
        *_operations_routes("v2", V2),
        *_operations_routes("v1", V1_LOCATION),
        Route("POST", f"{V1_NAMESPACE}/services", create_v1_service),
        Route("GET", f"{V1_NAMESPACE}/services", list_v1_services),
        Route("GET", f"{V1_NAMESPACE}/services/<name>", get_v1_service),
        Route("PUT", f"{V1_NAMESPACE}/services/<name>", replace_v1_service),
        Route("DELETE", f"{V1_NAMESPACE}/services/<name>", delete_v1_service),
        Route("GET", f"{V1_LOCATION}/services", list_v1_services_in_location),
        Route("GET", f"{V1_LOCATION}/services/<name>", get_v1_service_in_location),
        Route("GET", f"{V1_NAMESPACE}/revisions", list_v1_revisions),
        Route("GET", f"{V1_NAMESPACE}/revisions/<name>", get_v1_revision),
    ),
)
