"""One installation for an organization: three projects in two folders behind one aggregated sink.

    organizations/123456789012
    ├── runway-demo          runway's project: the load balancer, the topic, the functions, the decision log
    ├── folders/2001 "teams"
    │   ├── team-a
    │   └── team-b
    └── folders/3001 "data"
        └── data-a
    outsider                 not in the organization (its own sink is misrouted to runway's topic)

Events reach the functions only through the organization's sink, the topic and the Eventarc Pub/Sub triggers
(`devstack/org.py`, what `infra/org.tf` makes); every result is read back through the APIs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests
from click.testing import CliRunner

from cli.main import cli
from devstack.org import Folder, Org
from devstack.org_actions import misroute_project, pause_sink
from devstack.stack import LocalStack
from shared import clients
from shared.api_compute import list_backend_services, list_negs, owned
from shared.naming import backend_service_name

from .support import REGION, create_service, decisions, delete_service, get_service, url_map, wait_for_decisions

ORG = Org(
    folders=(Folder("2001", "teams"), Folder("3001", "data")),
    projects={"team-a": "2001", "team-b": "2001", "data-a": "3001"},
)
OUTSIDER = "outsider"
INTERNAL = "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"


@pytest.fixture(scope="module")
def org_stack() -> Iterator[LocalStack]:
    with LocalStack(org=ORG) as stack:
        yield stack


@pytest.fixture
def stack(org_stack: LocalStack) -> Iterator[LocalStack]:
    org_stack.drain()
    org_stack.reset()
    yield org_stack


def _path(project: str, name: str) -> str:
    return f"projects/{project}/locations/{REGION}/services/{name}"


def rules(stack: LocalStack) -> dict[str, str]:
    """Path → the backend service it names, as `projects/P/global/backendServices/B`."""
    found = {}
    for matcher in url_map(stack).get("pathMatchers", []):
        for rule in matcher.get("pathRules", []):
            for path in rule["paths"]:
                found[path] = rule["service"].split("/compute/v1/", 1)[-1]
    return found


def objects(stack: LocalStack, project: str) -> tuple[list[str], list[str]]:
    compute = clients.compute(stack.url)
    backends = sorted(b["name"] for b in owned(list_backend_services(compute, project), "runway"))
    negs = sorted(n["name"] for n in owned(list_negs(compute, project, [REGION]), "runway"))
    return backends, negs


def test_a_service_in_any_project_is_published_with_its_objects_in_its_own_project(stack: LocalStack) -> None:
    create_service(stack, "shop", labels={"public-route": "shop"}, project="team-a")
    create_service(stack, "warehouse", labels={"public-route": "true"}, project="data-a")
    wait_for_decisions(stack, 2, action="route_registered")
    stack.settle()

    shop = f"projects/team-a/global/backendServices/{backend_service_name('runway', 'team-a', 'shop')}"
    warehouse = f"projects/data-a/global/backendServices/{backend_service_name('runway', 'data-a', 'warehouse')}"
    assert rules(stack) == {"/shop": shop, "/shop/*": shop, "/warehouse": warehouse, "/warehouse/*": warehouse}
    for project, count in (("team-a", 1), ("data-a", 1), ("team-b", 0), (stack.project, 0)):
        backends, negs = objects(stack, project)
        assert (len(backends), len(negs)) == (count, count), project
    # Each copy of the service says where it is published.
    assert get_service(stack, "warehouse", project="data-a").labels["runway-route"] == "published"


def test_an_open_service_in_any_project_is_remediated(stack: LocalStack) -> None:
    create_service(stack, "wide-open", project="team-b", principal="bob@example.com")
    [fixed] = wait_for_decisions(stack, action="ingress_remediated")
    stack.settle()
    assert fixed["service"] == _path("team-b", "wide-open") and fixed["principal"] == "bob@example.com"
    assert get_service(stack, "wide-open", project="team-b").ingress.name == INTERNAL


def test_a_delete_whose_event_was_lost_is_collected_by_the_next_sweep(stack: LocalStack) -> None:
    create_service(stack, "short-lived", labels={"public-route": "true"}, project="team-b")
    wait_for_decisions(stack, action="route_registered")
    stack.settle()
    assert objects(stack, "team-b") != ([], [])

    # The sink is paused while the service is deleted: its audit entry never reaches runway.
    assert stack.org_setup is not None
    pause_sink(stack.url, stack.org_setup, True)
    delete_service(stack, "short-lived", project="team-b")
    pause_sink(stack.url, stack.org_setup, False)
    stack.settle()
    assert "/short-lived" in rules(stack)
    assert not decisions(stack, action="route_removed")

    swept = requests.post(stack.functions["reconcile_all"].url, json={}, timeout=300)
    assert swept.status_code == 200, swept.text
    body = swept.json()
    assert body["failures"] == [] and body["projects"] == sorted([stack.project, *ORG.projects])
    stack.settle()
    assert "/short-lived" not in rules(stack)
    assert objects(stack, "team-b") == ([], [])
    [removed] = decisions(stack, action="route_removed")
    # Gone from every region: the sweep names it in Google's "any location" form.
    assert removed["service"] == "projects/team-b/locations/-/services/short-lived"
    assert removed["function"] == "reconcile_all"


def test_an_event_from_outside_the_scope_ends_in_one_event_ignored(stack: LocalStack) -> None:
    assert stack.org_setup is not None
    misroute_project(stack.url, stack.org_setup, OUTSIDER)
    # As in production: the outsider's owners hold it, and runway's functions, which may read projects only in the
    # organization, hold nothing there (Resource Manager refuses their projects.get with a 403).
    owners = {"role": "roles/owner", "members": ["user:alice@example.com", "user:developer@example.com"]}
    policy = {"policies": {f"projects/{OUTSIDER}": {"bindings": [owners]}}}
    requests.post(f"{stack.url}/_emulator/iam", json=policy, timeout=10).raise_for_status()
    create_service(stack, "stray", project=OUTSIDER, labels={"public-route": "true"})
    stack.settle()

    stray = _path(OUTSIDER, "stray")
    create = "google.cloud.run.v2.Services.CreateService"
    reason = (
        "runway cannot see project outsider (resourcemanager.projects.get answered 403), "
        "so it is outside RUNWAY_SCOPE (organizations/123456789012)"
    )
    for function in ("enforce_ingress", "sync_routes"):
        seen = [d for d in decisions(stack, function=function, service=stray) if d.get("method") == create]
        # One entry acted on per create (enforce_ingress: the last, sync_routes: the first): it ends in the scope's
        # event_ignored; the other entry of the operation is ignored for being the wrong one, before any lookup.
        scoped = [d for d in seen if d.get("reason") == reason]
        assert [d["action"] for d in scoped] == ["event_ignored"], (function, seen)
        assert [d for d in seen if d not in scoped and "audit entry of operation" not in d.get("reason", "")] == []
    assert not [d for d in decisions(stack, service=stray) if d["action"] != "event_ignored"]
    assert not decisions(stack, action="api_error")
    assert get_service(stack, "stray", project=OUTSIDER).ingress.name == "INGRESS_TRAFFIC_ALL"
    assert "/stray" not in rules(stack)


def test_the_report_rolls_up_per_project(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    create_service(stack, "shop", labels={"public-route": "shop"}, project="team-a")
    create_service(stack, "wide-open", project="team-b")
    create_service(stack, "warehouse", labels={"public-route": "true"}, project="data-a")
    create_service(stack, "rival", labels={"public-route": "shop"}, project="data-a")
    wait_for_decisions(stack, 2, action="route_registered")
    wait_for_decisions(stack, action="route_conflict")
    stack.settle()
    assert requests.post(stack.functions["reconcile_all"].url, json={}, timeout=300).status_code == 200
    stack.settle()

    monkeypatch.setenv("RUNWAY_API_ENDPOINT", stack.url)
    monkeypatch.setenv("RUNWAY_PROJECT", stack.project)
    result = CliRunner().invoke(cli, ["report", "--format", "json", "--since", "1h"], catch_exceptions=False)
    assert result.exit_code == 1, result.output  # rival's conflict is open
    report = json.loads(result.output)
    rows = {row["project"]: row for row in report["by_project"]}
    assert set(rows) == {"team-a", "team-b", "data-a"}
    assert (rows["team-a"]["ingress_remediated"], rows["team-a"]["route_registered"]) == (1, 1)
    assert (rows["team-b"]["ingress_remediated"], rows["team-b"]["route_registered"]) == (1, 0)
    assert (rows["data-a"]["ingress_remediated"], rows["data-a"]["route_registered"]) == (2, 1)
    assert (rows["data-a"]["conflicts"], rows["data-a"]["open_findings"]) == (1, 1)
    # Every project swept has its line, runway's own (no services) too.
    assert report["posture"]["projects"] == [
        {"project": "data-a", "private": 1, "published": 1, "exempt": 0, "open": 0},
        {"project": "runway-demo", "private": 0, "published": 0, "exempt": 0, "open": 0},
        {"project": "team-a", "private": 0, "published": 1, "exempt": 0, "open": 0},
        {"project": "team-b", "private": 1, "published": 0, "exempt": 0, "open": 0},
    ]
