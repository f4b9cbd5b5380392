"""The route planner: (desired routes, observed load-balancer objects) -> ordered changes and per-service outcomes.

Pure: no API calls. The applier runs `Plan.changes` in order; the caller logs one `Plan.outcomes` entry per
service (`action` values are the decision-log actions of docs/design.md §6).

What runway may touch (docs/design.md §4): path matchers named `runway-<alias>`, their host rules, the path rules in
them whose `service` is a backend service carrying our marker (same owner id), and NEGs and backend services
carrying our marker. Everything else in the URL map is copied through as the very same objects, so it survives
byte-identical. Two scopes share one algorithm:

- `plan_service` (an event): only that service's resources and rules may change; every other rule holds.
- `plan_sweep` (the scheduled sweep): every service at once, plus garbage collection of our objects and rules
  whose service is not published any more.

Conflicts (docs/design.md §3): a path already served on a host stays with its holder. Services that can't get all
they ask for are "held": nothing of theirs changes (they keep what they had). Holding one service can keep
paths it meant to release, so holders are recomputed until nothing new is held (a small fixpoint).

Decisions (not fixed by the design):
- One path rule per service, paths sorted, `service` a full URL; rules in a rewritten matcher sorted by first
  path. Converged state is detected by meaning (relative names, path order ignored), so spelling never causes
  a write.
- A host of the alias held by a foreign host rule (or another alias's matcher) makes every service on that
  alias a `route_conflict` naming that matcher: no partial publishing on some of the alias's hosts.
- `RouteInvalid` keeps whatever the service already has (a typo never unpublishes); so does a conflict.
- Among claimants with no holder: oldest `created` first (unknown last), then `project/service` order. A
  current holder that still wants its path keeps it, even against an older claimant.
- A runway matcher left with no rules is removed with its host rule (the URL map's default serves those hosts
  the same way). The sweep also keeps the matchers of configured aliases in line: hosts from config,
  `defaultService` (or redirect/route action) copied from the URL map.
- The security policy is attached with a separate `security_policy` change when `RUNWAY_SECURITY_POLICY` is
  set and differs (by relative name); when unset, a policy found on a backend is left alone (never remove
  protection someone attached).
- Update bodies are JSON merge patches (send with `patch`) carrying the fingerprint just read; the URL-map one
  carries the complete `hostRules` and `pathMatchers` lists (arrays are replaced wholesale). Delete bodies are
  None. NEGs are immutable and matched by name (the name encodes the whole identity).
- Limits: at most `max_paths_per_matcher` paths per matcher (1000: each path counted, below either reading of
  docs/google-apis.md §4) and an estimated URL map of at most `max_url_map_bytes`; only a new or changed rule can be
  refused, as `route_invalid`, never an existing one.
"""

from __future__ import annotations

import copy
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shared.decision_log import Action
from shared.naming import (
    Marker,
    ServiceRef,
    backend_service_name,
    backend_service_path,
    backend_service_url,
    is_runway_path_matcher,
    last_segment,
    marker_json,
    neg_name,
    neg_url,
    parse_marker,
    path_matcher_name,
    relative_name,
    security_policy_path,
    security_policy_url,
)
from shared.route_contract import Decision, DesiredRoute, NotPublished, RouteInvalid

CREATE, UPDATE, DELETE = "create", "update", "delete"
KIND_NEG = "neg"
KIND_BACKEND_SERVICE = "backend_service"
KIND_SECURITY_POLICY = "security_policy"
KIND_URL_MAP = "url_map"

# The outcomes are decision-log actions (docs/design.md §6); one spelling, in shared.decision_log.
ROUTE_REGISTERED = Action.ROUTE_REGISTERED.value
ROUTE_UPDATED = Action.ROUTE_UPDATED.value
ROUTE_REMOVED = Action.ROUTE_REMOVED.value
ROUTE_UNCHANGED = Action.ROUTE_UNCHANGED.value
ROUTE_CONFLICT = Action.ROUTE_CONFLICT.value
ROUTE_INVALID = Action.ROUTE_INVALID.value

