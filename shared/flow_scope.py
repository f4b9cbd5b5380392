"""Whether a service is in what this installation covers (`RUNWAY_SCOPE`, docs/design.md §5).

Default: `RUNWAY_PROJECT` alone (with no `RUNWAY_PROJECT`, any project: a single-project installation's triggers see
only its own project anyway). A list of project ids is checked as is; an organization or folder is checked against
the project's ancestry in Resource Manager (cached, `shared.api_resources`). A project named by number (audit entries
sometimes do) is resolved to its id first.
"""

from __future__ import annotations

from . import clients
from .api_resources import ancestry, project
from .config import Config
from .model import ServiceKey


def outside_scope(key: ServiceKey, config: Config) -> str | None:
    """Why `key` is none of this installation's business, or None when it is in scope."""
    scope = config.scope
    if scope is None and not config.project:
        return None
    project_id = key.project
    if project_id.isdigit():
        project_id = project(clients.resource_manager(config.api_endpoint, config.api_principal), project_id)[0]
    if scope is None:
        if project_id == config.project:
            return None
        return f"project {project_id} is outside the installation's scope (RUNWAY_PROJECT {config.project})"
    if scope.projects:
        if project_id in scope.projects:
            return None
        return f"project {project_id} is outside RUNWAY_SCOPE ({scope})"
    assert scope.parent is not None
    if scope.parent in ancestry(clients.resource_manager(config.api_endpoint, config.api_principal), project_id):
        return None
    return f"project {project_id} is not under {scope.parent} (RUNWAY_SCOPE)"


def projects_in_scope(config: Config) -> list[str]:
    """Every project the sweep covers: the listed ones, or every active project below the organization or folder."""
    from .api_resources import projects_under

    scope = config.effective_scope()
    if scope.projects:
        return list(scope.projects)
    assert scope.parent is not None
    return projects_under(clients.resource_manager(config.api_endpoint, config.api_principal), scope.parent)
