"""Google's URL-map limits as budgets (`shared.plan_limits`): what a map uses of each, where the fullest part is,
and what it exceeds. The planner's use of them (claims refused alone) is in tests/test_plan_url_map.py."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.config import DEFAULT_URL_MAP_MAX_BYTES
from shared.plan_limits import (
    DESCRIPTIONS,
    Limits,
    Usage,
    backend_refs,
    predicates,
    size_of,
    usage,
)

V1 = "https://www.googleapis.com/compute/v1/projects/lb-proj/global/backendServices/"
BETA = "https://compute.googleapis.com/compute/beta/projects/lb-proj/global/backendServices/"
BUCKET = "https://www.googleapis.com/compute/v1/projects/lb-proj/global/backendBuckets/static"


def crafted() -> dict[str, Any]:
    """Two host rules, a path-rule matcher and a route-rule matcher, tests, and backends named several ways."""
    return {
        "name": "lb",
        "defaultService": V1 + "default",
        "hostRules": [
            {"hosts": ["a.example.com"], "pathMatcher": "paths"},
            {"hosts": ["b.example.com", "c.example.com", "d.example.com"], "pathMatcher": "routes"},
        ],
        "pathMatchers": [
            {
                "name": "paths",
                "defaultService": V1 + "default",
                "pathRules": [
                    {"paths": ["/a", "/a/*"], "service": V1 + "a"},
                    {"paths": ["/b"], "service": BETA + "a"},  # the same backend, spelled another way
                ],
            },
            {
                "name": "routes",
                "defaultService": BUCKET,
                "routeRules": [
                    {
                        "priority": 1,
                        "matchRules": [
                            {"prefixMatch": "/h", "headerMatches": [{"headerName": "x"}, {"headerName": "y"}]},
                            {"fullPathMatch": "/f"},
                        ],
                        "service": V1 + "r",
                    },
                    {"priority": 2, "service": V1 + "r"},  # no match rules: one predicate (3 + 1 above)
                    {
                        "priority": 3,
                        "matchRules": [{"prefixMatch": "/q", "queryParameterMatches": [{"name": "q"}]}],  # 2: 7 in all
                        "routeAction": {"weightedBackendServices": [{"backendService": V1 + "w", "weight": 100}]},
                    },
                ],
            },
        ],
        "tests": [{"host": "a.example.com", "path": "/a", "service": V1 + "only-in-tests"}, {"path": "/b"}],
        "fingerprint": "fp",
    }


def test_defaults_are_googles_documented_numbers() -> None:
    assert Limits() == Limits(1000, 1000, 1000, 1000, 2500, 100, 64 * 1024)
    assert DEFAULT_URL_MAP_MAX_BYTES == 65536
    assert set(DESCRIPTIONS) == {f.name for f in Limits.__dataclass_fields__.values()}


def test_usage_of_a_crafted_map() -> None:
    url_map = crafted()
    assert usage(url_map, Limits()) == {
        "host_rules_and_path_matchers": Usage("host_rules_and_path_matchers", 4, 1000, "the URL map"),
        "backends_per_url_map": Usage("backends_per_url_map", 5, 2500, "the URL map"),
        "tests_per_url_map": Usage("tests_per_url_map", 2, 100, "the URL map"),
        "bytes": Usage(
            "bytes", len(json.dumps(url_map, separators=(",", ":"))), DEFAULT_URL_MAP_MAX_BYTES, "the URL map"
        ),
        "path_rules_per_path_matcher": Usage("path_rules_per_path_matcher", 3, 1000, "pathMatchers[routes]"),
        "predicates_per_path_matcher": Usage("predicates_per_path_matcher", 7, 1000, "pathMatchers[routes]"),
        "hosts_per_host_rule": Usage("hosts_per_host_rule", 3, 1000, "hostRules[1]"),
    }


def test_backends_counted_once_whatever_the_host_or_version_and_not_from_tests() -> None:
    # default, a (v1 and beta spellings), r, w, and the bucket; `only-in-tests` is not a reference
    assert usage(crafted(), Limits())["backends_per_url_map"].used == 5


PREDICATES = [
    pytest.param({"pathRules": [{"paths": ["/a", "/a/*"]}, {"paths": ["/b"]}]}, 3, id="path-rules-one-per-path"),
    pytest.param({"pathRules": [{"service": "x"}]}, 0, id="path-rule-without-paths"),
    pytest.param({"routeRules": [{"priority": 1}]}, 1, id="route-rule-without-match-rules"),
    pytest.param({"routeRules": [{"matchRules": [{}, {}]}]}, 2, id="one-per-match-rule"),
    pytest.param(
        {"routeRules": [{"matchRules": [{"headerMatches": [{}, {}], "queryParameterMatches": [{}]}]}]},
        4,
        id="plus-header-and-query-matches",
    ),
    pytest.param({"name": "empty"}, 0, id="empty-matcher"),
]


@pytest.mark.parametrize(("matcher", "count"), PREDICATES)
def test_predicates_as_google_counts_them(matcher: dict[str, Any], count: int) -> None:
    assert predicates(matcher) == count


def test_fullest_matcher_and_host_rule_reported_first_on_a_tie() -> None:
    url_map = {
        "hostRules": [{"hosts": ["a", "b"]}, {"hosts": ["c", "d"]}, {"hosts": ["e"]}],
        "pathMatchers": [
            {"name": "one", "pathRules": [{"paths": ["/a"]}]},
            {"name": "two", "pathRules": [{"paths": ["/a", "/b"]}, {"paths": ["/c"]}]},
            {"name": "three", "pathRules": [{"paths": ["/a", "/b", "/c"]}, {"paths": ["/d"]}]},
        ],
    }
    got = usage(url_map, Limits())
    assert (got["path_rules_per_path_matcher"].used, got["path_rules_per_path_matcher"].where) == (
        2,
        "pathMatchers[two]",
    )
    assert (got["predicates_per_path_matcher"].used, got["predicates_per_path_matcher"].where) == (
        4,
        "pathMatchers[three]",
    )
    assert (got["hosts_per_host_rule"].used, got["hosts_per_host_rule"].where) == (2, "hostRules[0]")


def test_usage_of_an_empty_map() -> None:
    got = usage({}, Limits())
    assert {k: (u.used, u.where) for k, u in got.items()} == {
        "host_rules_and_path_matchers": (0, "the URL map"),
        "backends_per_url_map": (0, "the URL map"),
        "tests_per_url_map": (0, "the URL map"),
        "bytes": (2, "the URL map"),
        "path_rules_per_path_matcher": (0, "none"),
        "predicates_per_path_matcher": (0, "none"),
        "hosts_per_host_rule": (0, "none"),
    }
    assert [u for u in got.values() if u.exceeded] == []


def exceeded(url_map: dict[str, Any], limits: Limits) -> list[Usage]:
    return [u for u in usage(url_map, limits).values() if u.exceeded]


def test_usage_over_a_limit_is_exceeded_at_limit_is_not() -> None:
    url_map = crafted()
    at_limit = Limits(host_rules_and_path_matchers=4, predicates_per_path_matcher=7, hosts_per_host_rule=3)
    assert exceeded(url_map, at_limit) == []  # used == limit is within it
    over = Limits(
        host_rules_and_path_matchers=3,
        path_rules_per_path_matcher=2,
        predicates_per_path_matcher=6,
        hosts_per_host_rule=2,
        backends_per_url_map=4,
        tests_per_url_map=1,
        bytes=100,
    )
    assert [(u.budget, u.used, u.limit, u.where) for u in exceeded(url_map, over)] == [
        ("host_rules_and_path_matchers", 4, 3, "the URL map"),
        ("backends_per_url_map", 5, 4, "the URL map"),
        ("tests_per_url_map", 2, 1, "the URL map"),
        ("bytes", size_of(url_map), 100, "the URL map"),
        ("path_rules_per_path_matcher", 3, 2, "pathMatchers[routes]"),
        ("predicates_per_path_matcher", 7, 6, "pathMatchers[routes]"),
        ("hosts_per_host_rule", 3, 2, "hostRules[1]"),
    ]


DESCRIBED = [
    (
        Usage("path_rules_per_path_matcher", 3, 2, "pathMatchers[m]"),
        "path rules per path matcher: 3 of 2 (pathMatchers[m])",
    ),
    (
        Usage("predicates_per_path_matcher", 6, 5, "pathMatchers[m]"),
        "path predicates per path matcher: 6 of 5 (pathMatchers[m])",
    ),
    (Usage("host_rules_and_path_matchers", 6, 4, "the URL map"), "host rules and path matchers per URL map: 6 of 4"),
    (Usage("bytes", 70000, 65536, "the URL map"), "bytes per URL map: 70000 of 65536"),
    (Usage("hosts_per_host_rule", 2, 1, "hostRules[0]"), "hosts per host rule: 2 of 1 (hostRules[0])"),
]


@pytest.mark.parametrize(("used", "text"), DESCRIBED, ids=[u.budget for u, _ in DESCRIBED])
def test_describe_names_the_budget_and_where(used: Usage, text: str) -> None:
    assert used.describe() == text


FRACTIONS = [((800, 1000), 0.8, False), ((1000, 1000), 1.0, False), ((1001, 1000), 1.001, True), ((0, 0), 1.0, False)]


@pytest.mark.parametrize(("used_limit", "fraction", "over"), FRACTIONS, ids=[str(u) for u, _, _ in FRACTIONS])
def test_fraction_and_exceeded(used_limit: tuple[int, int], fraction: float, over: bool) -> None:
    got = Usage("bytes", *used_limit, "the URL map")
    assert (got.fraction, got.exceeded) == (fraction, over)


def test_size_is_compact_json_in_bytes() -> None:
    assert size_of({"a": [1, 2], "b": "c"}) == len('{"a":[1,2],"b":"c"}')
    assert size_of({"h": "é"}) == len('{"h":"\\u00e9"}')  # escaped: an overestimate, the safe side


def test_backend_refs_counts_each_reference_tests_excluded() -> None:
    bs = "https://www.googleapis.com/compute/v1/projects/p/global/backendServices"
    url_map = {
        "defaultService": f"{bs}/a",
        "pathMatchers": [{"defaultService": f"{bs}/a", "pathRules": [{"paths": ["/b"], "service": f"{bs}/b"}]}],
        "tests": [{"host": "x", "path": "/t", "service": f"{bs}/t"}],
    }
    assert backend_refs(url_map) == {"p/global/backendServices/a": 2, "p/global/backendServices/b": 1}