# docs/google-apis.md §4: "path rules per path matcher: 1,000" and "predicates per path matcher: 1,000" are unverified;
# counting every path (not rule) against 1000 stays under both readings.
MAX_PATHS_PER_MATCHER = 1000
# docs/google-apis.md §4: 1 MB per URL map. The estimate is our JSON; keep a margin for what the server adds.
MAX_URL_MAP_BYTES = 900_000

_DEFAULT_KEYS = ("defaultService", "defaultUrlRedirect", "defaultRouteAction")
_FAR_FUTURE = datetime.max.replace(tzinfo=UTC)

Json = dict[str, Any]


@dataclass(frozen=True)
class PlanSettings:
    """The configuration the planner needs, as plain values (the caller maps its `Config` onto this)."""

    owner_id: str
    project: str  # the load balancer's project: backend services and the URL map live there
    url_map: str
    hosts: Mapping[str, Sequence[str]]
    security_policy: str | None = None  # a name in `project`, or a path/URL
    max_paths_per_matcher: int = MAX_PATHS_PER_MATCHER
    max_url_map_bytes: int = MAX_URL_MAP_BYTES


@dataclass(frozen=True)
class Observed:
    """Live objects as Compute REST JSON (camelCase). Lists may hold foreign objects too; markers decide."""

    url_map: Mapping[str, Any]
    backend_services: Sequence[Mapping[str, Any]] = ()
    negs: Sequence[Mapping[str, Any]] = ()  # each with `region` (name or URL)


@dataclass(frozen=True)
class Change:
    """One API write. `body` is REST JSON; update bodies are merge patches carrying the fingerprint just read."""

    op: str  # create | update | delete
    kind: str  # neg | backend_service | security_policy | url_map
    name: str
    project: str
    why: str
    services: tuple[ServiceRef, ...]
    body: Json | None = None  # None for deletes
    region: str | None = None  # NEGs only


@dataclass(frozen=True)
class Outcome:
    """One decision-log entry's worth of facts for one service."""

    service: ServiceRef
    action: str  # ROUTE_*
    why: str
    host_alias: str | None = None
    hosts: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    backend: str | None = None
    holder: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...] = ()
    outcomes: tuple[Outcome, ...] = ()

    @property
    def converged(self) -> bool:
        return not self.changes

    def outcome(self, ref: ServiceRef) -> Outcome | None:
        return next((outcome for outcome in self.outcomes if outcome.service == ref), None)


def plan_service(ref: ServiceRef, decision: Decision | None, observed: Observed, settings: PlanSettings) -> Plan:
    """An event's plan: make the load balancer match one service (None: the service is gone everywhere)."""
    return _Planner(observed, settings, {ref: decision or NotPublished(ref.project, ref.service)}, sweep=False).run()


def plan_sweep(decisions: Mapping[ServiceRef, Decision], observed: Observed, settings: PlanSettings) -> Plan:
    """The sweep's plan: every listed service, and removal of our objects for every service not listed."""
    return _Planner(observed, settings, dict(decisions), sweep=True).run()


# ---------------------------------------------------------------------------------------------------------------
# canonical forms: compare by meaning, not by spelling


def _paths(rule: Mapping[str, Any]) -> list[str]:
    paths = rule.get("paths")
    return [path for path in paths if isinstance(path, str)] if isinstance(paths, list) else []


def _rule_key(rule: Mapping[str, Any], project: str) -> str:
    canon = dict(rule)
    canon["paths"] = sorted(_paths(rule))
    if isinstance(rule.get("service"), str):
        canon["service"] = relative_name(rule["service"], project)
    return json.dumps(canon, sort_keys=True)


def _rule_order(rule: Mapping[str, Any], project: str) -> tuple[str, str]:
    paths = sorted(_paths(rule))
    return (paths[0] if paths else "", _rule_key(rule, project))


def _matcher_key(matcher: Mapping[str, Any], project: str) -> str:
    canon = {key: value for key, value in matcher.items() if key != "pathRules"}
    if isinstance(canon.get("defaultService"), str):
        canon["defaultService"] = relative_name(canon["defaultService"], project)
    canon["pathRules"] = sorted(_rule_key(rule, project) for rule in matcher.get("pathRules") or [])
    return json.dumps(canon, sort_keys=True)


