"""Reading and writing the shared load balancer through google-cloud-compute: runway's only Compute calls.

`google.cloud.compute_v1` is imported inside these functions, never at module import, so the ingress path
(which imports this module's neighbours) does not pay for it.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

from . import errors
from .clients import ComputeClients
from .naming import parse_marker
from .route_plan import CREATE, DELETE, KIND_BACKEND_SERVICE, KIND_NEG, KIND_SECURITY_POLICY, KIND_URL_MAP, Change

Json = dict[str, Any]


def to_rest(message: Any) -> Json:
    """A Compute proto message as the REST JSON the planner reads (camelCase, string enums)."""
    return json.loads(type(message).to_json(message, use_integers_for_enums=False, indent=None,
                                            always_print_fields_with_no_presence=False))


def from_rest(cls: Any, body: Json) -> Any:
    return cls.from_json(json.dumps(body), ignore_unknown_fields=True)


# Compute operations on these objects finish in seconds. api_core's default polling starts at 1 s and backs
# off to 20 s, which would hold a function for a minute on a slow operation; poll sooner and cap lower.
OPERATION_TIMEOUT = 180.0


def _polling() -> Any:
    from google.api_core.future.polling import _OperationNotComplete
    from google.api_core.retry import Retry, if_exception_type

    return Retry(predicate=if_exception_type(_OperationNotComplete), initial=0.25, maximum=4.0, multiplier=1.5,
                 timeout=OPERATION_TIMEOUT)


def _wait(operation: Any) -> Any:
    return operation.result(timeout=OPERATION_TIMEOUT, polling=_polling())


def _call(method: str, resource: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except errors.API_ERRORS as exc:
        raise errors.classify(exc, method=method, resource=resource) from exc


def _get_or_none(method: str, resource: str, fn: Any, **kwargs: Any) -> Json | None:
    try:
        return to_rest(_call(method, resource, fn, **kwargs))
    except errors.NotFound:
        return None


# --- observe ---------------------------------------------------------------------------------------------

def get_url_map(compute: ComputeClients, project: str, name: str) -> Json:
    return to_rest(_call("compute.urlMaps.get", f"projects/{project}/global/urlMaps/{name}",
                         compute.url_maps.get, project=project, url_map=name))


def get_backend_service(compute: ComputeClients, project: str, name: str) -> Json | None:
    return _get_or_none("compute.backendServices.get", f"projects/{project}/global/backendServices/{name}",
                        compute.backend_services.get, project=project, backend_service=name)


def get_neg(compute: ComputeClients, project: str, region: str, name: str) -> Json | None:
    return _get_or_none("compute.regionNetworkEndpointGroups.get",
                        f"projects/{project}/regions/{region}/networkEndpointGroups/{name}",
                        compute.negs.get, project=project, region=region, network_endpoint_group=name)


def list_marked_backend_services(compute: ComputeClients, project: str) -> list[Json]:
    """Every backend service carrying a runway ownership marker, whatever its owner id: ours to manage, and
    the others' so the planner can name who holds a path."""
    items = _call("compute.backendServices.list", f"projects/{project}/global/backendServices",
                  lambda: [to_rest(b) for b in compute.backend_services.list(project=project)])
    return [b for b in items if parse_marker(b.get("description"))]


def list_owned_negs(compute: ComputeClients, project: str, regions: Iterable[str], owner: str) -> list[Json]:
    found: list[Json] = []
    for region in regions:
        items = _call("compute.regionNetworkEndpointGroups.list",
                      f"projects/{project}/regions/{region}/networkEndpointGroups",
                      lambda r=region: [to_rest(n) for n in compute.negs.list(project=project, region=r)])
        found.extend(n for n in items if (m := parse_marker(n.get("description"))) and m.owner == owner)
    return found


def neg_regions(backend: Json | None) -> set[str]:
    """Regions of the serverless NEGs a backend service points at (from their URLs)."""
    regions = set()
    for entry in (backend or {}).get("backends", []):
        parts = str(entry.get("group", "")).split("/")
        if "regions" in parts:
            regions.add(parts[parts.index("regions") + 1])
    return regions


# --- apply -----------------------------------------------------------------------------------------------

class AdoptionRefused(Exception):
    """A create met an existing object that is not ours: the route conflicts with whoever made it."""

    def __init__(self, change: Change, holder: str) -> None:
        super().__init__(f"{change.kind} {change.name} already exists and is not runway's ({holder})")
        self.change = change
        self.holder = holder


