"""The sweep (`reconcile_all`, `python main.py reconcile`): every service in scope, each on its own.

Events can be missed (a trigger deleted for a while, retention exceeded, runway installed after the services
existed), so the sweep re-derives everything from live state:

1. Observe runway's objects (backend services, NEGs) first, then the services: whatever an event publishes
   after the first reads is not in them, so it is never mistaken for an orphan. Each project on its own: one that
   cannot be observed is a failure of its own and is left as it is (`shared.flow_sweep_observe`).
2. Ingress for every service, concurrently and bounded.
3. Decide every route; check every claim against the URL map together (conflicts among claimants are settled
   by precedence before anything is made).
4. Read again the services whose rule would be added or changed, and leave out those whose labels no longer ask
   for it (their event handles them); make each granted service's objects, concurrently and bounded. A service
   whose writes fail gets its own `api_error` and is held (keeps what it has); the others go on.
5. One URL-map commit for every claim, and removal of the rules of services not published any more. When the map
   names something not ready or gone, observe and plan once more; a second time is a temporary error.
6. Remove what no rule needs (garbage collection), service by service.

Killed at any point, the sweep loses nothing: objects made but not yet routed are found by the next one.
Regions: the configured ones plus every region runway has a NEG in (triggers are global, so an event can publish
anywhere; a sweep blind to a region would take its routes down).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import errors
from .api_compute import AdoptionRefused, StaleObservation, get_url_map
from .apply_objects import apply_in_order, undo_creations
from .apply_url_map import Committed, UrlMapWriter
from .clients import ComputeClients
from .config import Config, ConfigError
from .decision_log import DecisionLog
from .flow_ingress import enforce_ingress
from .flow_routes import map_settings, named
from .flow_scope import projects_in_scope
from .flow_status import report_route
from .flow_sweep_observe import Observed, observe, same_route, still_wanted
from .model import (
    ROUTED_ACTIONS,
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
from .naming import backend_service_name, neg_name, service_backend_path
from .plan_objects import ObjectsPlan, plan_objects
from .plan_outcome import route_outcome
from .plan_route import decide_routes, installation_of
from .plan_url_map import MapSettings, plan_url_map
from .sweep_result import SweepResult

if TYPE_CHECKING:
    from google.cloud import run_v2

CONCURRENCY = 8
# On the load balancer after this sweep (unreachable: routed, but answered 403 until the owner allows it).


@dataclass
class _Service:
    """One service's part of the sweep."""

    ref: ServiceRef
    decision: Decision
    key: ServiceKey | str
    objects: ObjectsPlan = field(default_factory=ObjectsPlan)
    claim: Claim | None = None
    checked: RuleResult | None = None
    done: list[Change] = field(default_factory=list)
    failed: bool = False
    skipped: bool = False  # its labels changed since the listing: its own event handles it, not this sweep
    copies: tuple[ServiceFacts, ...] = ()  # this installation's copies of the service, as listed
    outcome: RouteOutcome | None = None


def sweep(
    *,
    config: Config,
    log: DecisionLog,
    run: run_v2.ServicesClient,
    compute: ComputeClients,
    progress: Callable[[int, int], None] | None = None,
    concurrency: int = CONCURRENCY,
) -> SweepResult:
    """Enforce ingress on every service, then make the load balancer match every route; log each decision."""
    lb_project = config.require_project()
    regions = config.require_regions()
    settings = map_settings(config, lb_project, upkeep=True)
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, concurrency))
    try:
        projects = projects_in_scope(config)
        observed = observe(config, run, compute, projects, regions, pool)
        swept = [project for project in projects if project not in observed.failed]
        result = SweepResult(services=observed.services, projects=swept)
        for project, exc in sorted(observed.failed.items()):
            result.project_failed(log, project, exc)
        _ingress_pass(observed.services, config, log, run, result, pool, progress)
        # The sweep commits only through `commit_now`, with its own settings (`upkeep`): a writer of its own, never
        # the process's shared one (`writer_for`), which an event handler in the same process may be using.
        routes = _Routes(config, log, run, compute, pool, settings, result, UrlMapWriter(compute, settings))
        published = routes.every_route(observed, lambda: observe(config, run, compute, swept, regions, pool))
    finally:
        pool.shutdown(wait=True)
    result.applied = not config.dry_run and bool(result.changes)
    result.report(log, config, observed.services, published)
    return result


