"""The report per service project: the `by_project` roll-up and the `--service-project` filter. Pure.

The decision log is in `RUNWAY_PROJECT`, but each decision names its service's full path
(`projects/P/locations/R/services/S`), so what runway did is rolled up by the project `P` of the service.
Decisions that name no service (malformed events, budget warnings, the sweep's summary) are in no project's row.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cli.projects import service_project

# The action each count of a row tallies (real decisions only, like the report's `counts`).
COUNTED = {
    "ingress_remediated": "ingress_remediated",
    "route_registered": "route_registered",
    "route_updated": "route_updated",
    "route_removed": "route_removed",
    "route_conflict": "conflicts",
    "route_invalid": "invalid",
    "route_unreachable": "unreachable",
    "api_error": "api_error",
}


@dataclass(frozen=True)
class ProjectRollup:
    """What runway did to the services of one project over the window, and its route findings still open."""

    project: str
    ingress_remediated: int = 0
    route_registered: int = 0
    route_updated: int = 0
    route_removed: int = 0
    conflicts: int = 0
    invalid: int = 0
    unreachable: int = 0
    api_error: int = 0
    open_findings: int = 0


COLUMNS = tuple(f.name for f in dataclasses.fields(ProjectRollup))[1:]


def by_project(real: Iterable[Mapping[str, Any]], open_findings: Iterable[str]) -> tuple[ProjectRollup, ...]:
    """One row per project any of the `real` decisions' services is in (by project) with anything counted,
    counting its actions of `COUNTED`; `open_findings` are the services (full names) whose route findings are open."""
    counts: dict[str, dict[str, int]] = {}
    for decision in real:
        project = service_project(decision.get("service"))
        if project is None:
            continue
        row = counts.setdefault(project, dict.fromkeys(COLUMNS, 0))
        column = COUNTED.get(str(decision.get("action")))
        if column is not None:
            row[column] += 1
    for service in open_findings:
        project = service_project(service)
        if project is not None:
            counts.setdefault(project, dict.fromkeys(COLUMNS, 0))["open_findings"] += 1
    # A project whose decisions counted nothing (only compliant services, or events ignored as outside the scope)
    # has no row: the posture section lists every project swept.
    return tuple(
        ProjectRollup(project, **counts[project]) for project in sorted(counts) if any(counts[project].values())
    )


def total(rows: Iterable[ProjectRollup]) -> ProjectRollup:
    """The rows summed; `project` says how many there are."""
    listed = list(rows)
    sums = {column: sum(getattr(row, column) for row in listed) for column in COLUMNS}
    return ProjectRollup(f"total ({len(listed)} project{'' if len(listed) == 1 else 's'})", **sums)


def only_projects(decisions: Iterable[Mapping[str, Any]], projects: Collection[str]) -> list[dict[str, Any]]:
    """The decisions about services in `projects` and those naming no service; the sweep's posture (in each
    `sweep_summary`) cut to those projects. Everything when `projects` is empty."""
    kept: list[dict[str, Any]] = []
    for decision in decisions:
        project = service_project(decision.get("service"))
        if projects and project is not None and project not in projects:
            continue
        posture = decision.get("posture")
        if projects and decision.get("action") == "sweep_summary" and isinstance(posture, Mapping):
            decision = {**decision, "posture": {p: c for p, c in posture.items() if p in projects}}
        kept.append(dict(decision))
    return kept
