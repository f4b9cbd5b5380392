"""Compute emulator: Google's limits on one URL map, answered as production does (413 `fieldSizeTooLarge`).

Driven through the real google-cloud-compute client. The limits are lowered at run time (`POST
/_emulator/settings`) so no test builds a thousand-element map; the `emulator` fixture's reset restores them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from google.api_core import exceptions
from google.cloud import compute_v1

from emulator import EmulatorServer

from .test_compute_support import BASE, PROJECT, clients, error_message, from_wire, make_backend_service, raw

BS = f"{BASE}projects/{PROJECT}/global/backendServices/bs-hello"
BS_A = f"{BASE}projects/{PROJECT}/global/backendServices/bs-a"
BS_B = f"{BASE}projects/{PROJECT}/global/backendServices/bs-b"


@pytest.fixture
def backends(emulator: EmulatorServer) -> None:
    c = clients(emulator)
    for name in ("bs-hello", "bs-a", "bs-b"):
        make_backend_service(c, name)


def set_limits(emulator: EmulatorServer, **limits: int) -> None:
    reply = requests.post(f"{emulator.url}/_emulator/settings", json={"urlMapLimits": limits}, timeout=5)
    assert reply.status_code == 200, reply.text


def url_map(matchers: list[dict[str, Any]], host_rules: list[dict[str, Any]] | None = None, **top: Any) -> dict:
    """A URL map (wire form): `host_rules` default to one rule for `*` onto the first matcher."""
    host_rules = host_rules or [{"hosts": ["*"], "pathMatcher": matchers[0]["name"]}]
    return {"name": "lb", "defaultService": BS, "hostRules": host_rules, "pathMatchers": matchers, **top}


def matcher(name: str = "pm", **rules: Any) -> dict[str, Any]:
    return {"name": name, "defaultService": BS, **rules}


def path_rules(count: int, paths_each: int = 1, service: str = BS) -> list[dict[str, Any]]:
    paths = ["/p{i}", "/p{i}/*", "/p{i}/x"][:paths_each]
    return [{"paths": [p.format(i=i) for p in paths], "service": service} for i in range(count)]


def route_rules(count: int) -> list[dict[str, Any]]:
    return [{"priority": i, "matchRules": [{"prefixMatch": f"/r{i}"}], "service": BS} for i in range(count)]


def host_rules(hosts_per_rule: list[int], matcher_name: str = "pm") -> list[dict[str, Any]]:
    """One host rule per item, with that many hosts, all onto one matcher."""
    return [
        {"hosts": [f"h{r}-{i}.example.com" for i in range(count)], "pathMatcher": matcher_name}
        for r, count in enumerate(hosts_per_rule)
    ]


def host_rule(host: str, matcher_name: str) -> dict[str, Any]:
    return {"hosts": [host], "pathMatcher": matcher_name}


def header_routes(headers: int) -> list[dict[str, Any]]:
    """One route rule with two match rules: (1 + `headers` + 1 query parameter) + 1 predicates."""
    first = {
        "prefixMatch": "/a",
        "headerMatches": [{"headerName": f"x-h{i}", "exactMatch": "1"} for i in range(headers)],
        "queryParameterMatches": [{"name": "q", "presentMatch": True}],
    }
    return [{"priority": 1, "matchRules": [first, {"prefixMatch": "/b"}], "service": BS}]


def map_tests(count: int) -> list[dict[str, Any]]:
    return [{"host": "h.example.com", "path": f"/t{i}", "service": BS} for i in range(count)]


@dataclass(frozen=True)
class Case:
    id: str
    limits: dict[str, int]
    at_limit: dict[str, Any]
    over: dict[str, Any]
    message: str


def _too_large(field: str, rest: str) -> str:
    return f"Value for field '{field}' is too large: {rest}"


CASES = [
    Case(
        "host-rules-and-path-matchers",
        {"hostRulesAndPathMatchers": 4},
        url_map(
            [matcher("pm0"), matcher("pm1")], [host_rule("a.example.com", "pm0"), host_rule("b.example.com", "pm1")]
        ),
        url_map(
            [matcher("pm0"), matcher("pm1")],
            [host_rule("a.example.com", "pm0"), host_rule("b.example.com", "pm1"), host_rule("c.example.com", "pm1")],
        ),
        _too_large(
            "resource.hostRules", "maximum size 4 element(s) for hostRules and pathMatchers together; actual size 5."
        ),
    ),
    Case(
        "path-rules-per-path-matcher",
        {"pathRulesPerPathMatcher": 3},
        url_map([matcher("pm0"), matcher("pm1", pathRules=path_rules(3))]),
        url_map([matcher("pm0"), matcher("pm1", pathRules=path_rules(4))]),
        _too_large("resource.pathMatchers[1].pathRules", "maximum size 3 element(s); actual size 4."),
    ),
    Case(
        "route-rules-per-path-matcher",
        {"pathRulesPerPathMatcher": 3},
        url_map([matcher(routeRules=route_rules(3))]),
        url_map([matcher(routeRules=route_rules(4))]),
        _too_large("resource.pathMatchers[0].routeRules", "maximum size 3 element(s); actual size 4."),
    ),
    Case(
        "hosts-per-host-rule",
        {"hostsPerHostRule": 3},
        url_map([matcher()], host_rules([1, 3])),
        url_map([matcher()], host_rules([1, 4])),
        _too_large("resource.hostRules[1].hosts", "maximum size 3 element(s); actual size 4."),
    ),
    Case(
        "predicates-of-path-rules",  # every path counts
        {"predicatesPerPathMatcher": 4},
        url_map([matcher(pathRules=path_rules(2, paths_each=2))]),
        url_map([matcher(pathRules=[*path_rules(1, paths_each=3), {"paths": ["/q", "/q/*"], "service": BS}])]),
        _too_large("resource.pathMatchers[0]", "maximum 4 predicates; actual 5."),
    ),
    Case(
        "predicates-of-route-rules",  # one per match rule, plus each header and query-parameter match
        {"predicatesPerPathMatcher": 4},
        url_map([matcher(routeRules=header_routes(headers=1))]),
        url_map([matcher(routeRules=header_routes(headers=2))]),
        _too_large("resource.pathMatchers[0]", "maximum 4 predicates; actual 5."),
    ),
    Case(
        "backends-per-url-map",  # distinct: the same service in two forms counts once
        {"backendsPerUrlMap": 2},
        url_map(
            [
                matcher(
                    pathRules=[
                        *path_rules(1, service=BS_A),
                        {"paths": ["/a"], "service": "global/backendServices/bs-a"},
                    ]
                )
            ]
        ),
        url_map([matcher(pathRules=[*path_rules(1, service=BS_A), {"paths": ["/b"], "service": BS_B}])]),
        _too_large("resource", "maximum 2 distinct backend services and backend buckets; actual 3."),
    ),
    Case(
        "tests-per-url-map",
        {"testsPerUrlMap": 2},
        url_map([matcher()], tests=map_tests(2)),
        url_map([matcher()], tests=map_tests(3)),
        _too_large("resource.tests", "maximum size 2 element(s); actual size 3."),
    ),
]


def insert(emulator: EmulatorServer, body: dict[str, Any]) -> None:
    resource = from_wire(compute_v1.UrlMap, body)
    clients(emulator).url_maps.insert(project=PROJECT, url_map_resource=resource).result(timeout=10)


def validate(emulator: EmulatorServer, body: dict[str, Any]) -> compute_v1.UrlMapValidationResult:
    request = compute_v1.UrlMapsValidateRequest(resource=from_wire(compute_v1.UrlMap, body))
    reply = clients(emulator).url_maps.validate(
        project=PROJECT, url_map=body["name"], url_maps_validate_request_resource=request
    )
    return reply.result


def refused(emulator: EmulatorServer, body: dict[str, Any]) -> exceptions.GoogleAPICallError:
    """The error inserting `body` raises, checked to be the 413 production answers."""
    with pytest.raises(exceptions.GoogleAPICallError) as err:
        insert(emulator, body)
    # api_core maps no exception class of its own to 413: the client raises the base class, code 413.
    assert type(err.value) is exceptions.GoogleAPICallError
    assert err.value.code == 413
    assert {e["reason"] for e in err.value.errors} == {"fieldSizeTooLarge"}
    return err.value


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_map_over_a_limit_is_refused_and_one_at_it_accepted(
    emulator: EmulatorServer, backends: None, case: Case
) -> None:
    set_limits(emulator, **case.limits)
    error = refused(emulator, case.over)
    assert error_message(error) == case.message
    assert [e["message"] for e in error.errors] == [case.message]

    result = validate(emulator, case.over)
    assert (result.load_succeeded, list(result.load_errors)) == (False, [case.message])

    assert validate(emulator, case.at_limit).load_succeeded
    insert(emulator, case.at_limit)
    assert [um.name for um in clients(emulator).url_maps.list(project=PROJECT)] == ["lb"]


def test_the_cases_are_over_by_one(emulator: EmulatorServer, backends: None) -> None:
    """The table itself: each `over` map passes once its limit is one higher."""
    for case in CASES:
        raised = {key: value + 1 for key, value in case.limits.items()}
        set_limits(emulator, **raised)
        assert validate(emulator, case.over).load_succeeded, case.id


def test_every_limit_a_map_exceeds_is_reported(emulator: EmulatorServer, backends: None) -> None:
    set_limits(emulator, hostsPerHostRule=1, testsPerUrlMap=0)
    body = url_map([matcher()], host_rules([2]), tests=map_tests(1))
    messages = [
        _too_large("resource.hostRules[0].hosts", "maximum size 1 element(s); actual size 2."),
        _too_large("resource.tests", "maximum size 0 element(s); actual size 1."),
    ]
    error = refused(emulator, body)
    assert error_message(error) == messages[0]
    assert [e["message"] for e in error.errors] == messages
    assert list(validate(emulator, body).load_errors) == messages


def test_update_and_patch_are_checked_on_the_resulting_map(emulator: EmulatorServer, backends: None) -> None:
    c = clients(emulator)
    set_limits(emulator, pathRulesPerPathMatcher=3)
    insert(emulator, url_map([matcher(pathRules=path_rules(3))]))
    too_many = _too_large("resource.pathMatchers[0].pathRules", "maximum size 3 element(s); actual size 4.")

    um = c.url_maps.get(project=PROJECT, url_map="lb")
    um.path_matchers[0].path_rules.append(compute_v1.PathRule(paths=["/fourth"], service=BS))
    with pytest.raises(exceptions.GoogleAPICallError) as err:
        c.url_maps.update(project=PROJECT, url_map="lb", url_map_resource=um)
    assert (err.value.code, error_message(err.value)) == (413, too_many)
    with pytest.raises(exceptions.GoogleAPICallError) as err:
        c.url_maps.patch(project=PROJECT, url_map="lb", url_map_resource=um)
    assert (err.value.code, error_message(err.value)) == (413, too_many)

    # A patch that only touches the description is still checked on the whole map it leaves.
    set_limits(emulator, pathRulesPerPathMatcher=2)
    fingerprint = c.url_maps.get(project=PROJECT, url_map="lb").fingerprint
    patch = compute_v1.UrlMap(description="small change", fingerprint=fingerprint)
    with pytest.raises(exceptions.GoogleAPICallError) as err:
        c.url_maps.patch(project=PROJECT, url_map="lb", url_map_resource=patch)
    assert error_message(err.value) == _too_large(
        "resource.pathMatchers[0].pathRules", "maximum size 2 element(s); actual size 3."
    )
    stored = c.url_maps.get(project=PROJECT, url_map="lb")
    assert (stored.description, len(stored.path_matchers[0].path_rules)) == ("", 3)


def padded(size: int, name: str = "lb") -> dict[str, Any]:
    """A map whose compact JSON is exactly `size` bytes, padded in its description."""
    body = url_map([matcher()], name=name, description="")
    base = len(json_compact(body))
    return {**body, "description": "x" * (size - base)}


def json_compact(body: dict[str, Any]) -> str:
    return json.dumps(body, separators=(",", ":"))


def test_the_default_size_limit_is_64_kb_of_compact_json(emulator: EmulatorServer, backends: None) -> None:
    assert len(json_compact(padded(65536))) == 65536
    assert raw(emulator, "POST", "global/urlMaps", json=padded(65536)).status_code == 200
    reply = raw(emulator, "POST", "global/urlMaps", json=padded(65537, name="lb2"))
    assert reply.status_code == 413
    error = reply.json()["error"]
    message = _too_large("resource", "maximum size 65536 bytes; actual size 65537.")
    assert error == {
        "code": 413,
        "message": message,
        "errors": [{"message": message, "domain": "global", "reason": "fieldSizeTooLarge"}],
    }


def test_the_size_limit_counts_what_the_client_sent(emulator: EmulatorServer, backends: None) -> None:
    body = url_map([matcher(pathRules=path_rules(2))], description="sized")
    set_limits(emulator, bytes=1)
    probe = error_message(refused(emulator, body))
    match = re.fullmatch(r"Value for field 'resource' is too large: maximum size 1 bytes; actual size (\d+)\.", probe)
    assert match, probe
    size = int(match[1])
    assert size == len(json_compact(body))  # the client sends the map as written, nothing more

    set_limits(emulator, bytes=size - 1)
    over = _too_large("resource", f"maximum size {size - 1} bytes; actual size {size}.")
    assert error_message(refused(emulator, body)) == over
    assert list(validate(emulator, body).load_errors) == [over]
    set_limits(emulator, bytes=size)
    insert(emulator, body)
