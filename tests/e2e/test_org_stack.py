"""The local stack in organization mode (`LocalStack(org=Org())`, devstack/org.py): a Cloud Run v2 create in a
project under the organization reaches sync_routes through the organization's log sink, the topic and the Eventarc
Pub/Sub trigger (there is no audit-log trigger), and is published on the load balancer of runway's own project,
across projects; with the organization-mode roles and bindings of infra/ (read from the Terraform with
`scope = ["organizations/N"]`) in force, so no function is refused anything on the way, the sweep included."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from devstack.org import Org
from devstack.stack import LocalStack
from shared import clients
from shared.api_compute import get_url_map
from shared.naming import backend_service_name

from .least_privilege import ALICE, FUNCTIONS, create_service, forbidden, read_infra_iam, routes, seed_iam, service_name
from .support import decisions

TEAM = "team-a"
UPDATE = "google.cloud.run.v2.Services.UpdateService"


@pytest.fixture(scope="module")
def org_stack() -> Iterator[LocalStack]:
    with LocalStack(org=Org()) as stack:
        yield stack


def test_a_create_under_the_organization_is_published_through_sink_topic_and_trigger(org_stack: LocalStack) -> None:
    stack = org_stack
    assert stack.org is not None and stack.org_setup is not None
    assert stack.function_env()["RUNWAY_SCOPE"] == stack.org_setup.scope == "organizations/123456789012"
    identities = {function: stack.identity(function) for function in FUNCTIONS}
    infra = read_infra_iam(stack.project, identities, variables={"scope": [stack.org_setup.scope]})
    assert {node for node, _, _ in infra.bindings} == {f"projects/{stack.project}", stack.org_setup.scope}
    seed_iam(stack.server, infra)

    create_service(stack.url, "hello", principal=ALICE, labels={"public-route": "true"}, public=True, project=TEAM)
    stack.settle()

    name = service_name("hello", project=TEAM)
    published = [d for d in decisions(stack, function="sync_routes", action="route_registered") if d["service"] == name]
    # Once, on the create's event or on that of enforce_ingress's ingress fix, whichever sync_routes takes first.
    assert [d["method"] for d in published] in (["google.cloud.run.v2.Services.CreateService"], [UPDATE])
    assert routes(stack.url) == {path: backend_service_name("runway", TEAM, "hello") for path in ("/hello", "/hello/*")}
    umap = get_url_map(clients.compute(stack.url), stack.project, "runway-lb")  # runway's project's map...
    services = {r["service"] for m in umap["pathMatchers"] for r in m.get("pathRules", [])}
    projects = {re.search(r"projects/([^/]+)/global/backendServices/", s)[1] for s in services}
    assert projects == {TEAM}  # ...routes to team-a's backend service
    # It came through the topic: the Pub/Sub triggers' pushes, and no audit-log trigger anywhere.
    state: dict[str, Any] = requests.get(f"{stack.url}/_emulator/state", timeout=30).json()
    pushed = {p["uri"] for p in state["pubsub"]["deliveries"]["attempts"] if p.get("outcome") == "delivered"}
    assert {stack.functions["enforce_ingress"].url, stack.functions["sync_routes"].url} <= pushed
    triggers = state["eventarc"]["triggers"]
    assert {t["eventFilters"][0]["value"] for t in triggers} == {"google.cloud.pubsub.topic.v1.messagePublished"}
    assert state["logging"]["sinkExports"]["refused"] == 0

    swept = requests.post(stack.functions["reconcile_all"].url, timeout=300)
    assert swept.status_code == 200, swept.text
    assert swept.json()["services"] == 1 and swept.json()["failures"] == []
    stack.settle()
    assert forbidden(stack.server, list(identities.values())) == []
