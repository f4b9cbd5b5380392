"""One service's route, end to end (`sync_routes`): read, decide, make its objects, claim its rule, log.

1. Read the service's backend service by name (the regions it serves), the service in those regions and the
   event's, and the URL map: three reads for a service already published as asked, and nothing else.
2. Decide the route from the labels (`shared.plan_route`) and check the claim against the map as read: a conflict
   or a limit refuses it before anything is made (nothing changes).
3. Make what the rule needs (`shared.plan_objects`): NEG per region, backend service, Cloud Armor policy.
4. Claim the rule through the process's URL-map writer (`shared.apply_url_map`), which commits every pending
   claim in one write. A claim that loses there (a concurrent claimant of the same path won) undoes what step 3
   created for a service that had no route before.
5. Remove what nothing needs any more (a region left, or the whole route), after the map stopped naming it.

A stale observation (an object made or changed by a concurrent invocation between the reads and a write) means
"read again and decide again", a bounded number of times with a short jitter. In one process, events for the same
service wait for each other instead (a lock per service), so a service's own events never race.
"""

from __future__ import annotations

import dataclasses
import random
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from . import clients, errors
from .api_compute import AdoptionRefused, StaleObservation, get_backend_service, get_neg, get_url_map
from .api_resources import project
from .api_run import read_service
from .apply_objects import apply_in_order, undo_creations
from .apply_url_map import MapUnwritable, writer_for
from .clients import ComputeClients
from .config import Config
from .decision_log import DecisionLog
from .flow_status import report_route
from .model import (
    Action,
    Change,
    Claim,
    Decision,
    DesiredRoute,
    NotPublished,
    RouteInvalid,
    RouteOutcome,
    RuleResult,
    RuleState,
    ServiceFacts,
    ServiceKey,
    ServiceRef,
)
from .naming import backend_service_name, neg_name, parse_marker, service_backend_path
from .plan_limits import Limits
from .plan_objects import is_ours, neg_regions, plan_objects
from .plan_outcome import route_outcome
from .plan_route import decide_route, installation_of
from .plan_url_map import MapSettings, plan_url_map

if TYPE_CHECKING:
    from google.cloud import run_v2

MAX_ATTEMPTS = 6

_LOCKS: dict[ServiceRef, threading.Lock] = defaultdict(threading.Lock)
_LOCKS_GUARD = threading.Lock()


@contextmanager
def service_lock(ref: ServiceRef) -> Iterator[None]:
    with _LOCKS_GUARD:
        lock = _LOCKS[ref]
    with lock:
        yield


def map_settings(config: Config, lb_project: str, *, upkeep: bool = False) -> MapSettings:
    return MapSettings(
        project=lb_project,
        url_map=config.require_url_map(),
        hosts=config.hosts,
        limits=Limits(bytes=config.url_map_max_bytes),
        upkeep=upkeep,
    )


@dataclasses.dataclass(frozen=True)
class Routed:
    """What an event did to a service's route: the outcome to log, and the service copies it read."""

    outcome: RouteOutcome
    key: ServiceKey
    ignored: str | None = None  # a reason the service is none of this installation's business
    copies: tuple[ServiceFacts, ...] = ()  # this installation's copies of the service, one per region read


def sync_service(
    key: ServiceKey,
    *,
    config: Config,
    log: DecisionLog,
    run: run_v2.ServicesClient,
    compute: ComputeClients,
    recheck_access: bool = False,
) -> dict[str, Any]:
    """Make the load balancer match one service's labels; log the decision, write the route status on the
    service, and return the decision. `recheck_access`: the event changed who may invoke the service."""
    if key.project.isdigit():
        # The event named the project by number; names and markers use the project id. A deleted service cannot
        # say it, so Resource Manager does.
        key = dataclasses.replace(key, project=_project_id(key, config, run))
    with service_lock(key.ref):
        routed = _with_retries(lambda: _sync_once(key, config, run, compute), key)
        if routed.ignored:
            return log.decide(Action.EVENT_IGNORED, service=key, reason=routed.ignored, message=routed.ignored)
        return report_route(routed.outcome, key, routed.copies, config, log, run, recheck_access=recheck_access)


def _project_id(key: ServiceKey, config: Config, run: run_v2.ServicesClient) -> str:
    live = read_service(run, key)
    if live is not None:
        return live.key.project
    return project(clients.resource_manager(config.api_endpoint, config.api_principal), key.project)[0]


def _with_retries(attempt: Any, key: ServiceKey) -> Routed:
    for n in range(MAX_ATTEMPTS):
        try:
            result: Routed = attempt()
            return result
        except StaleObservation:
            time.sleep(random.uniform(0, 0.05 * 2**n))  # a concurrent invocation for the same service: let it land
    # Not any one call's failure: the objects this service needs kept changing between reading and writing them.
    raise errors.Conflict(
        f"{key.ref}: the load balancer kept changing under {MAX_ATTEMPTS} attempts", resource=key.name
    )


