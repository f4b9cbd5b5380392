"""One service's routes, end to end: observe the live objects, decide, plan, apply, log. (`sync_routes`)

A 412, a 409 on an object of ours, or an object a change needs gone or not ready yet all mean the observation
went stale under a concurrent writer: observe and plan again, a bounded number of times, with jittered
backoff so concurrent events spread out (`replan`, shared with the sweep).
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from . import errors
from .clients import ComputeClients
from .config import Config
from .decision_log import DecisionLog
from .load_balancer import (
    AdoptionRefused,
    StaleObservation,
    apply_changes,
    get_neg,
    get_url_map,
    list_backend_services,
    neg_regions,
    owned,
)
from .model import ServiceKey
from .naming import ServiceRef, backend_service_name, neg_name
from .route_contract import decide_route
from .route_plan import ROUTE_CONFLICT, Observed, Outcome, Plan, PlanSettings, plan_service
from .run_services import read_service

if TYPE_CHECKING:
    from google.cloud import run_v2

T = TypeVar("T")
MAX_PLANS = 6
BACKOFF_INITIAL = 0.2
BACKOFF_MAX = 3.0


def plan_settings(config: Config, lb_project: str) -> PlanSettings:
    return PlanSettings(
        owner_id=config.owner_id,
        project=lb_project,
        url_map=config.require_url_map(),
        hosts=config.hosts,
        security_policy=config.security_policy,
    )


def replan(attempt: Callable[[], T], *, what: str, url_map: str) -> T:
    """Run `attempt` (observe, plan, apply) until its observation holds up, at most MAX_PLANS times."""
    delay = BACKOFF_INITIAL
    for _ in range(MAX_PLANS):
        try:
            return attempt()
        except StaleObservation:
            time.sleep(random.uniform(0, delay))  # full jitter: concurrent writers don't retry in step
            delay = min(delay * 2, BACKOFF_MAX)
    raise errors.PreconditionFailed(
        f"the load balancer kept changing while {what} was planned ({MAX_PLANS} attempts)",
        method="compute.urlMaps.patch",
        resource=url_map,
    )


def observe_service(
    key: ServiceKey, *, config: Config, run: run_v2.ServicesClient, compute: ComputeClients, lb_project: str
) -> tuple[Observed, Any]:
    """Everything the planner needs for one service, in as few reads as the contract allows, and its decision.

    The regions to look at are the event's plus those the service already has NEGs in (from its backend
    service), so a multi-region route is decided on every copy without sweeping every configured region.

    The URL map is read first: every backend service it references then still exists when the backends are
    listed (Compute refuses to delete one in use), so each path rule's owner is known from its marker. Read the
    other way round, a backend made by a concurrent invocation between the two reads would look like a foreign
    holder of its own path.
    """
    ref = ServiceRef(key.project, key.service)
    url_map = get_url_map(compute, lb_project, config.require_url_map())
    backends = list_backend_services(compute, lb_project)
    mine = backend_service_name(config.owner_id, ref.project, ref.service)
    ours = next((b for b in owned(backends, config.owner_id) if b.get("name") == mine), None)
    regions = sorted({key.region} | neg_regions(ours))
    facts = [f for region in regions if (f := read_service(run, ServiceKey(key.project, region, key.service)))]
    negs = [
        n
        for region in regions
        if (n := get_neg(compute, key.project, region, neg_name(config.owner_id, key.project, region, key.service)))
    ]
    decision = decide_route(ref, facts, config.hosts) if facts else None
    return Observed(url_map=url_map, backend_services=backends, negs=negs), decision


def sync_service(
    key: ServiceKey, *, config: Config, log: DecisionLog, run: run_v2.ServicesClient, compute: ComputeClients
) -> dict[str, Any]:
    """Make the load balancer match one service's labels; log and return the decision."""
    if key.project.isdigit() and (live := read_service(run, key)) is not None:
        # The event named the project by number (ids start with a letter); names and markers use the project id
        # the API answers with, so every event about one service plans the same objects.
        key = dataclasses.replace(key, project=live.key.project)
    lb_project = config.lb_project(key)
    settings = plan_settings(config, lb_project)
    ref = ServiceRef(key.project, key.service)

    def attempt() -> dict[str, Any]:
        observed, decision = observe_service(key, config=config, run=run, compute=compute, lb_project=lb_project)
        plan = plan_service(ref, decision, observed, settings)
        outcome = plan.outcome(ref)
        assert outcome is not None, "the planner reports on the service it was asked about"
        if outcome.action == ROUTE_CONFLICT and plan.converged:
            _confirm(compute, lb_project, settings.url_map, observed.url_map)
        if not config.dry_run and not plan.converged:
            try:
                apply_changes(compute, plan.changes, dict(observed.url_map), config.owner_id)
            except AdoptionRefused as refused:
                return log.decide(
                    "route_conflict",
                    service=key,
                    holder=refused.holder,
                    paths=list(outcome.paths),
                    message=f"{ref}: {refused}",
                )
        return log_outcome(log, key, outcome, plan)

    return replan(attempt, what=str(ref), url_map=settings.url_map)


def _confirm(compute: ComputeClients, project: str, name: str, seen: Mapping[str, Any]) -> None:
    """A refusal is only as good as the map it was decided on: if the map changed since (a holder leaving at
    this very moment), decide again instead of refusing for good."""
    if get_url_map(compute, project, name).get("fingerprint") != seen.get("fingerprint"):
        raise StaleObservation(f"URL map {name} changed while a conflict was decided")


def log_outcome(log: DecisionLog, key: ServiceKey | str, outcome: Outcome, plan: Plan) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if outcome.host_alias is not None:
        fields["host"] = outcome.host_alias
    if outcome.hosts:
        fields["hosts"] = list(outcome.hosts)
    if outcome.paths:
        fields["paths"] = list(outcome.paths)
    if outcome.regions:
        fields["regions"] = list(outcome.regions)
    if outcome.backend:
        fields["backend"] = outcome.backend
    if outcome.holder is not None:
        fields["holder"] = outcome.holder
    if outcome.reason is not None:
        fields["reason"] = outcome.reason
    changes = [f"{c.op} {c.kind} {c.name}" for c in plan.changes if outcome.service in c.services]
    if changes:
        fields["changes"] = changes
    return log.decide(outcome.action, service=key, message=outcome.why, **fields)
