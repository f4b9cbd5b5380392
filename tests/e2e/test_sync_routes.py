"""sync_routes end to end: labels on Cloud Run services become routes on the shared load balancer."""

from __future__ import annotations

import json

from devstack.stack import LocalStack
from shared.naming import backend_service_name, neg_name

from .support import (
    create_service,
    decisions,
    delete_service,
    get_service,
    routing_table,
    runway_objects,
    settle,
    update_labels,
    url_map,
    wait_for_decisions,
)

P = "runway-demo"


def backend(service: str) -> str:
    return backend_service_name("runway", P, service)


def test_labeled_service_gets_its_route(stack: LocalStack) -> None:
    create_service(stack, "hello", labels={"public-route": "true"})
    settle(stack)

    assert routing_table(stack) == {("*", "/hello"): backend("hello"), ("*", "/hello/*"): backend("hello")}
    assert runway_objects(stack) == {
        "backend_services": [backend("hello")],
        "negs": [f"us-central1/{neg_name('runway', P, 'us-central1', 'hello')}"],
    }
    [registered] = wait_for_decisions(stack, function="sync_routes", action="route_registered")
    assert registered["paths"] == ["/hello", "/hello/*"]
    assert registered["host"] == "default" and registered["backend"] == backend("hello")
    # The create event and the event of enforce_ingress's own update race to register; either may win.
    assert registered["principal"] in {"alice@example.com", "developer@example.com"}
    # Cloud Armor is attached to what runway made.
    from shared import clients

    bs = clients.compute(stack.url).backend_services.get(project=P, backend_service=backend("hello"))
    assert bs.security_policy.endswith("/securityPolicies/runway-edge")


def test_relabel_moves_the_route_and_unlabel_removes_everything(stack: LocalStack) -> None:
    create_service(stack, "shop", labels={"public-route": "true"})
    settle(stack)
    update_labels(stack, "shop", {"public-route": "store", "public-host": "shop"})
    settle(stack)
    assert routing_table(stack) == {
        (host, path): backend("shop")
        for host in ("shop.example.com", "www.shop.example.com")
        for path in ("/store", "/store/*")
    }
    updated = wait_for_decisions(stack, function="sync_routes", action="route_updated")
    assert len(updated) == 1, updated  # the follow-up event of enforce_ingress's update is route_unchanged
    assert (updated[0]["host"], updated[0]["paths"]) == ("shop", ["/store", "/store/*"])
    assert updated[0]["hosts"] == ["shop.example.com", "www.shop.example.com"]

    update_labels(stack, "shop", {})
    settle(stack)
    assert routing_table(stack) == {}
    assert runway_objects(stack) == {"backend_services": [], "negs": []}
    umap = url_map(stack)
    assert umap.get("hostRules", []) == [] and umap.get("pathMatchers", []) == []
    [removed] = wait_for_decisions(stack, function="sync_routes", action="route_removed")
    assert removed["paths"] == ["/store", "/store/*"]


def test_deleting_the_service_removes_its_routes(stack: LocalStack) -> None:
    create_service(stack, "gone", labels={"public-route": "true"})
    settle(stack)
    delete_service(stack, "gone")
    settle(stack)
    assert routing_table(stack) == {}
    assert runway_objects(stack) == {"backend_services": [], "negs": []}
    [removed] = wait_for_decisions(
        stack, function="sync_routes", action="route_removed", method="google.cloud.run.v2.Services.DeleteService"
    )
    assert removed["paths"] == ["/gone", "/gone/*"]
    assert removed["service"].endswith("/services/gone") and removed["backend"] == backend("gone")


def test_second_claimant_of_a_path_gets_a_conflict_and_the_holder_keeps_it(stack: LocalStack) -> None:
    create_service(stack, "catalog", labels={"public-route": "items"})
    settle(stack)
    create_service(stack, "intruder", labels={"public-route": "items"}, principal="mallory@example.com")
    settle(stack)

    assert set(routing_table(stack).values()) == {backend("catalog")}
    assert runway_objects(stack)["backend_services"] == [backend("catalog")]
    # One conflict, logged for the intruder's create; the later events about it (enforce_ingress's update of its
    # ingress, runway's own status write) find it already reported on the service and log it as unchanged.
    [conflict] = wait_for_decisions(stack, function="sync_routes", action="route_conflict")
    assert conflict["service"].endswith("/services/intruder")
    assert conflict["holder"] == f"{P}/catalog"
    assert conflict["paths"] == ["/items", "/items/*"]
    assert conflict["severity"] == "WARNING"
    assert conflict["principal"] == "mallory@example.com"
    again = [d for d in decisions(stack, function="sync_routes", action="route_unchanged") if d.get("finding")]
    assert again and {d["finding"] for d in again} == {"conflict"}
    status = get_service(stack, "intruder")
    assert status.labels["runway-route"] == "conflict"
    assert f"{P}/catalog" in json.loads(status.annotations["runway.dev/route-status"])["holder"]


def test_invalid_label_is_refused_and_changes_nothing(stack: LocalStack) -> None:
    create_service(stack, "oddball", labels={"public-route": "true", "public-host": "nowhere"})
    settle(stack)
    assert routing_table(stack) == {}
    [invalid] = wait_for_decisions(stack, function="sync_routes", action="route_invalid")  # once per state
    assert "'nowhere'" in invalid["reason"] and invalid["severity"] == "WARNING"
    assert get_service(stack, "oddball").labels["runway-route"] == "invalid"


def test_two_regions_share_one_backend_with_two_negs(stack: LocalStack) -> None:
    create_service(stack, "global-api", labels={"public-route": "api"}, region="us-central1")
    create_service(stack, "global-api", labels={"public-route": "api"}, region="europe-west1")
    settle(stack)

    objects = runway_objects(stack)
    assert objects["backend_services"] == [backend("global-api")]
    assert objects["negs"] == sorted(
        f"{r}/{neg_name('runway', P, r, 'global-api')}" for r in ("us-central1", "europe-west1")
    )
    assert set(routing_table(stack).values()) == {backend("global-api")}

    delete_service(stack, "global-api", region="europe-west1")
    settle(stack)
    assert runway_objects(stack)["negs"] == [f"us-central1/{neg_name('runway', P, 'us-central1', 'global-api')}"]
    assert set(routing_table(stack).values()) == {backend("global-api")}
    assert not decisions(stack, action="api_error")
