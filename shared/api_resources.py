"""runway's only Resource Manager calls (google-cloud-resource-manager, v3, REST): where a project sits in the
organization, and which projects a folder or organization holds. Used for `RUNWAY_SCOPE`.

Why Resource Manager and not Cloud Asset Inventory's searchAllResources (which would list every Cloud Run service
of an organization in one paged call): the asset index is eventually consistent, so a service created a minute ago
can be missing from it, and the sweep would take a missing service for a deleted one and collect its route. The
sweep therefore enumerates projects here and lists their services live (docs/decisions.md, "Organization").
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from typing import Any

from . import errors
from .clients import ResourceClients

READ_TIMEOUT = 30.0
ANCESTRY_TTL = 600.0  # projects rarely move; a moved one is seen within ten minutes


def project(clients: ResourceClients, project: str) -> tuple[str, str]:
    """(project id, parent) of a project named by id or number."""
    name = f"projects/{project}"
    found = errors.call(
        "resourcemanager.projects.get",
        name,
        clients.projects.get_project,
        name=name,
        retry=errors.default_retry(READ_TIMEOUT),
    )
    return str(found.project_id), str(found.parent)


def ancestry(clients: ResourceClients, project_id: str) -> tuple[str, ...]:
    """The folders and the organization above a project, nearest first (cached for ANCESTRY_TTL)."""
    return _ancestry(clients, project_id, int(time.monotonic() // ANCESTRY_TTL))


@functools.lru_cache(maxsize=1024)
def _ancestry(clients: ResourceClients, project_id: str, _epoch: int) -> tuple[str, ...]:
    chain: list[str] = []
    _, parent = project(clients, project_id)
    while parent.startswith("folders/"):
        chain.append(parent)
        folder = errors.call(
            "resourcemanager.folders.get",
            parent,
            clients.folders.get_folder,
            name=parent,
            retry=errors.default_retry(READ_TIMEOUT),
        )
        parent = str(folder.parent)
    if parent:
        chain.append(parent)
    return tuple(chain)


def projects_under(clients: ResourceClients, parent: str) -> list[str]:
    """The ids of every active project below an organization or folder, at any depth, in id order."""
    return sorted(_walk(clients, parent))


def _walk(clients: ResourceClients, parent: str) -> Iterator[str]:
    from google.cloud import resourcemanager_v3

    active = resourcemanager_v3.Project.State.ACTIVE
    for found in _list("resourcemanager.projects.list", parent, clients.projects.list_projects, parent):
        if found.state == active:
            yield str(found.project_id)
    for folder in _list("resourcemanager.folders.list", parent, clients.folders.list_folders, parent):
        if folder.state == resourcemanager_v3.Folder.State.ACTIVE:
            yield from _walk(clients, str(folder.name))


def _list(method: str, parent: str, fn: Any, value: str) -> list[Any]:
    return errors.call(method, parent, lambda: list(fn(parent=value, retry=errors.default_retry(READ_TIMEOUT))))