class StaleObservation(Exception):
    """What the plan was made from changed (412, or a 409 on an object of ours): observe and plan again."""


def apply_changes(compute: ComputeClients, changes: Sequence[Change], url_map: Json, owner: str) -> None:
    """Run the plan's changes in order, each waiting for its operation.

    A URL map change is sent as a full `update` (PUT) of the map as read with the planner's host rules and path
    matchers: a JSON merge patch cannot empty a list (the client omits empty repeated fields), and the map's
    fingerprint still guards against concurrent writers.
    """
    if sum(1 for change in changes if change.kind == KIND_URL_MAP) > 1:
        # Each URL-map write spends the fingerprint it was planned with: a second one needs a new observation.
        raise ValueError("a plan carries at most one URL map change")
    for change in changes:
        try:
            _apply_one(compute, change, url_map, owner)
        except errors.ResourceNotReady as exc:
            # Something this change references is still being created by a concurrent invocation: by the time
            # the caller has backed off and observed again, it is there (or the plan no longer needs it).
            raise StaleObservation(str(exc)) from exc


def _apply_one(compute: ComputeClients, change: Change, url_map: Json, owner: str) -> None:
    from google.cloud import compute_v1

    project = change.project
    if change.kind == KIND_NEG:
        resource = f"projects/{project}/regions/{change.region}/networkEndpointGroups/{change.name}"
        if change.op == CREATE:
            body = from_rest(compute_v1.NetworkEndpointGroup, change.body or {})
            _create(change, owner, resource, lambda: compute.negs.insert(
                project=project, region=change.region, network_endpoint_group_resource=body),
                lambda: get_neg(compute, project, str(change.region), change.name))
        elif change.op == DELETE:
            _delete(resource, "compute.regionNetworkEndpointGroups.delete", lambda: compute.negs.delete(
                project=project, region=change.region, network_endpoint_group=change.name))
        return
    if change.kind == KIND_BACKEND_SERVICE:
        resource = f"projects/{project}/global/backendServices/{change.name}"
        body = from_rest(compute_v1.BackendService, change.body or {})
        if change.op == CREATE:
            _create(change, owner, resource, lambda: compute.backend_services.insert(
                project=project, backend_service_resource=body),
                lambda: get_backend_service(compute, project, change.name))
        elif change.op == DELETE:
            _delete(resource, "compute.backendServices.delete", lambda: compute.backend_services.delete(
                project=project, backend_service=change.name))
        else:
            _guarded("compute.backendServices.patch", resource, lambda: compute.backend_services.patch(
                project=project, backend_service=change.name, backend_service_resource=body))
        return
    if change.kind == KIND_SECURITY_POLICY:
        resource = f"projects/{project}/global/backendServices/{change.name}"
        reference = compute_v1.SecurityPolicyReference(security_policy=(change.body or {}).get("securityPolicy"))
        _guarded("compute.backendServices.setSecurityPolicy", resource,
                 lambda: compute.backend_services.set_security_policy(
                     project=project, backend_service=change.name,
                     security_policy_reference_resource=reference))
        return
    if change.kind == KIND_URL_MAP:
        resource = f"projects/{project}/global/urlMaps/{change.name}"
        full = {**url_map, **(change.body or {})}
        body = from_rest(compute_v1.UrlMap, full)
        _guarded("compute.urlMaps.update", resource, lambda: compute.url_maps.update(
            project=project, url_map=change.name, url_map_resource=body))
        return
    raise ValueError(f"unknown change kind {change.kind!r}")


def _create(change: Change, owner: str, resource: str, insert: Any, read_back: Any) -> None:
    try:
        _call(f"compute.{change.kind}.insert", resource, lambda: _wait(insert()))
    except errors.Conflict as exc:
        if not exc.already_exists:
            raise
        existing = read_back()
        marker = parse_marker((existing or {}).get("description"))
        if marker is None or marker.owner != owner:
            holder = marker.owner if marker else "not made by runway"
            raise AdoptionRefused(change, holder) from exc
        # Ours, left by an earlier attempt that died between its create and the rest of the plan.
        raise StaleObservation(f"{resource} exists already and is ours: observe again") from exc


def _delete(resource: str, method: str, delete: Any) -> None:
    with contextlib.suppress(errors.NotFound):  # already gone: the goal of a delete
        _call(method, resource, lambda: _wait(delete()))


def _guarded(method: str, resource: str, write: Any) -> None:
    try:
        _call(method, resource, lambda: _wait(write()))
    except errors.PreconditionFailed as exc:
        raise StaleObservation(f"{resource} changed since it was read") from exc
