"""The URL-map writer against the emulator: claims of one process committed in groups, and two processes (two
function instances, each with its own writer) racing on the fingerprint without an error."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import gc
import threading
import weakref
from collections.abc import Iterator

import pytest
import requests

from devstack.bootstrap import create_load_balancer
from emulator import EmulatorServer
from shared import clients, errors
from shared.api_compute import get_url_map
from shared.apply_objects import apply_in_order
from shared.apply_url_map import MapUnwritable, UrlMapWriter
from shared.model import Change, Claim, DesiredRoute, RuleState, ServiceRef
from shared.naming import service_backend_path
from shared.plan_objects import plan_objects
from shared.plan_url_map import MapSettings

P = "runway-demo"
US = "us-central1"
SETTINGS = MapSettings(project=P, url_map="runway-lb", hosts={"default": ("*",)})


@pytest.fixture
def lb(emulator: EmulatorServer) -> Iterator[EmulatorServer]:
    create_load_balancer(emulator.url, P)
    yield emulator


def made(emulator: EmulatorServer, names: list[str]) -> list[Claim]:
    """Each service's objects made (as an event would before its claim), and its claim."""
    compute = clients.compute(emulator.url)
    claims = []
    for name in names:
        ref = ServiceRef(P, name)
        route = DesiredRoute(P, name, "default", ("*",), (f"/{name}", f"/{name}/*"), frozenset({US}))
        objects = plan_objects(ref, route, None, {}, owner_id="runway", security_policy=None)
        done: list[Change] = []
        apply_in_order(compute, objects.before, "runway", done)
        claims.append(Claim(ref, service_backend_path("runway", ref), route))
    return claims


def url_map_calls(emulator: EmulatorServer) -> list[dict]:
    calls = requests.get(f"{emulator.url}/_emulator/requests", timeout=10).json()["requests"]
    return [c for c in calls if "/urlMaps/runway-lb" in c["path"] and c["method"] in ("PATCH", "PUT")]


def test_concurrent_claims_of_one_process_are_committed_in_groups(lb: EmulatorServer) -> None:
    claims = made(lb, [f"svc-{i:02d}" for i in range(24)])
    requests.post(f"{lb.url}/_emulator/faults", json={"operationDelay": 0.3}, timeout=10).raise_for_status()
    writer = UrlMapWriter(clients.compute(lb.url), SETTINGS)
    start = threading.Barrier(len(claims))

    def submit(claim: Claim) -> RuleState:
        start.wait()
        return writer.submit([claim]).results[claim.ref].state

    with concurrent.futures.ThreadPoolExecutor(max_workers=len(claims)) as pool:
        states = list(pool.map(submit, claims))
    assert states == [RuleState.ADDED] * len(claims)
    writes = [c for c in url_map_calls(lb) if c["status"] < 400]
    # Every claim waits while a write is in flight, so a group commits many at once.
    assert 1 <= len(writes) < len(claims) // 2, len(writes)
    paths = {p for m in get_url_map(clients.compute(lb.url), P, "runway-lb")["pathMatchers"]
             for r in m["pathRules"] for p in r["paths"]}  # fmt: skip
    assert paths == {f"/svc-{i:02d}{tail}" for i in range(24) for tail in ("", "/*")}


def test_two_instances_race_on_the_fingerprint_and_both_publish(lb: EmulatorServer) -> None:
    claims = made(lb, [f"race-{i:02d}" for i in range(16)])
    requests.post(f"{lb.url}/_emulator/faults", json={"operationDelay": 0.2}, timeout=10).raise_for_status()
    instances = [UrlMapWriter(clients.compute(lb.url), SETTINGS) for _ in range(2)]
    start = threading.Barrier(len(claims))

    def submit(index: int) -> RuleState:
        start.wait()
        claim = claims[index]
        return instances[index % 2].submit([claim]).results[claim.ref].state

    with concurrent.futures.ThreadPoolExecutor(max_workers=len(claims)) as pool:
        states = list(pool.map(submit, range(len(claims))))
    assert states == [RuleState.ADDED] * len(claims)
    paths = {p for m in get_url_map(clients.compute(lb.url), P, "runway-lb")["pathMatchers"]
             for r in m["pathRules"] for p in r["paths"]}  # fmt: skip
    assert paths == {f"/race-{i:02d}{tail}" for i in range(16) for tail in ("", "/*")}


def test_a_claim_google_refuses_is_refused_alone_and_the_rest_committed(lb: EmulatorServer) -> None:
    """Google's validation (here the emulator's path-rule limit lowered to 3) refuses a candidate; bisection finds
    the claims it refuses and commits the others in the same write."""
    claims = made(lb, [f"v-{i}" for i in range(5)])
    requests.post(
        f"{lb.url}/_emulator/settings", json={"urlMapLimits": {"pathRulesPerPathMatcher": 3}}, timeout=10
    ).raise_for_status()
    committed = UrlMapWriter(clients.compute(lb.url), SETTINGS).commit_now(claims)
    states = {ref.service: result.state for ref, result in committed.results.items()}
    assert sorted(states.values()).count(RuleState.ADDED) == 3
    refused = [r for r in committed.results.values() if r.state == RuleState.REFUSED]
    assert len(refused) == 2
    assert all("maximum size 3 element(s)" in (r.reason or "") for r in refused)
    assert len([c for c in url_map_calls(lb) if c["status"] < 400]) == 1


def faults(emulator: EmulatorServer, body: dict) -> None:
    requests.post(f"{emulator.url}/_emulator/faults", json=body, timeout=10).raise_for_status()


DENIED = "Required 'compute.urlMaps.update' permission for 'projects/runway-demo/global/urlMaps/runway-lb'"


