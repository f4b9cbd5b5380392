"""The sweep over several projects (`RUNWAY_SCOPE`): each project, and each service, fails on its own."""

from __future__ import annotations

import requests

from emulator import EmulatorServer
from shared import clients
from shared.api_compute import list_backend_services, list_negs, owned
from shared.naming import backend_service_name, neg_name

from .sweep_support import US, P, armor, config, deploy, lb, routes, run_sweep, set_api, sync

__all__ = ["lb"]  # the fixture
EMPTY = {"private": 0, "published": 0, "exempt": 0, "open": 0}


def backend(project: str, service: str) -> str:
    return f"projects/{project}/global/backendServices/{backend_service_name('runway', project, service)}"


def neg(project: str, service: str) -> str:
    return neg_name("runway", project, US, service)


def objects(emulator: EmulatorServer, project: str) -> tuple[list[str], list[str]]:
    compute = clients.compute(emulator.url)
    backends = sorted(b["name"] for b in owned(list_backend_services(compute, project), "runway"))
    negs = sorted(n["name"] for n in owned(list_negs(compute, project, [US]), "runway"))
    return backends, negs


def iam(emulator: EmulatorServer, project: str, bindings: list[dict[str, object]] | None) -> None:
    body = {"policies": {f"projects/{project}": {"bindings": bindings} if bindings is not None else None}}
    requests.post(f"{emulator.url}/_emulator/iam", json=body, timeout=5).raise_for_status()


def test_a_project_without_the_compute_or_cloud_run_api_is_swept_as_empty(lb: EmulatorServer) -> None:
    cfg = config(lb, RUNWAY_SCOPE=f"{P},team-a,team-b,team-c")
    armor(lb, "team-a")
    deploy(lb, "shop", {"public-route": "shop"}, project="team-a")
    for api in ("compute.googleapis.com", "run.googleapis.com"):
        set_api(lb, "team-b", api, enabled=False)  # a project that never used either
    armor(lb, "team-c")
    set_api(lb, "team-c", "run.googleapis.com", enabled=False)  # Compute only (a VM project)

    result, lines = run_sweep(lb, cfg)
    assert result.failures == []
    assert routes(lb) == {"/shop": backend("team-a", "shop"), "/shop/*": backend("team-a", "shop")}
    assert result.projects == [P, "team-a", "team-b", "team-c"]
    [summary] = [line for line in lines if line["action"] == "sweep_summary"]
    assert summary["posture"]["team-b"] == summary["posture"]["team-c"] == EMPTY
    assert summary["posture"]["team-a"] == {**EMPTY, "published": 1}
    assert not [line for line in lines if line["action"] == "api_error"]


def test_a_project_that_cannot_be_observed_fails_alone_and_keeps_its_routes_and_objects(lb: EmulatorServer) -> None:
    cfg = config(lb, RUNWAY_SCOPE=f"{P},team-a,team-c")
    for project in ("team-a", "team-c"):
        armor(lb, project)
    kept = deploy(lb, "kept", {"public-route": "true"}, project="team-c")
    gone = deploy(lb, "gone", {"public-route": "true"}, project="team-a")
    for key in (kept, gone):
        assert sync(lb, cfg, key)["action"] == "route_registered"
    deploy(lb, "fresh", {"public-route": "true"}, project="team-a")
    # team-a's `gone` is deleted without its event (the sweep collects it); so is team-c's `kept`, but team-c's
    # services cannot be listed (runway may read its Compute objects, not its Cloud Run services): had the sweep
    # taken its objects for orphans, it would remove the route of a project it could not see.
    run = clients.run_services(lb.url)
    for key in (gone, kept):
        run.delete_service(name=key.name).result()
    me = ["user:developer@example.com"]  # the sweep's caller here
    iam(
        lb,
        "team-c",
        [{"role": r, "members": me} for r in ("roles/compute.viewer", "roles/compute.loadBalancerServiceUser")],
    )

    result, lines = run_sweep(lb, cfg)

    [failure] = result.failures
    assert (failure["service"], failure["project"], failure["retryable"]) == ("projects/team-c", "team-c", False)
    assert "403" in failure["error"] and "run.services.list" in failure["error"]
    [error] = [line for line in lines if line["action"] == "api_error"]
    assert error["service"] == "projects/team-c" and error["retryable"] is False
    # Every other project swept: the new route made, the orphan collected, the map written, the summary logged.
    assert routes(lb) == {
        "/fresh": backend("team-a", "fresh"),
        "/fresh/*": backend("team-a", "fresh"),
        "/kept": backend("team-c", "kept"),
        "/kept/*": backend("team-c", "kept"),
    }
    assert objects(lb, "team-a") == ([backend_service_name("runway", "team-a", "fresh")], [neg("team-a", "fresh")])
    assert {line["action"] for line in lines} >= {"route_registered", "route_removed", "sweep_summary"}
    assert result.projects == [P, "team-a"]
    # team-c lost nothing: its rule (above) and its objects.
    iam(lb, "team-c", None)
    assert objects(lb, "team-c") == ([backend_service_name("runway", "team-c", "kept")], [neg("team-c", "kept")])


def test_a_project_without_the_cloud_armor_policy_holds_only_its_own_services(lb: EmulatorServer) -> None:
    cfg = config(lb, RUNWAY_SCOPE=f"{P},team-a,team-b")
    armor(lb, "team-a")  # team-b has no `runway-edge` policy yet
    deploy(lb, "shop", {"public-route": "shop"}, project="team-a")
    orphan = deploy(lb, "orphan", {"public-route": "true"}, project="team-a")
    assert sync(lb, cfg, orphan)["action"] == "route_registered"
    clients.run_services(lb.url).delete_service(name=orphan.name).result()
    lost = deploy(lb, "lost", {"public-route": "lost"}, project="team-b")

    result, lines = run_sweep(lb, cfg)

    reason = "Cloud Armor policy 'runway-edge' does not exist in project team-b"
    [failure] = result.failures
    assert failure["service"] == lost.name and reason in failure["error"]
    [error] = [line for line in lines if line["action"] == "api_error"]
    assert (error["service"], error["variables"]) == (lost.name, ["RUNWAY_SECURITY_POLICY"])
    assert reason in error["reason"]
    assert routes(lb) == {"/shop": backend("team-a", "shop"), "/shop/*": backend("team-a", "shop")}
    assert objects(lb, "team-a")[0] == [backend_service_name("runway", "team-a", "shop")]  # orphan collected
    assert {line["action"] for line in lines} >= {"route_registered", "route_removed", "sweep_summary"}

    armor(lb, "team-b")  # once infra makes it, the next sweep publishes the held service
    again, _ = run_sweep(lb, cfg)
    assert again.failures == [] and routes(lb)["/lost"] == backend("team-b", "lost")
