"""The route contract (docs/design.md §3): from a live service's labels and annotation to the route it asks for.

Pure; never raises on user input: every way a deployer can get it wrong is a `RouteInvalid` with a reason that
names the label or annotation, so it can be logged as `route_invalid` and acknowledged.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from shared.config import DEFAULT_ALIAS, DEFAULT_OWNER_ID
from shared.model import DesiredRoute, NotPublished, RouteInvalid, ServiceFacts, ServiceRef
from shared.plan_paths import path_problem

LABEL_ROUTE = "public-route"
LABEL_HOST = "public-host"
LABEL_OWNER = "runway-owner"
ANNOTATION_PATHS = "runway.dev/paths"

# Compared case-insensitively: label values are lowercase on Cloud Run, but a hand-made `True` should not
# become the slug `True` (which is invalid anyway) when the meaning is obvious.
ON_WORDS = frozenset({"true", ""})
OFF_WORDS = frozenset({"false", "off", "no", "disabled"})

SLUG_RE = re.compile(r"[a-z0-9_-]{1,63}")
MAX_PATHS = 64  # per service: one service must not eat a path matcher's rule budget (docs/google-apis.md §9.1).


def parse_paths(value: str) -> tuple[tuple[str, ...], str | None]:
    """The paths of a `runway.dev/paths` annotation (sorted), or a reason it is invalid."""
    # Spaces around commas are forgiven (`/a, /b` is what people type); empty items are not, they hide typos.
    items = [item.strip() for item in value.split(",")]
    if not value.strip():
        return (), f"annotation {ANNOTATION_PATHS} is empty"
    if any(not item for item in items):
        return (), f"annotation {ANNOTATION_PATHS} has an empty item: {value!r}"
    if len(items) > MAX_PATHS:
        return (), f"annotation {ANNOTATION_PATHS} lists {len(items)} paths, more than {MAX_PATHS}"
    for item in items:
        problem = path_problem(item)
        if problem:
            return (), f"annotation {ANNOTATION_PATHS}: {problem}"
    duplicates = sorted({item for item in items if items.count(item) > 1})
    if duplicates:
        return (), f"annotation {ANNOTATION_PATHS} repeats {', '.join(duplicates)}"
    return tuple(sorted(items)), None


@dataclass(frozen=True)
class _RegionRoute:
    alias: str
    paths: tuple[str, ...]


def installation_of(labels: Mapping[str, str] | None) -> str:
    """The owner id of the installation a service selects with `runway-owner` (absent: the default one)."""
    return (labels or {}).get(LABEL_OWNER) or DEFAULT_OWNER_ID


def wants_publishing(labels: Mapping[str, str]) -> bool:
    """Whether the labels ask to publish the service at all (valid or not): the ingress policy opens such a
    service to the load balancer even before its route is accepted."""
    value = (labels or {}).get(LABEL_ROUTE)
    return value is not None and value.lower() not in OFF_WORDS


def _decide_one(facts: ServiceFacts, hosts: Mapping[str, Sequence[str]]) -> _RegionRoute | str | None:
    """One region's answer: its route, a reason it is invalid (str), or None when it does not publish."""
    labels, annotations = facts.labels or {}, facts.annotations or {}
    if not wants_publishing(labels):
        return None
    value = labels[LABEL_ROUTE]
    if value.lower() in ON_WORDS:
        slug = facts.key.service
    elif SLUG_RE.fullmatch(value):
        slug = value
    else:
        return f"label {LABEL_ROUTE}={value!r} is not true, an off word or a slug of 1-63 [a-z0-9_-]"

    alias = labels.get(LABEL_HOST) or DEFAULT_ALIAS
    if alias not in hosts:
        known = ", ".join(sorted(hosts)) or "none"
        if labels.get(LABEL_HOST):
            return f"label {LABEL_HOST}={alias!r} names no host alias in RUNWAY_HOSTS (known: {known})"
        return f"no {LABEL_HOST} label and RUNWAY_HOSTS defines no {DEFAULT_ALIAS!r} alias (known: {known})"

    if ANNOTATION_PATHS in annotations:
        paths, problem = parse_paths(annotations[ANNOTATION_PATHS])
        if problem:
            return problem
    else:
        paths = (f"/{slug}", f"/{slug}/*")
    return _RegionRoute(alias, paths)


def _describe(route: _RegionRoute) -> str:
    return f"host {route.alias!r} paths {','.join(route.paths)}"


def decide_route(
    ref: ServiceRef, facts: Sequence[ServiceFacts], hosts: Mapping[str, Sequence[str]]
) -> DesiredRoute | NotPublished | RouteInvalid:
    """The route of one service from its live copies (one `ServiceFacts` per region it exists in).

    Regions must agree: if any region is invalid, or published regions ask for different hosts or paths, the
    whole service is invalid (naming the regions) and nothing already published changes, so a label rolled
    out region by region moves the route once, when the last region agrees. Regions that don't publish are
    simply left out of `regions`.
    """
    for fact in facts:
        if (fact.key.project, fact.key.service) != (ref.project, ref.service):
            raise ValueError(f"{fact.key.name} is not a copy of {ref}")

    answers = sorted(
        ((fact.key.region, _decide_one(fact, hosts), fact.create_time) for fact in facts), key=lambda answer: answer[0]
    )
    problems = [f"{region}: {answer}" for region, answer, _ in answers if isinstance(answer, str)]
    if problems:
        return RouteInvalid(ref.project, ref.service, "; ".join(problems))

    published = [(region, answer, created) for region, answer, created in answers if isinstance(answer, _RegionRoute)]
    if not published:
        return NotPublished(ref.project, ref.service)

    variants: dict[_RegionRoute, list[str]] = defaultdict(list)
    for region, answer, _ in published:
        variants[answer].append(region)
    if len(variants) > 1:
        detail = "; ".join(f"{','.join(regions)} want {_describe(route)}" for route, regions in variants.items())
        return RouteInvalid(ref.project, ref.service, f"regions disagree: {detail}")

    route = published[0][1]
    assert isinstance(route, _RegionRoute)
    times = [created for _, _, created in published if created is not None]
    return DesiredRoute(
        project=ref.project,
        service=ref.service,
        host_alias=route.alias,
        hosts=tuple(hosts[route.alias]),
        paths=route.paths,
        regions=frozenset(region for region, _, _ in published),
        created=min(times) if times else None,
    )


def decide_routes(
    facts: Iterable[ServiceFacts], hosts: Mapping[str, Sequence[str]]
) -> dict[ServiceRef, DesiredRoute | NotPublished | RouteInvalid]:
    """Every service of a sweep, its regions grouped, in name order."""
    grouped: dict[ServiceRef, list[ServiceFacts]] = defaultdict(list)
    for fact in facts:
        grouped[ServiceRef(fact.key.project, fact.key.service)].append(fact)
    return {ref: decide_route(ref, grouped[ref], hosts) for ref in sorted(grouped)}
