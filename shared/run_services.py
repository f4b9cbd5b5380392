"""Reading Cloud Run services and writing their ingress: runway's only calls to the Run Admin API.

Every function here raises `errors.RunwayApiError` kinds, never a client exception. Reads are retried on
transient failures (idempotent); the write is not (the etag makes a blind retry pointless).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from . import errors
from .model import ServiceFacts, ServiceKey

if TYPE_CHECKING:
    from google.cloud import run_v2

READ_TIMEOUT = 30.0


def facts_from_service(service: run_v2.Service) -> ServiceFacts:
    return ServiceFacts(
        key=ServiceKey.parse(service.name),
        ingress=service.ingress.name,
        labels=dict(service.labels),
        annotations=dict(service.annotations),
        etag=service.etag,
        create_time=service.create_time,  # a datetime subclass (proto-plus), or None when unset
    )


def read_service(client: run_v2.ServicesClient, key: ServiceKey) -> ServiceFacts | None:
    """The live service, or None when it does not exist (deleted since the event)."""
    try:
        service = errors.call(
            "run.services.get", key.name, client.get_service, name=key.name, retry=errors.default_retry(READ_TIMEOUT)
        )
    except errors.NotFound:
        return None
    return facts_from_service(service)


def list_services(client: run_v2.ServicesClient, project: str, region: str) -> Iterator[ServiceFacts]:
    parent = f"projects/{project}/locations/{region}"
    services = errors.call(
        "run.services.list",
        parent,
        lambda: list(client.list_services(parent=parent, retry=errors.default_retry(READ_TIMEOUT))),
    )
    return (facts_from_service(service) for service in services)


def set_ingress(client: run_v2.ServicesClient, facts: ServiceFacts, ingress: str) -> str:
    """Ask for the new ingress, guarded by the etag just read; returns the operation name.

    Only `ingress` is in the update mask, so nothing else a deployer changed meanwhile can be overwritten,
    and the etag turns a concurrent change into a 409 the caller answers by re-reading. The operation (a new
    revision rolling out) is not waited for: the service's configured ingress changes when the request is
    accepted, which is what the policy is about and what a re-read shows.
    """
    from google.cloud import run_v2
    from google.protobuf import field_mask_pb2

    request = run_v2.UpdateServiceRequest(
        service=run_v2.Service(name=facts.key.name, ingress=run_v2.IngressTraffic[ingress], etag=facts.etag),
        update_mask=field_mask_pb2.FieldMask(paths=["ingress"]),
    )
    operation = errors.call("run.services.update", facts.key.name, client.update_service, request=request)
    return operation.operation.name
