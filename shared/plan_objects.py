"""One service's own objects on the load balancer: its serverless NEG per region, its backend service and the
Cloud Armor policy on it. Pure: (what the service asks for, what exists) -> the writes, in dependency order.

Every object lives in the service's own project (docs/design.md §4): a serverless NEG names a Cloud Run service
of its own project and region, and an external Application Load Balancer's backend service uses NEGs of its
own project; the shared URL map references the backend service across projects (docs/google-apis.md §9.4).

The writes come in two groups around the URL-map write (`shared.apply_url_map`):
- `before`: what the service's rule needs, made first, so the URL map never names a backend that is not
  ready or not protected: NEGs, then the backend service, then its Cloud Armor policy.
- `after`: what no rule needs any more, once the map no longer names it: the backend service, then its NEGs
  (Compute refuses to delete what is in use).

NEGs are immutable and named by their whole identity, so one is either there or not. A region whose NEG was
not read is planned as a create: the applier treats "already exists, and ours" as done, which saves a read
on the common path. An object of ours whose name is taken by something runway does not own is a squatter:
nothing is planned for that service (its route is a conflict naming the squatter).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.model import Change, DesiredRoute, Json, Kind, Op, ServiceRef
from shared.naming import (
    backend_service_name,
    last_segment,
    marker_json,
    neg_name,
    neg_url,
    parse_marker,
    relative_name,
    security_policy_path,
    security_policy_url,
)


@dataclass(frozen=True)
class ObjectsPlan:
    before: tuple[Change, ...] = ()
    after: tuple[Change, ...] = ()
    squatters: tuple[str, ...] = ()  # our names held by objects runway does not own (`region/name` for NEGs)

    @property
    def converged(self) -> bool:
        return not self.before and not self.after

    @property
    def changes(self) -> tuple[Change, ...]:
        return self.before + self.after


def neg_regions(backend: Mapping[str, object] | None) -> set[str]:
    """Regions of the serverless NEGs a backend service points at (from their URLs)."""
    regions = set()
    for entry in _backends(backend or {}):
        parts = str(entry.get("group", "")).split("/")
        if "regions" in parts:
            regions.add(parts[parts.index("regions") + 1])
    return regions


def is_ours(obj: Mapping[str, object] | None, owner_id: str) -> bool:
    marker = parse_marker(obj.get("description")) if obj else None
    return marker is not None and marker.owner == owner_id


def plan_objects(
    ref: ServiceRef,
    route: DesiredRoute | None,
    backend: Mapping[str, object] | None,
    negs: Mapping[str, Mapping[str, object] | None],
    *,
    owner_id: str,
    security_policy: str | None,
) -> ObjectsPlan:
    """The writes that make `ref`'s objects match `route` (None: the service is not published any more).

    `backend` is the service's backend service as read (None: absent); `negs` maps a region to its NEG as read
    (None: absent); a region not in `negs` was not read.
    """
    squatters = _squatters(ref, route, backend, negs, owner_id)
    if squatters:
        return ObjectsPlan(squatters=squatters)
    if route is None:
        return ObjectsPlan(after=_removal(ref, backend, negs, owner_id, "not published any more"))
    return _publish(ref, route, backend, negs, owner_id, security_policy)


def _squatters(
    ref: ServiceRef,
    route: DesiredRoute | None,
    backend: Mapping[str, object] | None,
    negs: Mapping[str, Mapping[str, object] | None],
    owner_id: str,
) -> tuple[str, ...]:
    if route is None:
        return ()  # nothing to make; objects not ours are simply left alone
    found = []
    if backend is not None and not is_ours(backend, owner_id):
        found.append(backend_service_name(owner_id, ref.project, ref.service))
    for region in sorted(route.regions):
        neg = negs.get(region)
        if neg is not None and not is_ours(neg, owner_id):
            found.append(f"{region}/{neg_name(owner_id, ref.project, region, ref.service)}")
    return tuple(found)


def _publish(
    ref: ServiceRef,
    route: DesiredRoute,
    backend: Mapping[str, object] | None,
    negs: Mapping[str, Mapping[str, object] | None],
    owner_id: str,
    security_policy: str | None,
) -> ObjectsPlan:
    in_use = neg_regions(backend)
    before = _negs_to_make(ref, route, in_use, negs, owner_id)
    name = backend_service_name(owner_id, ref.project, ref.service)
    backend_change = _backend_change(ref, route, name, backend, owner_id)
    if backend_change is not None:
        before.append(backend_change)
    policy = _policy_change(ref, name, backend, security_policy)
    if policy is not None:
        before.append(policy)
    # Fix: only NEGs of ours are removed; a NEG read under our name in a region the route left that runway does
    # not own (no marker, or another installation's) is left alone, as `_removal` does (tests/unit/test_plan_objects.py,
    # foreign_neg_under_our_name_elsewhere_left_alone).
    left = (in_use | {r for r, n in negs.items() if is_ours(n, owner_id)}) - set(route.regions)
    after = [
        Change(
            Op.DELETE,
            Kind.NEG,
            neg_name(owner_id, ref.project, region, ref.service),
            ref.project,
            f"{ref}: no longer published in {region}",
            (ref,),
            region=region,
        )
        for region in sorted(left)
    ]
    return ObjectsPlan(before=tuple(before), after=tuple(after))


def _negs_to_make(
    ref: ServiceRef,
    route: DesiredRoute,
    in_use: set[str],
    negs: Mapping[str, Mapping[str, object] | None],
    owner_id: str,
) -> list[Change]:
    changes = []
    marker = marker_json(owner_id, ref.project, ref.service)
    for region in sorted(route.regions):
        if region in in_use or negs.get(region) is not None:
            continue  # the backend service uses it (so it exists), or it was read and is there
        name = neg_name(owner_id, ref.project, region, ref.service)
        body: Json = {
            "name": name,
            "description": marker,
            "networkEndpointType": "SERVERLESS",
            "cloudRun": {"service": ref.service},
        }
        why = f"{ref}: serverless NEG for {region}"
        changes.append(Change(Op.CREATE, Kind.NEG, name, ref.project, why, (ref,), body, region))
    return changes


def _backend_change(
    ref: ServiceRef, route: DesiredRoute, name: str, backend: Mapping[str, object] | None, owner_id: str
) -> Change | None:
    groups = [
        {"group": neg_url(ref.project, region, neg_name(owner_id, ref.project, region, ref.service))}
        for region in sorted(route.regions)
    ]
    regions = ", ".join(sorted(route.regions))
    if backend is None:
        body: Json = {
            "name": name,
            "description": marker_json(owner_id, ref.project, ref.service),
            "loadBalancingScheme": "EXTERNAL_MANAGED",
            "protocol": "HTTPS",
            "backends": groups,
        }
        why = f"{ref}: backend service over {regions}"
        return Change(Op.CREATE, Kind.BACKEND_SERVICE, name, ref.project, why, (ref,), body)
    patch: Json = {}
    have = {relative_name(str(b.get("group", "")), ref.project) for b in _backends(backend)}
    if have != {relative_name(g["group"]) for g in groups}:
        patch["backends"] = groups
    if backend.get("protocol", "HTTPS") != "HTTPS":
        patch["protocol"] = "HTTPS"
    if not patch:
        return None
    body = {"name": name, **patch, "fingerprint": backend.get("fingerprint")}
    why = f"{ref}: backend service to serve {regions}"
    return Change(Op.UPDATE, Kind.BACKEND_SERVICE, name, ref.project, why, (ref,), body)


def _policy_change(
    ref: ServiceRef, name: str, backend: Mapping[str, object] | None, security_policy: str | None
) -> Change | None:
    """Attach the configured Cloud Armor policy. When none is configured, a policy found on a backend is left
    alone: runway never removes protection someone attached."""
    if not security_policy:
        return None
    want = security_policy_path(ref.project, security_policy)
    current = backend.get("securityPolicy") if backend else None
    have = relative_name(current, ref.project) if isinstance(current, str) and current else None
    if have == want:
        return None
    why = f"{ref}: attach Cloud Armor policy {last_segment(want)}"
    if have:
        why += f" in place of {last_segment(have)}"
    body = {"securityPolicy": security_policy_url(ref.project, security_policy)}
    return Change(Op.UPDATE, Kind.SECURITY_POLICY, name, ref.project, why, (ref,), body)


def _removal(
    ref: ServiceRef,
    backend: Mapping[str, object] | None,
    negs: Mapping[str, Mapping[str, object] | None],
    owner_id: str,
    why: str,
) -> tuple[Change, ...]:
    services = (ref,)
    changes = []
    if is_ours(backend, owner_id):
        name = backend_service_name(owner_id, ref.project, ref.service)
        changes.append(Change(Op.DELETE, Kind.BACKEND_SERVICE, name, ref.project, f"{ref}: {why}", services))
    regions = (neg_regions(backend) if is_ours(backend, owner_id) else set()) | {
        region for region, neg in negs.items() if is_ours(neg, owner_id)
    }
    for region in sorted(regions):
        name = neg_name(owner_id, ref.project, region, ref.service)
        changes.append(Change(Op.DELETE, Kind.NEG, name, ref.project, f"{ref}: {why}", services, region=region))
    return tuple(changes)


def _backends(backend: Mapping[str, object]) -> list[Mapping[str, object]]:
    entries = backend.get("backends") or []
    return [entry for entry in entries if isinstance(entry, Mapping)] if isinstance(entries, list) else []
