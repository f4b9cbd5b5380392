"""The sweep and the route applier against the emulator, in the races and corners a review found."""

from __future__ import annotations

import re
import sys
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from google.cloud import compute_v1

from emulator import EmulatorServer
from shared import clients, errors
from shared.api_compute import StaleObservation, list_backend_services, list_negs, owned
from shared.apply_objects import apply_in_order
from shared.apply_url_map import writer_for
from shared.config import ConfigError
from shared.flow_routes import map_settings
from shared.model import DesiredRoute, ServiceRef
from shared.naming import backend_service_name, neg_name
from shared.plan_objects import plan_objects

from .sweep_support import EU, US, P, calls, config, deploy, faults, lb, mark, paths, relabel, run_sweep, sync

__all__ = ["lb"]  # the fixture


def test_a_route_published_while_the_sweep_runs_survives_it(lb: EmulatorServer) -> None:
    cfg = config(lb)
    deploy(lb, "steady", {"public-route": "true"})
    published: list[dict[str, Any]] = []

    def meanwhile(done: int, total: int) -> None:
        if not published:  # an event publishes a new service while the sweep is still on ingress
            published.append(sync(lb, cfg, deploy(lb, "fresh", {"public-route": "true"})))

    run_sweep(lb, cfg, progress=meanwhile)
    assert published[0]["action"] == "route_registered"
    assert set(paths(lb).values()) == {
        backend_service_name("runway", P, "steady"),
        backend_service_name("runway", P, "fresh"),
    }


def test_a_service_published_outside_the_configured_regions_is_kept(lb: EmulatorServer) -> None:
    cfg = config(lb)  # RUNWAY_REGIONS=us-central1 only
    for key in (
        deploy(lb, "euonly", {"public-route": "true"}, EU),
        deploy(lb, "multi", {"public-route": "m"}, US),
        deploy(lb, "multi", {"public-route": "m"}, EU),
    ):
        assert sync(lb, cfg, key)["action"] in {"route_registered", "route_updated"}
    result, _ = run_sweep(lb, cfg)
    assert result.changes == [], [c.why for c in result.changes]
    negs = {n["name"] for n in owned(list_negs(clients.compute(lb.url), P, [EU]), "runway")}
    assert negs == {neg_name("runway", P, EU, "euonly"), neg_name("runway", P, EU, "multi")}


def test_a_foreign_object_on_one_of_our_names_holds_only_that_service(lb: EmulatorServer) -> None:
    cfg = config(lb)
    deploy(lb, "aaa", {"public-route": "true"})
    deploy(lb, "bbb", {"public-route": "true"})
    squatter = compute_v1.NetworkEndpointGroup(
        name=neg_name("runway", P, US, "aaa"),
        network_endpoint_type="SERVERLESS",
        cloud_run=compute_v1.NetworkEndpointGroupCloudRun(service="aaa"),
    )
    clients.compute(lb.url).negs.insert(project=P, region=US, network_endpoint_group_resource=squatter).result()

    _, lines = run_sweep(lb, cfg)
    assert set(paths(lb).values()) == {backend_service_name("runway", P, "bbb")}
    by_service = {line["service"].rsplit("/", 1)[1]: line for line in lines if line["action"].startswith("route_")}
    assert by_service["bbb"]["action"] == "route_registered"
    assert by_service["aaa"]["action"] == "route_conflict"
    assert neg_name("runway", P, US, "aaa") in by_service["aaa"]["holder"]
    again, _ = run_sweep(lb, cfg)  # and the next sweep is not stuck on it either
    assert again.changes == []


def test_fields_this_client_does_not_know_survive_a_route_change(lb: EmulatorServer) -> None:
    cfg = config(lb)
    url = f"{lb.url}/compute/v1/projects/{P}/global/urlMaps/runway-lb"
    current = requests.get(url, timeout=5).json()
    reply = requests.patch(
        url, json={"newerApiField": {"kept": True}, "fingerprint": current["fingerprint"]}, timeout=5
    )
    assert reply.ok, reply.text
    assert sync(lb, cfg, deploy(lb, "hello", {"public-route": "true"}))["action"] == "route_registered"
    after = requests.get(url, timeout=5).json()
    assert after["newerApiField"] == {"kept": True}
    assert after["pathMatchers"][0]["name"] == "runway-default"


def test_a_missing_security_policy_is_a_configuration_error_naming_the_variable(lb: EmulatorServer) -> None:
    cfg = config(lb, RUNWAY_SECURITY_POLICY="runway-edgee")
    with pytest.raises(ConfigError, match="RUNWAY_SECURITY_POLICY: Cloud Armor policy 'runway-edgee' does not exist"):
        sync(lb, cfg, deploy(lb, "armored", {"public-route": "true"}))


