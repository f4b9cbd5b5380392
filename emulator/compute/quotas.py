"""Compute quotas: `projects.get` answers the project's quotas (`Project.quotas[]`) and `regions.get` a region's
(`Region.quotas[]`), each `{metric, limit, usage}` as the compute v1 discovery document shapes them.

Usage is counted from the store (the resources of that kind in the project, or in the project and region);
limits are the emulator's defaults below, the same for every project, settable at run time with
`POST /_emulator/computeQuotas` (a partial `{"METRIC": limit}` body; all or nothing), read with `GET` and put
back with `DELETE`. Production quotas vary by project and are raised on request, so the defaults are round
numbers, not Google's.
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from .. import params
from .references import BASE_URL, check_region, region_url
from .store import BACKEND_BUCKETS, BACKEND_SERVICES, NEGS, SECURITY_POLICIES, URL_MAPS, Collection, Store

MAX_QUOTA = 1_000_000

# metric -> (what it counts, default limit)
PROJECT_QUOTAS: Mapping[str, tuple[Collection, int]] = MappingProxyType(
    {
        "BACKEND_BUCKETS": (BACKEND_BUCKETS, 50),
        "BACKEND_SERVICES": (BACKEND_SERVICES, 50),
        "SECURITY_POLICIES": (SECURITY_POLICIES, 10),
        "URL_MAPS": (URL_MAPS, 10),
    }
)
REGION_QUOTAS: Mapping[str, tuple[Collection, int]] = MappingProxyType({"NETWORK_ENDPOINT_GROUPS": (NEGS, 100)})
DEFAULTS: Mapping[str, int] = MappingProxyType(
    {metric: limit for metric, (_, limit) in {**PROJECT_QUOTAS, **REGION_QUOTAS}.items()}
)

# The limits in force, per Compute API object (so two emulators in one process keep their own); replaced whole.
_LIMITS: weakref.WeakKeyDictionary[Any, Mapping[str, int]] = weakref.WeakKeyDictionary()


def limits(owner: Any) -> Mapping[str, int]:
    return _LIMITS.get(owner, DEFAULTS)


def configure(owner: Any, body: Any) -> dict[str, int]:
    """Apply a partial `{"METRIC": limit}` body: 400 naming the first bad metric or value, nothing changed then."""
    body = params.mapping(body, "", tuple(DEFAULTS))
    changes = {metric: params.integer(value, metric, minimum=0, maximum=MAX_QUOTA) for metric, value in body.items()}
    _LIMITS[owner] = MappingProxyType({**limits(owner), **changes})
    return dict(limits(owner))


def restore(owner: Any) -> dict[str, int]:
    _LIMITS.pop(owner, None)
    return dict(DEFAULTS)


def _quota(metric: str, limit: int, usage: int) -> dict[str, Any]:
    return {"metric": metric, "limit": float(limit), "usage": float(usage)}


def _id(*parts: str) -> str:
    """A stable uint64-like id, so repeated reads answer the same."""
    return str(int(hashlib.sha256("/".join(parts).encode()).hexdigest()[:15], 16))


def project_resource(store: Store, owner: Any, project: str) -> dict[str, Any]:
    """`compute.projects.get`: the project with its quotas."""
    current = limits(owner)
    return {
        "kind": "compute#project",
        "id": _id("project", project),
        "name": project,
        "quotas": [
            _quota(metric, current[metric], len(store.in_scope(project, "global", collection.name)))
            for metric, (collection, _) in sorted(PROJECT_QUOTAS.items())
        ],
        "selfLink": f"{BASE_URL}projects/{project}",
        "defaultNetworkTier": "PREMIUM",
        "xpnProjectStatus": "UNSPECIFIED_XPN_PROJECT_STATUS",
    }


def region_resource(store: Store, owner: Any, project: str, region: str) -> dict[str, Any]:
    """`compute.regions.get`: the region with its quotas (any well-formed region name exists)."""
    check_region(project, region)
    current = limits(owner)
    return {
        "kind": "compute#region",
        "id": _id("region", region),
        "name": region,
        "description": region,
        "status": "UP",
        "zones": [f"{BASE_URL}projects/{project}/zones/{region}-{zone}" for zone in "abc"],
        "quotas": [
            _quota(metric, current[metric], len(store.in_scope(project, f"regions/{region}", collection.name)))
            for metric, (collection, _) in sorted(REGION_QUOTAS.items())
        ],
        "selfLink": region_url(project, region),
    }
