"""What a sweep starts from: runway's objects first, then the services (`shared.flow_sweep`, step 1).

Whatever an event publishes after the first reads is not in them, so it is never mistaken for an orphan. Regions:
the configured ones plus every region runway has a NEG in.
"""

from __future__ import annotations

import concurrent.futures
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .api_compute import list_backend_services, list_negs
from .api_run import list_services
from .clients import ComputeClients
from .config import Config
from .model import Json, ServiceFacts, ServiceRef
from .naming import parse_marker
from .plan_objects import neg_regions

if TYPE_CHECKING:
    from google.cloud import run_v2


@dataclass
class Observed:
    backends: dict[tuple[str, str], Json] = field(default_factory=dict)  # (project, name) -> any backend service
    negs: dict[tuple[str, str, str], Json] = field(default_factory=dict)  # (project, region, name) -> any NEG
    regions: dict[str, set[str]] = field(default_factory=dict)  # project -> regions swept
    ours: dict[ServiceRef, set[str]] = field(default_factory=lambda: defaultdict(set))  # regions of our NEGs
    services: list[ServiceFacts] = field(default_factory=list)


def observe(
    config: Config,
    run: run_v2.ServicesClient,
    compute: ComputeClients,
    projects: Sequence[str],
    regions: Iterable[str],
    pool: concurrent.futures.Executor,
) -> Observed:
    """Every project in scope, several at a time: its API calls grow with projects, regions and pages, not with
    services."""
    observed = Observed()
    regions = tuple(regions)
    for part in pool.map(lambda project: _observe_one(config, run, compute, project, regions), projects):
        observed.backends.update(part.backends)
        observed.negs.update(part.negs)
        observed.regions.update(part.regions)
        for ref, found in part.ours.items():
            observed.ours[ref] |= found
        observed.services += part.services
    return observed


def _observe_one(
    config: Config, run: run_v2.ServicesClient, compute: ComputeClients, project: str, regions: tuple[str, ...]
) -> Observed:
    observed = Observed()
    backends = list_backend_services(compute, project)
    scope = set(regions)
    for backend in backends:
        observed.backends[(project, str(backend.get("name", "")))] = backend
        marker = parse_marker(backend.get("description"))
        if marker and marker.owner == config.owner_id:
            observed.ours[marker.ref] |= neg_regions(backend)
            scope |= neg_regions(backend)
    observed.regions[project] = scope
    for neg in list_negs(compute, project, scope):
        region = str(neg.get("region", "")).rstrip("/").rsplit("/", 1)[-1]
        observed.negs[(project, region, str(neg.get("name", "")))] = neg
        marker = parse_marker(neg.get("description"))
        if marker and marker.owner == config.owner_id:
            observed.ours[marker.ref].add(region)
    for region in sorted(scope):
        observed.services += list_services(run, project, region)
    return observed
