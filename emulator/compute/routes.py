"""The Compute v1 route table: REST paths of the discovery document → `ComputeApi` calls."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, Response, request

from ..app import json_response, request_json
from ..errors import ApiError
from .references import check_region
from .store import BACKEND_SERVICES, COLLECTIONS, URL_MAPS, Collection

if TYPE_CHECKING:
    from .api import ComputeApi

PREFIX = "/compute/v1/projects/<project>"

# (collection, method) pairs the emulator serves; the rest of each collection's surface answers 501.
_GLOBAL_METHODS = {
    "backendServices": {"insert", "get", "list", "delete", "patch", "update", "setSecurityPolicy"},
    "urlMaps": {"insert", "get", "list", "delete", "patch", "update", "validate"},
    "securityPolicies": {"insert", "get", "list", "delete"},
    "backendBuckets": {"insert", "get", "list", "delete"},
}
_REGIONAL_METHODS = {"networkEndpointGroups": {"insert", "get", "list", "delete"}}
_ITEM_METHODS = {"GET": "get", "DELETE": "delete", "PATCH": "patch", "PUT": "update"}


def blueprint(api: ComputeApi) -> Blueprint:
    bp = Blueprint("compute", __name__)

    def collection_for(project: str, region: str | None, name: str, method: str) -> Collection:
        served = _REGIONAL_METHODS if region else _GLOBAL_METHODS
        if name not in served:
            raise ApiError(404, f"The requested URL {request.path} was not found on this server.")
        if method not in served[name]:
            raise ApiError(501, f"compute.{name}.{method} is not implemented by the emulator.")
        return COLLECTIONS[name]

    def request_id() -> str | None:
        return request.args.get("requestId") or None

    def on_collection(project: str, region: str | None, collection: str) -> Response:
        if region:
            check_region(project, region)
        if collection == "operations":
            if request.method != "GET":
                raise ApiError(405, "Method not allowed.")
            return json_response(api.list_operations(project, region, request.args))
        if request.method == "GET":
            coll = collection_for(project, region, collection, "list")
            return json_response(api.list(project, region, coll, request.args))
        coll = collection_for(project, region, collection, "insert")
        return json_response(api.insert(project, region, coll, request_json(), request_id()))

    def on_item(project: str, region: str | None, collection: str, name: str) -> Response:
        if region:
            check_region(project, region)
        if collection == "operations":
            if request.method == "GET":
                return json_response(api.get_operation(project, region, name))
            if request.method == "DELETE":
                api.delete_operation(project, region, name)
                return json_response({})  # the python client parses the body as JSON, so never an empty one
            raise ApiError(405, "Method not allowed.")
        method = _ITEM_METHODS[request.method]
        coll = collection_for(project, region, collection, method)
        if method == "get":
            return json_response(api.get(project, region, coll, name))
        if method == "delete":
            return json_response(api.delete(project, region, coll, name, request_id()))
        return json_response(api.modify(project, coll, name, request_json(), request_id(), merge=method == "patch"))

    def on_verb(project: str, region: str | None, collection: str, name: str, verb: str) -> Response:
        if region:
            check_region(project, region)
        if collection == "operations" and verb == "wait":
            return json_response(api.wait_operation(project, region, name))
        coll = collection_for(project, region, collection, verb)
        if coll is BACKEND_SERVICES and verb == "setSecurityPolicy":
            return json_response(api.set_security_policy(project, name, request_json(), request_id()))
        if coll is URL_MAPS and verb == "validate":
            return json_response(api.validate_url_map(project, request_json()))
        raise ApiError(404, f"The requested URL {request.path} was not found on this server.")

    @bp.route(f"{PREFIX}/global/<collection>", methods=["GET", "POST"])
    def global_collection(project: str, collection: str) -> Response:
        return on_collection(project, None, collection)

    @bp.route(f"{PREFIX}/global/<collection>/<name>", methods=list(_ITEM_METHODS))
    def global_item(project: str, collection: str, name: str) -> Response:
        return on_item(project, None, collection, name)

    @bp.route(f"{PREFIX}/global/<collection>/<name>/<verb>", methods=["POST"])
    def global_verb(project: str, collection: str, name: str, verb: str) -> Response:
        return on_verb(project, None, collection, name, verb)

    @bp.route(f"{PREFIX}/regions/<region>/<collection>", methods=["GET", "POST"])
    def regional_collection(project: str, region: str, collection: str) -> Response:
        return on_collection(project, region, collection)

    @bp.route(f"{PREFIX}/regions/<region>/<collection>/<name>", methods=list(_ITEM_METHODS))
    def regional_item(project: str, region: str, collection: str, name: str) -> Response:
        return on_item(project, region, collection, name)

    @bp.route(f"{PREFIX}/regions/<region>/<collection>/<name>/<verb>", methods=["POST"])
    def regional_verb(project: str, region: str, collection: str, name: str, verb: str) -> Response:
        return on_verb(project, region, collection, name, verb)

    return bp
