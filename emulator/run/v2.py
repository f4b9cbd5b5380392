"""Cloud Run Admin API v2: `projects.locations.services` create, list, get, patch and delete.

The route handlers (`routes.py`) read the request; these functions apply it to the store and record the audit entry.
"""

from __future__ import annotations

import copy
import re
import uuid
from dataclasses import dataclass
from typing import Any

from ..errors import ApiError, invalid
from ..http import principal
from ..paging import list_page
from . import activity, rules
from .api import RunApi
from .enums import normalize_enums
from .model import OUTPUT_ONLY, settable, validate_spec
from .views import render_operation, render_service


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


def incoming_service(body: dict[str, Any]) -> dict[str, Any]:
    """A request's Service: its settable fields, with enums as names."""
    spec = settable(body)
    normalize_enums(spec)
    return spec


def create(
    api: RunApi, project: str, location: str, service_id: str | None, spec: dict[str, Any], *, validate_only: bool
) -> dict[str, Any]:
    service_id = service_id or f"service-{uuid.uuid4().hex[:8]}"
    rules.check_service_id(service_id)
    validate_spec(spec)
    store, who = api.store, principal()
    with api.emu.lock:
        project = store.project_id(project)
        if validate_only:
            preview = store.preview_create(project, location, service_id, spec, {}, who)[1]
            return render_operation(preview, force_done=True)
        record, op = store.create(project, location, service_id, spec, {}, who, api.emu.faults.operation_delay)
        reply = render_operation(op)
    request_body = {"parent": f"projects/{project}/locations/{location}", "serviceId": service_id, "service": spec}
    api.record_operation(activity.v2(record, "CreateService", "create", request_body, op), op)
    return reply


def list_services(api: RunApi, project: str, location: str, page_size: Any, page_token: Any) -> dict[str, Any]:
    with api.emu.lock:
        records = api.store.list(api.store.project_id(project), location)
        return list_page(records, "services", page_size, page_token, default=100, maximum=1000, render=render_service)


def get(api: RunApi, project: str, location: str, service: str) -> dict[str, Any]:
    _no_custom_method(service)
    with api.emu.lock:
        return render_service(api.store.get(api.store.project_id(project), location, service))


@dataclass(frozen=True)
class Update:
    """What a PATCH asks for, from its body and query parameters."""

    body: dict[str, Any]  # as sent: its etag is checked
    incoming: dict[str, Any]  # its settable fields, enums as names
    update_mask: str | None
    allow_missing: bool
    force_new_revision: bool
    validate_only: bool
    logged_params: dict[str, str]  # the query parameters the audit entry's request shows


def update(api: RunApi, project: str, location: str, service: str, patch: Update) -> dict[str, Any]:
    _no_custom_method(service)
    store, who, delay = api.store, principal(), api.emu.faults.operation_delay
    permission = "update"
    with api.emu.lock:
        project = store.project_id(project)
        record = store.services.get((project, location, service))
        if record is None:
            if not patch.allow_missing:
                store.get(project, location, service)  # raises Google's NOT_FOUND
            # allowMissing: an upsert; "the caller must have 'run.services.create'" (run.v2.json).
            rules.check_service_id(service)
            validate_spec(patch.incoming)
            permission = "create"
            if patch.validate_only:
                preview = store.preview_create(project, location, service, patch.incoming, {}, who)[1]
                return render_operation(preview, force_done=True)
            record, op = store.create(project, location, service, patch.incoming, {}, who, delay)
        else:
            rules.check_version(service, patch.body.get("etag"), record.version)
            spec = merge_update(record.spec, patch.incoming, patch.update_mask)
            validate_spec(spec)
            force = patch.force_new_revision
            if patch.validate_only:
                preview = store.preview_update(record, spec, record.v1_extra, who, force_new_revision=force)
                return render_operation(store.preview_operation(preview), force_done=True)
            op = store.update(record, spec, record.v1_extra, who, delay, force_new_revision=force)
        reply = render_operation(op)
    request_body: dict[str, Any] = {"service": {"name": record.name, **patch.incoming}, **patch.logged_params}
    api.record_operation(activity.v2(record, "UpdateService", permission, request_body, op), op)
    return reply


def delete(
    api: RunApi, project: str, location: str, service: str, etag: str | None, *, validate_only: bool
) -> dict[str, Any]:
    _no_custom_method(service)
    store = api.store
    with api.emu.lock:
        project = store.project_id(project)
        record = store.get(project, location, service)
        rules.check_version(service, etag, record.version)
        if validate_only:
            return render_operation(store.preview_delete(record), force_done=True)
        op = store.delete(record, api.emu.faults.operation_delay)
        reply = render_operation(op)
    request_body = {"name": record.name, **({"etag": etag} if etag else {})}
    api.record_operation(activity.v2(record, "DeleteService", "delete", request_body, op), op)
    return reply


_CUSTOM_METHOD = re.compile(r":(\w+)$")


def _no_custom_method(service: str) -> None:
    match = _CUSTOM_METHOD.search(service)
    if match:
        raise ApiError(501, f"Method '{match.group(1)}' is not implemented by the emulator.", status="UNIMPLEMENTED")
