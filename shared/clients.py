"""The one place Google API clients are built.

Production and tests run the same code: only the endpoint differs. With `RUNWAY_API_ENDPOINT` set (an
emulator's base URL) every client uses it over REST with anonymous credentials; otherwise the clients use
Google's endpoints and Application Default Credentials, still over REST.

Clients are cached per process: a warm Cloud Function reuses them across invocations. Each builder imports
its client library when first called, so a function that never touches Compute never pays for
`google.cloud.compute_v1` (over a second of cold start).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from google.cloud import compute_v1, run_v2
    from google.cloud.logging import Client as LoggingClient


def client_kwargs(endpoint: str | None) -> dict[str, Any]:
    if not endpoint:
        return {"transport": "rest"}
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials

    return {
        "transport": "rest",
        "credentials": AnonymousCredentials(),
        "client_options": ClientOptions(api_endpoint=endpoint.rstrip("/")),
    }


@functools.cache
def run_services(endpoint: str | None) -> run_v2.ServicesClient:
    from google.cloud import run_v2

    return run_v2.ServicesClient(**client_kwargs(endpoint))


@dataclass(frozen=True)
class ComputeClients:
    """The Compute v1 clients runway calls, sharing one endpoint."""

    url_maps: compute_v1.UrlMapsClient
    backend_services: compute_v1.BackendServicesClient
    negs: compute_v1.RegionNetworkEndpointGroupsClient
    security_policies: compute_v1.SecurityPoliciesClient
    global_operations: compute_v1.GlobalOperationsClient
    region_operations: compute_v1.RegionOperationsClient


@functools.cache
def compute(endpoint: str | None) -> ComputeClients:
    from google.cloud import compute_v1

    kwargs = client_kwargs(endpoint)
    global_ops = compute_v1.GlobalOperationsClient(**kwargs)
    region_ops = compute_v1.RegionOperationsClient(**kwargs)
    clients = ComputeClients(
        url_maps=compute_v1.UrlMapsClient(**kwargs),
        backend_services=compute_v1.BackendServicesClient(**kwargs),
        negs=compute_v1.RegionNetworkEndpointGroupsClient(**kwargs),
        security_policies=compute_v1.SecurityPoliciesClient(**kwargs),
        global_operations=global_ops,
        region_operations=region_ops,
    )
    if endpoint:
        # The transports build their operation-polling clients from credentials alone, without
        # client_options, so `.result()` on a pending operation would poll compute.googleapis.com
        # (gcp-facts.md §3.4). Hand them the clients built for the same endpoint instead.
        for client in (clients.url_maps, clients.backend_services, clients.security_policies):
            client._transport._extended_operations_services["global_operations"] = global_ops
        clients.negs._transport._extended_operations_services["region_operations"] = region_ops
    return clients


@functools.cache
def logging_client(project: str, endpoint: str | None) -> LoggingClient:
    from google.cloud.logging import Client

    if not endpoint:
        return Client(project=project, _use_grpc=False)
    from google.auth.credentials import AnonymousCredentials

    return Client(
        project=project,
        credentials=AnonymousCredentials(),
        _use_grpc=False,
        client_options={"api_endpoint": endpoint.rstrip("/")},
    )