def _sync_once(key: ServiceKey, config: Config, run: run_v2.ServicesClient, compute: ComputeClients) -> Routed:
    ref, owner = key.ref, config.owner_id
    backend_path = service_backend_path(owner, ref)
    backend = get_backend_service(compute, ref.project, backend_service_name(owner, ref.project, ref.service))
    regions = {key.region} | (neg_regions(backend) if is_ours(backend, owner) else set())
    facts = [f for region in sorted(regions) if (f := read_service(run, ServiceKey(ref.project, region, ref.service)))]
    mine = [f for f in facts if installation_of(f.labels) == owner]
    if facts and not mine and not is_ours(backend, owner):
        other = installation_of(facts[0].labels)
        return Routed(RouteOutcome(ref, Action.EVENT_IGNORED, ""), key, f"{ref} selects installation {other!r}")
    decision: Decision = decide_route(ref, mine, config.hosts) if mine else NotPublished(ref.project, ref.service)
    settings = map_settings(config, config.lb_project(key))
    try:
        url_map = get_url_map(compute, settings.project, settings.url_map)
    except errors.PermanentError as exc:  # about the map, not this route: as the writer would answer
        raise MapUnwritable.of(exc) from exc
    if isinstance(decision, RouteInvalid):
        return Routed(route_outcome(ref, decision, rule=None), key, copies=tuple(mine))
    claim = Claim(ref, backend_path, decision if isinstance(decision, DesiredRoute) else None)
    checked = plan_url_map(url_map, [claim], settings).results[ref]
    if isinstance(decision, DesiredRoute):
        outcome = _publish(decision, claim, checked, backend, config, compute, settings)
    else:
        negs = {} if backend is not None else _leftover_neg(compute, key, owner)
        outcome = _unpublish(decision, claim, checked, backend, negs, config, compute, settings)
    return Routed(named(outcome, compute, owner), key, copies=tuple(mine))


def _publish(
    route: DesiredRoute,
    claim: Claim,
    checked: RuleResult,
    backend: dict[str, Any] | None,
    config: Config,
    compute: ComputeClients,
    settings: MapSettings,
) -> RouteOutcome:
    ref, owner = claim.ref, config.owner_id
    if checked.refused:
        return route_outcome(ref, route, rule=checked, backend=claim.backend)
    objects = plan_objects(ref, route, backend, {}, owner_id=owner, security_policy=config.security_policy)
    if objects.squatters:
        return route_outcome(ref, route, rule=checked, squatters=objects.squatters)
    if config.dry_run:
        return route_outcome(ref, route, rule=checked, changes=objects.changes, backend=claim.backend)
    done: list[Change] = []
    try:
        apply_in_order(compute, objects.before, owner, done)
    except AdoptionRefused as refused:
        undo_creations(compute, done, owner)
        return route_outcome(ref, route, rule=checked, squatters=(f"{refused.change.name} ({refused.holder})",))
    if checked.state == RuleState.KEPT and not done:
        # Already exactly in the map as read a moment ago, and nothing of it changed: no commit to wait for.
        apply_in_order(compute, objects.after, owner, done)
        return route_outcome(ref, route, rule=checked, changes=done, backend=claim.backend)
    committed = writer_for(compute, settings).submit([claim])
    rule = committed.results[ref]
    if rule.refused:
        if checked.state == RuleState.ADDED:  # it had no route: leave nothing behind
            undo_creations(compute, done, owner)
        return route_outcome(ref, route, rule=rule, backend=claim.backend)
    apply_in_order(compute, objects.after, owner, done)
    changes = done + ([committed.change] if committed.change and rule.changed else [])
    return route_outcome(ref, route, rule=rule, changes=changes, backend=claim.backend)


def _unpublish(
    decision: NotPublished,
    claim: Claim,
    checked: RuleResult,
    backend: dict[str, Any] | None,
    negs: dict[str, dict[str, Any] | None],
    config: Config,
    compute: ComputeClients,
    settings: MapSettings,
) -> RouteOutcome:
    ref, owner = claim.ref, config.owner_id
    objects = plan_objects(ref, None, backend, negs, owner_id=owner, security_policy=config.security_policy)
    if config.dry_run or (checked.state == RuleState.ABSENT and objects.converged):
        return route_outcome(
            ref, decision, rule=checked, changes=objects.changes, backend=claim.backend, removed_paths=checked.paths
        )
    committed = writer_for(compute, settings).submit([claim])
    done: list[Change] = []
    apply_in_order(compute, objects.after, owner, done)
    rule = committed.results[ref]
    changes = ([committed.change] if committed.change and rule.changed else []) + done
    return route_outcome(ref, decision, rule=rule, changes=changes, backend=claim.backend, removed_paths=checked.paths)


def _leftover_neg(compute: ComputeClients, key: ServiceKey, owner: str) -> dict[str, dict[str, Any] | None]:
    """Without a backend service, a NEG of the event's region may still be left (a removal whose NEG delete
    failed and is being retried): read it, so the retry finishes the removal."""
    name = neg_name(owner, key.project, key.region, key.service)
    return {key.region: get_neg(compute, key.project, key.region, name)}


def named(outcome: RouteOutcome, compute: ComputeClients, owner: str) -> RouteOutcome:
    """The outcome with its holder (a backend service's path, as the planner sees it) named for people."""
    if not outcome.holder:
        return outcome
    holder = name_holders(compute, outcome.holder, owner)
    return dataclasses.replace(outcome, holder=holder, why=outcome.why.replace(outcome.holder, holder))


def name_holders(compute: ComputeClients, holders: str, owner: str) -> str:
    """`project/service` for a holder that is a backend service with runway's marker (with its owner when it is
    another installation), the backend's name for anybody else's, the text as is for anything else."""
    names = []
    for holder in holders.split(", "):
        parts = holder.split("/")
        if len(parts) == 5 and parts[0] == "projects" and parts[3] == "backendServices":
            found = get_backend_service(compute, parts[1], parts[4])
            marker = parse_marker(found.get("description")) if found else None
            if marker is None:
                names.append(parts[4])
            else:
                names.append(str(marker.ref) + ("" if marker.owner == owner else f" (owner {marker.owner})"))
        else:
            names.append(holder)
    return ", ".join(names)
