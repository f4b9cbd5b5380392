"""`explain`'s reads, and nothing else: the service's copies (settled, as runway decides on them), who may invoke
each, runway's NEGs and backend service for it (by their names), the live URL map, the markers of the backend
services that hold its paths, and its latest decisions in the log. The checks over them are pure
(`cli.explain_checks`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from cli.explain_checks import desired_route
from cli.explain_model import Observation
from cli.explain_route import related_holders
from cli.report_read import fetch_decisions
from shared import clients, errors
from shared.api_compute import get_backend_service, get_neg, get_url_map
from shared.api_run import invoker_is_public, read_service
from shared.config import Config
from shared.flow_routes import name_holders
from shared.model import ServiceFacts, ServiceKey, ServiceRef
from shared.naming import backend_service_name, neg_name, parse_marker
from shared.plan_objects import neg_regions

DECISION_WINDOW = timedelta(hours=24)
DECISIONS = 5


class UnknownService(LookupError):
    """No such Cloud Run service where `explain` looked: a usage error."""


def service_key(service: str, project: str, region: str) -> ServiceKey:
    """The key of a service named plainly (in `project` and `region`) or as `projects/P/locations/R/services/S`;
    ValueError for a name Cloud Run would not accept."""
    if service.startswith("projects/"):
        return ServiceKey.parse(service)
    return ServiceKey.parse(f"projects/{project}/locations/{region}/services/{service}")


def observe(config: Config, ref: ServiceRef, regions: Sequence[str], *, now: datetime) -> Observation:
    """Everything `explain` checks for the service `ref`, looked for in `regions` (and wherever runway has a NEG
    for it). `UnknownService` when no copy exists there; `ConfigError` when the URL map does not exist."""
    run = clients.run_services(config.api_endpoint, config.api_principal)
    compute = clients.compute(config.api_endpoint, config.api_principal)
    copies = _copies(run, ref, regions)
    if not copies:
        where = ", ".join(regions)
        raise UnknownService(f"no Cloud Run service {ref.service!r} in project {ref.project} ({where})")
    owner = config.owner_id
    backend = get_backend_service(compute, ref.project, backend_service_name(owner, ref.project, ref.service))
    marker = parse_marker(backend.get("description")) if backend else None
    extra = sorted(neg_regions(backend) - {c.key.region for c in copies}) if marker and marker.owner == owner else []
    copies += _copies(run, ref, extra)
    neg_in = sorted({c.key.region for c in copies} | set(extra))
    lb_project = config.project or ref.project
    obs = Observation(
        config=config,
        ref=ref,
        copies=tuple(sorted(copies, key=lambda c: c.key.region)),
        invoker={c.key.region: _invoker(run, c) for c in copies if not (c.invoker_public or c.iap_enabled)},
        backend=backend,
        negs={r: get_neg(compute, ref.project, r, neg_name(owner, ref.project, r, ref.service)) for r in neg_in},
        url_map=get_url_map(compute, lb_project, config.require_url_map()),
        lb_project=lb_project,
        decisions=_decisions(config, lb_project, copies, now),
    )
    route = desired_route(obs)
    holders = sorted(related_holders(obs, route)) if route else []
    names = {holder: name_holders(compute, holder, owner) for holder in holders}
    return dataclasses.replace(obs, holder_names=names)


def _copies(run: Any, ref: ServiceRef, regions: Sequence[str]) -> list[ServiceFacts]:
    found = (read_service(run, ServiceKey(ref.project, region, ref.service), settle=True) for region in regions)
    return [facts for facts in found if facts is not None]


def _invoker(run: Any, facts: ServiceFacts) -> bool | str:
    try:
        return invoker_is_public(run, facts.key)
    except errors.RunwayApiError as exc:
        return str(exc)


def _decisions(
    config: Config, project: str, copies: Sequence[ServiceFacts], now: datetime
) -> tuple[dict[str, Any], ...] | str:
    """The latest decisions about the service (any region's name, or the sweep's `locations/-` one), newest first,
    or why the log could not be read."""
    ref = copies[0].key.ref
    names = [c.key.name for c in copies] + [f"projects/{ref.project}/locations/-/services/{ref.service}"]
    try:
        client = clients.logging_client(project, config.api_endpoint)
        found = fetch_decisions(
            client, project, now - DECISION_WINDOW, services=names, newest_first=True, limit=DECISIONS
        )
    except errors.API_ERRORS as exc:
        return f"could not read the decision log of {project}: {exc}"
    return tuple(found)