def test_a_write_google_forbids_is_the_error_it_is_and_refuses_no_one(lb: EmulatorServer) -> None:
    """A 403 on the patch is about runway's grant, not about any rule: no bisection, no claim refused."""
    claims = made(lb, [f"deny-{i}" for i in range(3)])
    faults(lb, {"rules": [{"method": "PATCH", "path": "/urlMaps/", "status": 403, "message": DENIED}]})
    before = get_url_map(clients.compute(lb.url), P, "runway-lb")
    with pytest.raises(errors.PermissionDenied, match=r"compute\.urlMaps\.update"):
        UrlMapWriter(clients.compute(lb.url), SETTINGS).commit_now(claims)
    assert len(url_map_calls(lb)) == 1  # the one write, not a write per bisection step
    assert get_url_map(clients.compute(lb.url), P, "runway-lb") == before


def test_a_map_google_refuses_without_any_new_rule_is_the_writes_failure(lb: EmulatorServer) -> None:
    """The live map already breaks a limit (here lowered under it): Google refuses every candidate, with or without
    the new rule, so the new rule is not the one refused: the write fails with Google's message."""
    writer = UrlMapWriter(clients.compute(lb.url), SETTINGS)
    first = made(lb, ["old-0", "old-1"])
    assert {r.state for r in writer.commit_now(first).results.values()} == {RuleState.ADDED}
    requests.post(
        f"{lb.url}/_emulator/settings", json={"urlMapLimits": {"pathRulesPerPathMatcher": 1}}, timeout=10
    ).raise_for_status()
    before = get_url_map(clients.compute(lb.url), P, "runway-lb")
    with pytest.raises(errors.InvalidRequest, match="maximum size 1 element"):
        writer.commit_now(made(lb, ["newcomer"]))
    assert get_url_map(clients.compute(lb.url), P, "runway-lb") == before
    assert [c for c in url_map_calls(lb) if c["status"] >= 400] == []  # found by validation: no write tried


def test_a_probe_write_that_loses_the_fingerprint_plans_again(lb: EmulatorServer) -> None:
    """A patch Google refuses although validation passed is bisected with writes; when such a write loses the
    fingerprint to another instance (412), the group is planned again on the new map, not failed."""
    claims = made(lb, ["probe-0", "probe-1"])
    refusal = {"method": "PATCH", "path": "/urlMaps/", "status": 400, "count": 1, "message": "Invalid value"}
    lost = {"method": "PATCH", "path": "/urlMaps/", "status": 412, "count": 1, "reason": "conditionNotMet"}
    faults(lb, {"rules": [refusal, lost]})
    committed = UrlMapWriter(clients.compute(lb.url), SETTINGS).commit_now(claims)
    assert {r.state for r in committed.results.values()} == {RuleState.ADDED}
    assert committed.refused_412 == 1
    assert [c["status"] for c in url_map_calls(lb)] == [400, 412, 200]


def test_the_writer_keeps_no_outcome_once_its_submitters_have_it(lb: EmulatorServer) -> None:
    """A group's outcome (its write carries the whole map body) belongs to its submitters: once they have it the
    writer holds none of it, whether the group succeeded or failed, and a later submit gets a fresh result."""
    writer = UrlMapWriter(clients.compute(lb.url), SETTINGS)
    [claim] = made(lb, ["kept"])
    committed = writer.submit([claim])
    assert committed.change is not None
    change = weakref.ref(committed.change)
    del committed
    gc.collect()
    assert change() is None

    faults(lb, {"rules": [{"method": "GET", "path": "/urlMaps/", "status": 403, "count": 1, "message": DENIED}]})
    released = dataclasses.replace(claim, route=None)
    with pytest.raises(errors.RunwayApiError, match="403"):
        writer.submit([released])
    assert writer.submit([released]).results[claim.ref].state == RuleState.REMOVED


def test_a_group_write_google_forbids_reaches_each_claimant_once_as_retryable(lb: EmulatorServer) -> None:
    """A permanent failure of the group's write that is about the map or runway's grant, not about any claim, is
    handed to each claimant of the group once, as a temporary error of its own (Eventarc delivers each event again
    until the platform team fixes it); no claim is refused. Once fixed, the same claims are written."""
    claims = made(lb, [f"group-{i}" for i in range(8)])
    faults(
        lb,
        {"operationDelay": 0.2, "rules": [{"method": "PATCH", "path": "/urlMaps/", "status": 403, "message": DENIED}]},
    )
    before = get_url_map(clients.compute(lb.url), P, "runway-lb")
    writer = UrlMapWriter(clients.compute(lb.url), SETTINGS)
    start = threading.Barrier(len(claims))

    def submit(claim: Claim) -> BaseException | RuleState:
        start.wait()
        try:
            return writer.submit([claim]).results[claim.ref].state
        except Exception as exc:
            return exc

    with concurrent.futures.ThreadPoolExecutor(max_workers=len(claims)) as pool:
        failures = list(pool.map(submit, claims))
    assert all(isinstance(f, MapUnwritable) for f in failures), failures
    assert len({id(f) for f in failures}) == len(claims)
    for failure in failures:
        assert isinstance(failure, MapUnwritable) and failure.temporary and failure.code == 403
        assert isinstance(failure.__cause__, errors.PermissionDenied) and "compute.urlMaps.update" in str(failure)
    assert get_url_map(clients.compute(lb.url), P, "runway-lb") == before

    requests.delete(f"{lb.url}/_emulator/faults", timeout=10).raise_for_status()
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(claims)) as pool:
        start.reset()
        assert list(pool.map(submit, claims)) == [RuleState.ADDED] * len(claims)
