"""The route status when a service has copies in several regions, or vanishes while its route is decided."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from google.cloud import run_v2

from devstack.bootstrap import create_load_balancer
from emulator import EmulatorServer
from shared import clients, errors
from shared.config import Config
from shared.decision_log import DecisionLog
from shared.flow_routes import sync_service
from shared.model import ServiceKey

P = "runway-demo"
US, EU = "us-central1", "europe-west1"
STATUS = "runway-route"


@pytest.fixture
def cfg(emulator: EmulatorServer) -> Iterator[Config]:
    create_load_balancer(emulator.url, P)
    yield Config.from_env(
        {
            "RUNWAY_API_ENDPOINT": emulator.url,
            "RUNWAY_PROJECT": P,
            "RUNWAY_URL_MAP": "runway-lb",
            "RUNWAY_REGIONS": f"{US},{EU}",
            "RUNWAY_SECURITY_POLICY": "runway-edge",
        }
    )


def deploy(emulator: EmulatorServer, region: str, labels: dict[str, str], *, public: bool) -> ServiceKey:
    service = run_v2.Service(
        labels=labels,
        ingress=run_v2.IngressTraffic.INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER,
        invoker_iam_disabled=public,
        template=run_v2.RevisionTemplate(containers=[run_v2.Container(image="x")]),
    )
    clients.run_services(emulator.url).create_service(
        parent=f"projects/{P}/locations/{region}", service_id="api", service=service
    ).result()
    return ServiceKey(P, region, "api")


def sync(emulator: EmulatorServer, cfg: Config, key: ServiceKey) -> list[dict[str, Any]]:
    out = io.StringIO()
    sync_service(
        key,
        config=cfg,
        log=DecisionLog(function="test", stream=out),
        run=clients.run_services(emulator.url),
        compute=clients.compute(emulator.url),
    )
    return [json.loads(line) for line in out.getvalue().splitlines()]


def labels(emulator: EmulatorServer, key: ServiceKey) -> dict[str, str]:
    return dict(clients.run_services(emulator.url).get_service(name=key.name).labels)


def test_an_unlabeled_copy_in_another_region_is_neither_checked_nor_marked(
    emulator: EmulatorServer, cfg: Config
) -> None:
    us = deploy(emulator, US, {"public-route": "true"}, public=True)
    eu = deploy(emulator, EU, {}, public=False)  # private, and not asking to be published
    [first] = sync(emulator, cfg, us)
    assert first["action"] == "route_registered"

    # The EU copy's own event: the route (served from us-central1 only) is as it should be.
    [again] = sync(emulator, cfg, eu)
    assert again["action"] == "route_unchanged", again
    assert labels(emulator, us)[STATUS] == "published"
    assert STATUS not in labels(emulator, eu)
    iam_reads = [c for c in emulator.emulator.calls.since(0) if c["path"].endswith("api:getIamPolicy")]
    assert iam_reads == []  # us is public by its own setting; eu is not routed, so not checked


def test_a_service_gone_while_its_access_is_checked_is_not_an_error(emulator: EmulatorServer, cfg: Config) -> None:
    key = deploy(emulator, US, {"public-route": "true"}, public=False)
    # The service disappears between runway's read and its IAM check (the delete's event comes next).
    emulator.emulator.faults.configure(
        {"rules": [{"method": "GET", "path": "/v2/projects/.*/services/api:getIamPolicy", "status": 404}]}
    )
    [decision] = sync(emulator, cfg, key)
    assert decision["action"] == "route_registered" and decision["severity"] == "NOTICE", decision
    assert STATUS not in labels(emulator, key)


def test_a_delete_named_by_project_number_removes_the_route(emulator: EmulatorServer, cfg: Config) -> None:
    """Audit entries may name the project by number; a deleted service cannot tell its project id, so the
    number is resolved through Resource Manager and the route is removed by the delete's own event."""
    number = emulator.emulator.resource_manager.add_project(P).number
    key = deploy(emulator, US, {"public-route": "true"}, public=True)
    [published] = sync(emulator, cfg, key)
    assert published["action"] == "route_registered"
    clients.run_services(emulator.url).delete_service(name=key.name).result()

    [removed] = sync(emulator, cfg, ServiceKey(number, US, "api"))
    assert removed["action"] == "route_removed", removed
    assert removed["service"] == key.name


def test_a_url_map_runway_may_not_read_is_retried_not_acknowledged(emulator: EmulatorServer, cfg: Config) -> None:
    """The URL map is about every route, not this one: a 403 reading it is temporary (the event is delivered
    again until the grant is back), as the writer answers a 403 writing it."""
    from shared.apply_url_map import MapUnwritable

    key = deploy(emulator, US, {"public-route": "true"}, public=True)
    emulator.emulator.faults.configure(
        {"rules": [{"method": "GET", "path": "/global/urlMaps/runway-lb$", "status": 403}]}
    )
    with pytest.raises(MapUnwritable) as caught:
        sync(emulator, cfg, key)
    assert caught.value.code == 403 and isinstance(caught.value, errors.TemporaryError)
