"""Sharp edges a red-team pass found (issue 14), through the whole local stack: a service deleted while its
ingress is being fixed, and two runway installations sharing one load balancer."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.stack import LocalStack
from shared import clients
from shared.api_compute import list_backend_services, list_negs, owned
from shared.naming import backend_service_name

from .support import (
    api_calls,
    create_service,
    decisions,
    delete_service,
    faults,
    mark,
    routing_table,
    settle,
)

ROOT = Path(__file__).resolve().parents[2]
P = "runway-demo"


def test_a_service_deleted_while_its_ingress_is_fixed_is_ignored_not_an_error(stack: LocalStack) -> None:
    """The race, driven by a fault instead of timing luck: the PATCH that narrows ingress answers what production
    answers once the service is gone (404), as if it was deleted between runway's read and its write."""
    faults(
        stack,
        {
            "rules": [
                {
                    "method": "PATCH",
                    "path": "/v2/projects/runway-demo/locations/us-central1/services/doomed$",
                    "status": 404,
                    "count": 1,
                    "message": "Resource 'doomed' of kind 'SERVICE' in region 'us-central1' in project "
                    "'runway-demo' does not exist.",
                }
            ]
        },
    )
    create_service(stack, "doomed")
    settle(stack)
    delete_service(stack, "doomed")
    settle(stack)
    ingress = decisions(stack, function="enforce_ingress")
    assert [d["action"] for d in ingress] == ["event_ignored"] * len(ingress)
    gone = [d for d in ingress if d.get("reason") == "service not found"]
    assert len(gone) == 1, ingress
    assert decisions(stack, action="api_error") == []
    report = subprocess.run(
        [sys.executable, "main.py", "report", "--since", "1h", "--format", "json"],
        cwd=ROOT,
        env={**stack.function_env(), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout)["counts"]["api_error"] == 0


@pytest.fixture(scope="module")
def two_installations() -> Iterator[LocalStack]:
    """`runway` (the default owner) and `team-b` share the project and the URL map; each has its sync_routes."""
    with LocalStack(functions=("sync_routes", "reconcile_all"), installations={"team-b": {}}) as stack:
        yield stack


def test_two_installations_partition_services_by_label(two_installations: LocalStack) -> None:
    stack = two_installations
    stack.reset()
    private = "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"  # no enforce_ingress here: nothing for a sweep to fix
    create_service(stack, "shop", ingress=private, labels={"public-route": "true"})  # no runway-owner: the default
    create_service(stack, "books", ingress=private, labels={"public-route": "true", "runway-owner": "team-b"})
    settle(stack)
    start = mark(stack)

    table = routing_table(stack)
    assert table[("*", "/shop")] == backend_service_name("runway", P, "shop")
    assert table[("*", "/books")] == backend_service_name("team-b", P, "books")
    assert decisions(stack, action="route_conflict") == []
    ignored = [d for d in decisions(stack, action="event_ignored") if d["function"] == "sync_routes"]
    assert {d["service"].rsplit("/", 1)[1] for d in ignored} == {"shop", "books"}
    # The other installation ignores each service as not its own (the service's create, and the owner's status
    # write); every other event_ignored is the other audit entry of a write, or an installation's own write.
    partitioned = {(d["service"].rsplit("/", 1)[1], d["reason"]) for d in ignored if "selects" in d["reason"]}
    assert partitioned == {
        ("shop", f"{P}/shop selects installation 'runway'"),
        ("books", f"{P}/books selects installation 'team-b'"),
    }
    assert all(
        "selects" in d["reason"] or "audit entry of operation" in d["reason"] or "own identity" in d["reason"]
        for d in ignored
    )

    compute = clients.compute(stack.url)
    backends = list_backend_services(compute, P)
    assert [b["name"] for b in owned(backends, "runway")] == [backend_service_name("runway", P, "shop")]
    assert [b["name"] for b in owned(backends, "team-b")] == [backend_service_name("team-b", P, "books")]
    negs = list_negs(compute, P, stack.regions)
    assert len(owned(negs, "runway")) == len(owned(negs, "team-b")) == 1

    # No installation wrote the other's objects: every write that names an object names its own (an insert names
    # its collection; what it made is team-b's, by the markers above), or is the shared URL map.
    team_b_writes = [
        c
        for c in api_calls(stack)
        if c["write"] and c["principal"] == stack.identity("sync_routes@team-b") and "/compute/" in c["path"]
    ]
    inserts = ("/networkEndpointGroups", "/backendServices")
    assert team_b_writes and all(
        "runway-books-" in c["path"] or "/urlMaps/" in c["path"] or c["path"].endswith(inserts) for c in team_b_writes
    ), [(c["method"], c["path"]) for c in team_b_writes]

    for owner in ("runway", "team-b"):
        env = {**stack.function_env(), "RUNWAY_OWNER_ID": owner, "PATH": "/usr/bin:/bin"}
        dry_run = subprocess.run(
            [sys.executable, "main.py", "reconcile", "--dry-run"], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert dry_run.returncode == 0, f"{owner}: {dry_run.stdout}\n{dry_run.stderr}"
    assert [c for c in api_calls(stack, start) if c["write"] and not c["path"].startswith("/v2/entries")] == []
