"""Reading and writing the shared load balancer through google-cloud-compute: runway's only Compute calls.

`google.cloud.compute_v1` is imported inside these functions, never at module import, so the ingress path
(which imports this module's neighbours) does not pay for it. Every function raises `errors.RunwayApiError`
kinds (or `ConfigError` when a configured object does not exist), never a client exception.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

from . import errors
from .clients import ComputeClients
from .config import ConfigError
from .naming import last_segment, parse_marker
from .route_plan import CREATE, DELETE, KIND_BACKEND_SERVICE, KIND_NEG, KIND_SECURITY_POLICY, KIND_URL_MAP, Change

Json = dict[str, Any]

READ_TIMEOUT = 30.0
# Compute operations on these objects finish in seconds. api_core's default polling starts at 1 s and backs
# off to 20 s, which would hold a function for a minute on a slow operation; poll sooner and cap lower.
OPERATION_TIMEOUT = 180.0
# The REST collection of each kind of change, for the method names in errors and the decision log.
_COLLECTION = {KIND_NEG: "regionNetworkEndpointGroups", KIND_BACKEND_SERVICE: "backendServices"}


def to_rest(message: Any) -> Json:
    """A Compute proto message as the REST JSON the planner reads (camelCase, string enums)."""
    return json.loads(
        type(message).to_json(
            message, use_integers_for_enums=False, indent=None, always_print_fields_with_no_presence=False
        )
    )


def from_rest(cls: Any, body: Json) -> Any:
    return cls.from_json(json.dumps(body), ignore_unknown_fields=True)


def _polling() -> Any:
    from google.api_core.future.polling import _OperationNotComplete
    from google.api_core.retry import Retry, if_exception_type

    return Retry(
        predicate=if_exception_type(_OperationNotComplete),
        initial=0.25,
        maximum=4.0,
        multiplier=1.5,
        timeout=OPERATION_TIMEOUT,
    )


def _write(method: str, resource: str, start: Any) -> None:
    """Start a write and wait for its operation; both the request and the operation's outcome are classified."""
    errors.call(method, resource, lambda: start().result(timeout=OPERATION_TIMEOUT, polling=_polling()))


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


# --- observe ---------------------------------------------------------------------------------------------


def get_url_map(compute: ComputeClients, project: str, name: str) -> Json:
    url_map = _read(
        "compute.urlMaps.get",
        f"projects/{project}/global/urlMaps/{name}",
        compute.url_maps.get,
        project=project,
        url_map=name,
    )
    if url_map is None:
        raise ConfigError([("RUNWAY_URL_MAP", f"URL map {name!r} does not exist in project {project}")])
    return url_map