# --- ingress ----------------------------------------------------------------------------------------------------


def _ingress_pass(
    services: list[ServiceFacts],
    config: Config,
    log: DecisionLog,
    run: run_v2.ServicesClient,
    result: SweepResult,
    pool: concurrent.futures.ThreadPoolExecutor,
    progress: Callable[[int, int], None] | None,
) -> None:
    done = 0
    lock = threading.Lock()

    def one(facts: ServiceFacts) -> None:
        nonlocal done
        try:
            result.decisions.append(enforce_ingress(facts.key, client=run, config=config, log=log, facts=facts))
        except errors.RunwayApiError as exc:
            result.failed(log, facts.key, exc, f"ingress of {facts.key.service}")
        with lock:  # the count, and the caller's progress display, one thread at a time
            done += 1
            if progress is not None:
                progress(done, len(services))

    list(pool.map(one, services))


# --- routes -------------------------------------------------------------------------------------------------------


@dataclass
class _Routes:
    """Steps 3 to 6, and the report of each service's route."""

    config: Config
    log: DecisionLog
    run: run_v2.ServicesClient
    compute: ComputeClients
    pool: concurrent.futures.ThreadPoolExecutor
    settings: MapSettings
    result: SweepResult
    writer: UrlMapWriter

    def every_route(self, observed: Observed, observe_again: Callable[[], Observed]) -> set[ServiceKey]:
        """Every route; once more on a new observation when the commit finds the map naming something not ready
        or gone (a concurrent event removed it, or is still making it). The service copies published."""
        mark = len(self.result.failures)
        try:
            return self._routes(observed)
        except StaleObservation:
            del self.result.failures[mark:]  # each service is decided again, and fails again if it must
        again = observe_again()
        for project, exc in sorted(again.failed.items()):
            self.result.project_failed(self.log, project, exc)
        try:
            return self._routes(again)
        except StaleObservation as exc:
            raise errors.TemporaryError(
                f"the URL map still names something not ready or gone after observing again: {exc}",
                method="compute.urlMaps.patch",
                resource=f"projects/{self.settings.project}/global/urlMaps/{self.settings.url_map}",
            ) from exc

    def _routes(self, observed: Observed) -> set[ServiceKey]:
        config, result = self.config, self.result
        services = self._decide(observed)
        url_map = get_url_map(self.compute, self.settings.project, self.settings.url_map)
        claims = [s.claim for s in services if s.claim is not None]
        for service, checked in _check(services, plan_url_map(url_map, claims, self.settings).results):
            service.checked = checked
            _plan_objects(service, observed, config)
        self._each([s for s in services if _publishes(s)], self._confirm)
        self._each([s for s in services if _makes(s)], self._make)
        committed = self._commit(services)
        result.usage = dict(committed.usage)
        granted = [s for s in services if s.claim is not None and not s.failed]
        for service in granted:
            _after_commit(service, committed.results[service.ref], self.compute, config)
        self._each([s for s in granted if s.objects.after and not _refused(s)], self._collect)
        if committed.change is not None:
            result.changes.append(committed.change)
        for service in services:
            result.changes += service.done if not config.dry_run else list(service.objects.changes)
        reported = [s for s in services if not s.failed and not s.skipped]
        self._each(reported, lambda s: self._report_one(s, committed))
        return {
            ServiceKey(s.ref.project, region, s.ref.service)
            for s in reported
            if isinstance(s.decision, DesiredRoute) and s.outcome is not None and s.outcome.action in ROUTED_ACTIONS
            for region in s.decision.regions  # only the copies the route serves
        }

    # -- decide --------------------------------------------------------------------------------------------------

    def _decide(self, observed: Observed) -> list[_Service]:
        owner = self.config.owner_id
        mine = [f for f in observed.services if installation_of(f.labels) == owner]
        decisions: dict[ServiceRef, Decision] = dict(decide_routes(mine, self.config.hosts))
        keys = {f.key.ref: f.key for f in mine}
        copies: dict[ServiceRef, list[ServiceFacts]] = defaultdict(list)
        for facts in mine:
            copies[facts.key.ref].append(facts)
        services = []
        for ref in sorted(set(decisions) | set(observed.ours)):
            decision = decisions.get(ref) or NotPublished(ref.project, ref.service)
            key: ServiceKey | str = keys.get(ref) or f"projects/{ref.project}/locations/-/services/{ref.service}"
            service = _Service(ref, decision, key, copies=tuple(copies.get(ref, ())))
            backend = service_backend_path(owner, ref)
            if isinstance(decision, DesiredRoute):
                service.claim = Claim(ref, backend, decision)
            elif isinstance(decision, NotPublished) and ref in observed.ours:
                service.claim = Claim(ref, backend, None)
            services.append(service)
        # Before removing a route, read the service again where it had objects: an event may have labeled it since
        # (its event publishes it).
        removals = [s for s in services if s.claim is not None and s.claim.route is None]
        self._each(
            removals,
            lambda s: self._read_again(s, lambda: not still_wanted(s.ref, observed.ours[s.ref], self.run, owner)),
        )
        return [s for s in services if not s.skipped]

    def _confirm(self, service: _Service) -> None:
        """Before making objects for a new or changed rule: the labels, read again, still ask for this route."""
        self._read_again(
            service, lambda: same_route(service.ref, service.decision, service.copies, self.run, self.config)
        )

    def _read_again(self, service: _Service, still: Callable[[], bool]) -> None:
        try:
            service.skipped = not still()
        except errors.RunwayApiError as exc:
            service.failed = True
            self._fail(service, exc, f"reading {service.ref} again")
        if service.skipped or service.failed:
            service.claim, service.objects = None, ObjectsPlan()  # this sweep leaves it as it is

    # -- apply ---------------------------------------------------------------------------------------------------

    def _make(self, service: _Service) -> None:
        if self.config.dry_run:
            return
        try:
            apply_in_order(self.compute, service.objects.before, self.config.owner_id, service.done)
        except AdoptionRefused as refused:
            undo_creations(self.compute, service.done, self.config.owner_id)
            service.done.clear()
            service.objects = ObjectsPlan(squatters=(f"{refused.change.name} ({refused.holder})",))
            service.claim = None
        except (errors.RunwayApiError, StaleObservation) as exc:
            service.failed = True
            self._fail(service, exc, f"objects of {service.ref}")
        except ConfigError as exc:
            if "RUNWAY_SECURITY_POLICY" not in exc.variables:
                raise
            # The Cloud Armor policy is missing in this service's project (docs/decisions.md, "Organization mode"):
            # this service is held, the others go on.
            service.failed = True
            self._fail(service, exc, f"objects of {service.ref}", variables=list(exc.variables))

    def _commit(self, services: list[_Service]) -> Committed:
        claims = [s.claim for s in services if s.claim is not None and not s.failed]
        try:
            return self.writer.commit_now(claims, dry_run=self.config.dry_run)
        except StaleObservation:
            for service in services:  # made all the same: the next attempt finds and reuses them
                self.result.changes += service.done
            raise

    def _collect(self, service: _Service) -> None:
        if self.config.dry_run:
            return
        try:
            apply_in_order(self.compute, service.objects.after, self.config.owner_id, service.done)
        except (errors.RunwayApiError, StaleObservation) as exc:
            service.failed = True
            self._fail(service, exc, f"removing objects of {service.ref}")

    def _each(self, items: list[_Service], work: Callable[[_Service], None]) -> None:
        """Run `work` on every item, bounded by the pool. Each catches its service's API failures; what escapes (a
        configuration error, wrong for every service) stops the sweep once all have finished."""
        for future in [self.pool.submit(work, item) for item in items]:
            future.result()

    def _fail(self, service: _Service, exc: Exception, what: str, **fields: Any) -> None:
        self.result.failed(self.log, service.key, exc, what, **fields)

    # -- report --------------------------------------------------------------------------------------------------

    def _report_one(self, service: _Service, committed: Committed) -> None:
        """Log the service's outcome and bring its route status in line; a finding already on the service is
        logged again only once its record is older than `RUNWAY_REPEAT_FINDINGS`."""
        outcome = _outcome(service, committed.results.get(service.ref), committed.change)
        with contextlib.suppress(errors.RunwayApiError):  # else the holder (a project not observed) is its path
            outcome = named(outcome, self.compute, self.config.owner_id)
        service.outcome = outcome
        config = self.config
        try:
            self.result.decisions.append(
                report_route(
                    outcome,
                    service.key,
                    service.copies,
                    config,
                    self.log,
                    self.run,
                    repeat_after=config.repeat_findings,
                )
            )
        except errors.RunwayApiError as exc:
            self._fail(service, exc, f"route status of {service.ref}")


