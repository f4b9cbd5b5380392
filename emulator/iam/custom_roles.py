"""IAM custom roles (iam.v1 `projects.roles`, `organizations.roles`): create, get, list, patch, delete, undelete.

Shapes from the iam.v1 discovery document (`Role`, `CreateRoleRequest`). A deleted role keeps its name and is
shown with `deleted: true` until undeleted; it, and a role whose stage is `DISABLED`, grants nothing. The role id
rule (`[a-zA-Z0-9_.]{3,64}`) is the `CreateRoleRequest.roleId` description's; the rest of the validation wording
is the emulator's.

Not thread-safe by itself: callers hold the emulator lock.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import ApiError, invalid, not_found

ROLE_ID = re.compile(r"[a-zA-Z0-9_.]{3,64}")
PERMISSION = re.compile(r"[a-z][a-zA-Z0-9]*(?:\.[a-zA-Z0-9]+){2,}")
STAGES = ("ALPHA", "BETA", "GA", "DEPRECATED", "DISABLED", "EAP")
SETTABLE = ("title", "description", "includedPermissions", "stage")
MAX_PERMISSIONS = 3000
MAX_TITLE = 100
MAX_DESCRIPTION = 300


@dataclass
class CustomRole:
    name: str  # projects/P/roles/R or organizations/O/roles/R
    title: str = ""
    description: str = ""
    permissions: list[str] = field(default_factory=list)
    stage: str = "ALPHA"
    etag: str = ""
    deleted: bool = False

    @property
    def parent(self) -> str:
        return self.name.rsplit("/roles/", 1)[0]

    @property
    def active(self) -> bool:
        return not self.deleted and self.stage != "DISABLED"

    def render(self, *, full: bool = True) -> dict[str, Any]:
        body: dict[str, Any] = {"name": self.name, "title": self.title}
        if self.description:
            body["description"] = self.description
        if full and self.permissions:
            body["includedPermissions"] = list(self.permissions)
        body |= {"stage": self.stage, "etag": self.etag}
        if self.deleted:
            body["deleted"] = True
        return body


def _check_fields(role: Any) -> dict[str, Any]:
    if not isinstance(role, dict):
        raise invalid("Invalid value at 'role': a role object is required.")
    checked: dict[str, Any] = {}
    if "title" in role:
        if not isinstance(role["title"], str) or len(role["title"].encode()) > MAX_TITLE:
            raise invalid(f"Invalid value at 'role.title': at most {MAX_TITLE} bytes.")
        checked["title"] = role["title"]
    if "description" in role:
        if not isinstance(role["description"], str) or len(role["description"].encode()) > MAX_DESCRIPTION:
            raise invalid(f"Invalid value at 'role.description': at most {MAX_DESCRIPTION} bytes.")
        checked["description"] = role["description"]
    if "includedPermissions" in role:
        permissions = role["includedPermissions"] or []
        if not isinstance(permissions, list) or len(permissions) > MAX_PERMISSIONS:
            raise invalid(f"Invalid value at 'role.included_permissions': a list of at most {MAX_PERMISSIONS}.")
        for permission in permissions:
            if not isinstance(permission, str) or not PERMISSION.fullmatch(permission):
                raise invalid(f"Permission {permission} is not valid.")
        checked["permissions"] = sorted(set(permissions))
    if "stage" in role:
        if role["stage"] not in STAGES:
            raise invalid(f"Invalid value at 'role.stage': '{role['stage']}' is not one of {', '.join(STAGES)}.")
        checked["stage"] = role["stage"]
    return checked


class CustomRoles:
    def __init__(self) -> None:
        self.roles: dict[str, CustomRole] = {}
        self._serial = 0

    def clear(self) -> None:
        self.roles.clear()

    def _etag(self) -> str:
        self._serial += 1
        return base64.b64encode((0x0705_0000_0000_0000 + self._serial).to_bytes(8, "big")).decode()

    def get(self, name: str) -> CustomRole:
        role = self.roles.get(name)
        if role is None:
            raise not_found(f"The role named {name} was not found.")
        return role

    def create(self, parent: str, role_id: Any, role: Any) -> CustomRole:
        if not isinstance(role_id, str) or not ROLE_ID.fullmatch(role_id):
            raise invalid(
                f"The role id '{role_id}' is invalid: 3 to 64 letters, digits, underscores and periods ([a-zA-Z0-9_.])."
            )
        name = f"{parent}/roles/{role_id}"
        if name in self.roles:
            raise ApiError(409, f"A role named {role_id} in {parent} already exists.")
        fields = _check_fields(role if role is not None else {})
        created = CustomRole(name=name, etag=self._etag(), **fields)
        self.roles[name] = created
        return created

    def in_parent(self, parent: str, *, show_deleted: bool) -> list[CustomRole]:
        found = [r for r in self.roles.values() if r.parent == parent and (show_deleted or not r.deleted)]
        return sorted(found, key=lambda r: r.name)

    def patch(self, name: str, body: Any, update_mask: str | None) -> CustomRole:
        role = self.get(name)
        if role.deleted:
            raise ApiError(400, f"You can't update the deleted role {name}.", status="FAILED_PRECONDITION")
        fields = _check_fields(body)
        if isinstance(body, dict) and body.get("etag") and body["etag"] != role.etag:
            raise ApiError(
                409, f"The etag of role {name} does not match: it was changed since it was read.", status="ABORTED"
            )
        wanted = [m.strip() for m in update_mask.split(",")] if update_mask else list(SETTABLE)
        for key in wanted:
            if key not in SETTABLE:
                raise invalid(f"Invalid update_mask: '{key}' is not one of {', '.join(SETTABLE)}.")
            attribute = "permissions" if key == "includedPermissions" else key
            default: Any = [] if attribute == "permissions" else ("ALPHA" if key == "stage" else "")
            setattr(role, attribute, fields.get(attribute, default))
        role.etag = self._etag()
        return role

    def delete(self, name: str, etag: str | None) -> CustomRole:
        role = self.get(name)
        if role.deleted:
            raise ApiError(400, f"The role {name} is already deleted.", status="FAILED_PRECONDITION")
        if etag and etag != role.etag:
            raise ApiError(
                409, f"The etag of role {name} does not match: it was changed since it was read.", status="ABORTED"
            )
        role.deleted, role.etag = True, self._etag()
        return role

    def undelete(self, name: str) -> CustomRole:
        role = self.get(name)
        if not role.deleted:
            raise ApiError(400, f"The role {name} is not deleted.", status="FAILED_PRECONDITION")
        role.deleted, role.etag = False, self._etag()
        return role

    def snapshot(self) -> list[dict[str, Any]]:
        return [r.render() for r in sorted(self.roles.values(), key=lambda r: r.name)]
