"""What a sweep did, as data: what `reconcile_all` answers and `reconcile --format json` prints.

`reconcile_all` answers 200 when every service converged (or, in a dry run, was planned) and 500 when any
service failed: the failures are listed per service, the other services were applied all the same, and the
scheduler's job shows the run as failed (docs/decisions.md, "Sweep").
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .config import Config
from .decision_log import DecisionLog
from .errors import RunwayApiError
from .model import FINDING_ACTIONS, Action, Change, ServiceFacts, ServiceKey
from .plan_ingress import ALL, UNSPECIFIED
from .plan_limits import WARN_FRACTION, Usage

# Decisions a person must look at: what `reconcile` exits 1 for. A finding already recorded on the service is
# logged as `route_unchanged` with `finding` (docs/design.md §3): it is still open, so it still counts here.
FINDINGS = FINDING_ACTIONS | {Action.API_ERROR, Action.BUDGET_WARNING}


@dataclass
class SweepResult:
    services: list[ServiceFacts] = field(default_factory=list)
    projects: list[str] = field(default_factory=list)  # every project swept, services or not (not one that failed)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)  # applied, or in a dry run planned
    applied: bool = False
    # {"service", "error", "retryable"}; a project that could not be observed: "service" is `projects/P`, with "project"
    failures: list[dict[str, Any]] = field(default_factory=list)
    usage: dict[str, Usage] = field(default_factory=dict)
    posture: dict[str, dict[str, int]] = field(default_factory=dict)

    def failed(self, log: DecisionLog, key: ServiceKey | str, exc: Exception, what: str, **fields: Any) -> None:
        """A service failed (its own `api_error`): it is held, the others go on."""
        temporary = bool(getattr(exc, "temporary", True))
        name = key.name if isinstance(key, ServiceKey) else key
        self.failures.append({"service": name, "error": str(exc), "retryable": temporary})
        self.decisions.append(
            log.decide(
                Action.API_ERROR, service=key, reason=str(exc), retryable=temporary, message=f"{what}: {exc}", **fields
            )
        )

    def project_failed(self, log: DecisionLog, project: str, exc: RunwayApiError) -> None:
        """A project could not be observed: its own failure, and nothing of it is touched by this sweep."""
        name = f"projects/{project}"
        self.failures.append({"service": name, "project": project, "error": str(exc), "retryable": exc.temporary})
        self.decisions.append(
            log.decide(
                Action.API_ERROR,
                service=name,
                reason=str(exc),
                retryable=exc.temporary,
                message=f"project {project} not swept (its routes and objects left as they are): {exc}",
            )
        )

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

    def report(
        self, log: DecisionLog, config: Config, services: list[ServiceFacts], published: set[ServiceKey]
    ) -> None:
        """Budgets over the warning line, then the sweep's snapshot (posture and budgets), as decisions."""
        budgets = self.budgets()
        for name, budget in budgets.items():
            if budget["fraction"] > WARN_FRACTION:
                self.decisions.append(
                    log.decide(
                        Action.BUDGET_WARNING,
                        budget=name,
                        used=budget["used"],
                        limit=budget["limit"],
                        fraction=budget["fraction"],
                        where=budget["where"],
                        message=f"URL map {config.url_map}: {name} at {budget['fraction']:.0%} of Google's limit",
                    )
                )
        self.posture = self._posture(config, services, published)
        log.decide(
            Action.SWEEP_SUMMARY,
            posture=self.posture,
            budgets=budgets,
            services=len(self.services),
            failures=len(self.failures),
            message=f"swept {len(self.services)} services: {len(self.failures)} failed",
        )

    def _posture(
        self, config: Config, services: list[ServiceFacts], published: set[ServiceKey]
    ) -> dict[str, dict[str, int]]:
        """Per project swept, how many service copies are open to all (`exempt` by exemption, else `open`: whatever
        their route), else `published` (a copy in a region its route serves), else `private`."""
        remediated = {d["service"] for d in self.decisions if d["action"] == Action.INGRESS_REMEDIATED}
        empty = {"private": 0, "published": 0, "exempt": 0, "open": 0}
        # Every project swept has its line, services or not.
        posture = {project: dict(empty) for project in sorted(self.projects)}
        for facts in services:
            counts = posture.setdefault(facts.key.project, dict(empty))
            is_open = facts.ingress in (ALL, UNSPECIFIED) and not (facts.key.name in remediated and not config.dry_run)
            if is_open and config.is_exempt(facts.key):
                counts["exempt"] += 1
            elif is_open:
                counts["open"] += 1
            elif facts.key in published:
                counts["published"] += 1
            else:
                counts["private"] += 1
        return posture
