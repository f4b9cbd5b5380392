"""Google's documented limits on one URL map, as budgets: what a candidate map uses of each.

Pure. The numbers are those of a global external Application Load Balancer's URL map (docs/google-apis.md §9.1,
from https://cloud.google.com/load-balancing/docs/quotas, "URL maps", which says they cannot be increased). The
byte size is the one limit Google's pages disagree on (64 KB on the quotas page, 1 MB on the URL-map size page,
in Public Preview), so it is configurable (`RUNWAY_URL_MAP_MAX_BYTES`, default 64 KB).

Sizes are measured as compact JSON of the whole map as read, server fields included: an overestimate of what
Google counts, which keeps runway on the safe side of it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.config import DEFAULT_URL_MAP_MAX_BYTES
from shared.config_hosts import HOSTS_PER_HOST_RULE

WARN_FRACTION = 0.8  # above this, a budget is reported (`budget_warning`)


@dataclass(frozen=True)
class Limits:
    host_rules_and_path_matchers: int = 1000
    path_rules_per_path_matcher: int = 1000
    predicates_per_path_matcher: int = 1000
    hosts_per_host_rule: int = HOSTS_PER_HOST_RULE
    backends_per_url_map: int = 2500
    tests_per_url_map: int = 100
    bytes: int = DEFAULT_URL_MAP_MAX_BYTES  # RUNWAY_URL_MAP_MAX_BYTES


# What each budget is, in the words a reason or a report uses.
DESCRIPTIONS: Mapping[str, str] = {
    "host_rules_and_path_matchers": "host rules and path matchers per URL map",
    "path_rules_per_path_matcher": "path rules per path matcher",
    "predicates_per_path_matcher": "path predicates per path matcher",
    "hosts_per_host_rule": "hosts per host rule",
    "backends_per_url_map": "backend services and buckets per URL map",
    "tests_per_url_map": "tests per URL map",
    "bytes": "bytes per URL map",
}


@dataclass(frozen=True)
class Usage:
    budget: str
    used: int
    limit: int
    where: str  # the fullest part: the map, or `pathMatchers[name]`, `hostRules[i]`

    @property
    def fraction(self) -> float:
        return self.used / self.limit if self.limit else 1.0

    @property
    def exceeded(self) -> bool:
        return self.used > self.limit

    def describe(self) -> str:
        where = "" if self.where == "the URL map" else f" ({self.where})"
        return f"{DESCRIPTIONS[self.budget]}: {self.used} of {self.limit}{where}"


def size_of(obj: Any) -> int:
    return len(json.dumps(obj, separators=(",", ":")).encode())


def usage(url_map: Mapping[str, Any], limits: Limits) -> dict[str, Usage]:
    """Every budget's use by this map (per-matcher and per-host-rule budgets: the fullest one)."""
    matchers = [m for m in url_map.get("pathMatchers") or [] if isinstance(m, Mapping)]
    host_rules = [h for h in url_map.get("hostRules") or [] if isinstance(h, Mapping)]
    result = {
        "host_rules_and_path_matchers": Usage(
            "host_rules_and_path_matchers",
            len(matchers) + len(host_rules),
            limits.host_rules_and_path_matchers,
            "the URL map",
        ),
        "backends_per_url_map": Usage(
            "backends_per_url_map", len(backend_refs(url_map)), limits.backends_per_url_map, "the URL map"
        ),
        "tests_per_url_map": Usage(
            "tests_per_url_map", len(url_map.get("tests") or []), limits.tests_per_url_map, "the URL map"
        ),
        "bytes": Usage("bytes", size_of(url_map), limits.bytes, "the URL map"),
    }
    result["path_rules_per_path_matcher"] = _fullest(
        "path_rules_per_path_matcher",
        limits.path_rules_per_path_matcher,
        ((f"pathMatchers[{m.get('name')}]", len(m.get("pathRules") or m.get("routeRules") or [])) for m in matchers),
    )
    result["predicates_per_path_matcher"] = _fullest(
        "predicates_per_path_matcher",
        limits.predicates_per_path_matcher,
        ((f"pathMatchers[{m.get('name')}]", predicates(m)) for m in matchers),
    )
    result["hosts_per_host_rule"] = _fullest(
        "hosts_per_host_rule",
        limits.hosts_per_host_rule,
        ((f"hostRules[{i}]", len(h.get("hosts") or [])) for i, h in enumerate(host_rules)),
    )
    return result


def predicates(matcher: Mapping[str, Any]) -> int:
    """Google's count: with path rules every path is one; with route rules one per match rule plus each header
    and query-parameter match."""
    if matcher.get("pathRules"):
        return sum(len(rule.get("paths") or []) for rule in matcher["pathRules"])
    total = 0
    for rule in matcher.get("routeRules") or []:
        for match in rule.get("matchRules") or [{}]:
            total += 1 + len(match.get("headerMatches") or []) + len(match.get("queryParameterMatches") or [])
    return total


def _fullest(budget: str, limit: int, parts: Any) -> Usage:
    where, used = max(parts, key=lambda part: part[1], default=("none", 0))
    return Usage(budget, used, limit, where)


def backend_refs(node: Any) -> Counter[str]:
    """How many times a map (or any part of it) references each backend service or bucket, wherever it does
    (tests excluded: Google does not count them)."""
    found: Counter[str] = Counter()
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key in ("defaultService", "service", "backendService") and isinstance(value, str) and value:
                found[value.rsplit("/projects/", 1)[-1]] += 1
            elif key != "tests":
                found.update(backend_refs(value))
    elif isinstance(node, list):
        for item in node:
            found.update(backend_refs(item))
    return found
