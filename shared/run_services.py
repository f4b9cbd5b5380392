"""Reading Cloud Run services and writing their ingress: runway's only calls to the Run Admin API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from .model import ServiceFacts, ServiceKey

if TYPE_CHECKING:
    from google.cloud import run_v2


def facts_from_service(service: run_v2.Service) -> ServiceFacts:
    created = service.create_time
    return ServiceFacts(
        key=ServiceKey.parse(service.name),
        ingress=service.ingress.name,
        labels=dict(service.labels),
        annotations=dict(service.annotations),
        etag=service.etag,
        create_time=datetime.fromtimestamp(created.timestamp(), tz=created.tzinfo) if created else None,
    )


def read_service(client: run_v2.ServicesClient, key: ServiceKey) -> ServiceFacts | None:
    """The live service, or None when it does not exist (deleted since the event)."""
    from google.api_core import exceptions

    try:
        return facts_from_service(client.get_service(name=key.name))
    except exceptions.NotFound:
        return None


def list_services(client: run_v2.ServicesClient, project: str, region: str) -> Iterator[ServiceFacts]:
    for service in client.list_services(parent=f"projects/{project}/locations/{region}"):
        yield facts_from_service(service)


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
    operation = client.update_service(request=request)
    return operation.operation.name
