"""The route contract (docs/design.md §3): from a live service's labels and annotation to the route it asks for.

Pure; never raises on user input: every way a deployer can get it wrong is a `RouteInvalid` with a reason that
names the label or annotation, so it can be logged as `route_invalid` and acknowledged.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from shared.config import DEFAULT_ALIAS
from shared.model import ServiceFacts
from shared.naming import ServiceRef

__all__ = [
    "ANNOTATION_PATHS",
    "DEFAULT_ALIAS",
    "LABEL_HOST",
    "LABEL_ROUTE",
    "Decision",
    "DesiredRoute",
    "NotPublished",
    "RouteInvalid",
    "ServiceRef",
    "decide_route",
    "decide_routes",
    "parse_paths",
    "validate_path",
]

LABEL_ROUTE = "public-route"
LABEL_HOST = "public-host"
ANNOTATION_PATHS = "runway.dev/paths"

# Compared case-insensitively: label values are lowercase on Cloud Run, but a hand-made `True` should not
# become the slug `True` (which is invalid anyway) when the meaning is obvious.
ON_WORDS = frozenset({"true", ""})
OFF_WORDS = frozenset({"false", "off", "no", "disabled"})

SLUG_RE = re.compile(r"[a-z0-9_-]{1,63}")
RESERVED_PATHS = frozenset({"/", "/*"})
MAX_PATH_LEN = 1024  # Compute's own maximum is unverified (docs/google-apis.md §3.3); this keeps us well inside any.
MAX_PATHS = 64  # per service: one service must not eat a path matcher's rule budget (docs/google-apis.md §4).
_PATH_CHARS = re.compile(r"[!-~]+")  # printable ASCII without space: raw non-ASCII must be percent-encoded


@dataclass(frozen=True)
class DesiredRoute:
    """A service that asks to be published, and where."""

    project: str
    service: str
    host_alias: str
    hosts: tuple[str, ...]
    paths: tuple[str, ...]  # sorted, unique
    regions: frozenset[str]  # only the regions whose labels say publish
    created: datetime | None = None  # oldest create_time of those regions: the tie-break among claimants

    @property
    def ref(self) -> ServiceRef:
        return ServiceRef(self.project, self.service)


@dataclass(frozen=True)
class NotPublished:
    """No label, an off word, or the service is gone from every region: routes and resources must go."""

    project: str
    service: str

    @property
    def ref(self) -> ServiceRef:
        return ServiceRef(self.project, self.service)


@dataclass(frozen=True)
class RouteInvalid:
    """The labels or annotation can't be honoured; what is already published stays as it is."""

    project: str
    service: str
    reason: str

    @property
    def ref(self) -> ServiceRef:
        return ServiceRef(self.project, self.service)


Decision = DesiredRoute | NotPublished | RouteInvalid


def validate_path(path: str) -> str | None:
    """Why `path` is not a URL-map path runway may register, or None when it is fine."""
    if not path.startswith("/"):
        return f"path {path!r} must start with '/'"
    if len(path) > MAX_PATH_LEN:
        return f"path {path[:40]!r}... is longer than {MAX_PATH_LEN} characters"
    if not _PATH_CHARS.fullmatch(path):
        return f"path {path!r} may hold only printable ASCII without spaces (percent-encode the rest)"
    if "?" in path or "#" in path:
        return f"path {path!r} may not contain '?' or '#'"
    star = path.find("*")
    if star >= 0 and (star != len(path) - 1 or not path.endswith("/*")):
        return f"path {path!r} may hold '*' only as its last character, right after '/'"
    if path in RESERVED_PATHS:
        return f"path {path!r} is reserved for the URL map's default service"
    return None


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
        problem = validate_path(item)
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
