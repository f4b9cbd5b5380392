"""The sweep (`reconcile_all`, `python main.py reconcile`): every service of every configured region.

Events can be missed (a trigger deleted for a while, retention exceeded, runway installed after the services
existed), so the sweep re-derives everything from live state: ingress for each service, the desired routes of
all of them at once, and garbage collection of what runway made for services that are gone or unlabeled.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import errors
from .clients import ComputeClients
from .config import Config, ConfigError
from .decision_log import DecisionLog
from .ingress_enforcer import enforce_ingress
from .load_balancer import (
    AdoptionRefused,
    StaleObservation,
    apply_changes,
    get_url_map,
    list_marked_backend_services,
    list_owned_negs,
    neg_regions,
)
from .model import ServiceFacts
from .naming import ServiceRef
from .route_contract import decide_routes
from .route_plan import Observed, Plan, plan_sweep
from .route_sync import BACKOFF_INITIAL, BACKOFF_MAX, MAX_PLANS, log_outcome, plan_settings
from .run_services import list_services

if TYPE_CHECKING:
    from google.cloud import run_v2


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


def sweep(*, config: Config, log: DecisionLog, run: run_v2.ServicesClient, compute: ComputeClients,
          progress: Callable[[int, int], None] | None = None) -> SweepResult:
    """Enforce ingress on every service, then plan and (unless dry run) apply the whole load balancer.

    `progress(done, total)` is called after each service's ingress decision (the CLI draws a bar with it).
    """
    if not config.project:
        raise ConfigError([("RUNWAY_PROJECT", "not set: the sweep needs the project whose services it lists")])
    regions = config.require_regions()
    project = config.project
    result = SweepResult()
    for region in regions:
        result.services.extend(_call("run.services.list", lambda r=region: list(list_services(run, project, r))))

    for done, facts in enumerate(result.services, start=1):
        try:
            result.decisions.append(enforce_ingress(facts.key, client=run, config=config, log=log, facts=facts))
        except errors.RunwayApiError as exc:
            result.failures.append(f"{facts.key.name}: {exc}")
            result.decisions.append(log.decide("api_error", service=facts.key, reason=str(exc), retryable=exc.temporary,
                                               message=f"ingress of {facts.key.service}: {exc}"))
        if progress is not None:
            progress(done, len(result.services))

    result.plan, result.applied = _routes(config, compute, project, regions, result)
    keys = {ServiceRef(f.key.project, f.key.service): f.key for f in result.services}
    for outcome in result.plan.outcomes:
        key = keys.get(outcome.service)
        service = key if key else f"projects/{outcome.service.project}/locations/-/services/{outcome.service.service}"
        result.decisions.append(log_outcome(log, service, outcome, result.plan))
    return result


def _routes(config: Config, compute: ComputeClients, project: str, regions: tuple[str, ...],
            result: SweepResult) -> tuple[Plan, bool]:
    settings = plan_settings(config, project)
    decisions = decide_routes(result.services, config.hosts)
    delay = BACKOFF_INITIAL
    plan = Plan()
    for _ in range(MAX_PLANS):
        # The URL map first, so every backend it references is in the list that follows (route_sync explains).
        url_map = get_url_map(compute, project, settings.url_map)
        backends = list_marked_backend_services(compute, project)
        neg_scope = sorted(set(regions).union(*(neg_regions(b) for b in backends)))
        negs = list_owned_negs(compute, project, neg_scope, config.owner_id)
        plan = plan_sweep(decisions, Observed(url_map=url_map, backend_services=backends, negs=negs), settings)
        if config.dry_run or plan.converged:
            return plan, False
        try:
            apply_changes(compute, plan.changes, dict(url_map), config.owner_id)
            return plan, True
        except StaleObservation:
            time.sleep(random.uniform(0, delay))
            delay = min(delay * 2, BACKOFF_MAX)
        except AdoptionRefused as refused:
            # A name of ours is taken by someone else's object: report it and leave the rest to the next
            # sweep, which plans around it once the planner sees the foreign object.
            result.failures.append(str(refused))
            return plan, False
    raise errors.PreconditionFailed(f"the load balancer kept changing during the sweep ({MAX_PLANS} attempts)",
                                    method="compute.urlMaps.update", resource=settings.url_map)


def _call(method: str, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except errors.API_ERRORS as exc:
        raise errors.classify(exc, method=method) from exc
