"""Cloud Run Admin API v2: `projects.locations.operations` get/list/wait/delete."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

from flask import Blueprint, Response, request

from ..app import json_response, request_json
from ..clock import monotonic
from ..errors import ApiError, invalid
from ..paging import page
from .views import render_operation

if TYPE_CHECKING:
    from .api import RunApi

# v1 has the same resource: gcloud waits on `POST /v1/projects/P/locations/R/operations/{id}:wait`, the id taken
# from the `run.googleapis.com/operation-id` annotation (seen from gcloud 528 against the emulator).
PREFIXES = {
    "v2": "/v2/projects/<project>/locations/<location>/operations",
    "v1": "/v1/projects/<project>/locations/<location>/operations",
}
# "If left blank, the wait will be at most the time permitted by the underlying HTTP/RPC protocol" (run.v2.json
# GoogleLongrunningWaitOperationRequest.timeout); the emulator's stand-in for that limit.
MAX_WAIT_SECONDS = 60.0
_DURATION = re.compile(r"^(\d+(?:\.\d{1,9})?)s$")


def parse_duration(text: str, where: str) -> float:
    match = _DURATION.match(text.strip())
    if not match:
        raise invalid(f"Invalid value at '{where}' (type.googleapis.com/google.protobuf.Duration), \"{text}\"")
    return float(match.group(1))


def _version() -> str:
    return request.path.split("/", 2)[1]


def register(bp: Blueprint, api: RunApi) -> None:
    store, emu = api.store, api.emu

    def list_operations(project: str, location: str) -> Response:
        wanted = request.args.get("filter", "").replace(" ", "")
        if wanted not in ("", "done:true", "done:false"):
            raise invalid(f"Invalid filter: '{request.args['filter']}'. Supported: done:true, done:false.")
        at = monotonic()
        with emu.lock:
            project = store.project_id(project)
            ops = [
                op
                for op in store.operations.values()
                if op.project == project
                and op.region == location
                and wanted in ("", f"done:{str(op.done(at)).lower()}")
            ]
            chunk, token = page(
                ops, request.args.get("pageSize"), request.args.get("pageToken"), default=100, maximum=100
            )
            body: dict[str, object] = {}
            if chunk:
                body["operations"] = [render_operation(op, version=_version()) for op in chunk]
        if token:
            body["nextPageToken"] = token
        return json_response(body)

    def get_operation(project: str, location: str, op_id: str) -> Response:
        with emu.lock:
            op = store.get_operation(store.project_id(project), location, op_id)
            return json_response(render_operation(op, version=_version()))

    def delete_operation(project: str, location: str, op_id: str) -> Response:
        with emu.lock:
            op = store.get_operation(store.project_id(project), location, op_id)
            del store.operations[op.name]
        return json_response({})

    def wait_operation(project: str, location: str, op_id: str) -> Response:
        op_id, sep, verb = op_id.partition(":")
        if not sep or verb != "wait":
            raise ApiError(501, f"Method '{verb or 'POST'}' is not implemented for operations.", status="UNIMPLEMENTED")
        timeout = request_json().get("timeout")
        limit = (
            MAX_WAIT_SECONDS
            if timeout in (None, "")
            else min(parse_duration(str(timeout), "timeout"), MAX_WAIT_SECONDS)
        )
        deadline = monotonic() + limit
        with emu.lock:
            op = store.get_operation(store.project_id(project), location, op_id)
        # Sleep outside the lock: other clients keep working while this one waits.
        remaining = min(op.done_at, deadline) - monotonic()
        if remaining > 0:
            time.sleep(remaining)
        return json_response(render_operation(op, version=_version()))

    for version, prefix in PREFIXES.items():
        bp.add_url_rule(prefix, f"{version}_list_operations", list_operations, methods=["GET"])
        bp.add_url_rule(f"{prefix}/<op_id>", f"{version}_get_operation", get_operation, methods=["GET"])
        bp.add_url_rule(f"{prefix}/<op_id>", f"{version}_delete_operation", delete_operation, methods=["DELETE"])
        bp.add_url_rule(f"{prefix}/<op_id>", f"{version}_wait_operation", wait_operation, methods=["POST"])
