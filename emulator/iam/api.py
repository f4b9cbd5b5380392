"""IAM: policies on organizations, folders, projects and resources in them, custom roles, and the decision of
whether a caller holds a permission.

A permission is held on a resource if a binding of its own policy, of its project's, or of any folder or the
organization above grants it to the caller (`policies.identities`) through a role that holds it (predefined,
`roles.py`; custom, `custom_roles.py`, unless deleted or `DISABLED`). Bindings with a condition grant nothing.
**Where no policy is set on the project (folder, organization) or any ancestor, everything is allowed**: the
emulator is permissive until a test sets a policy.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask import has_request_context

from .. import params
from ..audit import AdminActivity
from ..errors import ApiError, invalid, not_found
from ..http import principal
from ..paging import list_page
from ..resourcemanager.hierarchy import Hierarchy
from ..runtime import Runtime
from .custom_roles import CustomRole, CustomRoles
from .needs import Need, RunLookup, rm_denied
from .permissions import catalogue
from .policies import Policy, PolicyStore, identities, normalize_bindings
from .roles import PREDEFINED

_CUSTOM_ROLE = re.compile(r"(?P<parent>(?:projects|organizations)/[^/]+)/roles/[^/]+")
_RUN_SERVICE = re.compile(r"projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/services/(?P<service>[^/]+)")
_RESOURCE = re.compile(
    r"(?:organizations|folders)/[0-9]+"
    r"|projects/[^/]+(?:/locations/[^/]+/services/[^/]+|/serviceAccounts/[^/]+"
    r"|/(?:global|regions/[^/]+)/[A-Za-z]+/[^/]+)?"
)
PREDEFINED_ETAG = "AA=="


class IamApi:
    name = "iam"

    def __init__(
        self,
        emu: Runtime,
        hierarchy: Hierarchy,
        run_service: RunLookup,
        audit: Callable[[AdminActivity], None] = lambda activity: None,
    ) -> None:
        self.emu = emu
        self.hierarchy = hierarchy
        self.run_service = run_service
        self.audit = audit  # writes a Cloud Run service's SetIamPolicy to the audit log, as production does
        self.policies = PolicyStore()
        self.roles = CustomRoles()

    def reset(self) -> None:
        with self.emu.lock:
            self.policies.clear()
            self.roles.clear()

    def snapshot(self) -> dict[str, Any]:
        with self.emu.lock:
            return {"policies": self.policies.snapshot(), "roles": self.roles.snapshot()}

    # -- names -----------------------------------------------------------------------------------------------

    def canonical(self, name: str) -> str:
        """`name` with a project number replaced by the project's id (when the emulator knows it)."""
        kind, _, rest = name.partition("/")
        if kind != "projects" or not rest:
            return name
        project, sep, tail = rest.partition("/")
        with self.emu.lock:
            return f"projects/{self.hierarchy.remember(project)}{sep}{tail}"

    def nodes(self, scope: str) -> list[str]:
        """The scope and the folders and organization above it: whose policies decide."""
        scope = self.canonical(scope)
        return [scope, *self.hierarchy.ancestors(scope)]

    # -- the decision ----------------------------------------------------------------------------------------

    def enforced(self, scope: str) -> bool:
        with self.emu.lock:
            return any(node in self.policies.policies for node in self.nodes(scope))

    def role_grants(self, role: str, permission: str) -> bool:
        predefined = PREDEFINED.get(role)
        if predefined is not None:
            return predefined.grants(permission)
        custom = self.roles.roles.get(role)
        return custom is not None and custom.active and permission in custom.permissions

    def _grants(self, policy: Policy, who: set[str], permission: str) -> bool:
        for binding in policy.bindings:
            if "condition" in binding or not who.intersection(m.lower() for m in binding["members"]):
                continue
            if self.role_grants(binding["role"], permission):
                return True
        return False

    def _resource_policy(self, resource: str | None) -> Policy | None:
        if resource is None:
            return None
        policy = self.policies.policies.get(self.canonical(resource))
        match = _RUN_SERVICE.fullmatch(resource)
        if policy is not None and policy.owner_uid and match:
            found = self.run_service(match["project"], match["location"], match["service"])
            if found is None or found.uid != policy.owner_uid:
                return None  # the policy of a service since deleted: a new service by that name starts without one
        return policy

    def holds(self, who: str, permission: str, scope: str, resource: str | None = None) -> bool:
        """Whether `who` (an email) holds `permission` on `resource` in `scope` (or on `scope` itself)."""
        with self.emu.lock:
            nodes = self.nodes(scope)
            if not any(node in self.policies.policies for node in nodes):
                return True  # no policy on the project or above: permissive
            candidates = [self._resource_policy(resource)] + [self.policies.policies.get(n) for n in nodes]
            names = identities(who)
            return any(p is not None and self._grants(p, names, permission) for p in candidates)

    def authorize(self, who: str, needs: Iterable[Need]) -> None:
        """Raise the first missing permission's 403."""
        for need in needs:
            if not self.holds(who, need.permission, need.scope, need.resource):
                raise need.error

    def caller_may(self, permission: str, name: str) -> bool:
        """For searches: may the current caller see `name`? (Outside a request, from Python: yes.)"""
        return not has_request_context() or self.holds(principal(), permission, name)

    # -- policies (the REST methods and the Python API) ------------------------------------------------------

    def get_policy(self, resource: str) -> dict[str, Any]:
        with self.emu.lock:
            return self.policies.get(self.canonical(resource)).render()

    def set_iam_policy(self, resource: str, body: Any) -> dict[str, Any]:
        """setIamPolicy: `body` is the request (`policy`, `updateMask`). Custom roles must live in the resource's
        project or an organization above it."""
        if not isinstance(body, dict):
            raise invalid("Invalid JSON payload received. Expected an object.")
        policy = body.get("policy")
        with self.emu.lock:
            name = self.canonical(resource)
            if isinstance(policy, dict):
                self._check_roles(normalize_bindings(policy.get("bindings")), name)
            stored = self.policies.set(name, policy, body.get("updateMask"), owner_uid=self._owner(name))
            return stored.render()

    def set_policy(
        self, resource: str, bindings: Mapping[str, Iterable[str]] | list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """Python: replace the policy of `resource`: `{"roles/run.viewer": ["user:a@example.com"]}` or bindings."""
        if isinstance(bindings, Mapping):
            bindings = [{"role": role, "members": list(members)} for role, members in bindings.items()]
        return self.set_iam_policy(resource, {"policy": {"bindings": bindings or []}})

    def grant(self, resource: str, role: str, *members: str) -> dict[str, Any]:
        """Python: add `members` to `role` in the policy of `resource` (creating the policy: now enforced)."""
        with self.emu.lock:
            current = self.policies.get(self.canonical(resource))
            bindings = [*copy.deepcopy(current.bindings), {"role": role, "members": list(members)}]
            return self.set_iam_policy(resource, {"policy": {"bindings": bindings}})

    def clear_policy(self, resource: str) -> None:
        """Python: forget the policy of `resource` (a project with none left anywhere above is permissive again)."""
        with self.emu.lock:
            self.policies.remove(self.canonical(resource))

    def test_permissions(self, who: str, body: Any, scope: str, resource: str | None = None) -> dict[str, Any]:
        permissions = body.get("permissions") if isinstance(body, dict) else None
        if not isinstance(permissions, list) or not all(isinstance(p, str) for p in permissions):
            raise invalid("Invalid value at 'permissions': a list of permission names is required.")
        held = [p for p in dict.fromkeys(permissions) if self.holds(who, p, scope, resource)]
        return {"permissions": held} if held else {}

    def _owner(self, name: str) -> str | None:
        match = _RUN_SERVICE.fullmatch(name)
        found = self.run_service(match["project"], match["location"], match["service"]) if match else None
        return found.uid if found else None

    def _check_roles(self, bindings: list[dict[str, Any]], name: str) -> None:
        kind, _, rest = name.partition("/")
        allowed_parents = set(self.nodes(f"projects/{rest.split('/')[0]}" if kind == "projects" else name))
        for binding in bindings:
            role = binding["role"]
            if role in PREDEFINED:
                continue
            match = _CUSTOM_ROLE.fullmatch(role)
            if match is None:
                raise invalid(f"Role {role} is not supported for this resource.")
            custom = self.roles.roles.get(self.canonical(role))
            if custom is None or custom.deleted or self.canonical(match["parent"]) not in allowed_parents:
                raise invalid(f"Role ({role}) does not exist in the resource's hierarchy.")

    # -- custom and predefined roles -------------------------------------------------------------------------

    def get_role(self, name: str) -> dict[str, Any]:
        if name.startswith("roles/"):
            role = PREDEFINED.get(name)
            if role is None:
                raise not_found(f"The role named {name} was not found.")
            return {
                "name": role.name,
                "title": role.title,
                "description": role.description,
                "includedPermissions": role.included(catalogue()),
                "stage": "GA",
                "etag": PREDEFINED_ETAG,
            }
        with self.emu.lock:
            return self.roles.get(self.canonical(name)).render()

    def list_roles(self, parent: str | None, args: Mapping[str, Any]) -> dict[str, Any]:
        full = args.get("view") == "FULL"
        if not parent:
            names = sorted(PREDEFINED)
            return list_page(
                names,
                "roles",
                args.get("pageSize"),
                args.get("pageToken"),
                default=300,
                maximum=1000,
                render=lambda n: _basic(self.get_role(n), full),
            )
        show_deleted = str(args.get("showDeleted", "")).lower() in ("true", "1")
        with self.emu.lock:
            found = self.roles.in_parent(self._role_parent(parent, "iam.roles.list"), show_deleted=show_deleted)
            return list_page(
                found,
                "roles",
                args.get("pageSize"),
                args.get("pageToken"),
                default=300,
                maximum=1000,
                render=lambda r: r.render(full=full),
            )

    def create_role(self, parent: str, body: Any) -> dict[str, Any]:
        body = body if isinstance(body, dict) else {}
        with self.emu.lock:
            role = self.roles.create(
                self._role_parent(parent, "iam.roles.create"), body.get("roleId"), body.get("role")
            )
            return role.render()

    def patch_role(self, name: str, body: Any, update_mask: str | None) -> dict[str, Any]:
        with self.emu.lock:
            return self.roles.patch(self.canonical(name), body, update_mask).render()

    def delete_role(self, name: str, etag: str | None) -> dict[str, Any]:
        with self.emu.lock:
            return self.roles.delete(self.canonical(name), etag).render()

    def undelete_role(self, name: str) -> dict[str, Any]:
        with self.emu.lock:
            return self.roles.undelete(self.canonical(name)).render()

    def testable_permissions(self, body: Any) -> dict[str, Any]:
        """permissions.queryTestablePermissions (gcloud asks it before creating a role): the catalogue, as GA and
        supported in custom roles, whatever the resource."""
        body = body if isinstance(body, dict) else {}
        if not isinstance(body.get("fullResourceName"), str) or not body["fullResourceName"]:
            raise invalid("Invalid value at 'full_resource_name': required.")
        items = [{"name": p, "stage": "GA", "customRolesSupportLevel": "SUPPORTED"} for p in sorted(catalogue())]
        return list_page(items, "permissions", body.get("pageSize"), body.get("pageToken"), default=100, maximum=1000)

    def add_role(
        self, parent: str, role_id: str, permissions: Iterable[str], title: str = "", stage: str = "GA"
    ) -> dict[str, Any]:
        """Python: a custom role under `projects/P` or `organizations/O`."""
        role = {"title": title or role_id, "includedPermissions": list(permissions), "stage": stage}
        return self.create_role(parent, {"roleId": role_id, "role": role})

    def _role_parent(self, parent: str, permission: str) -> str:
        parent = self.canonical(parent)
        if parent.startswith("organizations/") and self.hierarchy.node(parent) is None:
            raise rm_denied(permission, parent)
        return parent

    # -- the test control ------------------------------------------------------------------------------------

    def configure(self, body: Any) -> dict[str, Any]:
        """`POST /_emulator/iam`: `roles` created first, then `policies` set (a null policy removes one); all or
        nothing."""
        body = params.mapping(body, "", ("roles", "policies"))
        roles, policies = body.get("roles", []), body.get("policies", {})
        if not isinstance(roles, list):
            raise params.bad_param("roles", f"expected a JSON array, got {roles!r}")
        if not isinstance(policies, dict):
            raise params.bad_param("policies", f"expected a JSON object, got {policies!r}")
        with self.emu.lock:
            saved = (copy.deepcopy(self.policies.policies), copy.deepcopy(self.roles.roles))
            try:
                for index, role in enumerate(roles):
                    self._configure_role(role, f"roles[{index}]")
                for resource, policy in policies.items():
                    self._configure_policy(resource, policy)
            except ApiError:
                self.policies.policies, self.roles.roles = saved
                raise
            return self.snapshot()

    def _configure_role(self, role: Any, where: str) -> None:
        role = params.mapping(role, where, ("parent", "roleId", "title", "description", "includedPermissions", "stage"))
        parent = params.string(role.get("parent"), f"{where}.parent")
        fields = {k: v for k, v in role.items() if k not in ("parent", "roleId")}
        fields.setdefault("stage", "GA")
        self.create_role(parent, {"roleId": role.get("roleId"), "role": fields})

    def _configure_policy(self, resource: str, policy: Any) -> None:
        if not _RESOURCE.fullmatch(resource):
            raise params.bad_param(f"policies.{resource}", "not a resource name the emulator keeps policies for")
        if policy is None:
            self.policies.remove(self.canonical(resource))
            return
        policy = params.mapping(policy, f"policies.{resource}", ("bindings", "version", "etag", "auditConfigs"))
        self.set_iam_policy(resource, {"policy": dict(policy)})


def _basic(role: dict[str, Any], full: bool) -> dict[str, Any]:
    return role if full else {k: v for k, v in role.items() if k != "includedPermissions"}


__all__ = ["CustomRole", "IamApi"]
