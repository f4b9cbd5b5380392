"""Cloud Resource Manager v1 and v3: organizations, folders and projects over one `Hierarchy`.

Create methods answer an operation that is already done, its `response` the new resource. Searches and v1
`projects.list` answer only what the caller may see: `visible(permission, resource name)`, which the emulator
wires to IAM (everything is visible where no policy is set).
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from .. import params
from ..clock import rfc3339
from ..errors import ApiError, invalid
from ..iam.api import IamApi
from ..paging import list_page
from ..runtime import Runtime
from . import query, views
from .hierarchy import Folder, Hierarchy, Node, Organization, Project, denied

Render = Callable[[Any], dict[str, Any]]
Visible = Callable[[str, str], bool]  # (permission, resource name) -> may the caller see it

PAGE_DEFAULT = 500
PAGE_MAX = 1000
_SAMPLE_PROJECT = Project(display_name="", parent=None, project_id="sample")


class ResourceManagerApi:
    name = "resourcemanager"

    def __init__(self, emu: Runtime, hierarchy: Hierarchy, iam: IamApi) -> None:
        self.emu = emu
        self.hierarchy = hierarchy
        self.iam = iam  # keeps the policies of organizations, folders and projects
        self.operations: dict[str, dict[str, Any]] = {}
        self.visible: Visible = iam.caller_may

    def reset(self) -> None:
        with self.emu.lock:
            self.hierarchy.clear()
            self.operations.clear()

    def snapshot(self) -> dict[str, Any]:
        with self.emu.lock:
            return self.hierarchy.snapshot()

    # -- seeding, from Python and from `POST /_emulator/hierarchy` ---------------------------------------------

    def add_org(self, org_id: str | None = None, display_name: str = "example.com", **kw: Any) -> Organization:
        with self.emu.lock:
            return self.hierarchy.add_org(org_id, display_name, **kw)

    def add_folder(self, parent: str, display_name: str, folder_id: str | None = None) -> Folder:
        with self.emu.lock:
            return self.hierarchy.add_folder(parent, display_name, folder_id)

    def add_project(self, project_id: str, parent: str | None = None, **kw: Any) -> Project:
        with self.emu.lock:
            return self.hierarchy.add_project(project_id, parent, **kw)

    def ancestors(self, project_id: str) -> list[str]:
        """`["folders/…", "organizations/…"]` above a project (or a `folders/`/`organizations/` name), nearest first."""
        with self.emu.lock:
            return self.hierarchy.ancestors(project_id)

    def exists(self, name: str) -> bool:
        """Whether `organizations/N`, `folders/N` or `projects/P` is there (every project id is, implicitly)."""
        with self.emu.lock:
            return self.hierarchy.node(name) is not None

    def project_number(self, project: str) -> str:
        """The number of a project named by id (or by number)."""
        with self.emu.lock:
            found = self.hierarchy.project(project)
            return found.number if found is not None else project

    def configure(self, body: Any) -> dict[str, Any]:
        """Apply a `POST /_emulator/hierarchy` body: organizations, then folders, then projects; all or nothing."""
        body = params.mapping(body, "", ("organizations", "folders", "projects"))
        with self.emu.lock:
            trial = copy.deepcopy(self.hierarchy)
            for index, item in enumerate(_items(body, "organizations")):
                item = params.mapping(item, f"organizations[{index}]", ("id", "displayName", "directoryCustomerId"))
                where = f"organizations[{index}]"
                trial.add_org(
                    _opt(item, "id", where),
                    _opt(item, "displayName", where) or "example.com",
                    _opt(item, "directoryCustomerId", where),
                )
            for index, item in enumerate(_items(body, "folders")):
                where = f"folders[{index}]"
                item = params.mapping(item, where, ("id", "parent", "displayName"))
                parent = params.string(item.get("parent"), f"{where}.parent")
                name = params.string(item.get("displayName"), f"{where}.displayName")
                trial.add_folder(parent, name, _opt(item, "id", where))
            for index, item in enumerate(_items(body, "projects")):
                where = f"projects[{index}]"
                item = params.mapping(item, where, ("projectId", "parent", "displayName", "labels"))
                labels = item.get("labels")
                if labels is not None and not isinstance(labels, dict):
                    raise params.bad_param(f"{where}.labels", f"expected a JSON object, got {labels!r}")
                project_id = params.string(item.get("projectId"), f"{where}.projectId")
                trial.add_project(project_id, _opt(item, "parent", where), _opt(item, "displayName", where), labels)
            self.hierarchy.__dict__.update(trial.__dict__)
            return self.hierarchy.snapshot()

    # -- v1 --------------------------------------------------------------------------------------------------

    def get_project_v1(self, project_id: str) -> dict[str, Any]:
        with self.emu.lock:
            return views.project_v1(self._project(project_id))

    def get_ancestry_v1(self, project_id: str) -> dict[str, Any]:
        with self.emu.lock:
            project = self._project(project_id)
            return views.ancestry_v1([project.name, *self.hierarchy.ancestors(project.name)])

    def list_projects_v1(self, filter_text: str | None, page_size: Any, page_token: Any) -> dict[str, Any]:
        found = self._search_projects(filter_text)
        return list_page(
            found, "projects", page_size, page_token, default=PAGE_DEFAULT, maximum=PAGE_MAX, render=views.project_v1
        )

    def get_organization_v1(self, org_id: str) -> dict[str, Any]:
        with self.emu.lock:
            return views.organization_v1(self._organization(org_id))

    def search_organizations_v1(self, body: Mapping[str, Any]) -> dict[str, Any]:
        found = self._search_organizations(body.get("filter"))
        return list_page(
            found,
            "organizations",
            body.get("pageSize"),
            body.get("pageToken"),
            default=PAGE_DEFAULT,
            maximum=PAGE_MAX,
            render=views.organization_v1,
        )

    # -- v3 projects -----------------------------------------------------------------------------------------

    def get_project(self, project: str) -> dict[str, Any]:
        with self.emu.lock:
            return views.project_v3(self._project(project))

    def create_project(self, body: Mapping[str, Any]) -> dict[str, Any]:
        project_id = body.get("projectId")
        labels = body.get("labels")
        if labels is not None and not isinstance(labels, dict):
            raise invalid("Invalid value at 'project.labels': must be an object.")
        with self.emu.lock:
            existing = self.hierarchy.projects.get(project_id) if isinstance(project_id, str) else None
            if existing is not None and existing.explicit:
                raise ApiError(409, "Requested entity already exists")
            parent = body.get("parent")
            if parent is not None and self.hierarchy.node(str(parent)) is None:
                raise denied("resourcemanager.projects.create", str(parent))
            project = self.hierarchy.add_project(project_id, parent, body.get("displayName"), labels)  # type: ignore[arg-type]
            metadata = {
                "@type": _type("CreateProjectMetadata"),
                "createTime": rfc3339(project.create_time),
                "gettable": True,
                "ready": True,
            }
            return self._operation("cp", project.project_id, metadata, _type("Project"), views.project_v3(project))

    def list_projects(self, parent: str | None, page_size: Any, page_token: Any) -> dict[str, Any]:
        with self.emu.lock:
            node = self._parent(parent, "resourcemanager.projects.list")
            _, projects = self.hierarchy.children(node)
            found = sorted(projects, key=lambda p: (p.display_name, p.project_id))
        return list_page(
            found, "projects", page_size, page_token, default=PAGE_DEFAULT, maximum=PAGE_MAX, render=views.project_v3
        )

    def search_projects(self, query_text: str | None, page_size: Any, page_token: Any) -> dict[str, Any]:
        found = self._search_projects(query_text)
        return list_page(
            found, "projects", page_size, page_token, default=PAGE_DEFAULT, maximum=PAGE_MAX, render=views.project_v3
        )

    # -- v3 folders ------------------------------------------------------------------------------------------

    def create_folder(self, body: Mapping[str, Any]) -> dict[str, Any]:
        parent, display_name = body.get("parent"), body.get("displayName")
        if not parent:
            raise invalid("Invalid value at 'folder.parent': a parent ('organizations/N' or 'folders/N') is required.")
        with self.emu.lock:
            if self.hierarchy.node(str(parent)) is None:
                raise denied("resourcemanager.folders.create", str(parent))
            if display_name is not None and any(
                f.parent == parent and f.display_name == display_name for f in self.hierarchy.folders.values()
            ):
                raise ApiError(
                    400, f"A folder named '{display_name}' already exists under {parent}.", status="FAILED_PRECONDITION"
                )
            folder = self.hierarchy.add_folder(str(parent), display_name)  # type: ignore[arg-type]
            metadata = {
                "@type": _type("CreateFolderMetadata"),
                "displayName": folder.display_name,
                "parent": folder.parent,
            }
            return self._operation("cf", folder.folder_id, metadata, _type("Folder"), views.folder_v3(folder))

    def get_folder(self, folder_id: str, render: Render = views.folder_v3) -> dict[str, Any]:
        with self.emu.lock:
            return render(self._folder(folder_id))

    def list_folders(
        self, parent: str | None, page_size: Any, page_token: Any, render: Render = views.folder_v3
    ) -> dict[str, Any]:
        with self.emu.lock:
            node = self._parent(parent, "resourcemanager.folders.list")
            folders, _ = self.hierarchy.children(node)
            found = sorted(folders, key=lambda f: (f.display_name, f.folder_id))
        return list_page(found, "folders", page_size, page_token, default=PAGE_DEFAULT, maximum=PAGE_MAX, render=render)

    def search_folders(
        self, query_text: str | None, page_size: Any, page_token: Any, render: Render = views.folder_v3
    ) -> dict[str, Any]:
        node = query.parse(query_text)
        with self.emu.lock:
            candidates = sorted(self.hierarchy.folders.values(), key=lambda f: f.folder_id)
        query.check(node, views.folder_fields(Folder(display_name="", parent=None)))
        found = [
            f
            for f in candidates
            if query.matches(node, views.folder_fields(f)) and self.visible("resourcemanager.folders.get", f.name)
        ]
        return list_page(found, "folders", page_size, page_token, default=PAGE_DEFAULT, maximum=PAGE_MAX, render=render)

    # -- v3 organizations and operations ---------------------------------------------------------------------

    def get_organization(self, org_id: str) -> dict[str, Any]:
        with self.emu.lock:
            return views.organization_v3(self._organization(org_id))

    def search_organizations(self, query_text: str | None, page_size: Any, page_token: Any) -> dict[str, Any]:
        found = self._search_organizations(query_text)
        return list_page(
            found,
            "organizations",
            page_size,
            page_token,
            default=PAGE_DEFAULT,
            maximum=PAGE_MAX,
            render=views.organization_v3,
        )

    def get_operation(self, op_id: str) -> dict[str, Any]:
        with self.emu.lock:
            op = self.operations.get(f"operations/{op_id}")
            if op is None:
                raise ApiError(404, f"Operation 'operations/{op_id}' not found.")
            return copy.deepcopy(op)

    # -- IAM policies of organizations, folders and projects ----------------------------------------------------

    def node_name(self, kind: str, ident: str, permission: str) -> str:
        """The policy name of an organization, folder or project that exists; 403 otherwise."""
        with self.emu.lock:
            if kind == "projects":
                return self._project(ident, permission).name
            if self.hierarchy.node(f"{kind}/{ident}") is None:
                raise denied(permission, f"{kind}/{ident}")
            return f"{kind}/{ident}"

    # -- helpers ---------------------------------------------------------------------------------------------

    def _project(self, project: str, permission: str = "resourcemanager.projects.get") -> Project:
        found = self.hierarchy.project(project)
        if found is None:
            raise denied(permission, f"projects/{project}")
        return found

    def _folder(self, folder_id: str) -> Folder:
        found = self.hierarchy.folders.get(folder_id)
        if found is None:
            raise denied("resourcemanager.folders.get", f"folders/{folder_id}")
        return found

    def _organization(self, org_id: str) -> Organization:
        found = self.hierarchy.organizations.get(org_id)
        if found is None:
            raise denied("resourcemanager.organizations.get", f"organizations/{org_id}")
        return found

    def _parent(self, parent: str | None, permission: str) -> str:
        if not parent:
            raise invalid("Invalid value at 'parent': required ('organizations/N' or 'folders/N').")
        node: Node | None = self.hierarchy.node(parent) if parent.startswith(("organizations/", "folders/")) else None
        if node is None:
            raise denied(permission, parent)
        return parent

    def _search_projects(self, text: str | None) -> list[Project]:
        node = query.parse(text)
        query.check(node, views.project_fields(_SAMPLE_PROJECT))
        with self.emu.lock:
            candidates = sorted(self.hierarchy.projects.values(), key=lambda p: p.project_id)
        return [
            p
            for p in candidates
            if query.matches(node, views.project_fields(p)) and self.visible("resourcemanager.projects.get", p.name)
        ]

    def _search_organizations(self, text: Any) -> list[Organization]:
        node = query.parse(text if isinstance(text, str) else None)
        query.check(node, views.organization_fields(Organization(display_name="", parent=None)))
        with self.emu.lock:
            candidates = sorted(self.hierarchy.organizations.values(), key=lambda o: o.org_id)
        return [
            o
            for o in candidates
            if query.matches(node, views.organization_fields(o))
            and self.visible("resourcemanager.organizations.get", o.name)
        ]

    def _operation(
        self, prefix: str, seed: str, metadata: dict[str, Any], response_type: str, response: dict[str, Any]
    ) -> dict[str, Any]:
        digits = str(int(hashlib.sha256(f"{prefix}/{seed}/{len(self.operations)}".encode()).hexdigest(), 16))[:19]
        op: dict[str, Any] = {
            "name": f"operations/{prefix}.{digits}",
            "done": True,
            "metadata": metadata,
            "response": {"@type": response_type, **response},
        }
        self.operations[op["name"]] = op
        return copy.deepcopy(op)


def _type(message: str) -> str:
    return views.V3 + message


def _items(body: Mapping[str, Any], key: str) -> list[Any]:
    items = body.get(key, [])
    if not isinstance(items, list):
        raise params.bad_param(key, f"expected a JSON array, got {items!r}")
    return items


def _opt(item: Mapping[str, Any], key: str, where: str) -> str | None:
    value = item.get(key)
    return None if value is None else params.string(value, f"{where}.{key}")
