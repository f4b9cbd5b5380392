"""Two parts of the report that follow state over the window rather than count decisions. Pure.

- `route_findings`: each service's route findings, open or resolved, with their age (the rules are in the
  `cli.report_model` docstring, "Route findings").
- `posture`: the fleet as the latest `sweep_summary` in the window saw it, with the URL-map budgets and the
  latest `budget_warning` of each budget.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cli.report_model import (
    ROUTE_ACTIONS,
    Budget,
    BudgetWarning,
    Posture,
    ProjectPosture,
    RouteFinding,
    RouteFindings,
    flag,
    strings,
    text,
)
from shared.plan_limits import WARN_FRACTION  # the line a budget is reported above

KINDS = {"route_conflict": "conflict", "route_invalid": "invalid", "route_unreachable": "unreachable"}
_POSTURE_KEYS = ("private", "published", "exempt", "open")


def finding_kind(decision: Mapping[str, Any]) -> str | None:
    """The finding a route decision reports (a repeat included), or None when it reports none."""
    action = str(decision.get("action"))
    if action in KINDS:
        return KINDS[action]
    if action == "route_unchanged" and decision.get("finding") in KINDS.values():
        return str(decision["finding"])
    return None


def route_key(service: Any) -> str:
    """`project/service` of `projects/P/locations/R/services/S` (a route is one per project and name, whatever
    its regions; the sweep names a service of several regions with `locations/-`); anything else as is."""
    parts = str(service).split("/")
    if len(parts) == 6 and parts[0::2] == ["projects", "locations", "services"]:
        return f"{parts[1]}/{parts[5]}"
    return str(service)


@dataclass
class _Run:
    kind: str
    decisions: list[Mapping[str, Any]] = field(default_factory=list)

    def finding(self, until: datetime, ended_by: Mapping[str, Any] | None) -> RouteFinding:
        first, last = self.decisions[0], self.decisions[-1]
        detail: Mapping[str, Any] = next((d for d in reversed(self.decisions) if str(d.get("action")) in KINDS), {})
        resolved = ended_by["timestamp"] if ended_by is not None else None
        end = resolved if resolved is not None else until
        return RouteFinding(
            service=str(last.get("service")),
            kind=self.kind,
            first_seen=first["timestamp"],
            last_seen=last["timestamp"],
            resolved=resolved,
            resolved_by=str(ended_by.get("action")) if ended_by is not None else None,
            age_seconds=max(0, int((end - first["timestamp"]).total_seconds())),
            reports=len(self.decisions),
            started_before_window=str(first.get("action")) == "route_unchanged",
            principal=text(first.get("principal")),
            holder=text(detail.get("holder")),
            reason=text(detail.get("reason")),
            paths=strings(detail.get("paths")),
        )


def route_findings(real: Sequence[Mapping[str, Any]], until: datetime) -> RouteFindings:
    """Every finding run of every service in `real` (real decisions, oldest first), open or resolved."""
    runs: dict[str, _Run] = {}
    resolved: list[RouteFinding] = []
    for decision in real:
        if decision.get("action") not in ROUTE_ACTIONS or not decision.get("service"):
            continue
        key, kind = route_key(decision["service"]), finding_kind(decision)
        run = runs.get(key)
        if run is not None and run.kind == kind:
            run.decisions.append(decision)
            continue
        if run is not None:
            resolved.append(run.finding(until, ended_by=decision))
            del runs[key]
        if kind is not None:
            runs[key] = _Run(kind, [decision])
    still_open = [run.finding(until, ended_by=None) for run in runs.values()]
    return RouteFindings(
        open=tuple(sorted(still_open, key=lambda f: (f.first_seen, f.service))),
        resolved=tuple(sorted(resolved, key=lambda f: (f.resolved or f.last_seen, f.service))),
    )


def _number(value: Any) -> float:
    """A number as logged (Logging returns JSON numbers as doubles): an int when it is whole."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return int(value) if float(value).is_integer() else float(value)


def _budget(name: str, body: Mapping[str, Any]) -> Budget:
    fraction = _number(body.get("fraction"))
    return Budget(
        name,
        _number(body.get("used")),
        _number(body.get("limit")),
        fraction,
        text(body.get("where")),
        fraction > WARN_FRACTION,
    )


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _count(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def posture(rows: Sequence[Mapping[str, Any]]) -> Posture | None:
    """The latest `sweep_summary` in `rows` (oldest first), and the latest `budget_warning` of each budget among
    the decisions of the same kind (real or dry-run); None without a sweep in the window."""
    summaries = [d for d in rows if d.get("action") == "sweep_summary"]
    if not summaries:
        return None
    latest = summaries[-1]
    dry = flag(latest.get("dry_run"))
    by_project = _mapping(latest.get("posture"))
    projects = tuple(
        ProjectPosture(str(project), *(int(_number((counts or {}).get(k))) for k in _POSTURE_KEYS))
        for project, counts in sorted(by_project.items())
    )
    budgets = _mapping(latest.get("budgets"))
    warnings: dict[str, BudgetWarning] = {}
    for d in rows:
        if d.get("action") == "budget_warning" and flag(d.get("dry_run")) == dry:
            name = str(d.get("budget"))
            warnings[name] = BudgetWarning(
                d["timestamp"],
                name,
                _number(d.get("used")),
                _number(d.get("limit")),
                _number(d.get("fraction")),
                text(d.get("where")),
            )
    return Posture(
        time=latest["timestamp"],
        function=text(latest.get("function")),
        dry_run=dry,
        services=_count(latest.get("services")),
        failures=_count(latest.get("failures")),
        projects=projects,
        budgets=tuple(_budget(str(name), body) for name, body in sorted(budgets.items()) if isinstance(body, Mapping)),
        warnings=tuple(warnings[name] for name in sorted(warnings)),
    )
