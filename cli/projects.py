"""Projects in the CLI's output: whose a service name is, and the `--service-project` option that filters by it.

An installation may cover many projects (`RUNWAY_SCOPE`, docs/design.md §5): services, their serverless NEGs and
backend services live in the service's project, the URL map and the decision log in `RUNWAY_PROJECT`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

import click

from shared.model import PROJECT_ID

_F = TypeVar("_F", bound=Callable[..., Any])
_PROJECT = re.compile(PROJECT_ID)


def service_project(name: Any) -> str | None:
    """The project of `projects/P/...` (a service's full name, `locations/-` included); None for anything else."""
    parts = str(name or "").split("/")
    if len(parts) >= 2 and parts[0] == "projects" and parts[1]:
        return parts[1]
    return None


def _check(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    projects = [item.strip() for value in values for item in value.split(",") if item.strip()]
    for project in projects:
        if not _PROJECT.fullmatch(project):
            raise click.BadParameter(
                f"{project!r} is not a project id: expected 6-30 of [a-z0-9-], starting with a letter, not ending "
                "with -"
            )
    return tuple(dict.fromkeys(projects))


def service_project_option(what: str) -> Callable[[_F], _F]:
    """`--service-project P`, repeatable (or comma-separated): keep only `what` of services in these projects."""
    return click.option(
        "--service-project",
        "service_projects",
        multiple=True,
        metavar="PROJECT",
        callback=_check,
        help=f"Only {what} of services in this project (repeatable, or comma-separated).",
    )