def test_a_missing_url_map_is_a_configuration_error_naming_the_variable(lb: EmulatorServer) -> None:
    cfg = config(lb, RUNWAY_URL_MAP="no-such-map")
    with pytest.raises(ConfigError, match="RUNWAY_URL_MAP: URL map 'no-such-map' does not exist"):
        sync(lb, cfg, deploy(lb, "lost", {"public-route": "true"}))


def test_an_object_removed_under_the_plan_makes_it_observe_again(lb: EmulatorServer) -> None:
    cfg = config(lb)
    key = deploy(lb, "flip", {"public-route": "true"})
    compute = clients.compute(lb.url)
    route = DesiredRoute(P, "flip", "default", ("*",), ("/flip", "/flip/*"), frozenset({US}))
    objects = plan_objects(ServiceRef(P, "flip"), route, None, {}, owner_id="runway", security_policy="runway-edge")
    assert [c.kind for c in objects.before][:2] == ["neg", "backend_service"]
    done: list = []
    apply_in_order(compute, objects.before[:1], "runway", done)
    # A concurrent removal (the label flipped off and on) deletes the NEG the rest of the plan builds on.
    compute.negs.delete(project=P, region=US, network_endpoint_group=objects.before[0].name).result()
    with pytest.raises(StaleObservation):
        apply_in_order(compute, objects.before[1:], "runway", done)
    assert sync(lb, cfg, key)["action"] == "route_registered"
    assert backend_service_name("runway", P, "flip") in {b["name"] for b in list_backend_services(compute, P)}


def test_a_failed_operation_is_a_temporary_error_and_the_redelivery_converges(lb: EmulatorServer) -> None:
    cfg = config(lb)
    key = deploy(lb, "bumpy", {"public-route": "true"})
    rule = {"method": "POST", "path": "/networkEndpointGroups$", "status": 503, "count": 1, "asynchronous": True}
    requests.post(f"{lb.url}/_emulator/faults", json={"rules": [rule]}, timeout=5).raise_for_status()
    with pytest.raises(errors.ServerError, match=r"compute\.regionNetworkEndpointGroups\.insert"):
        sync(lb, cfg, key)
    assert paths(lb) == {}
    assert sync(lb, cfg, key)["action"] == "route_registered"


def test_an_in_use_failure_reported_by_the_operation_is_temporary(lb: EmulatorServer) -> None:
    cfg = config(lb)
    key = deploy(lb, "sticky", {"public-route": "true"})
    assert sync(lb, cfg, key)["action"] == "route_registered"
    clients.run_services(lb.url).delete_service(name=key.name).result()
    rule = {
        "method": "DELETE",
        "path": "/backendServices/",
        "status": 400,
        "count": 1,
        "asynchronous": True,
        "reason": "resourceInUseByAnotherResource",
        "message": "The backend service is in use.",
    }
    requests.post(f"{lb.url}/_emulator/faults", json={"rules": [rule]}, timeout=5).raise_for_status()
    with pytest.raises(errors.ResourceInUse):
        sync(lb, cfg, key)
    assert sync(lb, cfg, key)["action"] == "route_removed"
    assert owned(list_backend_services(clients.compute(lb.url), P), "runway") == []


# --- the sweep's own corners ---------------------------------------------------------------------------------------


def service_reads(emulator: EmulatorServer, since: int) -> list[str]:
    """The services read one by one (`run.services.get`) since the mark: what the sweep reads again."""
    return sorted(
        call["path"].rsplit("/", 1)[1]
        for call in calls(emulator, since)
        if call["method"] == "GET" and re.fullmatch(r"/v2/projects/[^/]+/locations/[^/]+/services/[^/:]+", call["path"])
    )


def test_a_label_changed_after_the_listing_is_not_published_by_the_sweep(lb: EmulatorServer) -> None:
    cfg = config(lb)
    assert sync(lb, cfg, deploy(lb, "steady", {"public-route": "true"}))["action"] == "route_registered"
    moved = deploy(lb, "moved", {"public-route": "true"})
    assert sync(lb, cfg, moved)["action"] == "route_registered"
    relabel(lb, moved, {"public-route": "elsewhere"})  # listed asking for /elsewhere: its rule would change
    flipped = deploy(lb, "flipped", {"public-route": "true"})  # listed asking for /flipped: its rule would be added
    changed: list[str] = []

    def meanwhile(done: int, total: int) -> None:
        if not changed:  # after the listing, before any object is made: two deployers change their minds
            relabel(lb, flipped, {})
            relabel(lb, moved, {"public-route": "third"})
            changed.append("yes")

    since = mark(lb)
    result, lines = run_sweep(lb, cfg, progress=meanwhile)
    assert changed and result.failures == []
    # Neither new route is made (their events handle them): the old rules stay, nothing is made for them.
    assert paths(lb) == {
        "/steady": backend_service_name("runway", P, "steady"),
        "/steady/*": backend_service_name("runway", P, "steady"),
        "/moved": backend_service_name("runway", P, "moved"),
        "/moved/*": backend_service_name("runway", P, "moved"),
    }
    assert backend_service_name("runway", P, "flipped") not in {
        b["name"] for b in list_backend_services(clients.compute(lb.url), P)
    }
    routed = {line["service"].rsplit("/", 1)[1] for line in lines if line["action"].startswith("route_")}
    assert routed == {"steady"}
    # One read again per copy of a service whose rule would be new or changed; none for the unchanged one.
    assert service_reads(lb, since) == ["flipped", "moved"]

    # `moved` now asks for /third, confirmed by its read: the next sweep moves it, the one after reads nothing.
    run_sweep(lb, cfg)
    assert paths(lb)["/third"] == backend_service_name("runway", P, "moved")
    since = mark(lb)
    converged, _ = run_sweep(lb, cfg)
    assert converged.changes == []
    assert service_reads(lb, since) == []


