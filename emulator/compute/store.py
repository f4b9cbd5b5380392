"""The Compute resource store: what exists, who references whom, fingerprints and readiness.

Every method expects the caller to hold `Emulator.lock`; the store itself never locks, so a handler can
check, change and render in one critical section.
"""

from __future__ import annotations

import base64
import copy
import secrets
from dataclasses import dataclass
from typing import Any

from ..clock import compute_timestamp, monotonic, now
from ..errors import ApiError
from .references import BASE_URL, Ref, region_url

Resource = dict[str, Any]


@dataclass(frozen=True)
class Collection:
    name: str  # REST collection, e.g. "urlMaps"
    singular: str  # as production names it in "in use" messages, e.g. "urlMap"
    kind: str
    regional: bool = False
    fingerprinted: bool = False  # patch/update must carry the current fingerprint
    has_used_by: bool = False  # BackendService and BackendBucket print `usedBy`


NEGS = Collection("networkEndpointGroups", "networkEndpointGroup", "compute#networkEndpointGroup", regional=True)
BACKEND_SERVICES = Collection(
    "backendServices", "backendService", "compute#backendService", fingerprinted=True, has_used_by=True
)
URL_MAPS = Collection("urlMaps", "urlMap", "compute#urlMap", fingerprinted=True)
SECURITY_POLICIES = Collection("securityPolicies", "securityPolicy", "compute#securityPolicy", fingerprinted=True)
BACKEND_BUCKETS = Collection("backendBuckets", "backendBucket", "compute#backendBucket", has_used_by=True)

COLLECTIONS = {c.name: c for c in (NEGS, BACKEND_SERVICES, URL_MAPS, SECURITY_POLICIES, BACKEND_BUCKETS)}

# Fields the server owns: dropped from every request body, whatever the client echoes back.
COMMON_OUTPUT_ONLY = frozenset({"kind", "id", "selfLink", "selfLinkWithId", "creationTimestamp", "fingerprint"})
# Output-only fields beyond the common ones: dropped from request bodies, since clients echo what they read.
_OUTPUT_ONLY: dict[str, frozenset[str]] = {
    NEGS.name: frozenset({"region", "size", "zone"}),
    BACKEND_SERVICES.name: frozenset({"usedBy", "securityPolicy", "edgeSecurityPolicy", "region"}),
    URL_MAPS.name: frozenset({"status", "region"}),
    SECURITY_POLICIES.name: frozenset({"labelFingerprint", "region"}),
    BACKEND_BUCKETS.name: frozenset({"usedBy", "region"}),
}


def client_fields(collection: Collection, body: Resource) -> Resource:
    """A copy of the fields of `body` the client owns: output-only and null ones dropped."""
    dropped = COMMON_OUTPUT_ONLY | _OUTPUT_ONLY[collection.name]
    return {k: copy.deepcopy(v) for k, v in body.items() if k not in dropped and v is not None}


def new_id() -> str:
    """A uint64 printed as a string, 19 digits like production ids."""
    return str(10**18 + secrets.randbelow(8 * 10**18))


def new_fingerprint() -> str:
    return base64.b64encode(secrets.token_bytes(8)).decode()


def not_found(path: str) -> ApiError:
    return ApiError(404, f"The resource '{path}' was not found")


class Store:
    def __init__(self) -> None:
        self._resources: dict[str, Resource] = {}
        self._refs: dict[str, frozenset[str]] = {}  # path -> paths it references
        self._ready_at: dict[str, float] = {}  # path -> monotonic time its insert operation is DONE

    def clear(self) -> None:
        self._resources.clear()
        self._refs.clear()
        self._ready_at.clear()

    # -- reads -------------------------------------------------------------------------------------

    def find(self, path: str) -> Resource | None:
        return self._resources.get(path)

    def get(self, ref: Ref) -> Resource:
        found = self._resources.get(ref.path)
        if found is None:
            raise not_found(ref.path)
        return found

    def resolve(self, ref: Ref) -> Resource:
        """A referenced resource: 404 when missing, 400 `resourceNotReady` while its insert is still running
        (production refuses to build on a resource whose creation has not finished)."""
        found = self.get(ref)
        if monotonic() < self._ready_at.get(ref.path, 0.0):
            raise ApiError(400, f"The resource '{ref.path}' is not ready", reason="resourceNotReady")
        return found

    def in_scope(self, project: str, scope: str, collection: str) -> list[str]:
        """Paths of one collection in one scope, in name order (the default order of Compute lists)."""
        prefix = f"projects/{project}/{scope}/{collection}/"
        return [p for p in sorted(self._resources) if p.startswith(prefix)]

    def references(self, path: str) -> set[str]:
        return set(self._refs.get(path, frozenset()))

    def referrers(self, path: str) -> list[str]:
        return sorted(p for p, targets in self._refs.items() if path in targets)

    def render(self, path: str) -> Resource:
        """The resource as the API prints it: a copy, with `usedBy` computed from live references."""
        stored = self._resources[path]
        body = copy.deepcopy(stored)
        collection = COLLECTIONS[path.split("/")[-2]]
        if collection.has_used_by:
            users = self.referrers(path)
            if users:
                body["usedBy"] = [{"reference": BASE_URL + p} for p in users]
        return body

    def all_paths(self) -> list[str]:
        return sorted(self._resources)

    # -- writes ------------------------------------------------------------------------------------

    def insert(self, ref: Ref, collection: Collection, body: Resource, refs: frozenset[str], delay: float) -> Resource:
        if ref.path in self._resources:
            raise ApiError(409, f"The resource '{ref.path}' already exists", reason="alreadyExists")
        stored: Resource = {
            "kind": collection.kind,
            "id": new_id(),
            "creationTimestamp": compute_timestamp(now()),
            "name": ref.name,
            **body,
            "selfLink": ref.url,
        }
        if collection.regional:
            stored["region"] = region_url(ref.project, ref.scope.split("/", 1)[1])
        if collection.fingerprinted:
            stored["fingerprint"] = new_fingerprint()
        self._resources[ref.path] = stored
        self._refs[ref.path] = refs
        if delay > 0:
            self._ready_at[ref.path] = monotonic() + delay
        return stored

    def replace(self, ref: Ref, collection: Collection, body: Resource, refs: frozenset[str]) -> Resource:
        """Replace the client-owned fields of an existing resource; server-owned ones survive."""
        old = self.get(ref)
        kept = {k: old[k] for k in ("kind", "id", "creationTimestamp") if k in old}
        stored: Resource = {**kept, "name": ref.name, **body, "selfLink": ref.url}
        if "region" in old:
            stored["region"] = old["region"]
        if collection.fingerprinted:
            stored["fingerprint"] = new_fingerprint()
        self._resources[ref.path] = stored
        self._refs[ref.path] = refs
        return stored

    def delete(self, ref: Ref, collection: Collection) -> Resource:
        found = self.get(ref)
        users = self.referrers(ref.path)
        if users:
            raise ApiError(
                400,
                f"The {collection.singular} resource '{ref.path}' is already being used by '{users[0]}'",
                reason="resourceInUseByAnotherResource",
            )
        del self._resources[ref.path]
        self._refs.pop(ref.path, None)
        self._ready_at.pop(ref.path, None)
        return found
