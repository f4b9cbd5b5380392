"""Compute Engine v1: serverless NEGs, backend services, URL maps, security policies, backend buckets, and
the global and regional operations every write answers with.

Changes are applied when the request is accepted, under `Emulator.lock`, and the operation then reports
RUNNING until `faults.operation_delay` has passed. Production applies them while the operation runs, so a
client that reads before waiting sees the new state earlier here. What production does refuse while an
insert is still running (building on the new resource) is emulated: it answers 400 `resourceNotReady`.
"""

from __future__ import annotations

import base64
import binascii
import copy
import time
import uuid
from collections.abc import Callable
from typing import Any

from flask import g, request

from ..errors import ApiError, invalid
from ..http import principal
from ..runtime import Runtime
from . import rules, urlmaps
from .aggregated import aggregated_body
from .listing import list_body
from .operations import WAIT_DEADLINE_SECONDS, Operations
from .references import BASE_URL, Ref, check_name, collection_url, relative, scope_of
from .store import (
    BACKEND_SERVICES,
    COMMON_OUTPUT_ONLY,
    NEGS,
    SECURITY_POLICIES,
    URL_MAPS,
    Collection,
    Resource,
    Store,
    client_fields,
    new_id,
)

_ZERO_UUID = uuid.UUID(int=0)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge, `null` removes, arrays and scalars replace."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


