"""Builders shared by the Compute emulator tests (no tests here): real google-cloud-compute clients over HTTP."""

from __future__ import annotations

import json
from typing import Any, TypeVar

import requests
from google.api_core.exceptions import GoogleAPICallError
from google.cloud import compute_v1

from emulator import EmulatorServer
from shared.clients import ComputeClients, compute

PROJECT = "runway-test"
REGION = "us-central1"
BASE = "https://www.googleapis.com/compute/v1/"
T = TypeVar("T")


def clients(emulator: EmulatorServer) -> ComputeClients:
    return compute(emulator.url)


def set_operation_delay(emulator: EmulatorServer, seconds: float) -> None:
    reply = requests.post(f"{emulator.url}/_emulator/faults", json={"operationDelay": seconds}, timeout=5)
    reply.raise_for_status()


def make_neg(c: ComputeClients, name: str = "neg-hello", service: str = "hello", region: str = REGION) -> Any:
    resource = compute_v1.NetworkEndpointGroup(
        name=name,
        network_endpoint_type="SERVERLESS",
        cloud_run=compute_v1.NetworkEndpointGroupCloudRun(service=service),
    )
    c.negs.insert(project=PROJECT, region=region, network_endpoint_group_resource=resource).result(timeout=10)
    return c.negs.get(project=PROJECT, region=region, network_endpoint_group=name)


def make_backend_service(c: ComputeClients, name: str = "bs-hello", groups: list[str] | None = None) -> Any:
    resource = compute_v1.BackendService(
        name=name,
        load_balancing_scheme="EXTERNAL_MANAGED",
        protocol="HTTPS",
        backends=[compute_v1.Backend(group=g) for g in groups or []],
    )
    c.backend_services.insert(project=PROJECT, backend_service_resource=resource).result(timeout=10)
    return c.backend_services.get(project=PROJECT, backend_service=name)


def url_map_resource(name: str, default: str, rules: dict[str, list[str]] | None = None) -> compute_v1.UrlMap:
    """A URL map on host `*` with one path matcher `runway-default`; `rules` maps a service URL to its paths."""
    return compute_v1.UrlMap(
        name=name,
        default_service=default,
        host_rules=[compute_v1.HostRule(hosts=["*"], path_matcher="runway-default")],
        path_matchers=[
            compute_v1.PathMatcher(
                name="runway-default",
                default_service=default,
                path_rules=[compute_v1.PathRule(paths=paths, service=svc) for svc, paths in (rules or {}).items()],
            )
        ],
    )


def make_url_map(c: ComputeClients, name: str, default: str, rules: dict[str, list[str]] | None = None) -> Any:
    c.url_maps.insert(project=PROJECT, url_map_resource=url_map_resource(name, default, rules)).result(timeout=10)
    return c.url_maps.get(project=PROJECT, url_map=name)


def raw(emulator: EmulatorServer, method: str, path: str, **kwargs: Any) -> requests.Response:
    """A plain HTTP call under /compute/v1/projects/PROJECT/, for wire-level assertions."""
    return requests.request(method, f"{emulator.url}/compute/v1/projects/{PROJECT}/{path}", timeout=10, **kwargs)


def error_message(exc: GoogleAPICallError) -> str:
    """The API's own message: the client prefixes `METHOD URL: ` to it and keeps the legacy `errors` list."""
    message = exc.errors[0]["message"]
    assert exc.message.endswith(": " + message)
    return message


def from_wire(message_type: type[T], body: dict[str, Any]) -> T:
    """A client message from its JSON (camelCase) form, as the REST transport would parse it."""
    return message_type.from_json(json.dumps(body))  # type: ignore[attr-defined]
