"""Compute emulator: URL maps (validation, fingerprints, validate, tests) and concurrent writers."""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import pytest
import requests
from google.api_core import exceptions
from google.cloud import compute_v1

from emulator import EmulatorServer

from .test_compute_support import (
    BASE,
    PROJECT,
    clients,
    error_message,
    from_wire,
    make_backend_service,
    make_url_map,
    raw,
    url_map_resource,
)

BS = f"{BASE}projects/{PROJECT}/global/backendServices/bs-hello"


@pytest.fixture
def backend(emulator: EmulatorServer) -> Any:
    return make_backend_service(clients(emulator))


def insert_map(emulator: EmulatorServer, body: dict[str, Any]) -> None:
    clients(emulator).url_maps.insert(project=PROJECT, url_map_resource=from_wire(compute_v1.UrlMap, body))


def test_url_map_lifecycle_stores_full_urls(emulator: EmulatorServer, backend: Any) -> None:
    c = clients(emulator)
    um = make_url_map(
        c,
        "lb",
        "global/backendServices/bs-hello",
        {"projects/runway-test/global/backendServices/bs-hello": ["/a", "/a/*"]},
    )
    assert um.kind == "compute#urlMap"
    assert um.self_link == f"{BASE}projects/{PROJECT}/global/urlMaps/lb"
    assert um.default_service == BS
    assert um.path_matchers[0].default_service == BS
    assert um.path_matchers[0].path_rules[0].service == BS
    assert um.fingerprint

    um.path_matchers[0].path_rules.append(compute_v1.PathRule(paths=["/b"], service=BS))
    c.url_maps.update(project=PROJECT, url_map="lb", url_map_resource=um).result()
    updated = c.url_maps.get(project=PROJECT, url_map="lb")
    assert [list(r.paths) for r in updated.path_matchers[0].path_rules] == [["/a", "/a/*"], ["/b"]]
    assert updated.fingerprint != um.fingerprint
    assert updated.id == um.id and updated.creation_timestamp == um.creation_timestamp

    # Patch replaces arrays wholesale (JSON merge patch). The client omits empty lists, so clearing one
    # takes an update, never a patch.
    matcher = compute_v1.PathMatcher(
        name="runway-default", default_service=BS, path_rules=[compute_v1.PathRule(paths=["/b"], service=BS)]
    )
    patch = compute_v1.UrlMap(description="shared", path_matchers=[matcher], fingerprint=updated.fingerprint)
    c.url_maps.patch(project=PROJECT, url_map="lb", url_map_resource=patch).result()
    patched = c.url_maps.get(project=PROJECT, url_map="lb")
    assert (patched.description, patched.default_service, len(patched.host_rules)) == ("shared", BS, 1)
    assert [list(r.paths) for r in patched.path_matchers[0].path_rules] == [["/b"]]
    c.url_maps.delete(project=PROJECT, url_map="lb").result()
    assert list(c.url_maps.list(project=PROJECT)) == []


def test_stale_fingerprint_is_412_precondition_failed(emulator: EmulatorServer, backend: Any) -> None:
    c = clients(emulator)
    first = make_url_map(c, "lb", BS)
    second = c.url_maps.get(project=PROJECT, url_map="lb")
    first.description = "first writer"
    c.url_maps.update(project=PROJECT, url_map="lb", url_map_resource=first).result()
    second.description = "second writer"
    with pytest.raises(exceptions.PreconditionFailed) as err:
        c.url_maps.update(project=PROJECT, url_map="lb", url_map_resource=second)
    assert error_message(err.value) == "Precondition Failed"
    assert err.value.errors[0]["reason"] == "conditionNotMet"
    assert c.url_maps.get(project=PROJECT, url_map="lb").description == "first writer"