def _default_key(matcher: Mapping[str, Any], project: str) -> str:
    canon = {key: matcher[key] for key in _DEFAULT_KEYS if key in matcher}
    if isinstance(canon.get("defaultService"), str):
        canon["defaultService"] = relative_name(canon["defaultService"], project)
    return json.dumps(canon, sort_keys=True)


def _when(created: datetime | None) -> datetime:
    """Oldest first, unknown last; a naive time is taken as UTC so it compares with aware ones."""
    if created is None:
        return _FAR_FUTURE
    return created if created.tzinfo else created.replace(tzinfo=UTC)


def _host_set(hosts: Iterable[Any]) -> set[str]:
    return {host.lower() for host in hosts if isinstance(host, str)}


def _size(obj: Any) -> int:
    return len(json.dumps(obj, separators=(",", ":")))


@dataclass
class _Held:
    """Why a service is held (nothing of it changes)."""

    action: str
    why: str
    paths: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    holder: str | None = None
    reason: str | None = None


@dataclass(frozen=True, eq=False)  # identity: observed rules are told apart by which object they are
class _Rule:
    matcher: str
    rule: Mapping[str, Any]
    owner: ServiceRef | None  # ours (by marker) or None
    holder: str  # how a conflict names it


@dataclass
class _Phases:
    create_negs: list[Change] = field(default_factory=list)
    create_backends: list[Change] = field(default_factory=list)
    update_backends: list[Change] = field(default_factory=list)
    policies: list[Change] = field(default_factory=list)
    url_map: list[Change] = field(default_factory=list)
    delete_backends: list[Change] = field(default_factory=list)
    delete_negs: list[Change] = field(default_factory=list)

    def ordered(self) -> tuple[Change, ...]:
        # Create bottom-up, detach before delete: a URL map never names a missing backend, a backend never a
        # missing NEG, and nothing is deleted while still referenced (docs/design.md §4).
        def key(change: Change) -> tuple[str, str, str]:
            return (",".join(map(str, change.services)), change.region or "", change.name)

        groups = (
            self.create_negs,
            self.create_backends,
            self.update_backends,
            self.policies,
            self.url_map,
            self.delete_backends,
            self.delete_negs,
        )
        return tuple(change for group in groups for change in sorted(group, key=key))


