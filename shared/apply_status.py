"""Writing the route status onto each copy of a service, and knowing whether the load balancer may call it.

The write goes through the v2 API with an update mask (`labels`, `annotations`) and the etag just read; a 409
(someone changed the service meanwhile) is answered by reading the copy again and writing again, a few times.
A copy deleted meanwhile needs no status.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from . import errors
from .api_run import invoker_is_public, read_service, set_metadata
from .model import ServiceFacts, ServiceKey
from .plan_status import RouteState, RouteStatus, metadata_with, status_of

if TYPE_CHECKING:
    from google.cloud import run_v2

MAX_ATTEMPTS = 4


def reachable(run: run_v2.ServicesClient, facts: ServiceFacts, *, recheck: bool) -> bool:
    """Whether unauthenticated requests (the load balancer's) may invoke this copy: IAM check disabled, IAP on,
    or allUsers holding run.invoker. Without `recheck`, a status already recording published or unreachable is
    trusted (what changes it, a SetIamPolicy, is an event of its own that rechecks)."""
    if facts.invoker_public or facts.iap_enabled:
        return True
    current = status_of(facts.labels, facts.annotations)
    if not recheck and current is not None and current.state in (RouteState.PUBLISHED, RouteState.UNREACHABLE):
        return current.state == RouteState.PUBLISHED
    return invoker_is_public(run, facts.key)


def write_statuses(
    run: run_v2.ServicesClient,
    copies: Sequence[ServiceFacts],
    status_of_copy: Callable[[ServiceKey], RouteStatus | None],
    *,
    refresh: Collection[ServiceKey] = (),
) -> int:
    """Bring every copy's status in line (`refresh`: rewrite these even if only the time differs); returns how
    many writes it sent (one refused on a stale etag, then re-read and sent again, counts twice)."""
    writes = 0
    for facts in copies:
        writes += _write_one(run, facts, status_of_copy(facts.key), refresh=facts.key in refresh)
    return writes


def _write_one(
    run: run_v2.ServicesClient, facts: ServiceFacts | None, status: RouteStatus | None, *, refresh: bool
) -> int:
    writes = 0
    for _ in range(MAX_ATTEMPTS):
        if facts is None:
            return writes
        change = metadata_with(facts.labels, facts.annotations, status, refresh=refresh)
        if change is None:
            return writes
        try:
            set_metadata(run, facts, *change)
            return writes + 1
        except errors.Conflict:
            writes += 1
            facts = read_service(run, facts.key)  # changed meanwhile: decide on what is there now
        except errors.NotFound:
            return writes
    raise errors.Conflict(
        f"{facts.key.name if facts else 'service'} kept changing while its route status was written",
        method="run.services.update",
        resource=facts.key.name if facts else None,
    )


def now_utc() -> datetime:
    from datetime import UTC

    return datetime.now(UTC)
