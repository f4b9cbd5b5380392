"""Whether a service is in what this installation covers (`RUNWAY_SCOPE`, docs/design.md §5).

Default: `RUNWAY_PROJECT` alone (with no `RUNWAY_PROJECT`, any project: a single-project installation's triggers see
only its own project anyway). A list of project ids is checked as is; an organization or folder is checked against
the project's ancestry in Resource Manager (cached, `shared.api_resources`). A project named by number (audit entries
sometimes do) is resolved to its id first.

The functions may read projects (`resourcemanager.projects.get`) only below the organization or folder of
`RUNWAY_SCOPE` (infra grants it there), so Resource Manager refuses a project outside it (403), or does not know it
(404): runway cannot see the project, which is therefore outside the scope.
"""

from __future__ import annotations

from . import clients, errors
from .api_resources import ancestry, project
from .config import Config
from .model import ServiceKey


def outside_scope(key: ServiceKey, config: Config) -> str | None:
    """Why `key` is none of this installation's business, or None when it is in scope."""
    try:
        return _outside(key, config)
    except (errors.PermissionDenied, errors.NotFound) as exc:
        scope = f"RUNWAY_SCOPE ({config.scope})" if config.scope else f"its scope (RUNWAY_PROJECT {config.project})"
        answer = " ".join(str(part) for part in (exc.method, "answered", exc.code) if part)
        return f"runway cannot see project {key.project} ({answer}), so it is outside {scope}"


def _outside(key: ServiceKey, config: Config) -> str | None:
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
