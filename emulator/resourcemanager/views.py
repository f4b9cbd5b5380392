"""Resource Manager renderings: v1 and v3 projects and organizations, v3 folders, and what search queries see.

Field names and enums as in the cloudresourcemanager.v1 and .v3 discovery documents.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from ..clock import rfc3339
from .hierarchy import Folder, Node, Organization, Project
from .query import Fields

V3 = "type.googleapis.com/google.cloud.resourcemanager.v3."


def _etag(node: Node, name: str) -> str:
    digest = hashlib.sha256(f"{name}/{node.update_time.isoformat()}".encode()).digest()[:8]
    return base64.b64encode(digest).decode()


def _times(node: Node) -> dict[str, str]:
    return {"createTime": rfc3339(node.create_time), "updateTime": rfc3339(node.update_time)}


def project_v3(project: Project) -> dict[str, Any]:
    body: dict[str, Any] = {"name": f"projects/{project.number}"}
    if project.parent:
        body["parent"] = project.parent
    body |= {"projectId": project.project_id, "state": "ACTIVE", "displayName": project.display_name}
    body |= _times(project)
    body["etag"] = _etag(project, project.name)
    if project.labels:
        body["labels"] = dict(project.labels)
    return body


def project_v1(project: Project) -> dict[str, Any]:
    body: dict[str, Any] = {
        "projectNumber": project.number,
        "projectId": project.project_id,
        "lifecycleState": "ACTIVE",
        "name": project.display_name,
        "createTime": rfc3339(project.create_time),
    }
    if project.labels:
        body["labels"] = dict(project.labels)
    if project.parent:
        kind, _, ident = project.parent.partition("/")
        body["parent"] = {"type": kind.removesuffix("s"), "id": ident}
    return body


def folder_v3(folder: Folder) -> dict[str, Any]:
    body = {"name": folder.name, "parent": folder.parent, "displayName": folder.display_name, "state": "ACTIVE"}
    return body | _times(folder) | {"etag": _etag(folder, folder.name)}


def folder_v2(folder: Folder) -> dict[str, Any]:
    """v2, what gcloud's `resource-manager folders` commands call."""
    return {
        "name": folder.name,
        "parent": folder.parent,
        "displayName": folder.display_name,
        "lifecycleState": "ACTIVE",
        "createTime": rfc3339(folder.create_time),
    }


def organization_v3(org: Organization) -> dict[str, Any]:
    return {
        "name": org.name,
        "displayName": org.display_name,
        "directoryCustomerId": org.directory_customer_id,
        "state": "ACTIVE",
        **_times(org),
        "etag": _etag(org, org.name),
    }


def organization_v1(org: Organization) -> dict[str, Any]:
    return {
        "name": org.name,
        "displayName": org.display_name,
        "owner": {"directoryCustomerId": org.directory_customer_id},
        "creationTime": rfc3339(org.create_time),
        "lifecycleState": "ACTIVE",
    }


def ancestry_v1(names: list[str]) -> dict[str, Any]:
    """`projects.getAncestry`: the project first, then each folder, the organization last."""
    items = []
    for name in names:
        kind, _, ident = name.partition("/")
        items.append({"resourceId": {"type": kind.removesuffix("s"), "id": ident}})
    return {"ancestor": items}


# -- what each search query field reads -----------------------------------------------------------------------


def project_fields(project: Project) -> Fields:
    parent_kind, _, parent_id = (project.parent or "").partition("/")
    known: dict[str, list[str]] = {
        "displayname": [project.display_name],
        "name": [project.display_name],
        "id": [project.project_id],
        "projectid": [project.project_id],
        "projectnumber": [project.number],
        "parent": [project.parent] if project.parent else [],
        "parent.type": [parent_kind.removesuffix("s")] if project.parent else [],
        "parent.id": [parent_id] if project.parent else [],
        "state": ["ACTIVE"],
        "lifecyclestate": ["ACTIVE"],
        "labels": [*project.labels, *project.labels.values()],
    }

    def fields(key: str) -> list[str] | None:
        if key.startswith("labels."):
            label = key.removeprefix("labels.")
            return [project.labels[label]] if label in project.labels else []
        return known.get(key)

    return fields


def folder_fields(folder: Folder) -> Fields:
    known = {
        "displayname": [folder.display_name],
        "parent": [folder.parent or ""],
        "state": ["ACTIVE"],
        "lifecyclestate": ["ACTIVE"],
    }
    return known.get


def organization_fields(org: Organization) -> Fields:
    known = {
        "directorycustomerid": [org.directory_customer_id],
        "owner.directorycustomerid": [org.directory_customer_id],
        "domain": [org.display_name],
        "displayname": [org.display_name],
    }
    return known.get