def _check(services: list[_Service], results: dict[ServiceRef, RuleResult] | Any) -> list[tuple[_Service, RuleResult]]:
    return [(s, results[s.ref]) for s in services if s.claim is not None]


def _plan_objects(service: _Service, observed: Observed, config: Config) -> None:
    ref, owner = service.ref, config.owner_id
    if service.checked is not None and service.checked.refused:
        service.claim = None  # refused before anything is made: it keeps what it has
        return
    route = service.decision if isinstance(service.decision, DesiredRoute) else None
    backend = observed.backends.get((ref.project, backend_service_name(owner, ref.project, ref.service)))
    regions = observed.regions.get(ref.project, set()) | observed.ours[ref] | (set(route.regions) if route else set())
    negs = {r: observed.negs.get((ref.project, r, neg_name(owner, ref.project, r, ref.service))) for r in regions}
    service.objects = plan_objects(ref, route, backend, negs, owner_id=owner, security_policy=config.security_policy)
    if service.objects.squatters:
        service.claim = None


def _publishes(service: _Service) -> bool:
    """Its rule would be new or changed: the route goes up (or moves) only if the labels still ask for it."""
    return (
        service.claim is not None
        and service.claim.route is not None
        and service.checked is not None
        and service.checked.state in (RuleState.ADDED, RuleState.CHANGED)
    )


def _makes(service: _Service) -> bool:
    return service.claim is not None and service.claim.route is not None and bool(service.objects.before)


def _after_commit(service: _Service, rule: RuleResult, compute: ComputeClients, config: Config) -> None:
    if rule.refused and service.checked is not None and service.checked.state == RuleState.ADDED:
        if not config.dry_run:
            undo_creations(compute, service.done, config.owner_id)  # lost a race: leave nothing behind
        service.done.clear()
    service.checked = rule


def _refused(service: _Service) -> bool:
    return service.checked is not None and service.checked.refused


def _outcome(service: _Service, rule: RuleResult | None, map_change: Change | None) -> RouteOutcome:
    changes = list(service.done if service.done else ())
    if map_change is not None and rule is not None and rule.changed:
        changes.append(map_change)
    if isinstance(service.decision, RouteInvalid):
        return route_outcome(service.ref, service.decision, rule=None)
    return route_outcome(
        service.ref,
        service.decision,
        rule=rule if rule is not None else service.checked,
        changes=changes,
        backend=service.claim.backend if service.claim else None,
        squatters=service.objects.squatters,
        removed_paths=rule.paths if rule is not None and rule.state == RuleState.REMOVED else (),
    )