class _Planner:
    def __init__(
        self, observed: Observed, settings: PlanSettings, decisions: dict[ServiceRef, Decision | None], sweep: bool
    ) -> None:
        self.settings = settings
        self.owner = settings.owner_id
        self.lb_project = settings.project
        self.sweep = sweep
        self.url_map = observed.url_map
        self.host_rules: list[Mapping[str, Any]] = list(self.url_map.get("hostRules") or [])
        self.matchers: list[Mapping[str, Any]] = list(self.url_map.get("pathMatchers") or [])
        self.decisions = decisions
        self.url_notes: dict[ServiceRef, list[str]] = {}
        self._index_objects(observed)
        self._index_rules()
        self.alias_of = {path_matcher_name(alias): alias for alias in sorted(settings.hosts)}
        self._assign_hosts()

    # -- observe ------------------------------------------------------------------------------------------------

    def _index_objects(self, observed: Observed) -> None:
        self.markers: dict[str, Marker] = {}  # every backend service with a marker, any owner
        self.backends: dict[str, Mapping[str, Any]] = {}  # ours, by name
        self.backends_of: dict[ServiceRef, list[str]] = defaultdict(list)
        self.foreign_backends: set[str] = set()
        for backend in observed.backend_services:
            name = str(backend.get("name", ""))
            marker = parse_marker(backend.get("description"))
            if marker:
                self.markers[name] = marker
            if marker and marker.owner == self.owner:
                self.backends[name] = backend
                self.backends_of[marker.ref].append(name)
            else:
                self.foreign_backends.add(name)

        self.negs: dict[tuple[str, str], Mapping[str, Any]] = {}  # ours, by (region, name)
        self.negs_of: dict[ServiceRef, list[tuple[str, str]]] = defaultdict(list)
        self.foreign_negs: set[tuple[str, str]] = set()
        for neg in observed.negs:
            key = (last_segment(str(neg.get("region", ""))), str(neg.get("name", "")))
            marker = parse_marker(neg.get("description"))
            if marker and marker.owner == self.owner:
                self.negs[key] = neg
                self.negs_of[marker.ref].append(key)
            else:
                self.foreign_negs.add(key)

    def _rule_owner(self, rule: Mapping[str, Any], matcher: str) -> tuple[ServiceRef | None, str]:
        service = rule.get("service")
        if not isinstance(service, str):
            return None, matcher
        path = relative_name(service, self.lb_project)
        name = last_segment(path)
        marker = self.markers.get(name)
        if marker is None or path != backend_service_path(self.lb_project, name):
            return None, name
        if marker.owner == self.owner:
            return marker.ref, str(marker.ref)
        return None, f"{marker.ref} (owner {marker.owner})"

    def _index_rules(self) -> None:
        self.rules: list[_Rule] = []
        self.rules_of: dict[ServiceRef, list[_Rule]] = defaultdict(list)
        for matcher in self.matchers:
            name = str(matcher.get("name", ""))
            if not is_runway_path_matcher(name):
                continue
            for rule in matcher.get("pathRules") or []:
                owner, holder = self._rule_owner(rule, name)
                entry = _Rule(name, rule, owner, holder)
                self.rules.append(entry)
                if owner:
                    self.rules_of[owner].append(entry)

    def _assign_hosts(self) -> None:
        """Which configured hosts each alias may have, and who holds the others."""
        holder_of: dict[str, str] = {}
        for host_rule in self.host_rules:
            for host in _host_set(host_rule.get("hosts") or []):
                holder_of.setdefault(host, str(host_rule.get("pathMatcher", "")))
        self.usable_hosts: dict[str, tuple[str, ...]] = {}
        self.host_conflicts: dict[str, list[tuple[str, str]]] = {}
        for alias in sorted(self.settings.hosts):
            matcher = path_matcher_name(alias)
            usable, conflicts = [], []
            for host in dict.fromkeys(self.settings.hosts[alias]):
                holder = holder_of.setdefault(host.lower(), matcher)
                if holder == matcher:
                    usable.append(host)
                else:
                    conflicts.append((host, holder))
            self.usable_hosts[alias] = tuple(usable)
            self.host_conflicts[alias] = conflicts

    # -- decide -------------------------------------------------------------------------------------------------

    def _in_scope(self) -> list[ServiceRef]:
        refs = set(self.decisions)
        if self.sweep:
            refs |= set(self.backends_of) | set(self.negs_of) | set(self.rules_of)
        return sorted(refs)

    def _desired(self, ref: ServiceRef) -> DesiredRoute | None:
        decision = self.decisions.get(ref)
        return decision if isinstance(decision, DesiredRoute) else None

    def _initially_held(self, refs: list[ServiceRef]) -> dict[ServiceRef, _Held]:
        held: dict[ServiceRef, _Held] = {}
        for ref in refs:
            decision = self.decisions.get(ref)
            if isinstance(decision, RouteInvalid):
                held[ref] = _Held(
                    ROUTE_INVALID, f"{ref}: {decision.reason}; routes left as they are", reason=decision.reason
                )
            elif isinstance(decision, DesiredRoute):
                problem = self._static_problem(decision)
                if problem:
                    held[ref] = problem
        return held

    def _static_problem(self, route: DesiredRoute) -> _Held | None:
        """What stops a route whatever the other services do: its alias, its hosts, its names."""
        ref = route.ref
        if route.host_alias not in self.settings.hosts:
            reason = f"host alias {route.host_alias!r} is not in RUNWAY_HOSTS"
            return _Held(ROUTE_INVALID, f"{ref}: {reason}", reason=reason)
        conflicts = self.host_conflicts[route.host_alias]
        if conflicts:
            hosts = tuple(host for host, _ in conflicts)
            holder = ", ".join(sorted({holder for _, holder in conflicts}))
            why = f"{ref}: host {', '.join(hosts)} of alias {route.host_alias!r} is held by path matcher {holder}"
            return _Held(ROUTE_CONFLICT, why, paths=route.paths, hosts=hosts, holder=holder)
        backend = backend_service_name(self.owner, ref.project, ref.service)
        taken = [backend] if backend in self.foreign_backends else []
        for region in sorted(route.regions):
            neg = neg_name(self.owner, ref.project, region, ref.service)
            if (region, neg) in self.foreign_negs:
                taken.append(f"{region}/{neg}")
        if taken:
            holder = ", ".join(taken)
            return _Held(
                ROUTE_CONFLICT,
                f"{ref}: names {holder} are taken by objects runway does not own",
                paths=route.paths,
                hosts=route.hosts,
                holder=holder,
            )
        return None

    def _canonical_rule(self, route: DesiredRoute) -> Json:
        name = backend_service_name(self.owner, route.project, route.service)
        return {"paths": list(route.paths), "service": backend_service_url(self.lb_project, name)}

    def _rule_unchanged(self, route: DesiredRoute) -> bool:
        mine = self.rules_of.get(route.ref, [])
        want = path_matcher_name(route.host_alias)
        return (
            len(mine) == 1
            and mine[0].matcher == want
            and _rule_key(mine[0].rule, self.lb_project) == _rule_key(self._canonical_rule(route), self.lb_project)
        )

    def _resolve(self, refs: list[ServiceRef]) -> dict[ServiceRef, _Held]:
        """Hold every service that can't have all it asks for; repeat while holding one changes the picture."""
        held = self._initially_held(refs)
        movable = set(refs)
        claimants = [route for ref in refs if (route := self._desired(ref))]
        claimants.sort(key=lambda route: (_when(route.created), route.ref))
        while True:
            frozen = {rule for rule in self.rules if rule.owner not in movable or rule.owner in held}
            holders: dict[tuple[str, str], ServiceRef | str] = {}
            counts: dict[str, int] = defaultdict(int)
            size = _size(self.url_map)
            for rule in self.rules:
                if rule in frozen:
                    for path in _paths(rule.rule):
                        holders.setdefault((rule.matcher, path), rule.owner or rule.holder)
                    counts[rule.matcher] += len(_paths(rule.rule))
                else:
                    size -= _size(rule.rule) + 1
            # A current holder that still wants its path keeps it, whatever its age.
            for rule in self.rules:
                route = self._desired(rule.owner) if rule.owner and rule not in frozen else None
                if route and rule.matcher == path_matcher_name(route.host_alias):
                    for path in set(_paths(rule.rule)) & set(route.paths):
                        holders.setdefault((rule.matcher, path), route.ref)

            newly: dict[ServiceRef, _Held] = {}
            for route in claimants:
                if route.ref in held:
                    continue
                matcher = path_matcher_name(route.host_alias)
                taken = [
                    (path, holders[(matcher, path)])
                    for path in route.paths
                    if holders.get((matcher, path), route.ref) != route.ref
                ]
                if taken:
                    holder = ", ".join(sorted({str(who) for _, who in taken}))
                    paths = tuple(path for path, _ in taken)
                    why = f"{route.ref}: {', '.join(paths)} on {route.host_alias!r} already served by {holder}"
                    newly[route.ref] = _Held(ROUTE_CONFLICT, why, paths=paths, hosts=route.hosts, holder=holder)
                    continue
                rule_size = _size(self._canonical_rule(route)) + 1
                if not self._rule_unchanged(route):
                    limit = self.settings.max_paths_per_matcher
                    if counts[matcher] + len(route.paths) > limit:
                        reason = f"path matcher {matcher} would exceed {limit} paths"
                        newly[route.ref] = _Held(
                            ROUTE_INVALID, f"{route.ref}: {reason}", route.paths, route.hosts, reason=reason
                        )
                        continue
                    if size + rule_size > self.settings.max_url_map_bytes:
                        reason = f"URL map {self.settings.url_map} would exceed {self.settings.max_url_map_bytes} bytes"
                        newly[route.ref] = _Held(
                            ROUTE_INVALID, f"{route.ref}: {reason}", route.paths, route.hosts, reason=reason
                        )
                        continue
                counts[matcher] += len(route.paths)
                size += rule_size
                for path in route.paths:
                    holders[(matcher, path)] = route.ref
            if not newly:
                return held
            held.update(newly)

    # -- plan ---------------------------------------------------------------------------------------------------

    def run(self) -> Plan:
        refs = self._in_scope()
        held = self._resolve(refs)
        movable = [ref for ref in refs if ref not in held]
        winners = [route for ref in movable if (route := self._desired(ref))]
        leaving = [ref for ref in movable if not self._desired(ref)]

        phases = _Phases()
        for route in winners:
            self._plan_resources(route, phases)
        for ref in leaving:
            self._plan_removal(ref, phases)
        rule_changed = self._plan_url_map(set(movable), winners, phases)

        changes = phases.ordered()
        outcomes = [self._outcome(ref, held, changes, rule_changed) for ref in refs]
        return Plan(changes=copy.deepcopy(changes), outcomes=tuple(outcomes))

    def _plan_resources(self, route: DesiredRoute, phases: _Phases) -> None:
        ref, services = route.ref, (route.ref,)
        marker = marker_json(self.owner, ref.project, ref.service)
        wanted_negs: list[tuple[str, str]] = []
        for region in sorted(route.regions):
            name = neg_name(self.owner, ref.project, region, ref.service)
            wanted_negs.append((region, name))
            if (region, name) not in self.negs:
                body = {
                    "name": name,
                    "description": marker,
                    "networkEndpointType": "SERVERLESS",
                    "cloudRun": {"service": ref.service},
                }
                phases.create_negs.append(
                    Change(
                        CREATE,
                        KIND_NEG,
                        name,
                        ref.project,
                        f"{ref}: serverless NEG for {region}",
                        services,
                        body,
                        region,
                    )
                )

        name = backend_service_name(self.owner, ref.project, ref.service)
        groups = [{"group": neg_url(ref.project, region, neg)} for region, neg in wanted_negs]
        existing = self.backends.get(name)
        if existing is None:
            body = {
                "name": name,
                "description": marker,
                "loadBalancingScheme": "EXTERNAL_MANAGED",
                "protocol": "HTTPS",
                "backends": groups,
            }
            phases.create_backends.append(
                Change(
                    CREATE,
                    KIND_BACKEND_SERVICE,
                    name,
                    self.lb_project,
                    f"{ref}: backend service over {_regions(route)}",
                    services,
                    body,
                )
            )
        else:
            patch: Json = {}
            have = {relative_name(str(b.get("group", "")), ref.project) for b in existing.get("backends") or []}
            if have != {relative_name(g["group"]) for g in groups}:
                patch["backends"] = groups
            if existing.get("protocol", "HTTPS") != "HTTPS":
                patch["protocol"] = "HTTPS"
            if patch:
                body = {"name": name, **patch, "fingerprint": existing.get("fingerprint")}
                why = f"{ref}: backend service to serve {_regions(route)}"
                phases.update_backends.append(
                    Change(UPDATE, KIND_BACKEND_SERVICE, name, self.lb_project, why, services, body)
                )

        policy = self.settings.security_policy
        if policy:
            want = security_policy_path(self.lb_project, policy)
            current = existing.get("securityPolicy") if existing else None
            have_policy = relative_name(current, self.lb_project) if isinstance(current, str) and current else None
            if have_policy != want:
                why = f"{ref}: attach Cloud Armor policy {last_segment(want)}"
                if have_policy:
                    why += f" in place of {last_segment(have_policy)}"
                phases.policies.append(
                    Change(
                        UPDATE,
                        KIND_SECURITY_POLICY,
                        name,
                        self.lb_project,
                        why,
                        services,
                        {"securityPolicy": security_policy_url(self.lb_project, policy)},
                    )
                )

        # Leftovers of this service: a region it left, or a backend under a name this version doesn't make.
        for other in sorted(self.backends_of.get(ref, [])):
            if other != name:
                phases.delete_backends.append(
                    Change(
                        DELETE,
                        KIND_BACKEND_SERVICE,
                        other,
                        self.lb_project,
                        f"{ref}: backend service no longer used",
                        services,
                    )
                )
        for region, neg in sorted(self.negs_of.get(ref, [])):
            if (region, neg) not in wanted_negs:
                phases.delete_negs.append(
                    Change(
                        DELETE,
                        KIND_NEG,
                        neg,
                        ref.project,
                        f"{ref}: no longer published in {region}",
                        services,
                        region=region,
                    )
                )

    def _plan_removal(self, ref: ServiceRef, phases: _Phases) -> None:
        services = (ref,)
        for name in sorted(self.backends_of.get(ref, [])):
            phases.delete_backends.append(
                Change(DELETE, KIND_BACKEND_SERVICE, name, self.lb_project, f"{ref}: not published any more", services)
            )
        for region, name in sorted(self.negs_of.get(ref, [])):
            phases.delete_negs.append(
                Change(DELETE, KIND_NEG, name, ref.project, f"{ref}: not published any more", services, region=region)
            )

    def _plan_url_map(self, movable: set[ServiceRef], winners: list[DesiredRoute], phases: _Phases) -> set[ServiceRef]:
        """One URL-map update carrying the complete new lists (patch replaces arrays wholesale)."""
        project = self.lb_project
        new_rules: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        touched: set[str] = set()
        for rule in self.rules:
            if rule.owner in movable:
                touched.add(rule.matcher)
            else:
                new_rules[rule.matcher].append(rule.rule)
        for route in winners:
            matcher = path_matcher_name(route.host_alias)
            touched.add(matcher)
            new_rules[matcher].append(self._canonical_rule(route))
        if self.sweep:
            touched |= {str(m.get("name")) for m in self.matchers if m.get("name") in self.alias_of}

        rule_changed = set()
        before = {
            ref: sorted((r.matcher, _rule_key(r.rule, project)) for r in rules)
            for ref, rules in self.rules_of.items()
            if ref in movable
        }
        after = {
            route.ref: [(path_matcher_name(route.host_alias), _rule_key(self._canonical_rule(route), project))]
            for route in winners
        }
        for ref in movable:
            if before.get(ref, []) != after.get(ref, []):
                rule_changed.add(ref)

        defaults = {key: self.url_map[key] for key in _DEFAULT_KEYS if key in self.url_map}
        notes: list[str] = []
        matchers: list[Mapping[str, Any]] = []
        dropped: set[str] = set()
        for matcher in self.matchers:
            name = str(matcher.get("name", ""))
            if name not in touched:
                matchers.append(matcher)
                continue
            rules = sorted(new_rules[name], key=lambda rule: _rule_order(rule, project))
            if not rules and not matcher.get("routeRules"):
                dropped.add(name)
                notes.append(f"drop empty path matcher {name}")
                continue
            rest = {key: value for key, value in matcher.items() if key not in (*_DEFAULT_KEYS, "pathRules", "name")}
            candidate = {"name": name, **defaults, **rest, "pathRules": rules}
            if _matcher_key(candidate, project) == _matcher_key(matcher, project):
                matchers.append(matcher)
            else:
                matchers.append(candidate)
                if _default_key(matcher, project) != _default_key(candidate, project):
                    notes.append(f"path matcher {name} default follows the URL map's")
        present = {str(m.get("name", "")) for m in self.matchers}
        for name in sorted(touched - present):
            if new_rules[name]:
                rules = sorted(new_rules[name], key=lambda rule: _rule_order(rule, project))
                matchers.append({"name": name, **defaults, "pathRules": rules})

        host_rules: list[Mapping[str, Any]] = []
        placed: set[str] = set()
        for host_rule in self.host_rules:
            name = str(host_rule.get("pathMatcher", ""))
            if name in dropped:
                continue
            alias = self.alias_of.get(name)
            if name not in touched or alias is None or not self.usable_hosts[alias]:
                host_rules.append(host_rule)
                continue
            if name in placed:  # a second host rule for our matcher: folded into the first
                continue
            placed.add(name)
            hosts = self.usable_hosts[alias]
            single = sum(1 for hr in self.host_rules if hr.get("pathMatcher") == name) == 1
            if single and _host_set(host_rule.get("hosts") or []) == _host_set(hosts):
                host_rules.append(host_rule)
            else:
                host_rules.append({**host_rule, "hosts": list(hosts), "pathMatcher": name})
                notes.append(f"hosts of {name}: {', '.join(hosts)}")
        for matcher in matchers:
            name = str(matcher.get("name", ""))
            alias = self.alias_of.get(name)
            if name in touched and name not in placed and alias and self.usable_hosts[alias]:
                host_rules.append({"hosts": list(self.usable_hosts[alias]), "pathMatcher": name})
                placed.add(name)

        if host_rules == self.host_rules and matchers == self.matchers:
            return rule_changed
        for ref in sorted(rule_changed):
            self.url_notes[ref] = [self._rule_note(ref, after.get(ref))]
        whys = [note for ref in sorted(rule_changed) for note in self.url_notes[ref]] + notes
        # In an event every write is for the one service; in a sweep upkeep of the matchers is for nobody.
        services = tuple(sorted(rule_changed)) if self.sweep else tuple(sorted(movable))
        if not self.sweep:
            for ref in services:
                self.url_notes.setdefault(ref, []).extend(notes)
        body = {"hostRules": host_rules, "pathMatchers": matchers, "fingerprint": self.url_map.get("fingerprint")}
        phases.url_map.append(
            Change(UPDATE, KIND_URL_MAP, self.settings.url_map, project, "; ".join(whys), services, body)
        )
        return rule_changed

    def _rule_note(self, ref: ServiceRef, after: list[tuple[str, str]] | None) -> str:
        route = self._desired(ref)
        if route is None or not after:
            return f"remove the routes of {ref}"
        verb = "move" if self.rules_of.get(ref) else "add"
        return f"{verb} {ref} to {', '.join(route.paths)} on {route.host_alias!r}"

    # -- report -------------------------------------------------------------------------------------------------

    def _outcome(
        self, ref: ServiceRef, held: dict[ServiceRef, _Held], changes: tuple[Change, ...], rule_changed: set[ServiceRef]
    ) -> Outcome:
        route = self._desired(ref)
        backend = backend_service_name(self.owner, ref.project, ref.service)
        if ref in held:
            h = held[ref]
            return Outcome(
                ref,
                h.action,
                h.why,
                host_alias=route.host_alias if route else None,
                hosts=h.hosts,
                paths=h.paths,
                holder=h.holder,
                reason=h.reason,
            )
        mine = [change for change in changes if ref in change.services]
        if route is None:
            old_paths = tuple(sorted({p for rule in self.rules_of.get(ref, []) for p in _paths(rule.rule)}))
            old_backend = next(iter(sorted(self.backends_of.get(ref, []))), None)
            if not mine:
                return Outcome(ref, ROUTE_UNCHANGED, f"{ref}: not published, nothing to remove")
            return Outcome(
                ref, ROUTE_REMOVED, f"{ref}: routes and resources removed", paths=old_paths, backend=old_backend
            )
        facts = dict(
            host_alias=route.host_alias,
            hosts=tuple(self.settings.hosts[route.host_alias]),
            paths=route.paths,
            regions=tuple(sorted(route.regions)),
            backend=backend,
        )
        if not mine:
            return Outcome(ref, ROUTE_UNCHANGED, f"{ref}: already published as asked", **facts)
        if not self.rules_of.get(ref):
            return Outcome(ref, ROUTE_REGISTERED, f"{ref}: published at {', '.join(route.paths)}", **facts)
        prefix = f"{ref}: "
        parts = [c.why.removeprefix(prefix) for c in mine if c.kind != KIND_URL_MAP] + self.url_notes.get(ref, [])
        what = "routes changed" if ref in rule_changed else "resources changed"
        return Outcome(ref, ROUTE_UPDATED, f"{ref}: {what}: {'; '.join(parts)}", **facts)


def _regions(route: DesiredRoute) -> str:
    return ", ".join(sorted(route.regions))
