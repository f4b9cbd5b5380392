"""The resource hierarchy: organizations, folders and projects, and the ancestors other APIs ask for.

A project never created is still there, implicitly, with no parent: every project id the emulator is called with
is accepted, as it always was. `remember` records such ids, so a project named by its number (Cloud Run v1
namespaces, gcloud's exported YAML) resolves to its id. Project numbers are derived from the id exactly as Cloud
Run's are (`run.rules.project_number`), so both APIs print the same number.

Not thread-safe by itself: callers hold the emulator lock.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..clock import now
from ..errors import ApiError, invalid
from ..run.rules import project_number

PROJECT_ID = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]")
_NUMERIC = re.compile(r"[1-9][0-9]{0,18}")
# "[\p{L}\p{N}]([\p{L}\p{N}_- ]{0,28}[\p{L}\p{N}])?" (cloudresourcemanager.v3 Folder.displayName)
_FOLDER_NAME = re.compile(r"[^\W_](?:[\w\- ]{0,28}[^\W_])?")
MAX_FOLDER_DEPTH = 10  # "must not cause the active folder hierarchy to exceed a height of 10" (v3 folders.create)


def _derived_id(seed: str) -> str:
    """A stable 12-digit id, as production's organization and folder ids look."""
    digest = int(hashlib.sha256(seed.encode()).hexdigest(), 16)
    return str(100_000_000_000 + digest % 900_000_000_000)


@dataclass
class Node:
    """What organizations, folders and projects share."""

    display_name: str
    parent: str | None  # "organizations/N" or "folders/N"; None for organizations and parentless projects
    create_time: datetime = field(default_factory=now)
    update_time: datetime = field(default_factory=now)
    labels: dict[str, str] = field(default_factory=dict)
    explicit: bool = True  # False: a project only ever named, never created


@dataclass
class Organization(Node):
    org_id: str = ""
    directory_customer_id: str = ""

    @property
    def name(self) -> str:
        return f"organizations/{self.org_id}"


@dataclass
class Folder(Node):
    folder_id: str = ""

    @property
    def name(self) -> str:
        return f"folders/{self.folder_id}"


@dataclass
class Project(Node):
    project_id: str = ""

    @property
    def name(self) -> str:
        return f"projects/{self.project_id}"

    @property
    def number(self) -> str:
        return project_number(self.project_id)


def denied(permission: str, resource: str) -> ApiError:
    """Resource Manager's answer for what does not exist or may not be seen: the same 403 for both."""
    return ApiError(
        403,
        f"Permission '{permission}' denied on resource '//cloudresourcemanager.googleapis.com/{resource}' "
        "(or it may not exist).",
    )