def test_posture_counts_open_copies_as_open_and_published_only_where_the_route_serves(lb: EmulatorServer) -> None:
    cfg = config(lb, RUNWAY_REGIONS=f"{US},{EU}", RUNWAY_EXEMPT=f"{P}/{US}/front-door")
    # Published and exempt, so still open to all: open first, whatever its route.
    deploy(lb, "front-door", {"public-route": "true"}, ingress="INGRESS_TRAFFIC_ALL")
    # Published from us-central1 only: its unlabeled copy in europe-west1 is not on the load balancer.
    deploy(lb, "multi", {"public-route": "true"}, US)
    deploy(lb, "multi", {}, EU)
    result, lines = run_sweep(lb, cfg)
    assert {"/front-door", "/multi"} <= set(paths(lb))
    assert result.posture[P] == {"private": 1, "published": 1, "exempt": 1, "open": 0}
    [summary] = [line for line in lines if line["action"] == "sweep_summary"]
    assert summary["posture"] == result.posture


def test_the_sweep_leaves_the_event_writer_of_its_process_alone(lb: EmulatorServer) -> None:
    cfg = config(lb)
    compute = clients.compute(lb.url)
    events = writer_for(compute, map_settings(cfg, P))  # what sync_routes uses in this process
    deploy(lb, "shared", {"public-route": "true"})
    run_sweep(lb, cfg, compute=compute)
    assert writer_for(compute, map_settings(cfg, P)) is events
    assert events.settings.upkeep is False


def test_progress_counts_every_service_once_in_order(lb: EmulatorServer) -> None:
    for index in range(24):
        deploy(lb, f"svc-{index:02d}", {})
    seen: list[int] = []
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads switch as often as they can: a count without a lock shows it
    try:
        run_sweep(lb, config(lb), progress=lambda done, total: seen.append(done), concurrency=8)
    finally:
        sys.setswitchinterval(interval)
    assert seen == list(range(1, 25))


def test_a_map_naming_something_not_ready_is_observed_and_planned_again(lb: EmulatorServer) -> None:
    cfg = config(lb)
    deploy(lb, "retry", {"public-route": "true"})
    not_ready = {"method": "PATCH", "path": "/global/urlMaps/runway-lb$", "status": 400, "reason": "resourceNotReady"}
    faults(lb, {**not_ready, "count": 1})
    result, lines = run_sweep(lb, cfg)
    assert result.failures == []
    assert paths(lb)["/retry"] == backend_service_name("runway", P, "retry")
    [registered] = [line for line in lines if line["action"] == "route_registered"]
    assert registered["service"].endswith("/retry")
    assert [c.kind for c in result.changes].count("neg") == 1  # made once, reused by the second attempt


def test_a_map_still_stale_after_observing_again_is_a_temporary_error(
    lb: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = config(lb)
    deploy(lb, "stuck", {"public-route": "true"})
    faults(lb, {"method": "PATCH", "path": "/global/urlMaps/runway-lb$", "status": 400, "reason": "resourceNotReady"})
    with pytest.raises(errors.TemporaryError, match="still names something not ready or gone") as raised:
        run_sweep(lb, cfg)
    assert raised.value.temporary and raised.value.method == "compute.urlMaps.patch"

    # The CLI says so in one line, no traceback.
    for name, value in {
        "RUNWAY_API_ENDPOINT": lb.url,
        "RUNWAY_PROJECT": P,
        "RUNWAY_URL_MAP": "runway-lb",
        "RUNWAY_REGIONS": US,
        "RUNWAY_SECURITY_POLICY": "runway-edge",
    }.items():
        monkeypatch.setenv(name, value)
    from cli.main import cli

    outcome = CliRunner().invoke(cli, ["reconcile"])
    assert (outcome.exit_code, type(outcome.exception)) == (1, SystemExit)  # a message, not an uncaught exception
    assert outcome.output.startswith(
        "Error: sweep failed: the URL map still names something not ready or gone after observing again:"
    )
