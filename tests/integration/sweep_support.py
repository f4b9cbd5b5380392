"""What the sweep's integration tests share: a load balancer in the emulator, services, a sweep, the map as read."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from google.cloud import compute_v1, run_v2

from devstack.bootstrap import create_load_balancer
from emulator import EmulatorServer
from shared import clients
from shared.api_compute import get_url_map
from shared.config import Config
from shared.decision_log import DecisionLog
from shared.flow_routes import sync_service
from shared.flow_sweep import sweep
from shared.model import ServiceKey

P = "runway-demo"
US, EU = "us-central1", "europe-west1"
INTERNAL = "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"


@pytest.fixture
def lb(emulator: EmulatorServer) -> Iterator[EmulatorServer]:
    create_load_balancer(emulator.url, P)
    yield emulator


def config(emulator: EmulatorServer, **env: str) -> Config:
    values = {
        "RUNWAY_API_ENDPOINT": emulator.url,
        "RUNWAY_PROJECT": P,
        "RUNWAY_URL_MAP": "runway-lb",
        "RUNWAY_REGIONS": US,
        "RUNWAY_SECURITY_POLICY": "runway-edge",
    }
    return Config.from_env({**values, **env})


def deploy(
    emulator: EmulatorServer,
    name: str,
    labels: dict[str, str],
    region: str = US,
    *,
    project: str = P,
    ingress: str = INTERNAL,
) -> ServiceKey:
    service = run_v2.Service(
        labels=labels,
        ingress=getattr(run_v2.IngressTraffic, ingress),
        invoker_iam_disabled=True,  # anyone may invoke it: its route is reachable
        template=run_v2.RevisionTemplate(containers=[run_v2.Container(image="x")]),
    )
    clients.run_services(emulator.url).create_service(
        parent=f"projects/{project}/locations/{region}", service_id=name, service=service
    ).result()
    return ServiceKey(project, region, name)


def relabel(emulator: EmulatorServer, key: ServiceKey, labels: dict[str, str]) -> None:
    from google.protobuf import field_mask_pb2

    service = run_v2.Service(name=key.name, labels=labels)
    mask = field_mask_pb2.FieldMask(paths=["labels"])
    clients.run_services(emulator.url).update_service(service=service, update_mask=mask).result()


def armor(emulator: EmulatorServer, project: str, name: str = "runway-edge") -> None:
    """The Cloud Armor policy infra makes in every service project of an organization-wide installation."""
    clients.compute(emulator.url).security_policies.insert(
        project=project, security_policy_resource=compute_v1.SecurityPolicy(name=name)
    ).result()


def set_api(emulator: EmulatorServer, project: str, api: str, *, enabled: bool) -> None:
    verb = "enable" if enabled else "disable"
    reply = requests.post(f"{emulator.url}/v1/projects/{project}/services/{api}:{verb}", json={}, timeout=5)
    reply.raise_for_status()


def faults(emulator: EmulatorServer, *rules: dict[str, Any]) -> None:
    requests.post(f"{emulator.url}/_emulator/faults", json={"rules": list(rules)}, timeout=5).raise_for_status()


def calls(emulator: EmulatorServer, since: int = 0) -> list[dict[str, Any]]:
    reply = requests.get(f"{emulator.url}/_emulator/requests", params={"since": since}, timeout=5)
    return list(reply.json()["requests"])


def mark(emulator: EmulatorServer) -> int:
    log = calls(emulator)
    return int(log[-1]["seq"]) if log else 0


def run_sweep(emulator: EmulatorServer, cfg: Config, **kwargs: Any) -> tuple[Any, list[dict[str, Any]]]:
    out = io.StringIO()
    kwargs.setdefault("compute", clients.compute(emulator.url))
    result = sweep(
        config=cfg,
        log=DecisionLog(function="test", stream=out),
        run=clients.run_services(emulator.url),
        **kwargs,
    )
    return result, [json.loads(line) for line in out.getvalue().splitlines()]


def sync(emulator: EmulatorServer, cfg: Config, key: ServiceKey) -> dict[str, Any]:
    return sync_service(
        key,
        config=cfg,
        log=DecisionLog(function="test", stream=io.StringIO()),
        run=clients.run_services(emulator.url),
        compute=clients.compute(emulator.url),
    )


def routes(emulator: EmulatorServer) -> dict[str, str]:
    """Path → the backend service it names, as `projects/P/global/backendServices/B`."""
    umap = get_url_map(clients.compute(emulator.url), P, "runway-lb")
    return {
        path: rule["service"].split("/compute/v1/", 1)[-1]
        for matcher in umap.get("pathMatchers", [])
        for rule in matcher.get("pathRules", [])
        for path in rule["paths"]
    }


def paths(emulator: EmulatorServer) -> dict[str, str]:
    """Path → the name of the backend service it names."""
    return {path: backend.rsplit("/", 1)[1] for path, backend in routes(emulator).items()}
