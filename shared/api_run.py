"""runway's only calls to the Cloud Run Admin API (v2, google-cloud-run): reading services and their invoker
policy, and writing ingress and the route status.

Every function here raises `errors.RunwayApiError` kinds, never a client exception. Reads are retried on
transient failures (idempotent); writes are not (the etag makes a blind retry pointless: a stale one is a 409
the caller answers by re-reading).

Observed, not requested: v2's `ingress` is the setting of the revision serving now (docs/google-apis.md §9.3).
While a rollout runs (`reconciling`, or `observedGeneration` behind `generation`) it still shows the old one,
and `INGRESS_TRAFFIC_UNSPECIFIED` before any revision serves. A decision on that value would miss an ingress
widened by a rollout in flight (gcloud's v1 writes produce their only audit entry at that moment) or repeat a
fix already on its way. So `read_service(settle=True)` waits, bounded, until the service is settled.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from . import errors
from .model import ServiceFacts, ServiceKey

if TYPE_CHECKING:
    from google.cloud import run_v2

READ_TIMEOUT = 30.0
SETTLE_TIMEOUT = 120.0  # longer than a rollout normally takes; past it Eventarc's redelivery waits for us
INVOKER_ROLE = "roles/run.invoker"
PUBLIC_MEMBERS = frozenset({"allUsers"})


def facts_from_service(service: run_v2.Service) -> ServiceFacts:
    return ServiceFacts(
        key=ServiceKey.parse(service.name),
        ingress=service.ingress.name,
        labels=dict(service.labels),
        annotations=dict(service.annotations),
        etag=service.etag,
        create_time=_datetime(service.create_time),
        iap_enabled=bool(service.iap_enabled),
        invoker_public=True if service.invoker_iam_disabled else None,
        reconciling=not settled(service),
    )


def _datetime(value: object) -> datetime | None:
    """proto-plus hands timestamps over as a datetime subclass; anything else (unset) is None."""
    return value if isinstance(value, datetime) else None


def settled(service: run_v2.Service) -> bool:
    """Whether the observed fields (ingress among them) show what was last asked for."""
    return not service.reconciling and service.observed_generation >= service.generation


def _get(client: run_v2.ServicesClient, key: ServiceKey) -> run_v2.Service | None:
    try:
        return errors.call(
            "run.services.get", key.name, client.get_service, name=key.name, retry=errors.default_retry(READ_TIMEOUT)
        )
    except errors.NotFound:
        return None


def read_service(client: run_v2.ServicesClient, key: ServiceKey, *, settle: bool = False) -> ServiceFacts | None:
    """The live service, or None when it does not exist (deleted since the event).

    With `settle`, a service whose rollout is still running is read again (backing off) until it settles, at most
    SETTLE_TIMEOUT; then a temporary error, so the event is redelivered later.
    """
    deadline = time.monotonic() + SETTLE_TIMEOUT
    delay = 0.25
    while True:
        service = _get(client, key)
        if service is None:
            return None
        if not settle or settled(service):
            return facts_from_service(service)
        if time.monotonic() + delay > deadline:
            raise errors.ServerError(
                f"still rolling out after {SETTLE_TIMEOUT:.0f} s (generation {service.generation}, observed "
                f"{service.observed_generation})",
                method="run.services.get",
                resource=key.name,
            )
        time.sleep(delay)
        delay = min(delay * 2, 4.0)


def list_services(client: run_v2.ServicesClient, project: str, region: str) -> Iterator[ServiceFacts]:
    parent = f"projects/{project}/locations/{region}"
    services = errors.call(
        "run.services.list",
        parent,
        lambda: list(client.list_services(parent=parent, retry=errors.default_retry(READ_TIMEOUT))),
    )
    return (facts_from_service(service) for service in services)


def invoker_is_public(client: run_v2.ServicesClient, key: ServiceKey) -> bool:
    """Whether `allUsers` may invoke the service: what a load balancer's unauthenticated requests need."""
    policy = errors.call(
        "run.services.getIamPolicy",
        key.name,
        client.get_iam_policy,
        request={"resource": key.name},
        retry=errors.default_retry(READ_TIMEOUT),
    )
    return any(
        binding.role == INVOKER_ROLE and PUBLIC_MEMBERS.intersection(binding.members) for binding in policy.bindings
    )


def set_ingress(client: run_v2.ServicesClient, facts: ServiceFacts, ingress: str) -> str:
    """Ask for the new ingress, guarded by the etag just read; returns the operation name.

    Only `ingress` is in the update mask, so nothing else a deployer changed meanwhile can be overwritten, and
    the etag turns a concurrent change into a 409 the caller answers by re-reading. The operation (the rollout)
    is not waited for: the audit entry of its end is what tells runway the new setting serves.
    """
    from google.cloud import run_v2
    from google.protobuf import field_mask_pb2

    request = run_v2.UpdateServiceRequest(
        service=run_v2.Service(name=facts.key.name, ingress=getattr(run_v2.IngressTraffic, ingress), etag=facts.etag),
        update_mask=field_mask_pb2.FieldMask(paths=["ingress"]),
    )
    operation = errors.call("run.services.update", facts.key.name, client.update_service, request=request)
    return str(operation.operation.name)


def set_metadata(
    client: run_v2.ServicesClient, facts: ServiceFacts, labels: Mapping[str, str], annotations: Mapping[str, str]
) -> None:
    """Replace the service-level labels and annotations (never the revision template's, so no new revision),
    guarded by the etag just read. Callers pass what they read with their own keys changed."""
    from google.cloud import run_v2
    from google.protobuf import field_mask_pb2

    request = run_v2.UpdateServiceRequest(
        service=run_v2.Service(
            name=facts.key.name, labels=dict(labels), annotations=dict(annotations), etag=facts.etag
        ),
        update_mask=field_mask_pb2.FieldMask(paths=["labels", "annotations"]),
    )
    errors.call("run.services.update", facts.key.name, client.update_service, request=request)
