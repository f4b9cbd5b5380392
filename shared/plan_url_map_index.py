"""The shared URL map as read, indexed for planning, and its canonical forms (compare by meaning, not spelling).

Pure. `MapIndex` tells runway's path rules (in `runway-<alias>` matchers) apart by the backend service they name,
and which hosts each configured alias may use (a host already in another host rule is held by it).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shared.model import Claim, Json, ServiceRef
from shared.naming import full_url, is_runway_path_matcher, path_matcher_name, relative_name
from shared.plan_limits import Limits

DEFAULT_KEYS = ("defaultService", "defaultUrlRedirect", "defaultRouteAction")
_FAR_FUTURE = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class MapSettings:
    """The configuration the planner needs, as plain values."""

    project: str  # the URL map's project (`RUNWAY_PROJECT`)
    url_map: str
    hosts: Mapping[str, Sequence[str]]
    limits: Limits = field(default_factory=Limits)
    upkeep: bool = False  # the sweep: keep every configured alias's matcher in line with configuration


@dataclass(frozen=True, eq=False)  # identity: observed rules are told apart by which object they are
class MapRule:
    matcher: str
    rule: Mapping[str, Any]
    backend: str | None  # relative path of the backend service it names, if any

    @property
    def paths(self) -> list[str]:
        return rule_paths(self.rule)


def rule_paths(rule: Mapping[str, Any]) -> list[str]:
    paths = rule.get("paths")
    return [path for path in paths if isinstance(path, str)] if isinstance(paths, list) else []


def canonical_rule(claim: Claim) -> Json:
    assert claim.route is not None
    return {"paths": list(claim.route.paths), "service": full_url(claim.backend)}


class MapIndex:
    """The URL map as read, indexed for planning: runway's rules and whose they are, and which hosts each
    configured alias may use."""

    def __init__(self, url_map: Mapping[str, Any], claims: Mapping[ServiceRef, Claim], settings: MapSettings) -> None:
        self.map = url_map
        self.claims = claims
        self.settings = settings
        self.project = settings.project
        self.host_rules: list[Mapping[str, Any]] = list(url_map.get("hostRules") or [])
        self.matchers: list[Mapping[str, Any]] = list(url_map.get("pathMatchers") or [])
        self.rules = [
            MapRule(str(m.get("name", "")), rule, self._backend_of(rule))
            for m in self.matchers
            if is_runway_path_matcher(str(m.get("name", "")))
            for rule in m.get("pathRules") or []
        ]
        self.rules_of: dict[ServiceRef, list[MapRule]] = defaultdict(list)
        owner_of = {claim.backend: ref for ref, claim in claims.items()}
        for rule in self.rules:
            if rule.backend in owner_of:
                self.rules_of[owner_of[rule.backend]].append(rule)
        self.alias_of = {path_matcher_name(alias): alias for alias in sorted(settings.hosts)}
        self._assign_hosts()

    def _backend_of(self, rule: Mapping[str, Any]) -> str | None:
        service = rule.get("service")
        return relative_name(service, self.project) if isinstance(service, str) else None

    def _assign_hosts(self) -> None:
        """Which configured hosts each alias may have, and who holds the others."""
        holder_of: dict[str, str] = {}
        for host_rule in self.host_rules:
            for host in host_set(host_rule.get("hosts") or []):
                holder_of.setdefault(host, str(host_rule.get("pathMatcher", "")))
        self.usable_hosts: dict[str, tuple[str, ...]] = {}
        self.host_conflicts: dict[str, list[tuple[str, str]]] = {}
        for alias in sorted(self.settings.hosts):
            matcher = path_matcher_name(alias)
            usable: list[str] = []
            conflicts: list[tuple[str, str]] = []
            for host in dict.fromkeys(self.settings.hosts[alias]):
                holder = holder_of.setdefault(host.lower(), matcher)
                if holder == matcher:
                    usable.append(host)
                else:
                    conflicts.append((host, holder))
            self.usable_hosts[alias] = tuple(usable)
            self.host_conflicts[alias] = conflicts


def rule_key(rule: Mapping[str, Any], project: str) -> str:
    canon = dict(rule)
    canon["paths"] = sorted(rule_paths(rule))
    if isinstance(rule.get("service"), str):
        canon["service"] = relative_name(rule["service"], project)
    return json.dumps(canon, sort_keys=True)


def rule_order(rule: Mapping[str, Any], project: str) -> tuple[str, str]:
    paths = sorted(rule_paths(rule))
    return (paths[0] if paths else "", rule_key(rule, project))


def matcher_key(matcher: Mapping[str, Any], project: str) -> str:
    canon = {key: value for key, value in matcher.items() if key != "pathRules"}
    if isinstance(canon.get("defaultService"), str):
        canon["defaultService"] = relative_name(canon["defaultService"], project)
    canon["pathRules"] = sorted(rule_key(rule, project) for rule in matcher.get("pathRules") or [])
    return json.dumps(canon, sort_keys=True)


def default_key(matcher: Mapping[str, Any], project: str) -> str:
    canon = {key: matcher[key] for key in DEFAULT_KEYS if key in matcher}
    if isinstance(canon.get("defaultService"), str):
        canon["defaultService"] = relative_name(canon["defaultService"], project)
    return json.dumps(canon, sort_keys=True)


def when(created: datetime | None) -> datetime:
    """Oldest first, unknown last; a naive time is taken as UTC so it compares with aware ones."""
    if created is None:
        return _FAR_FUTURE
    return created if created.tzinfo else created.replace(tzinfo=UTC)


def host_set(hosts: Iterable[Any]) -> set[str]:
    return {host.lower() for host in hosts if isinstance(host, str)}
