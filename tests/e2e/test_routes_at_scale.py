"""The done-when of the routes issue: economy, a 50-service burst, and convergence under faults."""

from __future__ import annotations

import concurrent.futures
import io
import re
from collections.abc import Iterator

import pytest
import requests

from devstack.stack import LocalStack
from shared import clients
from shared.config import Config
from shared.decision_log import DecisionLog
from shared.naming import backend_service_name, neg_name
from shared.sweep import sweep

from .support import (
    api_calls,
    audit_entries,
    create_service,
    decisions,
    faults,
    mark,
    redeliver,
    routing_table,
    runway_objects,
    settle,
    update_labels,
)

COMPUTE = re.compile(r"^/compute/v1/")
P = "runway-demo"


def compute_writes(stack: LocalStack, since: int) -> list[dict]:
    return [c for c in api_calls(stack, since) if COMPUTE.search(c["path"]) and c["write"] and c["status"] < 400]


@pytest.fixture(scope="module")
def routes_only() -> Iterator[LocalStack]:
    """sync_routes alone, without Cloud Armor: each create is exactly one event for it, so its calls can
    be counted without enforce_ingress's follow-up update racing it."""
    with LocalStack(functions=("sync_routes",), env={"RUNWAY_SECURITY_POLICY": ""}) as stack:
        yield stack


def test_new_route_costs_three_writes_and_a_converged_event_none(routes_only: LocalStack) -> None:
    stack = routes_only
    stack.reset()
    start = mark(stack)
    create_service(stack, "lean", labels={"public-route": "true"})
    settle(stack)
    writes = compute_writes(stack, start)
    kinds = sorted(re.search(r"/(?:global|regions/[^/]+)/([^/]+)", w["path"]).group(1) for w in writes)
    assert kinds == ["backendServices", "networkEndpointGroups", "urlMaps"], writes
    assert set(routing_table(stack).values()) == {backend_service_name("runway", P, "lean")}

    [create] = audit_entries(stack, "google.cloud.run.v2.Services.CreateService")
    start = mark(stack)
    assert redeliver(stack, "sync_routes", create) == 200
    calls = [c for c in api_calls(stack, start) if not c["path"].startswith("/v2/entries")]  # the log agent
    assert [c for c in calls if c["write"]] == []
    assert len(calls) <= 4, [(c["method"], c["path"]) for c in calls]


def test_fifty_services_labeled_at_once_converge(stack: LocalStack) -> None:
    faults(stack, {"operationDelay": 0.2})
    names = [f"burst-{i:02d}" for i in range(50)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=25) as pool:
        list(pool.map(lambda n: create_service(stack, n, labels={"public-route": "true"}), names))
    settle(stack)

    table = routing_table(stack)
    assert len(table) == 100
    for name in names:
        bs = backend_service_name("runway", P, name)
        assert table[("*", f"/{name}")] == bs and table[("*", f"/{name}/*")] == bs
    assert len(runway_objects(stack)["backend_services"]) == 50
    # Contention (412s, a NEG still being created by a concurrent invocation) is re-planned, never an error.
    assert decisions(stack, action="api_error") == []

    # Every event delivered once more: nothing left to do, nothing written.
    start = mark(stack)
    entries = audit_entries(stack)
    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(lambda e: redeliver(stack, "sync_routes", e), entries))
        statuses += list(pool.map(lambda e: redeliver(stack, "enforce_ingress", e), entries))
    assert set(statuses) == {200}
    assert [c for c in api_calls(stack, start) if c["write"] and not c["path"].startswith("/v2/entries")] == []


def test_faults_and_duplicates_still_converge_with_nothing_left_behind(stack: LocalStack) -> None:
    # 10 % of Compute writes fail with 503 and every event is delivered twice.
    writes_fail = [
        {"method": m, "path": "^/compute/v1/", "status": 503, "rate": 0.1} for m in ("POST", "PUT", "PATCH", "DELETE")
    ]
    faults(stack, {"duplicateDeliveries": 1, "seed": 7, "rules": writes_fail})
    names = [f"rough-{i}" for i in range(8)]
    for name in names:
        create_service(stack, name, labels={"public-route": "true"})
    # Unlabel half of them, so removal runs under the same faults.
    for name in names[:4]:
        update_labels(stack, name, {})
    settle(stack)
    requests.delete(f"{stack.url}/_emulator/faults", timeout=10).raise_for_status()

    config = Config.from_env(
        {
            "RUNWAY_API_ENDPOINT": stack.url,
            "RUNWAY_URL_MAP": "runway-lb",
            "RUNWAY_PROJECT": P,
            "RUNWAY_REGIONS": "us-central1,europe-west1",
            "RUNWAY_SECURITY_POLICY": "runway-edge",
            "RUNWAY_DRY_RUN": "true",
        }
    )
    result = sweep(
        config=config,
        log=DecisionLog(function="test", stream=io.StringIO(), dry_run=True),
        run=clients.run_services(stack.url),
        compute=clients.compute(stack.url),
    )
    assert result.plan.converged, [c.why for c in result.plan.changes]
    objects = runway_objects(stack)
    assert objects["backend_services"] == sorted(backend_service_name("runway", P, n) for n in names[4:])
    assert objects["negs"] == sorted(f"us-central1/{neg_name('runway', P, 'us-central1', n)}" for n in names[4:])
    assert set(routing_table(stack).values()) == {backend_service_name("runway", P, n) for n in names[4:]}
    assert decisions(stack, action="api_error"), "the injected 503s were seen and retried"