class ComputeApi:
    name = "compute"

    def __init__(self, emu: Runtime) -> None:
        self.emu = emu
        self.store = Store()
        self.operations = Operations()

    def reset(self) -> None:
        with self.emu.lock:
            self.store.clear()
            self.operations.clear()

    def snapshot(self) -> dict[str, Any]:
        with self.emu.lock:
            return {
                "resources": {path: self.store.render(path) for path in self.store.all_paths()},
                "operations": self.operations.snapshot(),
            }

    # -- reads -------------------------------------------------------------------------------------

    def get(self, project: str, region: str | None, collection: Collection, name: str) -> Resource:
        ref = Ref(project, scope_of(region), collection.name, name)
        with self.emu.lock:
            self.store.get(ref)
            return self.store.render(ref.path)

    def list(self, project: str, region: str | None, collection: Collection, args: Any) -> dict[str, Any]:
        scope = scope_of(region)
        with self.emu.lock:
            items = [self.store.render(path) for path in self.store.in_scope(project, scope, collection.name)]
        return list_body(
            items,
            args,
            kind=f"{collection.kind}List",
            list_id=f"projects/{project}/{scope}/{collection.name}",
            # SecurityPolicyList has no selfLink (compute.v1 discovery document); every other list here has one.
            self_link=None if collection is SECURITY_POLICIES else collection_url(project, scope, collection.name),
        )

    def aggregated_list(self, project: str, collection: str, args: Any) -> dict[str, Any]:
        """`projects/P/aggregated/<collection>`: every scope's items (`aggregated.py`); `operations` included."""
        with self.emu.lock:
            regions = {self.emu.settings.default_region}
            prefix = f"projects/{project}/regions/"
            regions.update(p.split("/")[3] for p in self.store.all_paths() if p.startswith(prefix))
            regions.update(op.region for op in self.operations.all() if op.project == project and op.region)
            scoped: dict[str, list[dict[str, Any]]] = {}
            for region in [None, *sorted(regions)]:
                scope = scope_of(region)
                if collection == "operations":
                    scoped[scope] = [op.render() for op in self.operations.in_scope(project, region)]
                else:
                    scoped[scope] = [self.store.render(p) for p in self.store.in_scope(project, scope, collection)]
        return aggregated_body(project, collection, scoped, args)

    def validate_url_map(self, project: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.emu.lock:
            return urlmaps.validate(self.store, project, body, self.emu.url_map_limits)

    # -- writes ------------------------------------------------------------------------------------

    def insert(
        self, project: str, region: str | None, collection: Collection, body: Resource, request_id: str | None
    ) -> dict[str, Any]:
        def apply(delay: float) -> Resource:
            ref = Ref(project, scope_of(region), collection.name, check_name(body.get("name")))
            checked, refs = self._check(collection, project, client_fields(collection, body))
            return self.store.insert(ref, collection, checked, refs, delay)

        return self._write(project, region, "insert", request_id, apply)

    def modify(
        self, project: str, collection: Collection, name: str, body: Resource, request_id: str | None, *, merge: bool
    ) -> dict[str, Any]:
        """patch (JSON merge patch) or update (PUT) of a fingerprinted global resource."""

        def apply(delay: float) -> Resource:
            ref = Ref(project, "global", collection.name, name)
            current = self.store.get(ref)
            self._check_fingerprint(current, body)
            if body.get("name") not in (None, name):
                raise rules.bad_value("resource.name", body["name"], "The name of a resource cannot be changed.")
            given = client_fields(collection, body)
            wanted = merge_patch(client_fields(collection, current), given) if merge else given
            wanted["name"] = name
            checked, refs = self._check(collection, project, wanted)
            if collection is BACKEND_SERVICES:
                checked, refs = self._keep_security_policy(current, checked, refs)
            return self.store.replace(ref, collection, checked, refs)

        return self._write(project, None, "patch" if merge else "update", request_id, apply)

    def set_security_policy(self, project: str, name: str, body: Resource, request_id: str | None) -> dict[str, Any]:
        def apply(delay: float) -> Resource:
            ref = Ref(project, "global", BACKEND_SERVICES.name, name)
            current = self.store.get(ref)
            policy = rules.security_policy_ref(self.store, body.get("securityPolicy"), project)
            kept = {k: v for k, v in current.items() if k not in COMMON_OUTPUT_ONLY}
            refs = {r for r in self.store.references(ref.path) if f"/{SECURITY_POLICIES.name}/" not in r}
            kept.pop("securityPolicy", None)
            if policy is not None:
                kept["securityPolicy"] = policy.url
                refs.add(policy.path)
            return self.store.replace(ref, BACKEND_SERVICES, kept, frozenset(refs))

        return self._write(project, None, "setSecurityPolicy", request_id, apply)

    def delete(
        self, project: str, region: str | None, collection: Collection, name: str, request_id: str | None
    ) -> dict[str, Any]:
        def apply(delay: float) -> Resource:
            return self.store.delete(Ref(project, scope_of(region), collection.name, name), collection)

        return self._write(project, region, "delete", request_id, apply)

    def _write(
        self,
        project: str,
        region: str | None,
        operation_type: str,
        request_id: str | None,
        apply: Callable[[float], Resource],
    ) -> dict[str, Any]:
        _check_request_id(request_id)
        with self.emu.lock:
            previous = self.operations.for_request(project, region, request_id)
            if previous is not None:
                return previous.render()  # a retried requestId is the same request: nothing is applied twice
            delay = self.emu.faults.operation_delay
            failure: ApiError | None = g.get("operation_error")
            if failure is not None:
                # An injected asynchronous failure: accepted, nothing changed, the operation ends in error.
                target_link, target_id = _requested_target(), new_id()
            else:
                target = apply(delay)
                target_link, target_id = target["selfLink"], target["id"]
            op = self.operations.create(
                project=project,
                region=region,
                operation_type=operation_type,
                target_link=target_link,
                target_id=target_id,
                user=principal(),
                request_id=request_id,
                delay=delay,
                error=failure,
            )
            return op.render()

    def _check(self, collection: Collection, project: str, body: Resource) -> rules.Checked:
        if collection is NEGS:
            return rules.check_neg(body)
        if collection is BACKEND_SERVICES:
            return rules.check_backend_service(self.store, project, body)
        if collection is URL_MAPS:
            return urlmaps.check_url_map(self.store, project, body, self.emu.url_map_limits)
        if collection is SECURITY_POLICIES:
            return rules.check_security_policy(body)
        return rules.check_backend_bucket(body)

    @staticmethod
    def _check_fingerprint(current: Resource, body: Resource) -> None:
        # The 412 text is what production answered autoneg's stale backend-service patches.
        given = body.get("fingerprint")
        if not given:
            raise ApiError(
                412,
                "Precondition Failed: the request has no fingerprint; send the one of the latest get()",
                reason="conditionNotMet",
                location="If-Match",
                location_type="header",
            )
        if not same_fingerprint(given, current.get("fingerprint")):
            raise ApiError(
                412, "Precondition Failed", reason="conditionNotMet", location="If-Match", location_type="header"
            )

    def _keep_security_policy(
        self, current: Resource, checked: Resource, refs: frozenset[str]
    ) -> tuple[Resource, frozenset[str]]:
        """`securityPolicy` is output-only on a backend service: only setSecurityPolicy changes it."""
        policy = current.get("securityPolicy")
        if not policy:
            return checked, refs
        return {**checked, "securityPolicy": policy}, refs | {relative(policy)}

    # -- operations ----------------------------------------------------------------------------------

    def get_operation(self, project: str, region: str | None, name: str) -> dict[str, Any]:
        with self.emu.lock:
            return self.operations.get(project, region, name).render()

    def list_operations(self, project: str, region: str | None, args: Any) -> dict[str, Any]:
        scope = scope_of(region)
        with self.emu.lock:
            items = [op.render() for op in self.operations.in_scope(project, region)]
        return list_body(
            items,
            args,
            kind="compute#operationList",
            list_id=f"projects/{project}/{scope}/operations",
            self_link=collection_url(project, scope, "operations"),
        )

    def wait_operation(self, project: str, region: str | None, name: str) -> dict[str, Any]:
        with self.emu.lock:
            remaining = self.operations.get(project, region, name).remaining()
        time.sleep(min(remaining, WAIT_DEADLINE_SECONDS))  # outside the lock: other requests go on meanwhile
        return self.get_operation(project, region, name)

    def delete_operation(self, project: str, region: str | None, name: str) -> None:
        with self.emu.lock:
            self.operations.delete(project, region, name)


def same_fingerprint(given: Any, current: Any) -> bool:
    """Whether two fingerprints are the same bytes. A fingerprint is a `format: byte` field: the wire and the python
    client use standard base64, gcloud (apitools) sends URL-safe base64 (`-`, `_`), so both alphabets are taken."""
    decoded = [_fingerprint_bytes(v) for v in (given, current)]
    return decoded[0] is not None and decoded[0] == decoded[1]


def _fingerprint_bytes(value: Any) -> bytes | None:
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def _check_request_id(request_id: str | None) -> None:
    if not request_id:
        return
    try:
        parsed = uuid.UUID(request_id)
    except ValueError:
        parsed = _ZERO_UUID
    if parsed == _ZERO_UUID:
        raise invalid(
            f"Invalid value for field 'requestId': '{request_id}'. "
            "The request ID must be a valid UUID with the exception that zero UUID is not supported."
        )


def _requested_target() -> str:
    """The URL of the resource a write names, from the request itself (insert: the collection plus the body's name)."""
    path = request.path.removeprefix("/compute/v1/")
    if path.endswith("/setSecurityPolicy"):
        path = path.rsplit("/", 1)[0]
    elif request.method == "POST":
        body = request.get_json(silent=True) or {}
        path = f"{path}/{body.get('name', '')}"
    return BASE_URL + path