def test_missing_backend_service_is_refused_with_404(emulator: EmulatorServer) -> None:
    c = clients(emulator)
    with pytest.raises(exceptions.NotFound) as err:
        make_url_map(c, "lb", BS)
    assert (
        error_message(err.value) == f"The resource 'projects/{PROJECT}/global/backendServices/bs-hello' was not found"
    )
    assert err.value.errors[0]["reason"] == "notFound"
    assert list(c.url_maps.list(project=PROJECT)) == []


def _map(path_rules: list[dict[str, Any]] | None = None, hosts: list[list[str]] | None = None, **top: Any) -> dict:
    host_rules = [{"hosts": h, "pathMatcher": "pm"} for h in (hosts or [["*"]])]
    matcher = {"name": "pm", "defaultService": BS, "pathRules": path_rules or []}
    return {"name": "lb", "defaultService": BS, "hostRules": host_rules, "pathMatchers": [matcher], **top}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(
            _map([{"paths": ["/ok"], "service": BS}, {"paths": ["/a?b"], "service": BS}]),
            "Invalid value for field 'resource.pathMatchers[0].pathRules[1].paths[0]': '/a?b'. "
            "A path must not contain '?' or '#'.",
            id="query-in-path",
        ),
        pytest.param(
            _map([{"paths": ["/a*"], "service": BS}]),
            "Invalid value for field 'resource.pathMatchers[0].pathRules[0].paths[0]': '/a*'. "
            "The only place a '*' is allowed is at the end of a path, following a '/'.",
            id="star-not-after-slash",
        ),
        pytest.param(
            _map([{"paths": ["/*/x"], "service": BS}]),
            "Invalid value for field 'resource.pathMatchers[0].pathRules[0].paths[0]': '/*/x'. "
            "The only place a '*' is allowed is at the end of a path, following a '/'.",
            id="star-in-middle",
        ),
        pytest.param(
            _map([{"paths": ["api"], "service": BS}]),
            "Invalid value for field 'resource.pathMatchers[0].pathRules[0].paths[0]': 'api'. "
            "A path must start with '/'.",
            id="no-leading-slash",
        ),
        pytest.param(
            _map([{"paths": ["/a"], "service": BS}, {"paths": ["/b", "/a"], "service": BS}]),
            "Invalid value for field 'resource.pathMatchers[0].pathRules[1].paths[1]': '/a'. "
            "Duplicate path '/a' in path matcher 'pm' (also in pathRules[0]).",
            id="duplicate-path",
        ),
        pytest.param(
            _map(hosts=[["foo*.example.com"]]),
            "Invalid value for field 'resource.hostRules[0].hosts[0]': 'foo*.example.com'. A host must be a valid "
            "hostname with an optional port; '*' may only be the first character and, if followed by anything, "
            "must be followed by '-' or '.'.",
            id="star-not-first",
        ),
        pytest.param(
            _map(hosts=[["*example.com"]]),
            "Invalid value for field 'resource.hostRules[0].hosts[0]': '*example.com'. A host must be a valid "
            "hostname with an optional port; '*' may only be the first character and, if followed by anything, "
            "must be followed by '-' or '.'.",
            id="star-then-letter",
        ),
        pytest.param(
            _map(hosts=[["shop.example.com", "a.example.com:8080"], ["Shop.example.com"]]),
            "Invalid value for field 'resource.hostRules[1].hosts[0]': 'Shop.example.com'. "
            "Host 'Shop.example.com' is already used by resource.hostRules[0].",
            id="host-in-two-rules",
        ),
        pytest.param(
            {**_map(), "hostRules": [{"hosts": ["*"], "pathMatcher": "nope"}]},
            "Invalid value for field 'resource.hostRules[0].pathMatcher': 'nope'. "
            "Path matcher 'nope' is not defined in the URL map.",
            id="unknown-path-matcher",
        ),
        pytest.param(
            {**_map(), "pathMatchers": [{"name": "pm", "defaultService": BS}, {"name": "pm", "defaultService": BS}]},
            "Invalid value for field 'resource.pathMatchers[1].name': 'pm'. Duplicate path matcher name 'pm'.",
            id="duplicate-path-matcher",
        ),
        pytest.param(
            {
                **_map(),
                "pathMatchers": [
                    {
                        "name": "pm",
                        "defaultService": BS,
                        "pathRules": [{"paths": ["/a"], "service": BS}],
                        "routeRules": [{"priority": 1, "service": BS}],
                    }
                ],
            },
            "Invalid value for field 'resource.pathMatchers[0]': only one of pathRules or routeRules may be set.",
            id="path-and-route-rules",
        ),
        pytest.param(
            _map(defaultUrlRedirect={"hostRedirect": "example.com"}),
            "Invalid value for field 'resource': only one of defaultService, defaultUrlRedirect or "
            "defaultRouteAction.weightedBackendServices may be set; got defaultService, defaultUrlRedirect.",
            id="two-defaults",
        ),
        pytest.param(
            _map(defaultService="bs-hello"),
            "Invalid value for field 'resource.defaultService': 'bs-hello'. The URL is malformed.",
            id="bare-name",
        ),
    ],
)
def test_url_map_validation(emulator: EmulatorServer, backend: Any, body: dict, message: str) -> None:
    with pytest.raises(exceptions.BadRequest) as err:
        insert_map(emulator, body)
    assert error_message(err.value) == message
    assert err.value.errors[0]["reason"] == "invalid"