def get_backend_service(compute: ComputeClients, project: str, name: str) -> Json | None:
    return _read(
        "compute.backendServices.get",
        f"projects/{project}/global/backendServices/{name}",
        compute.backend_services.get,
        project=project,
        backend_service=name,
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
    """Every backend service of the project: runway's (by marker) and everyone else's, which the planner needs to
    name who holds a path and to see a name of ours already taken."""
    return _list(
        "compute.backendServices.list",
        f"projects/{project}/global/backendServices",
        compute.backend_services.list,
        project=project,
    )


def list_negs(compute: ComputeClients, project: str, regions: Iterable[str]) -> list[Json]:
    """Every network endpoint group in these regions (the planner tells runway's from the others by marker)."""
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
    """What the plan was made from changed under it (412, a 409 on an object of ours, an object it references
    gone or not ready yet): observe and plan again."""


def apply_changes(compute: ComputeClients, changes: Sequence[Change], url_map: Json, owner: str) -> None:
    """Run the plan's changes in order, each waiting for its operation."""
    if sum(1 for change in changes if change.kind == KIND_URL_MAP) > 1:
        # Each URL-map write spends the fingerprint it was planned with: a second one needs a new observation.
        raise ValueError("a plan carries at most one URL map change")
    for change in changes:
        try:
            _apply_one(compute, change, url_map, owner)
        except (errors.ResourceNotReady, errors.NotFound) as exc:
            # Something this change references is being created, or was removed, by a concurrent invocation: by
            # the time the caller has backed off and observed again, the plan will account for it.
            raise StaleObservation(str(exc)) from exc


def _apply_one(compute: ComputeClients, change: Change, url_map: Json, owner: str) -> None:
    from google.cloud import compute_v1

    project, body = change.project, change.body or {}
    if change.kind == KIND_NEG:
        resource = f"projects/{project}/regions/{change.region}/networkEndpointGroups/{change.name}"
        if change.op == CREATE:
            neg = from_rest(compute_v1.NetworkEndpointGroup, body)
            _create(
                change,
                owner,
                resource,
                lambda: compute.negs.insert(project=project, region=change.region, network_endpoint_group_resource=neg),
                lambda: get_neg(compute, project, str(change.region), change.name),
            )
        elif change.op == DELETE:
            _delete(
                resource,
                "compute.regionNetworkEndpointGroups.delete",
                lambda: compute.negs.delete(project=project, region=change.region, network_endpoint_group=change.name),
            )
    elif change.kind == KIND_BACKEND_SERVICE:
        resource = f"projects/{project}/global/backendServices/{change.name}"
        backend = from_rest(compute_v1.BackendService, body)
        if change.op == CREATE:
            _create(
                change,
                owner,
                resource,
                lambda: compute.backend_services.insert(project=project, backend_service_resource=backend),
                lambda: get_backend_service(compute, project, change.name),
            )
        elif change.op == DELETE:
            _delete(
                resource,
                "compute.backendServices.delete",
                lambda: compute.backend_services.delete(project=project, backend_service=change.name),
            )
        else:
            _guarded(
                "compute.backendServices.patch",
                resource,
                lambda: compute.backend_services.patch(
                    project=project, backend_service=change.name, backend_service_resource=backend
                ),
            )
    elif change.kind == KIND_SECURITY_POLICY:
        _attach_policy(compute, change)
    elif change.kind == KIND_URL_MAP:
        _write_url_map(compute, change, url_map)
    else:
        raise ValueError(f"unknown change kind {change.kind!r}")


def _write_url_map(compute: ComputeClients, change: Change, url_map: Json) -> None:
    """Send runway's host rules and path matchers with the fingerprint just read.

    A PATCH carrying only those lists leaves every other field of the map as the server has it, including
    fields this client library is too old to know. A JSON merge patch cannot empty a list, though: the client
    leaves empty repeated fields out of the request. When runway's last rule leaves a map that has no other
    host rules, the map is written whole (PUT) instead.
    """
    from google.cloud import compute_v1

    resource = f"projects/{change.project}/global/urlMaps/{change.name}"
    body = change.body or {}
    try:
        if body.get("hostRules") and body.get("pathMatchers"):
            patch = from_rest(compute_v1.UrlMap, {k: body[k] for k in ("hostRules", "pathMatchers", "fingerprint")})
            _guarded(
                "compute.urlMaps.patch",
                resource,
                lambda: compute.url_maps.patch(project=change.project, url_map=change.name, url_map_resource=patch),
            )
        else:
            whole = from_rest(compute_v1.UrlMap, {**url_map, **body})
            _guarded(
                "compute.urlMaps.update",
                resource,
                lambda: compute.url_maps.update(project=change.project, url_map=change.name, url_map_resource=whole),
            )
    except errors.NotFound as exc:
        # The map is gone (a configuration problem, raised by the read) or a service a rule names is (observe again).
        get_url_map(compute, change.project, change.name)
        raise StaleObservation(f"{resource} refers to something that no longer exists") from exc


def _attach_policy(compute: ComputeClients, change: Change) -> None:
    from google.cloud import compute_v1

    resource = f"projects/{change.project}/global/backendServices/{change.name}"
    policy_url = (change.body or {}).get("securityPolicy")
    reference = compute_v1.SecurityPolicyReference(security_policy=policy_url)
    try:
        _guarded(
            "compute.backendServices.setSecurityPolicy",
            resource,
            lambda: compute.backend_services.set_security_policy(
                project=change.project, backend_service=change.name, security_policy_reference_resource=reference
            ),
        )
    except errors.NotFound as exc:
        # Either the backend service went away meanwhile (observe again) or the configured policy does not exist,
        # which no retry fixes: tell the platform team which variable is wrong.
        policy = last_segment(str(policy_url))
        if policy_url and get_security_policy(compute, change.project, policy) is None:
            raise ConfigError(
                [("RUNWAY_SECURITY_POLICY", f"Cloud Armor policy {policy!r} does not exist in {change.project}")]
            ) from exc
        raise


def _create(change: Change, owner: str, resource: str, insert: Any, read_back: Any) -> None:
    try:
        _write(f"compute.{_COLLECTION[change.kind]}.insert", resource, insert)
    except errors.Conflict as exc:
        if not exc.already_exists:
            raise
        existing = read_back()
        if existing is None:
            raise StaleObservation(f"{resource} existed a moment ago and is gone: observe again") from exc
        marker = parse_marker(existing.get("description"))
        if marker is None or marker.owner != owner:
            raise AdoptionRefused(change, marker.owner if marker else "not made by runway") from exc
        # Ours, left by an earlier attempt that died between its create and the rest of the plan.
        raise StaleObservation(f"{resource} exists already and is ours: observe again") from exc


def _delete(resource: str, method: str, delete: Any) -> None:
    with contextlib.suppress(errors.NotFound):  # already gone: the goal of a delete
        _write(method, resource, delete)


def _guarded(method: str, resource: str, write: Any) -> None:
    try:
        _write(method, resource, write)
    except errors.PreconditionFailed as exc:
        raise StaleObservation(f"{resource} changed since it was read") from exc
