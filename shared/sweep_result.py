"""What a sweep did, as data: what `reconcile_all` answers and `reconcile --format json` prints.

`reconcile_all` answers 200 when every service converged (or, in a dry run, was planned) and 500 when any
service failed: the failures are listed per service, the other services were applied all the same, and the
scheduler's job shows the run as failed (docs/decisions.md, "Sweep").
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .model import Action, Change, ServiceFacts
from .plan_limits import Usage

# Decisions a person must look at: what `reconcile` exits 1 for. A finding already recorded on the service is
# logged as `route_unchanged` with `finding` (docs/design.md §3): it is still open, so it still counts here.
FINDINGS = (
    Action.ROUTE_CONFLICT,
    Action.ROUTE_INVALID,
    Action.ROUTE_UNREACHABLE,
    Action.API_ERROR,
    Action.BUDGET_WARNING,
)


@dataclass
class SweepResult:
    services: list[ServiceFacts] = field(default_factory=list)
    projects: list[str] = field(default_factory=list)  # every project swept, services or not
    decisions: list[dict[str, Any]] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)  # applied, or in a dry run planned
    applied: bool = False
    failures: list[dict[str, Any]] = field(default_factory=list)  # {"service", "error", "retryable"}
    usage: dict[str, Usage] = field(default_factory=dict)
    posture: dict[str, dict[str, int]] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return dict(Counter(str(decision["action"]) for decision in self.decisions))

    def ingress_changes(self) -> list[dict[str, Any]]:
        return [d for d in self.decisions if d["action"] == Action.INGRESS_REMEDIATED]

    def findings(self) -> list[dict[str, Any]]:
        return [d for d in self.decisions if d["action"] in FINDINGS or d.get("finding")]

    def budgets(self) -> dict[str, dict[str, Any]]:
        return {
            name: {"used": u.used, "limit": u.limit, "fraction": round(u.fraction, 4), "where": u.where}
            for name, u in sorted(self.usage.items())
        }

    def summary(self, *, dry_run: bool) -> dict[str, Any]:
        return {
            "dry_run": dry_run,
            "applied": self.applied,
            "projects": self.projects,
            "services": len(self.services),
            "decisions": self.counts(),
            "ingress": [
                {"service": d["service"], "before": d["before"], "after": d["after"]} for d in self.ingress_changes()
            ],
            "changes": [
                {"op": c.op, "kind": c.kind, "name": c.name, "project": c.project, "region": c.region, "why": c.why}
                for c in self.changes
            ],
            "findings": [
                {k: d.get(k) for k in ("action", "finding", "service", "holder", "reason")} for d in self.findings()
            ],
            "failures": self.failures,
            "posture": self.posture,
            "budgets": self.budgets(),
        }
