"""The sweep (`reconcile_all`, `python main.py reconcile`): every service of every configured region.

Events can be missed (a trigger deleted for a while, retention exceeded, runway installed after the services
existed), so the sweep re-derives everything from live state: ingress for each service, the desired routes of
all of them at once, and garbage collection of what runway made for services that are gone or unlabeled.

Regions: the configured ones plus every region runway has a NEG in. Triggers are global, so an event can publish
a service anywhere; a sweep blind to that region would take its route down, and the next event put it back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import errors
from .clients import ComputeClients
from .config import Config
from .decision_log import DecisionLog
from .ingress_enforcer import enforce_ingress
from .load_balancer import (
    AdoptionRefused,
    StaleObservation,
    apply_changes,
    get_url_map,
    list_backend_services,
    list_negs,
    neg_regions,
    owned,
)
from .model import ServiceFacts
from .naming import ServiceRef, parse_marker
from .route_contract import decide_routes
from .route_plan import Observed, Plan, plan_sweep
from .route_sync import log_outcome, plan_settings, replan
from .run_services import list_services

if TYPE_CHECKING:
    from google.cloud import run_v2


# Decisions a person must look at: what `reconcile` exits 1 for.
FINDINGS = ("route_conflict", "route_invalid", "api_error")


@dataclass
class SweepResult:
    services: list[ServiceFacts] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    plan: Plan = field(default_factory=Plan)
    applied: bool = False
    failures: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for decision in self.decisions:
            counts[decision["action"]] = counts.get(decision["action"], 0) + 1
        return counts

    def ingress_changes(self) -> list[dict[str, Any]]:
        return [d for d in self.decisions if d["action"] == "ingress_remediated"]

    def findings(self) -> list[dict[str, Any]]:
        return [d for d in self.decisions if d["action"] in FINDINGS]

    def summary(self, *, dry_run: bool) -> dict[str, Any]:
        """The sweep as data: what `reconcile_all` answers and `reconcile --format json` prints."""
        return {
            "dry_run": dry_run,
            "applied": self.applied,
            "services": len(self.services),
            "decisions": self.counts(),
            "ingress": [
                {"service": d["service"], "before": d["before"], "after": d["after"]} for d in self.ingress_changes()
            ],
            "changes": [
                {"op": c.op, "kind": c.kind, "name": c.name, "region": c.region, "why": c.why}
                for c in self.plan.changes
            ],
            "findings": [{k: d.get(k) for k in ("action", "service", "holder", "reason")} for d in self.findings()],
            "failures": self.failures,
        }


def sweep(
    *,
    config: Config,
    log: DecisionLog,
    run: run_v2.ServicesClient,
    compute: ComputeClients,
    progress: Callable[[int, int], None] | None = None,
) -> SweepResult:
    """Enforce ingress on every service, then plan and (unless dry run) apply the whole load balancer.

    Outcomes are logged once the plan is applied (or, in dry run, planned): a sweep that fails half-way logs
    nothing it did not do, and raises. `progress(done, total)` follows the ingress pass (the CLI's bar).
    """
    project, regions, url_map = config.require_project(), config.require_regions(), config.require_url_map()
    owner = config.owner_id
    result = SweepResult()
    published_in = set().union(*(neg_regions(b) for b in owned(list_backend_services(compute, project), owner)))
    result.services = _services(run, project, set(regions) | published_in)

    for done, facts in enumerate(result.services, start=1):
        try:
            result.decisions.append(enforce_ingress(facts.key, client=run, config=config, log=log, facts=facts))
        except errors.RunwayApiError as exc:
            result.failures.append(f"{facts.key.name}: {exc}")
            result.decisions.append(
                log.decide(
                    "api_error",
                    service=facts.key,
                    reason=str(exc),
                    retryable=exc.temporary,
                    message=f"ingress of {facts.key.service}: {exc}",
                )
            )
        if progress is not None:
            progress(done, len(result.services))

    settings = plan_settings(config, project)

    def attempt() -> tuple[Plan, list[ServiceFacts]]:
        # The load balancer first, then the services: whatever an event publishes after these reads makes the
        # URL-map write below fail its fingerprint (or a create meet our own object), and the sweep plans again;
        # nothing an event did is mistaken for an orphan.
        umap = get_url_map(compute, project, url_map)
        backends = list_backend_services(compute, project)
        scope = set(regions).union(*(neg_regions(b) for b in owned(backends, owner)))
        negs = list_negs(compute, project, scope)
        services = _services(run, project, scope)
        observed = Observed(
            url_map=umap, backend_services=_in_scope(backends, project, owner), negs=_in_scope(negs, project, owner)
        )
        plan = plan_sweep(decide_routes(services, config.hosts), observed, settings)
        if not config.dry_run and not plan.converged:
            try:
                apply_changes(compute, plan.changes, dict(umap), owner)
            except AdoptionRefused as exc:
                # A name of ours was taken between the reads and the write: the next observation sees the
                # squatter, and the planner holds only the service it blocks.
                raise StaleObservation(str(exc)) from exc
        return plan, services

    result.plan, services = replan(attempt, what="the sweep", url_map=url_map)
    result.applied = not config.dry_run and not result.plan.converged
    keys = {ServiceRef(f.key.project, f.key.service): f.key for f in services}
    for outcome in result.plan.outcomes:
        key = keys.get(outcome.service)
        service = key if key else f"projects/{outcome.service.project}/locations/-/services/{outcome.service.service}"
        result.decisions.append(log_outcome(log, service, outcome, result.plan))
    return result


def _services(run: run_v2.ServicesClient, project: str, regions: Iterable[str]) -> list[ServiceFacts]:
    return [facts for region in sorted(regions) for facts in list_services(run, project, region)]


def _in_scope(objects: list[dict[str, Any]], project: str, owner: str) -> list[dict[str, Any]]:
    """What the sweep may plan about: everything not ours (foreign objects and other owners', which name holders
    and block our names), and ours for services of this project only. Ours for another project's services were
    made by events the sweep does not list; collecting them would unpublish services it never looked at."""
    kept = []
    for item in objects:
        marker = parse_marker(item.get("description"))
        if marker is None or marker.owner != owner or marker.project == project:
            kept.append(item)
    return kept
