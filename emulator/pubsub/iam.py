"""Pub/Sub's own IAM policies on topics: getIamPolicy, setIamPolicy, testIamPermissions, and who may publish.

Only the topic's own policy is modelled (project, folder and organization policies are IAM's, not Pub/Sub's). A
topic without bindings is permissive: everyone may do everything on it, as in an emulator without IAM. A topic with
bindings grants exactly what they say. What needs it: a log sink exports to a topic as its `writerIdentity`, which
must hold `roles/pubsub.publisher` (or another role with `pubsub.topics.publish`) on it (docs/google-apis.md §9.5).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
from typing import Any

from ..errors import ApiError, invalid

PUBLISH = "pubsub.topics.publish"
# Every permission a topic's policy can grant (testIamPermissions refuses others).
TOPIC_PERMISSIONS = (
    "pubsub.topics.attachSubscription",
    "pubsub.topics.delete",
    "pubsub.topics.detachSubscription",
    "pubsub.topics.get",
    "pubsub.topics.getIamPolicy",
    PUBLISH,
    "pubsub.topics.setIamPolicy",
    "pubsub.topics.update",
    "pubsub.topics.updateTag",
)
_READ = ("pubsub.topics.get",)
_WRITE = (
    "pubsub.topics.attachSubscription",
    "pubsub.topics.delete",
    "pubsub.topics.detachSubscription",
    "pubsub.topics.get",
    PUBLISH,
    "pubsub.topics.update",
    "pubsub.topics.updateTag",
)
# The predefined roles a topic's policy accepts, with their topic permissions.
ROLES: dict[str, tuple[str, ...]] = {
    "roles/owner": TOPIC_PERMISSIONS,
    "roles/editor": (*_WRITE, "pubsub.topics.getIamPolicy"),
    "roles/viewer": (*_READ, "pubsub.topics.getIamPolicy"),
    "roles/pubsub.admin": TOPIC_PERMISSIONS,
    "roles/pubsub.editor": _WRITE,
    "roles/pubsub.publisher": (PUBLISH,),
    "roles/pubsub.subscriber": ("pubsub.topics.attachSubscription",),
    "roles/pubsub.viewer": (*_READ, "pubsub.topics.getIamPolicy"),
}
_CUSTOM_ROLE = re.compile(r"(projects|organizations)/[^/]+/roles/[A-Za-z0-9_.]+")
_MEMBER = re.compile(
    r"allUsers|allAuthenticatedUsers|"
    r"(user|serviceAccount|group|domain|principal|principalSet|deleted:user|deleted:serviceAccount|deleted:group)"
    r":\S+"
)
EMPTY_ETAG = "ACAB"  # what production answers for a resource that has no policy


def etag_of(bindings: list[dict[str, Any]], version: int) -> str:
    if not bindings:
        return EMPTY_ETAG
    digest = hashlib.sha256(json.dumps([bindings, version], sort_keys=True).encode()).digest()
    return base64.b64encode(b"\x00" + digest[:7]).decode()


def render(policy: dict[str, Any] | None) -> dict[str, Any]:
    """The Policy a getIamPolicy answers: `{"etag": "ACAB"}` for a topic without bindings."""
    if not policy or not policy.get("bindings"):
        return {"etag": EMPTY_ETAG}
    return {"version": policy["version"], "etag": policy["etag"], "bindings": copy.deepcopy(policy["bindings"])}


def _binding(raw: Any, index: int) -> dict[str, Any]:
    where = f"policy.bindings[{index}]"
    if not isinstance(raw, dict):
        raise invalid(f"{where} must be an object with role and members")
    role, members, condition = raw.get("role"), raw.get("members") or [], raw.get("condition")
    if not isinstance(role, str) or not (role in ROLES or _CUSTOM_ROLE.fullmatch(role)):
        raise invalid(f"Role {role} is not supported for this resource.")
    if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
        raise invalid(f"{where}.members must be a list of strings")
    for member in members:
        if not _MEMBER.fullmatch(member):
            raise invalid(f"Invalid member '{member}' in {where}: expected user:, serviceAccount:, group:, domain:…")
    binding: dict[str, Any] = {"role": role, "members": sorted(set(members))}
    if condition is not None:
        if not isinstance(condition, dict) or not isinstance(condition.get("expression"), str):
            raise invalid(f"{where}.condition must be an Expr with an expression")
        binding["condition"] = copy.deepcopy(condition)
    return binding


def build_policy(body: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
    """The stored policy a setIamPolicy body asks for: checked, etag compared (409 ABORTED when stale)."""
    policy = body.get("policy")
    if not isinstance(policy, dict):
        raise invalid("policy is required")
    etag = policy.get("etag")
    if etag and etag != render(current)["etag"]:
        raise ApiError(
            409,
            "There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.",
            status="ABORTED",
        )
    raw = policy.get("bindings") or []
    if not isinstance(raw, list):
        raise invalid("policy.bindings must be a list")
    bindings = [b for b in (_binding(item, i) for i, item in enumerate(raw)) if b["members"]]
    version = policy.get("version") or 1
    if version not in (1, 3, "1", "3"):
        raise invalid(f"Invalid policy version {version}: use 1 or 3")
    version = int(version)
    if version != 3 and any("condition" in b for b in bindings):
        raise invalid("Conditional role bindings require policy version 3")
    return {"version": version, "bindings": bindings, "etag": etag_of(bindings, version)}


def members_of(principal: str) -> set[str]:
    """The policy members a caller's email matches."""
    kind = "serviceAccount" if principal.endswith(".gserviceaccount.com") else "user"
    return {f"{kind}:{principal}", "allUsers", "allAuthenticatedUsers"}


def granted(policy: dict[str, Any] | None, members: set[str], permission: str) -> bool:
    """Whether any of `members` holds `permission` on a topic with this policy (no bindings: yes).

    Conditional bindings grant nothing: their conditions are not evaluated."""
    if not policy or not policy.get("bindings"):
        return True
    for binding in policy["bindings"]:
        if "condition" in binding or permission not in ROLES.get(binding["role"], ()):
            continue
        if members & set(binding["members"]):
            return True
    return False


def check_permissions(requested: Any) -> list[str]:
    if not isinstance(requested, list) or not all(isinstance(p, str) for p in requested):
        raise invalid("permissions must be a list of strings")
    for permission in requested:
        if permission not in TOPIC_PERMISSIONS:
            raise invalid(f"Permission {permission} is not valid for this resource.")
    return requested
