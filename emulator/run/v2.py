"""Cloud Run Admin API v2: `projects.locations.services` routes."""

from __future__ import annotations

import copy
import re
import uuid
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, request

from ..app import json_response, request_json
from ..context import principal
from ..errors import ApiError, invalid
from ..paging import page
from . import activity, rules
from .enums import normalize_enums
from .model import OUTPUT_ONLY, settable, validate_spec
from .views import render_operation, render_service

if TYPE_CHECKING:
    from .api import RunApi

PREFIX = "/v2/projects/<project>/locations/<location>"


def _flag(name: str) -> bool:
    return request.args.get(name, "").lower() in ("true", "1")


def _camel(segment: str) -> str:
    head, *rest = segment.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def merge_update(current: dict[str, Any], incoming: dict[str, Any], update_mask: str | None) -> dict[str, Any]:
    """The spec a PATCH leaves. No mask: every field the request populates replaces the stored one (AIP-134's
    implied mask); `*`: full replacement; otherwise each (dotted) path is copied from the request or cleared."""
    paths = [p.strip() for p in (update_mask or "").split(",") if p.strip()]
    if not paths:
        merged = copy.deepcopy(current)
        merged.update(copy.deepcopy(incoming))
        return merged
    if "*" in paths:
        return copy.deepcopy(incoming)
    merged = copy.deepcopy(current)
    for path in paths:
        parts = [_camel(p) for p in path.split(".")]
        if parts[0] == "etag":
            continue
        if parts[0] in OUTPUT_ONLY:
            raise invalid(f"Invalid update mask path '{path}': '{parts[0]}' is an output-only field.")
        source: Any = incoming
        for part in parts:
            source = source.get(part) if isinstance(source, dict) else None
        target = merged
        for part in parts[:-1]:
            if not isinstance(target.get(part), dict):
                target[part] = {}
            target = target[part]
        if source is None:
            target.pop(parts[-1], None)
        else:
            target[parts[-1]] = copy.deepcopy(source)
    return merged


def _incoming_service() -> tuple[dict[str, Any], dict[str, Any]]:
    """The request's Service: (the whole body, its settable fields with enums as names)."""
    body = request_json()
    spec = settable(body)
    normalize_enums(spec)
    return body, spec


def register(bp: Blueprint, api: RunApi) -> None:
    store, emu = api.store, api.emu

    @bp.post(f"{PREFIX}/services")
    def create_service(project: str, location: str) -> Response:
        _, spec = _incoming_service()
        service_id = request.args.get("serviceId") or f"service-{uuid.uuid4().hex[:8]}"
        rules.check_service_id(service_id)
        validate_spec(spec)
        who = principal()
        with emu.lock:
            project = store.project_id(project)
            if _flag("validateOnly"):
                record, op = store.preview_create(project, location, service_id, spec, {}, who)
                return json_response(render_operation(op, force_done=True))
            record, op = store.create(project, location, service_id, spec, {}, who, emu.faults.operation_delay)
            reply = render_operation(op)
        request_body = {"parent": f"projects/{project}/locations/{location}", "serviceId": service_id, "service": spec}
        api.record(activity.v2(record, "CreateService", "create", request_body, op.name))
        return json_response(reply)

    @bp.get(f"{PREFIX}/services")
    def list_services(project: str, location: str) -> Response:
        with emu.lock:
            records = store.list(store.project_id(project), location)
            chunk, token = page(
                records, request.args.get("pageSize"), request.args.get("pageToken"), default=100, maximum=1000
            )
            body: dict[str, Any] = {}
            if chunk:
                body["services"] = [render_service(r) for r in chunk]
        if token:
            body["nextPageToken"] = token
        return json_response(body)

    @bp.get(f"{PREFIX}/services/<service>")
    def get_service(project: str, location: str, service: str) -> Response:
        _no_custom_method(service)
        with emu.lock:
            return json_response(render_service(store.get(store.project_id(project), location, service)))

    @bp.patch(f"{PREFIX}/services/<service>")
    def update_service(project: str, location: str, service: str) -> Response:
        _no_custom_method(service)
        body, incoming = _incoming_service()
        validate_only, who = _flag("validateOnly"), principal()
        permission = "update"
        with emu.lock:
            project = store.project_id(project)
            record = store.services.get((project, location, service))
            if record is None:
                if not _flag("allowMissing"):
                    store.get(project, location, service)  # raises Google's NOT_FOUND
                # allowMissing: an upsert; "the caller must have 'run.services.create'" (run.v2.json).
                rules.check_service_id(service)
                validate_spec(incoming)
                permission = "create"
                if validate_only:
                    return json_response(
                        render_operation(
                            store.preview_create(project, location, service, incoming, {}, who)[1], force_done=True
                        )
                    )
                record, op = store.create(project, location, service, incoming, {}, who, emu.faults.operation_delay)
            else:
                rules.check_version(service, body.get("etag"), record.version)
                spec = merge_update(record.spec, incoming, request.args.get("updateMask"))
                validate_spec(spec)
                force = _flag("forceNewRevision")
                if validate_only:
                    preview = store.preview_update(record, spec, record.v1_extra, who, force_new_revision=force)
                    return json_response(render_operation(store.preview_operation(preview), force_done=True))
                op = store.update(
                    record, spec, record.v1_extra, who, emu.faults.operation_delay, force_new_revision=force
                )
            reply = render_operation(op)
        request_body: dict[str, Any] = {"service": {"name": record.name, **incoming}}
        for param in ("updateMask", "allowMissing", "forceNewRevision"):
            if request.args.get(param):
                request_body[param] = request.args[param]
        api.record(activity.v2(record, "UpdateService", permission, request_body, op.name))
        return json_response(reply)

    @bp.delete(f"{PREFIX}/services/<service>")
    def delete_service(project: str, location: str, service: str) -> Response:
        _no_custom_method(service)
        with emu.lock:
            project = store.project_id(project)
            record = store.get(project, location, service)
            etag = request.args.get("etag")
            rules.check_version(service, etag, record.version)
            if _flag("validateOnly"):
                return json_response(render_operation(store.preview_delete(record), force_done=True))
            op = store.delete(record, emu.faults.operation_delay)
            reply = render_operation(op)
        request_body = {"name": record.name, **({"etag": etag} if etag else {})}
        api.record(activity.v2(record, "DeleteService", "delete", request_body, op.name))
        return json_response(reply)


_CUSTOM_METHOD = re.compile(r":(\w+)$")


def _no_custom_method(service: str) -> None:
    match = _CUSTOM_METHOD.search(service)
    if match:
        raise ApiError(501, f"Method '{match.group(1)}' is not implemented by the emulator.", status="UNIMPLEMENTED")
