"""The Compute v1 route table: REST paths of the discovery document → `ComputeApi` calls.

Every served method has its own rule. Catch-all rules behind them answer what the table does not serve: 404
for a collection the emulator does not have, 501 for an unserved method of one it has, 405 for operations.
"""

from __future__ import annotations

from typing import Any

from flask import request

from .. import params
from ..errors import ApiError
from ..http import arg, request_json
from ..routing import Route, RouteTable
from . import quotas
from .api import ComputeApi
from .references import check_region
from .store import BACKEND_BUCKETS, BACKEND_SERVICES, NEGS, SECURITY_POLICIES, URL_MAPS, Collection

PREFIX = "/compute/v1/projects/<project>"
GLOBAL = f"{PREFIX}/global"
REGIONAL = f"{PREFIX}/regions/<region>"

# The methods the emulator serves, per collection; the rest of each collection's surface answers 501.
SERVED: dict[Collection, tuple[str, ...]] = {
    NEGS: ("insert", "get", "list", "delete"),
    BACKEND_SERVICES: ("insert", "get", "list", "delete", "patch", "update", "setSecurityPolicy"),
    URL_MAPS: ("insert", "get", "list", "delete", "patch", "update", "validate"),
    SECURITY_POLICIES: ("insert", "get", "list", "delete"),
    BACKEND_BUCKETS: ("insert", "get", "list", "delete"),
}


def _scope(project: str, region: str | None) -> None:
    if region:
        check_region(project, region)


# -- handlers: read the request, call the API ------------------------------------------------------------


def list_resources(api: ComputeApi, project: str, collection: Collection, region: str | None = None) -> Any:
    _scope(project, region)
    return api.list(project, region, collection, request.args)


def insert(api: ComputeApi, project: str, collection: Collection, region: str | None = None) -> Any:
    _scope(project, region)
    return api.insert(project, region, collection, request_json(), arg("requestId"))


def get(api: ComputeApi, project: str, collection: Collection, name: str, region: str | None = None) -> Any:
    _scope(project, region)
    return api.get(project, region, collection, name)


def delete(api: ComputeApi, project: str, collection: Collection, name: str, region: str | None = None) -> Any:
    _scope(project, region)
    return api.delete(project, region, collection, name, arg("requestId"))


def patch(api: ComputeApi, project: str, collection: Collection, name: str) -> Any:
    return api.modify(project, collection, name, request_json(), arg("requestId"), merge=True)


def update(api: ComputeApi, project: str, collection: Collection, name: str) -> Any:
    return api.modify(project, collection, name, request_json(), arg("requestId"), merge=False)


def set_security_policy(api: ComputeApi, project: str, collection: Collection, name: str) -> Any:
    return api.set_security_policy(project, name, request_json(), arg("requestId"))


def validate(api: ComputeApi, project: str, collection: Collection, name: str) -> Any:
    return api.validate_url_map(project, request_json())


def aggregated_list(api: ComputeApi, project: str, collection: str) -> Any:
    return api.aggregated_list(project, collection, request.args)


def list_operations(api: ComputeApi, project: str, region: str | None = None) -> Any:
    _scope(project, region)
    return api.list_operations(project, region, request.args)


def get_operation(api: ComputeApi, project: str, name: str, region: str | None = None) -> Any:
    _scope(project, region)
    return api.get_operation(project, region, name)


def delete_operation(api: ComputeApi, project: str, name: str, region: str | None = None) -> Any:
    _scope(project, region)
    api.delete_operation(project, region, name)
    return {}  # the python client parses the body as JSON, so never an empty one


def wait_operation(api: ComputeApi, project: str, name: str, region: str | None = None) -> Any:
    _scope(project, region)
    return api.wait_operation(project, region, name)


def get_project(api: ComputeApi, project: str) -> Any:
    with api.emu.lock:
        return quotas.project_resource(api.store, api, project)


def get_region(api: ComputeApi, project: str, region: str) -> Any:
    with api.emu.lock:
        return quotas.region_resource(api.store, api, project, region)


# The quota limits' test control (compute/quotas.py). Under /_emulator/, so no faults and no call log apply.
QUOTAS_CONTROL = "/_emulator/computeQuotas"


def set_quotas(api: ComputeApi) -> Any:
    params.only_params(request.args, ())
    return quotas.configure(api, request_json())


def get_quotas(api: ComputeApi) -> Any:
    params.only_params(request.args, ())
    return dict(quotas.limits(api))


def clear_quotas(api: ComputeApi) -> Any:
    params.only_params(request.args, ())
    return quotas.restore(api)


_ITEM_METHODS = {"GET": "get", "DELETE": "delete", "PATCH": "patch", "PUT": "update"}


def unserved(
    api: ComputeApi,
    project: str,
    collection: str,
    region: str | None = None,
    name: str | None = None,
    verb: str | None = None,
) -> Any:
    """What no rule of the table matched."""
    _scope(project, region)
    if collection == "operations" and verb is None:
        raise ApiError(405, "Method not allowed.")
    known = {c.name for c in SERVED if c.regional == bool(region)}
    if collection not in known:
        raise ApiError(404, f"The requested URL {request.path} was not found on this server.")
    method = verb or (_ITEM_METHODS[request.method] if name else {"GET": "list", "POST": "insert"}[request.method])
    raise ApiError(501, f"compute.{collection}.{method} is not implemented by the emulator.")


# -- the table -----------------------------------------------------------------------------------------

_STANDARD = {
    "list": ("GET", "", list_resources),
    "insert": ("POST", "", insert),
    "get": ("GET", "/<name>", get),
    "delete": ("DELETE", "/<name>", delete),
    "patch": ("PATCH", "/<name>", patch),
    "update": ("PUT", "/<name>", update),
}
_CUSTOM = {"setSecurityPolicy": set_security_policy, "validate": validate}


def _served_routes() -> list[Route]:
    routes = []
    for collection, methods in SERVED.items():
        base = f"{REGIONAL if collection.regional else GLOBAL}/{collection.name}"
        for method in methods:
            verb, suffix, handler = _STANDARD.get(method) or ("POST", f"/<name>/{method}", _CUSTOM[method])
            routes.append(Route(verb, base + suffix, handler, {"collection": collection}))
    # gcloud's `compute ... list` without --global/--regions, and `compute operations list`.
    for collection in (*(c.name for c in SERVED), "operations"):
        routes.append(Route("GET", f"{PREFIX}/aggregated/{collection}", aggregated_list, {"collection": collection}))
    for scope in (GLOBAL, REGIONAL):
        routes += [
            Route("GET", f"{scope}/operations", list_operations),
            Route("GET", f"{scope}/operations/<name>", get_operation),
            Route("DELETE", f"{scope}/operations/<name>", delete_operation),
            Route("POST", f"{scope}/operations/<name>/wait", wait_operation),
        ]
    routes += [
        Route("GET", PREFIX, get_project),
        Route("GET", REGIONAL, get_region),
        Route("POST", QUOTAS_CONTROL, set_quotas),
        Route("GET", QUOTAS_CONTROL, get_quotas),
        Route("DELETE", QUOTAS_CONTROL, clear_quotas),
    ]
    return routes


def _catch_all_routes() -> list[Route]:
    return [
        Route(method, f"{scope}/<collection>{suffix}", unserved, served=False)
        for scope in (GLOBAL, REGIONAL)
        for suffix, methods in (("", ("GET", "POST")), ("/<name>", tuple(_ITEM_METHODS)), ("/<name>/<verb>", ("POST",)))
        for method in methods
    ]


TABLE = RouteTable("compute", tuple(_served_routes() + _catch_all_routes()))