class Hierarchy:
    def __init__(self) -> None:
        self.organizations: dict[str, Organization] = {}
        self.folders: dict[str, Folder] = {}
        self.projects: dict[str, Project] = {}  # by project id; explicit and remembered implicit ones
        self._numbers: dict[str, str] = {}  # project number -> project id

    def clear(self) -> None:
        self.organizations.clear()
        self.folders.clear()
        self.projects.clear()
        self._numbers.clear()

    # -- lookups ---------------------------------------------------------------------------------------------

    def remember(self, project: str) -> str:
        """The project id of `project` (an id or a known number); an id never seen becomes an implicit project."""
        if project.isdigit():
            return self._numbers.get(project, project)
        if project not in self.projects:
            self.projects[project] = Project(display_name=project, parent=None, project_id=project, explicit=False)
            self._numbers[project_number(project)] = project
        return project

    def project(self, project: str) -> Project | None:
        """A project by id or number; None for a number no project has."""
        project_id = self.remember(project)
        return self.projects.get(project_id)

    def node(self, name: str) -> Node | None:
        """`organizations/N`, `folders/N` or `projects/P` (id or number); None if there is none."""
        kind, _, ident = name.partition("/")
        if not ident or "/" in ident:
            return None
        if kind == "organizations":
            return self.organizations.get(ident)
        if kind == "folders":
            return self.folders.get(ident)
        if kind == "projects":
            return self.project(ident)
        return None

    def parent_of(self, name: str) -> str | None:
        node = self.node(name)
        return node.parent if node is not None else None

    def ancestors(self, name: str) -> list[str]:
        """The folders and the organization above `name` (a `projects/`, `folders/` or `organizations/` name, or a
        bare project id), nearest first: `["folders/2", "folders/1", "organizations/9"]`."""
        if "/" not in name:
            name = f"projects/{name}"
        found: list[str] = []
        current = self.parent_of(name)
        while current is not None and current not in found:
            found.append(current)
            current = self.parent_of(current)
        return found

    def children(self, parent: str) -> tuple[list[Folder], list[Project]]:
        folders = [f for f in self.folders.values() if f.parent == parent]
        projects = [p for p in self.projects.values() if p.parent == parent]
        return folders, projects

    # -- writes ----------------------------------------------------------------------------------------------

    def add_org(
        self, org_id: str | None = None, display_name: str = "example.com", directory_customer_id: str | None = None
    ) -> Organization:
        """An organization (its `displayName` is its domain); the id is derived from the domain unless given."""
        org_id = _check_numeric(org_id or _derived_id(f"organization/{display_name}"), "organization id")
        existing = self.organizations.get(org_id)
        if existing is not None:
            existing.display_name = display_name
            return existing
        customer = directory_customer_id or "C" + hashlib.sha256(org_id.encode()).hexdigest()[:8]
        org = Organization(display_name=display_name, parent=None, org_id=org_id, directory_customer_id=customer)
        self.organizations[org_id] = org
        return org

    def add_folder(self, parent: str, display_name: str, folder_id: str | None = None) -> Folder:
        """A folder under an organization or a folder; the id is derived from parent and name unless given."""
        self._check_parent(parent)
        if not isinstance(display_name, str) or not _FOLDER_NAME.fullmatch(display_name):
            raise invalid(
                f"Invalid value at 'folder.display_name': '{display_name}'. A folder's display name is 1 to 30 "
                "letters, digits, spaces, '-' and '_', starting and ending with a letter or digit."
            )
        folder_id = _check_numeric(folder_id or _derived_id(f"folder/{parent}/{display_name}"), "folder id")
        name = f"folders/{folder_id}"
        if name == parent or name in self.ancestors(parent):
            raise invalid(f"Folder {name} cannot be placed under itself ({parent}).")
        depth = sum(1 for a in [parent, *self.ancestors(parent)] if a.startswith("folders/")) + 1
        if depth > MAX_FOLDER_DEPTH:
            raise ApiError(400, "The folder hierarchy would exceed a height of 10.", status="FAILED_PRECONDITION")
        clash = next(
            (
                f
                for f in self.folders.values()
                if f.parent == parent and f.display_name == display_name and f.folder_id != folder_id
            ),
            None,
        )
        if clash is not None:
            raise ApiError(
                400,
                f"A folder with display name '{display_name}' already exists under {parent}.",
                status="FAILED_PRECONDITION",
            )
        folder = self.folders.get(folder_id)
        if folder is None:
            folder = Folder(display_name=display_name, parent=parent, folder_id=folder_id)
            self.folders[folder_id] = folder
        else:
            folder.display_name, folder.parent, folder.update_time = display_name, parent, now()
        return folder

    def add_project(
        self,
        project_id: str,
        parent: str | None = None,
        display_name: str | None = None,
        labels: dict[str, str] | None = None,
    ) -> Project:
        """A project, made explicit; adding one that exists (explicitly or not) moves it under `parent`."""
        if not isinstance(project_id, str) or not PROJECT_ID.fullmatch(project_id):
            raise invalid(
                f"Invalid value at 'project.project_id': '{project_id}'. A project id is 6 to 30 lowercase letters, "
                "digits or hyphens, starting with a letter and not ending with a hyphen."
            )
        if parent is not None:
            self._check_parent(parent)
        self.remember(project_id)
        project = self.projects[project_id]
        if project.explicit and project.parent is not None and parent is None:
            parent = project.parent
        project.parent = parent
        project.display_name = display_name or (project.display_name if project.explicit else project_id)
        project.labels = dict(labels) if labels is not None else project.labels
        if not project.explicit:
            project.create_time = now()
        project.explicit = True
        project.update_time = now()
        return project

    def _check_parent(self, parent: Any) -> None:
        if not isinstance(parent, str) or not re.fullmatch(r"(organizations|folders)/[0-9]+", parent):
            raise invalid(f"Invalid parent '{parent}': expected 'organizations/N' or 'folders/N'.")
        if self.node(parent) is None:
            raise invalid(f"Parent '{parent}' does not exist.")

    # -- the test control's view ------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        return {
            "organizations": [
                {"id": o.org_id, "displayName": o.display_name, "directoryCustomerId": o.directory_customer_id}
                for o in sorted(self.organizations.values(), key=lambda o: o.org_id)
            ],
            "folders": [
                {"id": f.folder_id, "parent": f.parent, "displayName": f.display_name}
                for f in sorted(self.folders.values(), key=lambda f: f.folder_id)
            ],
            "projects": [
                {
                    "projectId": p.project_id,
                    "projectNumber": p.number,
                    "parent": p.parent,
                    "displayName": p.display_name,
                    "labels": p.labels,
                    "explicit": p.explicit,
                }
                for p in sorted(self.projects.values(), key=lambda p: p.project_id)
            ],
        }


def _check_numeric(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _NUMERIC.fullmatch(value):
        raise invalid(f"Invalid {what} '{value}': expected a decimal number.")
    return value
