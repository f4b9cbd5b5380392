"""runway's part of the shared URL map as a function of claims: (map, claims) -> the map to write, and per claim
what became of its rule. Pure: no API calls.

A claim is one service asking for its rule (or, releasing, for none). Every claim of one write is planned at
once, so one URL-map write carries every route that is ready (docs/decisions.md, "One URL-map writer"). The
rest of the map is copied through as the very same objects, so it survives byte-identical: Terraform's part,
foreign rules, rules of services not in this batch, other installations' rules.

What runway may touch (docs/design.md §4): path matchers named `runway-<alias>`, their host rules, and the path
rules in them that name a claim's backend service.

Precedence (docs/design.md §3):
- A path held by a rule outside the batch stays with it; a claim asking for it is a `CONFLICT` naming the holder.
  A path inside a held `/x/*` prefix counts as held (`shared.plan_paths.takes_from`), unless it is the same
  service's.
- A claim that already holds a path it still asks for keeps it, whatever its age.
- Among the rest, the oldest service (`created`) first, then `project/service` order.
- A claim refused for any reason keeps the rules it had; that can keep a path another claim asked for, so the
  holders are recomputed until nothing new is refused (a small fixpoint).
- A host of the alias held by another host rule refuses every claim on that alias (no partial publishing).
- Google's limits (`shared.plan_limits`): a claim whose rule would exceed one is `REFUSED` naming it; earlier
  claims (by the order above) are placed first. Only new or changed rules can be refused, never existing ones.
- `refused` (from the writer: what Google's validation refused) holds those claims with Google's reason.

Shape: one path rule per service, paths sorted, `service` a full URL; rules of a rewritten matcher sorted by
first path; converged state is detected by meaning (relative names, path order), so spelling never causes a
write. A runway matcher left empty is removed with its host rule (the map's default serves those hosts the
same way). A new or rewritten runway matcher takes the map's default. With `upkeep` (the sweep) every
configured alias's matcher is brought in line: hosts from configuration, default from the map.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.model import Claim, Json, RuleResult, RuleState, ServiceRef
from shared.naming import path_matcher_name
from shared.plan_limits import Usage, backend_refs, size_of, usage
from shared.plan_paths import takes_from
from shared.plan_url_map_build import MapBuilder
from shared.plan_url_map_index import (
    DEFAULT_KEYS,
    MapIndex,
    MapRule,
    MapSettings,
    canonical_rule,
    rule_key,
    when,
)

__all__ = ["MapPlan", "MapSettings", "plan_url_map", "precedence"]


@dataclass(frozen=True)
class MapPlan:
    body: Json | None  # `hostRules`, `pathMatchers` and the fingerprint read; None when nothing changes
    results: Mapping[ServiceRef, RuleResult]
    notes: tuple[str, ...] = ()  # why the map changes, one note per service or upkeep
    usage: Mapping[str, Usage] = field(default_factory=dict)  # of the map as it will be

    @property
    def changes(self) -> bool:
        return self.body is not None


def plan_url_map(
    url_map: Mapping[str, Any],
    claims: Iterable[Claim],
    settings: MapSettings,
    refused: Mapping[ServiceRef, str] | None = None,
) -> MapPlan:
    """The map that grants every claim it can, and what became of each claim."""
    return _Planner(url_map, {claim.ref: claim for claim in claims}, settings, dict(refused or {})).run()


def precedence(claims: Iterable[Claim]) -> list[Claim]:
    """The order in which claimants are placed: oldest service first (unknown age last), then `project/service`."""
    return sorted(claims, key=lambda c: (when(c.route.created if c.route else None), c.ref))


class _Planner:
    def __init__(
        self,
        url_map: Mapping[str, Any],
        claims: dict[ServiceRef, Claim],
        settings: MapSettings,
        refused: dict[ServiceRef, str],
    ) -> None:
        self.index = MapIndex(url_map, claims, settings)
        self.map = url_map
        self.claims = claims
        self.settings = settings
        self.project = settings.project
        self.refused = refused
        self.rules = self.index.rules
        self.rules_of = self.index.rules_of
        self.host_conflicts = self.index.host_conflicts

    def run(self) -> MapPlan:
        held = self._static_refusals()
        while True:
            newly = self._refusals(held)
            if not newly:
                break
            held.update(newly)
        granted = [claim for ref, claim in sorted(self.claims.items()) if ref not in held]
        results = {ref: held.get(ref) or self._granted(self.claims[ref]) for ref in sorted(self.claims)}
        host_rules, matchers, notes = MapBuilder(self.index, granted, results, self.settings.upkeep).build()
        changed = host_rules != self.index.host_rules or matchers != self.index.matchers
        candidate = {**self.map, "hostRules": host_rules, "pathMatchers": matchers}
        body = None
        if changed:
            body = {"hostRules": host_rules, "pathMatchers": matchers, "fingerprint": self.map.get("fingerprint")}
        return MapPlan(body, results, tuple(notes) if changed else (), usage(candidate, self.settings.limits))

    def _static_refusals(self) -> dict[ServiceRef, RuleResult]:
        held: dict[ServiceRef, RuleResult] = {}
        for ref, claim in self.claims.items():
            route = claim.route
            if route is None:
                continue
            if ref in self.refused:
                held[ref] = RuleResult(ref, RuleState.REFUSED, route.paths, reason=self.refused[ref])
            elif route.host_alias not in self.settings.hosts:
                reason = f"host alias {route.host_alias!r} is not in RUNWAY_HOSTS"
                held[ref] = RuleResult(ref, RuleState.REFUSED, route.paths, reason=reason)
            elif conflicts := self.host_conflicts[route.host_alias]:
                holder = ", ".join(sorted({f"host rule of path matcher {m}" for _, m in conflicts}))
                hosts = ", ".join(host for host, _ in conflicts)
                reason = f"host {hosts} of alias {route.host_alias!r} is held by another host rule"
                held[ref] = RuleResult(ref, RuleState.CONFLICT, route.paths, holder=holder, reason=reason)
        return held

    def _claimants(self, held: Mapping[ServiceRef, RuleResult]) -> list[Claim]:
        return precedence(c for ref, c in self.claims.items() if ref not in held and c.route is not None)

    def _refusals(self, held: Mapping[ServiceRef, RuleResult]) -> dict[ServiceRef, RuleResult]:
        """Claims refused given those already held: conflicts first, then limits, in precedence order."""
        moving = {id(rule) for ref in self.claims if ref not in held for rule in self.rules_of[ref]}
        frozen = [rule for rule in self.rules if id(rule) not in moving]
        taken: dict[str, list[tuple[str, str]]] = defaultdict(list)  # matcher -> (path, holder backend or name)
        for rule in frozen:
            for path in rule.paths:
                taken[rule.matcher].append((path, rule.backend or f"a rule of path matcher {rule.matcher}"))
        claimants = self._claimants(held)
        holds: dict[ServiceRef, set[str]] = defaultdict(set)  # paths a claimant holds now and still asks for
        for claim in claimants:  # a current holder that still wants its paths keeps them, whatever its age
            assert claim.route is not None
            matcher = path_matcher_name(claim.route.host_alias)
            for rule in self.rules_of[claim.ref]:
                if rule.matcher == matcher:
                    kept = set(rule.paths) & set(claim.route.paths)
                    holds[claim.ref] |= kept
                    taken[matcher] += [(path, claim.backend) for path in sorted(kept)]
        newly: dict[ServiceRef, RuleResult] = {}
        budget = _Budget(self, frozen)
        # Fix: unchanged rules can't be refused, so they count before any claim is checked (in age order, an older
        # newcomer was granted past a limit they fill: test_plan_url_map, limit_existing_rules_over_lowered_limit_kept)
        unchanged = {claim.ref for claim in claimants if self._granted(claim).state == RuleState.KEPT}
        for claim in claimants:
            if claim.ref in unchanged:
                budget.add(claim, check=False)
        for claim in claimants:
            assert claim.route is not None
            matcher = path_matcher_name(claim.route.host_alias)
            # Fix: a path the claim holds and still asks for is never contested, not even by a later `/x/*` over
            # it, which took nothing from it (test_plan_url_map, prefix_sub_path_holder_keeps_it)
            contested = [
                (path, holder)
                for path in claim.route.paths
                if path not in holds[claim.ref]
                for other, holder in taken[matcher]
                if holder != claim.backend and takes_from(path, other)
            ]
            if contested:
                paths = tuple(dict.fromkeys(path for path, _ in contested))
                holder = ", ".join(sorted({holder for _, holder in contested}))
                reason = f"{', '.join(paths)} on {claim.route.host_alias!r} already served by {holder}"
                newly[claim.ref] = RuleResult(claim.ref, RuleState.CONFLICT, paths, holder=holder, reason=reason)
                continue
            # only new or changed rules can be refused; unchanged ones were placed above
            over = None if claim.ref in unchanged else budget.add(claim)
            if over is not None:
                reason = f"Google's limit on {over.describe()}"
                newly[claim.ref] = RuleResult(claim.ref, RuleState.REFUSED, claim.route.paths, reason=reason)
                continue
            taken[matcher] += [(path, claim.backend) for path in claim.route.paths]
        return newly

    def _granted(self, claim: Claim) -> RuleResult:
        had = self.rules_of[claim.ref]
        if claim.route is None:
            old = tuple(sorted({path for rule in had for path in rule.paths}))
            return RuleResult(claim.ref, RuleState.REMOVED if had else RuleState.ABSENT, old)
        if not had:
            return RuleResult(claim.ref, RuleState.ADDED, claim.route.paths)
        want = (path_matcher_name(claim.route.host_alias), rule_key(canonical_rule(claim), self.project))
        kept = len(had) == 1 and (had[0].matcher, rule_key(had[0].rule, self.project)) == want
        return RuleResult(claim.ref, RuleState.KEPT if kept else RuleState.CHANGED, claim.route.paths)


class _Budget:
    """Google's limits, checked as claims are placed one by one: counts exact, bytes estimated per rule (both from
    the map as read, less the rules that move, plus each placed rule). Dropping an emptied matcher is not credited,
    which only errs on the safe side."""

    def __init__(self, planner: _Planner, frozen: list[MapRule]) -> None:
        self.limits = planner.settings.limits
        self.planner = planner
        kept = {id(rule) for rule in frozen}
        self.rules: dict[str, int] = defaultdict(int)
        self.predicates: dict[str, int] = defaultdict(int)
        self.size = size_of(planner.map)
        self.backends = backend_refs(planner.map)  # how many references each backend has
        for rule in planner.rules:
            if id(rule) in kept:
                self.rules[rule.matcher] += 1
                self.predicates[rule.matcher] += len(rule.paths)
            else:
                self.size -= size_of(rule.rule) + 1
                self.backends.subtract(backend_refs(rule.rule))
        self.backends = +self.backends  # only those still referenced
        self.existing = {str(m.get("name", "")) for m in planner.index.matchers}
        self.new_matchers: set[str] = set()
        self.objects = len(planner.index.matchers) + len(planner.index.host_rules)

    def add(self, claim: Claim, *, check: bool = True) -> Usage | None:
        """Place the claim's rule; the budget it would exceed instead (nothing placed), when `check`."""
        assert claim.route is not None
        matcher = path_matcher_name(claim.route.host_alias)
        rule = canonical_rule(claim)
        rule_size = size_of(rule) + 1
        backends = backend_refs(rule)
        extra_objects, extra_size = 0, 0
        if matcher not in self.existing and matcher not in self.new_matchers:
            hosts = list(self.planner.index.usable_hosts.get(claim.route.host_alias, ()))
            extra_objects = 2
            extra_size = size_of({"name": matcher, "pathRules": []}) + size_of({"hosts": hosts, "pathMatcher": matcher})
            extra_size += size_of({k: self.planner.map[k] for k in DEFAULT_KEYS if k in self.planner.map}) + 2
        limits, in_matcher = self.limits, f"pathMatchers[{matcher}]"
        checks = (
            Usage(
                "path_rules_per_path_matcher", self.rules[matcher] + 1, limits.path_rules_per_path_matcher, in_matcher
            ),
            Usage(
                "predicates_per_path_matcher",
                self.predicates[matcher] + len(claim.route.paths),
                limits.predicates_per_path_matcher,
                in_matcher,
            ),
            Usage(
                "host_rules_and_path_matchers",
                self.objects + extra_objects,
                limits.host_rules_and_path_matchers,
                "the URL map",
            ),
            Usage(
                "backends_per_url_map",
                len(self.backends.keys() | backends.keys()),
                limits.backends_per_url_map,
                "the URL map",
            ),
            Usage("bytes", self.size + rule_size + extra_size, limits.bytes, "the URL map"),
        )
        over = next((usage for usage in checks if usage.exceeded), None) if check else None
        if over is not None:
            return over
        self.rules[matcher] += 1
        self.predicates[matcher] += len(claim.route.paths)
        self.objects += extra_objects
        self.size += rule_size + extra_size
        self.backends.update(backends)
        if extra_objects:
            self.new_matchers.add(matcher)
        return None
