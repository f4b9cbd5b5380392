"""IAM policies (`google.iam.v1.Policy`): bindings, etag and version, per resource name, and who a binding names.

Shapes from the discovery documents (cloudresourcemanager.v3 `Policy`, `Binding`, `SetIamPolicyRequest`). A
resource that never had a policy answers `{"version": 1, "etag": "ACAB"}`, production's empty policy. Bindings are
kept sorted by role, members sorted and de-duplicated, empty bindings dropped, as production answers them.

Not thread-safe by itself: callers hold the emulator lock.
"""

from __future__ import annotations

import base64
import copy
import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import ApiError, invalid

EMPTY_ETAG = "ACAB"
_MEMBER = re.compile(
    r"(?:user|serviceAccount|group):[^@\s:]+@[^@\s]+"
    r"|domain:[a-z0-9.-]+\.[a-z]{2,}"
    r"|deleted:(?:user|serviceAccount|group):[^@\s]+@[^@\s?]+\?uid=\d+"
    r"|principal(?:Set)?://\S+"
    r"|allUsers|allAuthenticatedUsers",
    re.IGNORECASE,
)


@dataclass
class Policy:
    bindings: list[dict[str, Any]] = field(default_factory=list)
    version: int = 1
    etag: str = EMPTY_ETAG
    audit_configs: list[dict[str, Any]] = field(default_factory=list)
    owner_uid: str | None = None  # the resource instance a resource-level policy belongs to (Cloud Run uid)

    def render(self) -> dict[str, Any]:
        body: dict[str, Any] = {"version": self.version}
        if self.audit_configs:
            body["auditConfigs"] = copy.deepcopy(self.audit_configs)
        if self.bindings:
            body["bindings"] = copy.deepcopy(self.bindings)
        body["etag"] = self.etag
        return body


def identities(principal: str) -> set[str]:
    """Every member string that names the caller (lowercase): its account, its domain, everyone."""
    email = principal.strip().lower()
    kind = "serviceAccount" if email.endswith(".gserviceaccount.com") else "user"
    found = {f"{kind}:{email}".lower(), "allusers", "allauthenticatedusers"}
    if "@" in email:
        found.add("domain:" + email.rsplit("@", 1)[1])
    return found


def normalize_bindings(raw: Any, where: str = "policy.bindings") -> list[dict[str, Any]]:
    """The bindings of a request, checked and in production's order (roles sorted, members sorted, merged)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise invalid(f"Invalid value at '{where}': expected a list of bindings.")
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for index, binding in enumerate(raw):
        at = f"{where}[{index}]"
        if not isinstance(binding, dict):
            raise invalid(f"Invalid value at '{at}': expected a binding object.")
        unknown = sorted(set(binding) - {"role", "members", "condition"})
        if unknown:
            raise invalid(f"Invalid JSON payload received. Unknown name \"{unknown[0]}\" at '{at}': Cannot find field.")
        role = binding.get("role")
        if not isinstance(role, str) or not role:
            raise invalid(f"Invalid value at '{at}.role': a role is required.")
        members = binding.get("members") or []
        if not isinstance(members, list):
            raise invalid(f"Invalid value at '{at}.members': expected a list of members.")
        for position, member in enumerate(members):
            if not isinstance(member, str) or not _MEMBER.fullmatch(member):
                raise invalid(
                    f"Invalid value at '{at}.members[{position}]': '{member}' is not a member. Members are "
                    "user:EMAIL, serviceAccount:EMAIL, group:EMAIL, domain:DOMAIN, principal://…, principalSet://…, "
                    "allUsers or allAuthenticatedUsers."
                )
        condition = binding.get("condition")
        if condition is not None and (not isinstance(condition, dict) or not condition.get("expression")):
            raise invalid(f"Invalid value at '{at}.condition': a condition needs an expression.")
        key = (role, repr(sorted(condition.items())) if condition else "")
        entry = merged.setdefault(key, {"role": role, "members": set()})
        entry["members"] |= set(members)
        if condition:
            entry["condition"] = dict(condition)
    out = []
    for key in sorted(merged):
        entry = merged[key]
        if entry["members"]:
            out.append({**entry, "members": sorted(entry["members"])})
    return out


class PolicyStore:
    """Policies by resource name (`projects/ID`, `folders/N`, `organizations/N`, or a resource inside a project)."""

    def __init__(self) -> None:
        self.policies: dict[str, Policy] = {}
        self._serial = 0

    def clear(self) -> None:
        self.policies.clear()

    def get(self, name: str) -> Policy:
        return self.policies.get(name) or Policy()

    def next_etag(self) -> str:
        """`BwY…`: eight bytes, as production's policy etags are; a new one on every change."""
        self._serial += 1
        return base64.b64encode((0x0706_0000_0000_0000 + self._serial).to_bytes(8, "big")).decode()

    def set(
        self,
        name: str,
        body: Any,
        update_mask: str | None = None,
        owner_uid: str | None = None,
    ) -> Policy:
        """setIamPolicy: `body` is the request's `policy`. The etag, when sent, must be the current one."""
        if not isinstance(body, dict):
            raise invalid("Invalid value at 'policy': a policy is required.")
        current = self.get(name)
        given_etag = body.get("etag")
        if given_etag and given_etag != current.etag:
            raise ApiError(
                409,
                "There were concurrent policy changes. Please retry the whole read-modify-write with exponential "
                f"backoff. The request's ETag '{given_etag}' did not match the current policy's ETag '{current.etag}'.",
                status="ABORTED",
            )
        fields = {f.strip() for f in (update_mask or "bindings,etag").split(",") if f.strip()}
        bindings = normalize_bindings(body.get("bindings")) if "bindings" in fields else current.bindings
        conditional = any("condition" in b for b in bindings)
        version = body.get("version", 1)
        if conditional and version != 3:
            raise invalid("Invalid value at 'policy.version': a policy with conditions must be version 3.")
        audit = body.get("auditConfigs") if "auditConfigs" in fields else current.audit_configs
        if audit is not None and not isinstance(audit, list):
            raise invalid("Invalid value at 'policy.audit_configs': expected a list.")
        policy = Policy(
            bindings=bindings,
            version=3 if conditional else 1,
            etag=self.next_etag(),
            audit_configs=copy.deepcopy(audit or []),
            owner_uid=owner_uid,
        )
        self.policies[name] = policy
        return policy

    def remove(self, name: str) -> None:
        self.policies.pop(name, None)

    def snapshot(self) -> dict[str, Any]:
        return {name: policy.render() for name, policy in sorted(self.policies.items())}
