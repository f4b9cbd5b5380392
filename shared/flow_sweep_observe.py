"""What a sweep starts from: runway's objects first, then the services (`shared.flow_sweep`, step 1); and the
services read again where a decision must not rest on the listing alone.

Whatever an event publishes after the first reads is not in them, so it is never mistaken for an orphan. Regions:
the configured ones plus every region runway has a NEG in.

Each project is observed on its own. An API that is not enabled in a project (Google answers 403 with the reason
`SERVICE_DISABLED`, or the older `accessNotConfigured`) means there is nothing of it there: no Cloud Run service, or
no backend service or NEG. Any other failure leaves the project out of the sweep (`Observed.failed`): nothing of it
is observed, so nothing of it is claimed, changed or collected, and its URL-map rules stay as they are (rules of
services that make no claim are copied through, `shared.plan_url_map`).
"""

from __future__ import annotations

import concurrent.futures
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from . import errors
from .api_compute import list_backend_services, list_negs
from .api_run import list_services, read_service
from .clients import ComputeClients
from .config import Config
from .model import Decision, Json, ServiceFacts, ServiceKey, ServiceRef
from .naming import last_segment, parse_marker
from .plan_objects import neg_regions
from .plan_route import decide_route, installation_of, wants_publishing

if TYPE_CHECKING:
    from google.cloud import run_v2

T = TypeVar("T")
# Google's reasons for a call of an API the project has not enabled (ErrorInfo, and Compute's legacy `errors`).
DISABLED_REASONS = frozenset({"SERVICE_DISABLED", "accessNotConfigured"})


@dataclass
class Observed:
    backends: dict[tuple[str, str], Json] = field(default_factory=dict)  # (project, name) -> any backend service
    negs: dict[tuple[str, str, str], Json] = field(default_factory=dict)  # (project, region, name) -> any NEG
    regions: dict[str, set[str]] = field(default_factory=dict)  # project -> regions swept
    ours: dict[ServiceRef, set[str]] = field(default_factory=lambda: defaultdict(set))  # regions of our NEGs
    services: list[ServiceFacts] = field(default_factory=list)
    failed: dict[str, errors.RunwayApiError] = field(default_factory=dict)  # project -> why it was not observed


def api_disabled(exc: errors.RunwayApiError) -> bool:
    """Whether a failure says the API is not enabled in the project (so nothing of it exists there)."""
    return isinstance(exc, errors.PermissionDenied) and exc.reason in DISABLED_REASONS


def observe(
    config: Config,
    run: run_v2.ServicesClient,
    compute: ComputeClients,
    projects: Sequence[str],
    regions: Iterable[str],
    pool: concurrent.futures.Executor,
) -> Observed:
    """Every project in scope, several at a time: its API calls grow with projects, regions and pages, not with
    services. A project that cannot be observed is in `failed`, and nothing of it is anywhere else."""
    observed = Observed()
    regions = tuple(regions)

    def one(project: str) -> Observed | errors.RunwayApiError:
        try:
            return _observe_one(config, run, compute, project, regions)
        except errors.RunwayApiError as exc:
            return exc

    for project, part in zip(projects, pool.map(one, projects), strict=True):
        if isinstance(part, errors.RunwayApiError):
            observed.failed[project] = part
            continue
        observed.backends.update(part.backends)
        observed.negs.update(part.negs)
        observed.regions.update(part.regions)
        for ref, found in part.ours.items():
            observed.ours[ref] |= found
        observed.services += part.services
    return observed


def _unless_disabled(read: Callable[[], list[T]]) -> list[T]:
    try:
        return read()
    except errors.PermissionDenied as exc:
        if api_disabled(exc):
            return []
        raise


def _observe_one(
    config: Config, run: run_v2.ServicesClient, compute: ComputeClients, project: str, regions: tuple[str, ...]
) -> Observed:
    observed = Observed()
    backends = _unless_disabled(lambda: list_backend_services(compute, project))
    scope = set(regions)
    for backend in backends:
        observed.backends[(project, str(backend.get("name", "")))] = backend
        marker = parse_marker(backend.get("description"))
        if marker and marker.owner == config.owner_id and marker.ref.project == project:
            observed.ours[marker.ref] |= neg_regions(backend)
            scope |= neg_regions(backend)
    observed.regions[project] = scope
    for neg in _unless_disabled(lambda: list_negs(compute, project, scope)):
        region = last_segment(str(neg.get("region", "")))
        observed.negs[(project, region, str(neg.get("name", "")))] = neg
        marker = parse_marker(neg.get("description"))
        if marker and marker.owner == config.owner_id and marker.ref.project == project:
            observed.ours[marker.ref].add(region)
    observed.services += _unless_disabled(
        lambda: [facts for region in sorted(scope) for facts in list_services(run, project, region)]
    )
    return observed


# --- read again -------------------------------------------------------------------------------------------------


def reread(run: run_v2.ServicesClient, key: ServiceKey) -> ServiceFacts | None:
    """The live service, None when it is gone (or Cloud Run is not enabled in its project any more)."""
    try:
        return read_service(run, key)
    except errors.PermissionDenied as exc:
        if api_disabled(exc):
            return None
        raise


def still_wanted(ref: ServiceRef, regions: Iterable[str], run: run_v2.ServicesClient, owner: str) -> bool:
    """Before removing a route, read the service again where it had objects: an event may have labeled it since."""
    for region in sorted(regions):
        facts = reread(run, ServiceKey(ref.project, region, ref.service))
        if facts and installation_of(facts.labels) == owner and wants_publishing(facts.labels):
            return True
    return False


def same_route(
    ref: ServiceRef, decision: Decision, copies: Iterable[ServiceFacts], run: run_v2.ServicesClient, config: Config
) -> bool:
    """Before publishing a new or changed route, read the service's copies again: whether their labels still ask
    for exactly this route (one may have been relabeled or unlabeled since the listing; its event handles it)."""
    live = [reread(run, facts.key) for facts in copies]
    mine = [facts for facts in live if facts is not None and installation_of(facts.labels) == config.owner_id]
    return decide_route(ref, mine, config.hosts) == decision