def test_url_map_tests_must_pass(emulator: EmulatorServer, backend: Any) -> None:
    other = make_backend_service(clients(emulator), "bs-other").self_link
    rules = [{"paths": ["/app", "/app/*"], "service": other}]
    ok = _map(
        rules, tests=[{"host": "x.example.com", "path": "/app/v1?q=1", "service": "global/backendServices/bs-other"}]
    )
    insert_map(emulator, ok)
    bad = _map(rules, name="lb2", tests=[{"host": "x.example.com", "path": "/apple", "service": other}])
    with pytest.raises(exceptions.BadRequest) as err:
        insert_map(emulator, bad)
    assert error_message(err.value).endswith(
        f"Test failure: expected service '{other}' for host 'x.example.com' and path '/apple', got '{BS}'."
    )


def test_validate_reports_without_creating(emulator: EmulatorServer, backend: Any) -> None:
    c = clients(emulator)
    good = compute_v1.UrlMapsValidateRequest(
        resource=url_map_resource("lb", BS, {BS: ["/a"]}), load_balancing_schemes=["EXTERNAL_MANAGED"]
    )
    result = c.url_maps.validate(project=PROJECT, url_map="lb", url_maps_validate_request_resource=good).result
    assert (result.load_succeeded, result.test_passed, list(result.load_errors)) == (True, True, [])

    wrong_scheme = compute_v1.UrlMapsValidateRequest(
        resource=url_map_resource("lb", BS), load_balancing_schemes=["EXTERNAL"]
    )
    result = c.url_maps.validate(project=PROJECT, url_map="lb", url_maps_validate_request_resource=wrong_scheme).result
    assert not result.load_succeeded
    assert list(result.load_errors) == [
        f"The backend service 'projects/{PROJECT}/global/backendServices/bs-hello' has load balancing scheme "
        "EXTERNAL_MANAGED, which conflicts with the requested load balancing schemes [EXTERNAL]."
    ]

    body = {"resource": _map([{"paths": ["/a#b"], "service": BS}])}
    reply = raw(emulator, "POST", "global/urlMaps/lb/validate", json=body).json()
    assert reply == {
        "result": {
            "loadSucceeded": False,
            "loadErrors": [
                "Invalid value for field 'resource.pathMatchers[0].pathRules[0].paths[0]': '/a#b'. "
                "A path must not contain '?' or '#'."
            ],
            "testPassed": False,
        }
    }
    failing = {"resource": _map(tests=[{"host": "h", "path": "/", "service": "global/backendServices/bs-hello"}])}
    failing["resource"]["pathMatchers"][0]["pathRules"] = [{"paths": ["/*"], "service": BS}]
    assert raw(emulator, "POST", "global/urlMaps/lb/validate", json=failing).json()["result"]["testPassed"] is True
    assert list(c.url_maps.list(project=PROJECT)) == []


