"""`python main.py demo --org`: one installation for an organization, as a story read back from the APIs.

    organizations/123456789012 "example.com"
    ├── runway-demo          runway's project: the load balancer, the topic, the functions, the decision log
    ├── folders/2001 "teams"  ── team-a, team-b
    └── folders/3001 "data"   ── data-a
    outsider                 a project outside the organization

Events reach the functions only through the organization's aggregated sink, a Pub/Sub topic and Eventarc Pub/Sub
triggers (what infra/ makes with `scope = ["organizations/N"]`); RUNWAY_SCOPE is the organization.
"""

from __future__ import annotations

from typing import Any

from cli.demo_actor import PROJECT, Story
from devstack.org import Folder, Org

ORG = Org(
    folders=(Folder("2001", "teams"), Folder("3001", "data")),
    projects={"team-a": "2001", "team-b": "2001", "data-a": "3001"},
)
OUTSIDER = "outsider"


def play_org(s: Story) -> None:
    _organization(s)
    s.step("team-a deploys `shop` open to all and public, labeled public-route=shop")
    s.deploy("shop", labels={"public-route": "shop"}, principal="alice@example.com", public=True, project="team-a")
    s.expect(s.ingress("shop", "team-a") == "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER", "remediated, in team-a")
    routes = s.routes_of("shop", "team-a")
    s.show(f"routes of team-a/shop on the one URL map (in {PROJECT}): {routes}")
    s.expect(routes == [("*", "/shop"), ("*", "/shop/*")], "published at /shop")
    backends, negs = s.owned_objects("team-a")
    s.show(f"in team-a: backend service {backends}, serverless NEG {negs}; in {PROJECT}: {s.owned_objects()}")
    s.expect(len(backends) == len(negs) == 1 and s.owned_objects() == ([], []), "its objects live in its project")

    s.step("data-a deploys `ledger`, labeled public-route=true")
    s.deploy("ledger", labels={"public-route": "true"}, principal="bob@example.com", public=True, project="data-a")
    label, status = s.status("ledger", "data-a")
    s.show(f"on the service: runway-route={label}, urls {status.get('urls')}")
    s.expect(label == "published", "data-a/ledger is published on the same load balancer")
    _lost_delete(s)
    _outsider(s)


def _organization(s: Story) -> None:
    from shared import clients
    from shared.api_resources import projects_under

    setup = s.stack.org_setup
    s.step("The organization runway covers (RUNWAY_SCOPE), read from Resource Manager")
    projects = projects_under(clients.resource_manager(s.stack.url), setup.scope)
    s.show(f"{setup.scope}: projects {projects}")
    s.show(f"sink {setup.sink['name']} (includeChildren) -> {setup.sink['destination']}")
    s.show(f"its writer {setup.writer_identity} may publish; Pub/Sub triggers: {sorted(setup.triggers)}")
    s.expect(projects == sorted([PROJECT, *ORG.projects]), "four projects under the organization, one installation")


def _lost_delete(s: Story) -> None:
    import requests

    from devstack.org_actions import pause_sink

    setup = s.stack.org_setup
    s.step("The sink is paused (an outage) while data-a deletes `ledger`: runway never hears of it")
    pause_sink(s.stack.url, setup, True)
    s.run.delete_service(name=s.service_name("ledger", "data-a")).result(timeout=60)
    pause_sink(s.stack.url, setup, False)
    s.stack.settle()
    stale = s.routes_of("ledger", "data-a")
    s.show(f"routes of data-a/ledger still on the URL map: {stale}")
    s.expect(bool(stale), "a route to a deleted service, until the sweep")

    s.step("The scheduled sweep (reconcile_all) covers every project of the organization")
    reply = requests.post(s.stack.functions["reconcile_all"].url, json={}, timeout=300)
    body: dict[str, Any] = reply.json()
    s.stack.settle()
    s.show(f"HTTP {reply.status_code}: {len(body['projects'])} projects, {body['services']} services")
    for change in body["changes"]:
        s.show(f"  {change['op']} {change['kind']} {change['name']} in {change['project']}")
    for project, counts in sorted(body["posture"].items()):
        s.show(f"  posture {project}: {counts}")
    s.expect(
        reply.status_code == 200 and s.routes_of("ledger", "data-a") == [] and s.owned_objects("data-a") == ([], []),
        "the sweep removed the orphaned route, backend service and NEG in data-a",
    )


def _outsider(s: Story) -> None:
    from devstack.org_actions import misroute_project

    s.step(f"`{OUTSIDER}`, a project outside the organization, has a sink misrouted to runway's topic")
    misroute_project(s.stack.url, s.stack.org_setup, OUTSIDER)
    s.deploy("stray", labels={"public-route": "true"}, principal="mallory@example.com", project=OUTSIDER)
    ignored = [
        d
        for d in s.decisions("sync_routes", "stray", OUTSIDER)
        if d["action"] == "event_ignored" and "is not under" in d.get("reason", "")
    ]
    for d in ignored[:1]:
        s.show(f"decision log: event_ignored, {d['reason']}")
    s.expect(
        len(ignored) == 1
        and s.ingress("stray", OUTSIDER) == "INGRESS_TRAFFIC_ALL"
        and not s.routes_of("stray", OUTSIDER),
        "runway left it alone: not its business",
    )
