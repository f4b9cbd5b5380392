"""Building the new host rules and path matchers from the claims granted: unchanged objects stay the very same
objects, so everything runway does not touch survives byte-identical. Pure."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from shared.model import Claim, RuleResult, RuleState, ServiceRef
from shared.naming import path_matcher_name
from shared.plan_url_map_index import (
    DEFAULT_KEYS,
    MapIndex,
    canonical_rule,
    default_key,
    host_set,
    matcher_key,
    rule_order,
)


class MapBuilder:
    """Host rules and path matchers with every granted claim applied; unchanged objects kept as they are."""

    def __init__(
        self, index: MapIndex, granted: list[Claim], results: Mapping[ServiceRef, RuleResult], upkeep: bool
    ) -> None:
        self.p = index
        self.granted = granted
        self.results = results
        self.upkeep = upkeep
        self.project = index.project
        self.notes: list[str] = []

    def build(self) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]], list[str]]:
        p = self.p
        # A claim already exactly in the map touches nothing: an event about an unchanged service never rewrites
        # its matcher (bringing matchers in line with configuration is the sweep's upkeep).
        changing = [claim for claim in self.granted if self.results[claim.ref].state != RuleState.KEPT]
        granted_refs = {claim.ref for claim in changing}
        moved = {id(rule.rule) for ref in granted_refs for rule in p.rules_of[ref]}
        new_rules: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        touched: set[str] = set()
        for rule in p.rules:
            if id(rule.rule) in moved:
                touched.add(rule.matcher)
            else:
                new_rules[rule.matcher].append(rule.rule)
        for claim in changing:
            if claim.route is not None:
                matcher = path_matcher_name(claim.route.host_alias)
                touched.add(matcher)
                new_rules[matcher].append(canonical_rule(claim))
        if self.upkeep:
            touched |= {str(m.get("name")) for m in p.matchers if m.get("name") in p.alias_of}
        self._note_claims(granted_refs)
        matchers, dropped = self._matchers(touched, new_rules)
        return self._host_rules(touched, dropped, matchers), matchers, self.notes

    def _note_claims(self, granted: set[ServiceRef]) -> None:
        for ref in sorted(granted):
            result = self.results[ref]
            route = self.p.claims[ref].route
            if result.state == RuleState.REMOVED:
                self.notes.append(f"remove the routes of {ref}")
            elif result.state in (RuleState.ADDED, RuleState.CHANGED) and route is not None:
                verb = "add" if result.state == RuleState.ADDED else "move"
                self.notes.append(f"{verb} {ref} to {', '.join(route.paths)} on {route.host_alias!r}")

    def _defaults(self) -> dict[str, Any]:
        return {key: self.p.map[key] for key in DEFAULT_KEYS if key in self.p.map}

    def _matchers(
        self, touched: set[str], new_rules: dict[str, list[Mapping[str, Any]]]
    ) -> tuple[list[Mapping[str, Any]], set[str]]:
        matchers: list[Mapping[str, Any]] = []
        dropped: set[str] = set()
        for matcher in self.p.matchers:
            name = str(matcher.get("name", ""))
            if name not in touched:
                matchers.append(matcher)
                continue
            rules = sorted(new_rules[name], key=lambda rule: rule_order(rule, self.project))
            if not rules and not matcher.get("routeRules"):
                dropped.add(name)
                self.notes.append(f"drop empty path matcher {name}")
                continue
            rest = {k: v for k, v in matcher.items() if k not in (*DEFAULT_KEYS, "pathRules", "name")}
            candidate = {"name": name, **self._defaults(), **rest, "pathRules": rules}
            if matcher_key(candidate, self.project) == matcher_key(matcher, self.project):
                matchers.append(matcher)
                continue
            matchers.append(candidate)
            if default_key(matcher, self.project) != default_key(candidate, self.project):
                self.notes.append(f"path matcher {name} default follows the URL map's")
        present = {str(m.get("name", "")) for m in self.p.matchers}
        for name in sorted(touched - present):
            if new_rules[name]:
                rules = sorted(new_rules[name], key=lambda rule: rule_order(rule, self.project))
                matchers.append({"name": name, **self._defaults(), "pathRules": rules})
        return matchers, dropped

    def _host_rules(
        self, touched: set[str], dropped: set[str], matchers: list[Mapping[str, Any]]
    ) -> list[Mapping[str, Any]]:
        p = self.p
        host_rules: list[Mapping[str, Any]] = []
        placed: set[str] = set()
        for host_rule in p.host_rules:
            name = str(host_rule.get("pathMatcher", ""))
            if name in dropped:
                continue
            alias = p.alias_of.get(name)
            if name not in touched or alias is None or not p.usable_hosts[alias]:
                host_rules.append(host_rule)
                continue
            if name in placed:  # a second host rule for our matcher: folded into the first
                continue
            placed.add(name)
            hosts = p.usable_hosts[alias]
            single = sum(1 for hr in p.host_rules if hr.get("pathMatcher") == name) == 1
            if single and host_set(host_rule.get("hosts") or []) == host_set(hosts):
                host_rules.append(host_rule)
            else:
                host_rules.append({**host_rule, "hosts": list(hosts), "pathMatcher": name})
                self.notes.append(f"hosts of {name}: {', '.join(hosts)}")
        for matcher in matchers:
            name = str(matcher.get("name", ""))
            alias = p.alias_of.get(name)
            if name in touched and name not in placed and alias and p.usable_hosts[alias]:
                host_rules.append({"hosts": list(p.usable_hosts[alias]), "pathMatcher": name})
                placed.add(name)
        return host_rules