def test_list_paging_and_filter(emulator: EmulatorServer, backend: Any) -> None:
    c = clients(emulator)
    for i in range(5):
        make_url_map(c, f"lb-{i}", BS)
    pager = c.url_maps.list(request=compute_v1.ListUrlMapsRequest(project=PROJECT, max_results=2))
    pages = [[um.name for um in page.items] for page in pager.pages]
    assert pages == [["lb-0", "lb-1"], ["lb-2", "lb-3"], ["lb-4"]]

    first = raw(emulator, "GET", "global/urlMaps", params={"maxResults": 5}).json()
    assert "nextPageToken" not in first and len(first["items"]) == 5
    assert first["kind"] == "compute#urlMapList"
    assert first["selfLink"] == f"{BASE}projects/{PROJECT}/global/urlMaps"

    by_name = c.url_maps.list(request=compute_v1.ListUrlMapsRequest(project=PROJECT, filter='name = "lb-3"'))
    assert [um.name for um in by_name] == ["lb-3"]
    by_regex = raw(emulator, "GET", "global/urlMaps", params={"filter": "name eq lb-[13]"}).json()
    assert [um["name"] for um in by_regex["items"]] == ["lb-1", "lb-3"]
    either = raw(emulator, "GET", "global/urlMaps", params={"filter": '(name = "lb-0") OR (name = lb-4)'}).json()
    assert [um["name"] for um in either["items"]] == ["lb-0", "lb-4"]
    none = raw(emulator, "GET", "global/urlMaps", params={"filter": "name ne lb-.*"}).json()
    assert "items" not in none

    with pytest.raises(exceptions.BadRequest) as err:
        list(c.url_maps.list(request=compute_v1.ListUrlMapsRequest(project=PROJECT, filter="name > lb")))
    assert error_message(err.value) == "Invalid value for field 'filter': 'name > lb'. Invalid list filter expression."
    too_many = raw(emulator, "GET", "global/urlMaps", params={"maxResults": 501})
    assert too_many.status_code == 400
    assert too_many.json()["error"]["message"] == (
        "Invalid value for field 'maxResults': '501'. Must be between 0 and 500."
    )


def test_fifty_concurrent_writers_lose_no_rule(emulator: EmulatorServer, backend: Any) -> None:
    c = clients(emulator)
    make_url_map(c, "lb", BS)
    conflicts = 0
    errors: list[BaseException] = []
    count_lock = threading.Lock()
    start = threading.Barrier(50)

    def add_rule(i: int) -> None:
        nonlocal conflicts
        start.wait()
        for _ in range(200):
            um = c.url_maps.get(project=PROJECT, url_map="lb")
            um.path_matchers[0].path_rules.append(compute_v1.PathRule(paths=[f"/svc-{i}"], service=BS))
            try:
                c.url_maps.patch(project=PROJECT, url_map="lb", url_map_resource=um).result()
                return
            except exceptions.PreconditionFailed:
                with count_lock:
                    conflicts += 1
                time.sleep(random.uniform(0, 0.02))  # jitter, as runway's own retry loop does

    def run(i: int) -> None:
        try:
            add_rule(i)
        except BaseException as exc:  # surfaced below: a thread's exception would otherwise vanish
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    final = c.url_maps.get(project=PROJECT, url_map="lb")
    paths = sorted(p for rule in final.path_matchers[0].path_rules for p in rule.paths)
    assert paths == sorted(f"/svc-{i}" for i in range(50))
    assert conflicts > 0  # the writers did collide; the fingerprint is what kept every rule
    ops = requests.get(f"{emulator.url}/_emulator/state", timeout=5).json()["compute"]["operations"]
    assert sum(op["operationType"] == "patch" for op in ops.values()) == 50
