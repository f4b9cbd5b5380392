"""runway's only Compute calls, through google-cloud-compute: reads, and each kind of write waited for.

`google.cloud.compute_v1` is imported inside these functions, never at module import, so the ingress path does
not pay for it. Every function raises `errors.RunwayApiError` kinds, `ConfigError` when a configured object
does not exist, or this module's `StaleObservation` (what was read changed meanwhile: read again and decide again)
and `AdoptionRefused` (a create met somebody else's object); never a client exception.

Writes are sent with the `*_unary` methods and their operation is waited for with the operations service's
`wait` (one call that returns when the operation is done or near Compute's two-minute deadline), not polled
with `get` (docs/google-apis.md §3.4). A failed operation is classified like a failed request.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterable
from typing import Any

from . import errors
from .clients import ComputeClients
from .config import ConfigError
from .model import Change, Json, Kind, Op
from .naming import last_segment, parse_marker

READ_TIMEOUT = 30.0
OPERATION_TIMEOUT = 300.0
_COLLECTION = {Kind.NEG: "regionNetworkEndpointGroups", Kind.BACKEND_SERVICE: "backendServices"}


class AdoptionRefused(Exception):
    """A create met an existing object that is not ours: the route conflicts with whoever made it."""

    def __init__(self, change: Change, holder: str) -> None:
        super().__init__(f"{change.kind} {change.name} already exists and is not runway's ({holder})")
        self.change = change
        self.holder = holder


class StaleObservation(Exception):
    """What a plan was made from changed under it (412, a 409 on an object of ours, an object it references
    gone or not ready yet): observe and plan again."""


def to_rest(message: Any) -> Json:
    """A Compute proto message as REST JSON (camelCase, string enums)."""
    rest: Json = json.loads(
        type(message).to_json(
            message, use_integers_for_enums=False, indent=None, always_print_fields_with_no_presence=False
        )
    )
    return rest


def from_rest(cls: Any, body: Json) -> Any:
    return cls.from_json(json.dumps(body), ignore_unknown_fields=True)


# --- reads ---------------------------------------------------------------------------------------------------


def _read(method: str, resource: str, fn: Any, **kwargs: Any) -> Json | None:
    """One object as REST JSON, None when it does not exist; transient failures are retried (reads are safe)."""
    try:
        return to_rest(errors.call(method, resource, fn, retry=errors.default_retry(READ_TIMEOUT), **kwargs))
    except errors.NotFound:
        return None


def _list(method: str, parent: str, fn: Any, **kwargs: Any) -> list[Json]:
    return errors.call(
        method, parent, lambda: [to_rest(item) for item in fn(retry=errors.default_retry(READ_TIMEOUT), **kwargs)]
    )


def get_url_map(compute: ComputeClients, project: str, name: str) -> Json:
    resource = f"projects/{project}/global/urlMaps/{name}"
    url_map = _read("compute.urlMaps.get", resource, compute.url_maps.get, project=project, url_map=name)
    if url_map is None:
        raise ConfigError([("RUNWAY_URL_MAP", f"URL map {name!r} does not exist in project {project}")])
    return url_map


def get_backend_service(compute: ComputeClients, project: str, name: str) -> Json | None:
    resource = f"projects/{project}/global/backendServices/{name}"
    return _read(
        "compute.backendServices.get", resource, compute.backend_services.get, project=project, backend_service=name
    )


def get_neg(compute: ComputeClients, project: str, region: str, name: str) -> Json | None:
    return _read(
        "compute.regionNetworkEndpointGroups.get",
        f"projects/{project}/regions/{region}/networkEndpointGroups/{name}",
        compute.negs.get,
        project=project,
        region=region,
        network_endpoint_group=name,
    )


def get_security_policy(compute: ComputeClients, project: str, name: str) -> Json | None:
    return _read(
        "compute.securityPolicies.get",
        f"projects/{project}/global/securityPolicies/{name}",
        compute.security_policies.get,
        project=project,
        security_policy=name,
    )


def list_backend_services(compute: ComputeClients, project: str) -> list[Json]:
    """Every backend service of the project, runway's (by marker) and everyone else's."""
    return _list(
        "compute.backendServices.list",
        f"projects/{project}/global/backendServices",
        compute.backend_services.list,
        project=project,
    )


def list_negs(compute: ComputeClients, project: str, regions: Iterable[str]) -> list[Json]:
    """Every network endpoint group in these regions (runway's are told from the others by marker)."""
    found: list[Json] = []
    for region in sorted(set(regions)):
        found += _list(
            "compute.regionNetworkEndpointGroups.list",
            f"projects/{project}/regions/{region}/networkEndpointGroups",
            compute.negs.list,
            project=project,
            region=region,
        )
    return found


def owned(items: Iterable[Json], owner: str) -> list[Json]:
    return [item for item in items if (marker := parse_marker(item.get("description"))) and marker.owner == owner]


def validate_url_map(compute: ComputeClients, project: str, name: str, url_map: Json) -> list[str]:
    """What Google's `urlMaps.validate` finds wrong with a candidate map (empty: it would load)."""
    from google.cloud import compute_v1

    request = compute_v1.UrlMapsValidateRequest(
        resource=from_rest(compute_v1.UrlMap, url_map), load_balancing_schemes=["EXTERNAL_MANAGED"]
    )
    reply = errors.call(
        "compute.urlMaps.validate",
        f"projects/{project}/global/urlMaps/{name}",
        compute.url_maps.validate,
        project=project,
        url_map=name,
        url_maps_validate_request_resource=request,
        retry=errors.default_retry(READ_TIMEOUT),
    )
    result = reply.result
    problems = list(result.load_errors)
    if result.load_succeeded and not problems and result.test_failures:
        problems = [f"test failure: {to_rest(failure)}" for failure in result.test_failures]
    return problems if problems or result.load_succeeded else ["the URL map would not load"]


# --- writes -----------------------------------------------------------------------------------------------------


def wait(compute: ComputeClients, operation: Any, method: str, resource: str) -> None:
    """Wait for a Compute operation with `wait`, and raise its failure as a classified error."""
    from google.api_core import exceptions as gexc
    from google.cloud import compute_v1

    deadline = time.monotonic() + OPERATION_TIMEOUT
    op, project = operation, _project_of(operation)
    region = last_segment(operation.region) if operation.region else None
    while op.status != compute_v1.Operation.Status.DONE:
        if time.monotonic() > deadline:
            raise errors.ServerError(
                f"operation {op.name} not done after {OPERATION_TIMEOUT:.0f} s", method=method, resource=resource
            )
        if region:
            op = errors.call(
                "compute.regionOperations.wait",
                op.name,
                compute.region_operations.wait,
                project=project,
                region=region,
                operation=op.name,
            )
        else:
            op = errors.call(
                "compute.globalOperations.wait",
                op.name,
                compute.global_operations.wait,
                project=project,
                operation=op.name,
            )
    if op.http_error_status_code or op.error.errors:
        message = op.http_error_message or "; ".join(e.message for e in op.error.errors)
        failure = gexc.from_http_status(  # type: ignore[no-untyped-call]
            op.http_error_status_code or 500, message, errors=list(op.error.errors)
        )
        raise errors.classify(failure, method=method, resource=resource) from failure


def _project_of(operation: Any) -> str:
    parts = str(operation.self_link).split("/")
    return parts[parts.index("projects") + 1] if "projects" in parts else ""


def _write(compute: ComputeClients, method: str, resource: str, start: Callable[[], Any]) -> None:
    operation = errors.call(method, resource, start)
    wait(compute, operation, method, resource)


def apply(compute: ComputeClients, change: Change, owner: str) -> None:
    """Carry out one change and wait for it. A create that meets its object already made by runway (an earlier
    attempt) counts as done; one that meets somebody else's raises `AdoptionRefused`. A delete of something
    already gone counts as done."""
    try:
        _apply(compute, change, owner)
    except (errors.ResourceNotReady, errors.PreconditionFailed, errors.NotFound) as exc:
        # Something it references is being created (or was just removed) by a concurrent invocation, or the
        # object changed since it was read: observe again. (A delete of something gone never gets here.)
        raise StaleObservation(str(exc)) from exc


def _apply(compute: ComputeClients, change: Change, owner: str) -> None:
    from google.cloud import compute_v1

    project, body = change.project, change.body or {}
    if change.kind == Kind.NEG:
        resource = f"projects/{project}/regions/{change.region}/networkEndpointGroups/{change.name}"
        if change.op == Op.CREATE:
            neg = from_rest(compute_v1.NetworkEndpointGroup, body)
            _create(
                compute,
                change,
                owner,
                resource,
                lambda: compute.negs.insert_unary(
                    project=project, region=change.region, network_endpoint_group_resource=neg
                ),
                lambda: get_neg(compute, project, str(change.region), change.name),
            )
        else:
            _delete(
                compute,
                resource,
                "compute.regionNetworkEndpointGroups.delete",
                lambda: compute.negs.delete_unary(
                    project=project, region=change.region, network_endpoint_group=change.name
                ),
            )
    elif change.kind == Kind.BACKEND_SERVICE:
        resource = f"projects/{project}/global/backendServices/{change.name}"
        backend = from_rest(compute_v1.BackendService, body)
        if change.op == Op.CREATE:
            _create(
                compute,
                change,
                owner,
                resource,
                lambda: compute.backend_services.insert_unary(project=project, backend_service_resource=backend),
                lambda: get_backend_service(compute, project, change.name),
            )
        elif change.op == Op.DELETE:
            _delete(
                compute,
                resource,
                "compute.backendServices.delete",
                lambda: compute.backend_services.delete_unary(project=project, backend_service=change.name),
            )
        else:
            _write(
                compute,
                "compute.backendServices.patch",
                resource,
                lambda: compute.backend_services.patch_unary(
                    project=project, backend_service=change.name, backend_service_resource=backend
                ),
            )
    elif change.kind == Kind.SECURITY_POLICY:
        _attach_policy(compute, change)
    else:
        raise ValueError(f"not an object change: {change.kind}")


def patch_url_map(compute: ComputeClients, project: str, name: str, body: Json, url_map: Json) -> None:
    """Send runway's host rules and path matchers with the fingerprint just read.

    A PATCH carrying only those lists leaves every other field of the map as the server has it, including fields
    this client library is too old to know. A JSON merge patch cannot empty a list, though (the client leaves
    empty repeated fields out), so when the map is left with no host rules it is written whole (PUT).
    """
    from google.cloud import compute_v1

    resource = f"projects/{project}/global/urlMaps/{name}"
    if body.get("hostRules") and body.get("pathMatchers"):
        patch = from_rest(compute_v1.UrlMap, {k: body[k] for k in ("hostRules", "pathMatchers", "fingerprint")})
        _write(
            compute,
            "compute.urlMaps.patch",
            resource,
            lambda: compute.url_maps.patch_unary(project=project, url_map=name, url_map_resource=patch),
        )
    else:
        whole = from_rest(compute_v1.UrlMap, {**url_map, **body})
        _write(
            compute,
            "compute.urlMaps.update",
            resource,
            lambda: compute.url_maps.update_unary(project=project, url_map=name, url_map_resource=whole),
        )


def _attach_policy(compute: ComputeClients, change: Change) -> None:
    from google.cloud import compute_v1

    resource = f"projects/{change.project}/global/backendServices/{change.name}"
    policy_url = (change.body or {}).get("securityPolicy")
    reference = compute_v1.SecurityPolicyReference(security_policy=policy_url)
    try:
        _write(
            compute,
            "compute.backendServices.setSecurityPolicy",
            resource,
            lambda: compute.backend_services.set_security_policy_unary(
                project=change.project, backend_service=change.name, security_policy_reference_resource=reference
            ),
        )
    except errors.NotFound as exc:
        # Either the backend service went away meanwhile (observe again) or the configured policy does not exist,
        # which no retry fixes: tell the platform team which variable is wrong.
        policy = last_segment(str(policy_url))
        if policy_url and get_security_policy(compute, change.project, policy) is None:
            raise ConfigError(
                [
                    (
                        "RUNWAY_SECURITY_POLICY",
                        f"Cloud Armor policy {policy!r} does not exist in project {change.project}",
                    )
                ]
            ) from exc
        raise StaleObservation(f"{resource} is gone") from exc


def _create(compute: ComputeClients, change: Change, owner: str, resource: str, insert: Any, read_back: Any) -> None:
    try:
        _write(compute, f"compute.{_COLLECTION[change.kind]}.insert", resource, insert)
    except errors.Conflict as exc:
        if not exc.already_exists:
            raise
        existing = read_back()
        if existing is None:
            raise StaleObservation(f"{resource} existed a moment ago and is gone: observe again") from exc
        marker = parse_marker(existing.get("description"))
        if marker is None or marker.owner != owner:
            raise AdoptionRefused(change, marker.owner if marker else "not made by runway") from exc
        # Ours, made by an earlier attempt or a concurrent invocation: the create's goal is met.


def _delete(compute: ComputeClients, resource: str, method: str, delete: Any) -> None:
    with contextlib.suppress(errors.NotFound):  # already gone: the goal of a delete
        _write(compute, method, resource, delete)
