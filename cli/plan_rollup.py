"""A sweep's result rolled up per project (`reconcile`'s `by_project`). Pure.

Each service's part is counted in its own project: its copies swept, its ingress fix, its serverless NEGs and
backend service (each `Change` names its project), its findings and failures. What is not any one service's (the
URL map's update, a budget warning) counts for the load balancer's project, `RUNWAY_PROJECT`, where it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cli.projects import service_project
from shared.sweep_result import SweepResult

# The per-project counts, in the order the table shows them.
COUNTS = ("services", "ingress_changes", "create", "update", "delete", "findings", "failures")


def _row(project: str) -> dict[str, Any]:
    return {"project": project, **dict.fromkeys(COUNTS, 0)}


def by_project(result: SweepResult, *, lb_project: str, covered: Iterable[str] = ()) -> list[dict[str, Any]]:
    """One row per project, sorted: every project in `covered` (the projects the sweep covered, with services or
    not) and every project the result names; each row counts its services, ingress changes, creates, updates and
    deletes, findings and failures."""
    rows = {project: _row(project) for project in covered}

    def add(project: str | None, count: str) -> None:
        where = project or lb_project
        rows.setdefault(where, _row(where))[count] += 1

    for facts in result.services:
        add(facts.key.project, "services")
    for decision in result.ingress_changes():
        add(service_project(decision.get("service")), "ingress_changes")
    for change in result.changes:
        add(change.project, change.op)
    for decision in result.findings():
        add(service_project(decision.get("service")), "findings")
    for failure in result.failures:
        add(service_project(failure.get("service")), "failures")
    return [rows[project] for project in sorted(rows)]


def total(rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The rows summed: `project` says how many projects."""
    listed = list(rows)
    projects = f"{len(listed)} project" + ("" if len(listed) == 1 else "s")
    return {"project": f"total ({projects})", **{c: sum(r[c] for r in listed) for c in COUNTS}}
