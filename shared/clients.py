"""The one place Google API clients are built.

Production and tests run the same code: only the endpoint differs. With `RUNWAY_API_ENDPOINT` set (an
emulator's base URL) every client uses it over REST with anonymous credentials; otherwise the clients use
Google's endpoints and Application Default Credentials, still over REST.

Clients are cached per process: a warm Cloud Function reuses them across invocations. Each builder imports
its client library when first called, so a function that never touches Compute never pays for
`google.cloud.compute_v1` (over a second of cold start). A cold instance meets up to 80 requests at once, so
each client is built once even when they all ask for it during that second (`built_once`): the URL-map writer
is one per client, and 80 writers would race each other for the map's fingerprint.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast

if TYPE_CHECKING:
    from google.cloud import compute_v1, run_v2
    from google.cloud.logging import Client as LoggingClient

T = TypeVar("T")
P = ParamSpec("P")


def built_once(builder: Callable[P, T]) -> Callable[P, T]:
    """`functools.cache`, and callers that arrive while the first one builds wait for its result instead of
    building their own."""
    cached = cast("Callable[P, T]", functools.cache(builder))  # the builders take hashable arguments only
    lock = threading.Lock()

    @functools.wraps(builder)
    def get(*args: P.args, **kwargs: P.kwargs) -> T:
        with lock:
            return cached(*args, **kwargs)

    return get


def client_kwargs(endpoint: str | None, principal: str | None = None) -> dict[str, Any]:
    """REST everywhere; with an emulator endpoint, anonymous credentials, or (`principal`, emulator only) a bearer
    token naming who calls, which the emulator takes as the caller's identity for IAM and audit logs."""
    if not endpoint:
        return {"transport": "rest"}
    from google.api_core.client_options import ClientOptions

    return {
        "transport": "rest",
        "credentials": _emulator_credentials(principal),
        "client_options": ClientOptions(api_endpoint=endpoint.rstrip("/")),
    }


def _emulator_credentials(principal: str | None) -> Any:
    if principal is None:
        from google.auth.credentials import AnonymousCredentials

        return AnonymousCredentials()  # type: ignore[no-untyped-call]
    from google.oauth2.credentials import Credentials

    return Credentials(token=principal)  # type: ignore[no-untyped-call]


# A function instance serves up to 80 requests at once (infra/README.md, Sizing), all through these cached clients;
# requests' default pool keeps 10 connections per host and drops the rest after each call.
POOL_SIZE = 100


def widened(client: T) -> T:
    """The client with a connection pool as large as the requests an instance serves at once. The REST transports
    build their `requests` session themselves and take no pool size, so a wider adapter is mounted on it."""
    from requests.adapters import HTTPAdapter

    session = getattr(getattr(client, "_transport", None), "_session", None)
    if session is not None:
        for prefix in ("https://", "http://"):
            session.mount(prefix, HTTPAdapter(pool_connections=POOL_SIZE, pool_maxsize=POOL_SIZE))
    return client


@built_once
def run_services(endpoint: str | None, principal: str | None = None) -> run_v2.ServicesClient:
    from google.cloud import run_v2

    return widened(run_v2.ServicesClient(**client_kwargs(endpoint, principal)))


@dataclass(frozen=True)
class ComputeClients:
    """The Compute v1 clients runway calls, sharing one endpoint."""

    url_maps: compute_v1.UrlMapsClient
    backend_services: compute_v1.BackendServicesClient
    negs: compute_v1.RegionNetworkEndpointGroupsClient
    security_policies: compute_v1.SecurityPoliciesClient
    global_operations: compute_v1.GlobalOperationsClient
    region_operations: compute_v1.RegionOperationsClient


@built_once
def compute(endpoint: str | None, principal: str | None = None) -> ComputeClients:
    from google.cloud import compute_v1

    return ComputeClients(
        url_maps=compute_client(compute_v1.UrlMapsClient, endpoint, principal),
        backend_services=compute_client(compute_v1.BackendServicesClient, endpoint, principal),
        negs=compute_client(compute_v1.RegionNetworkEndpointGroupsClient, endpoint, principal),
        security_policies=compute_client(compute_v1.SecurityPoliciesClient, endpoint, principal),
        global_operations=_operations(endpoint, principal)[0],
        region_operations=_operations(endpoint, principal)[1],
    )


def compute_client(cls: type[T], endpoint: str | None, principal: str | None = None) -> T:
    """Any Compute v1 client on this endpoint, its operations polled on the same endpoint.

    The transports build their operation-polling clients from credentials alone, without client_options, so
    `.result()` on a pending operation would poll compute.googleapis.com (docs/google-apis.md §3.4). With an emulator
    endpoint they are handed the operations clients built for it instead (both kinds: each client uses one).
    """
    client = widened(cls(**client_kwargs(endpoint, principal)))
    if endpoint and hasattr(client._transport, "_extended_operations_services"):  # type: ignore[attr-defined]
        global_ops, region_ops = _operations(endpoint, principal)
        client._transport._extended_operations_services.update(  # type: ignore[attr-defined]
            global_operations=global_ops, region_operations=region_ops
        )
    return client


@built_once
def _operations(endpoint: str | None, principal: str | None = None) -> tuple[Any, Any]:
    from google.cloud import compute_v1

    kwargs = client_kwargs(endpoint, principal)
    return (
        widened(compute_v1.GlobalOperationsClient(**kwargs)),
        widened(compute_v1.RegionOperationsClient(**kwargs)),
    )


@built_once
def logging_client(project: str, endpoint: str | None) -> LoggingClient:
    from google.cloud.logging import Client

    if not endpoint:
        return Client(project=project, _use_grpc=False)  # type: ignore[no-untyped-call]
    from google.auth.credentials import AnonymousCredentials

    return Client(  # type: ignore[no-untyped-call]
        project=project,
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
        _use_grpc=False,
        client_options={"api_endpoint": endpoint.rstrip("/")},
    )


@dataclass(frozen=True)
class ResourceClients:
    """The Resource Manager v3 clients runway calls (`RUNWAY_SCOPE`)."""

    projects: Any  # resourcemanager_v3.ProjectsClient
    folders: Any  # resourcemanager_v3.FoldersClient


@built_once
def resource_manager(endpoint: str | None, principal: str | None = None) -> ResourceClients:
    from google.cloud import resourcemanager_v3

    kwargs = client_kwargs(endpoint, principal)
    return ResourceClients(
        widened(resourcemanager_v3.ProjectsClient(**kwargs)), widened(resourcemanager_v3.FoldersClient(**kwargs))
    )
