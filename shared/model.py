"""The value types every layer shares: which service, what was read of it, what it asks for, what would change.

A leaf: this module imports nothing from runway. Observations (`ServiceFacts`), decisions (`DesiredRoute`,
`NotPublished`, `RouteInvalid`), claims on the shared URL map (`Claim`, `RuleResult`) and changes (`Change`) are
plain frozen values, so the pure planners can be table-tested and the appliers only carry them out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

# Cloud Run service ids: lowercase letters, digits and hyphens, starting with a letter, not ending with
# a hyphen, fewer than 50 characters (run.v2 discovery, `serviceId`). Projects: 6-30 chars; regions: `a-b1`.
SERVICE_ID = r"[a-z](?:[-a-z0-9]{0,47}[a-z0-9])?"
PROJECT_ID = r"[a-z][-a-z0-9]{4,28}[a-z0-9]"
# Project numbers are decimal, no leading zero; 20 digits is beyond any real one but bounds the input.
PROJECT_NUMBER = r"[1-9][0-9]{0,19}"
REGION = r"[a-z]+-[a-z]+[0-9]+"
# Audit entries may name a project by number (`namespaces/123456789012/...`); a key accepts either form.
_V2_NAME = re.compile(
    rf"projects/(?P<project>{PROJECT_ID}|{PROJECT_NUMBER})/locations/(?P<region>{REGION})/services/(?P<service>{SERVICE_ID})"
)

Json = dict[str, Any]


# --- which service -----------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class ServiceKey:
    """Which Cloud Run service, in which region: the only thing runway takes from an event."""

    project: str
    region: str
    service: str

    @property
    def name(self) -> str:
        return f"projects/{self.project}/locations/{self.region}/services/{self.service}"

    @property
    def path(self) -> str:
        """`PROJECT/REGION/SERVICE`, the string `RUNWAY_EXEMPT` globs match."""
        return f"{self.project}/{self.region}/{self.service}"

    @property
    def ref(self) -> ServiceRef:
        return ServiceRef(self.project, self.service)

    @classmethod
    def parse(cls, name: str) -> ServiceKey:
        match = _V2_NAME.fullmatch(name)
        if not match:
            raise ValueError(f"not a Cloud Run v2 service name: {name!r}")
        return cls(match["project"], match["region"], match["service"])


@dataclass(frozen=True, order=True)
class ServiceRef:
    """One routed service: the same service name in one project, whatever its regions."""

    project: str
    service: str

    def __str__(self) -> str:
        return f"{self.project}/{self.service}"


# --- what was read ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceFacts:
    """What runway reads of a live service: everything the planners decide on.

    `ingress` is the setting the service asks for (v2 reports the observed one, which lags while a rollout runs;
    the reader reconciles the two, see `shared/api_run.py`).
    """

    key: ServiceKey
    ingress: str  # enum name, e.g. INGRESS_TRAFFIC_ALL
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    etag: str = ""
    create_time: datetime | None = None
    invoker_public: bool | None = None  # allUsers holds run.invoker (None: not read)
    iap_enabled: bool = False
    reconciling: bool = False  # a rollout is running: `ingress` may still show the previous setting


# --- what a service asks for ----------------------------------------------------------------------------------


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


# --- claims on the shared URL map ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """What one service asks of the shared URL map: its rule (`route`), or none of its rules (`route` None).

    `backend` is the relative path of the service's backend service; every path rule naming it is the service's.
    """

    ref: ServiceRef
    backend: str
    route: DesiredRoute | None = None

    @property
    def releases(self) -> bool:
        return self.route is None


class RuleState(StrEnum):
    """What became of a claim's rule on the URL map."""

    ADDED = "added"  # the service had no rule; now it has one
    CHANGED = "changed"  # its rule moved (paths or host alias)
    KEPT = "kept"  # already exactly as asked
    REMOVED = "removed"  # released, and it had rules
    ABSENT = "absent"  # released, and it had none
    CONFLICT = "conflict"  # refused: a path or host is held by someone else (`holder`)
    REFUSED = "refused"  # refused: a URL-map limit or Google's validation (`reason`)


@dataclass(frozen=True)
class RuleResult:
    ref: ServiceRef
    state: RuleState
    paths: tuple[str, ...] = ()  # the contested paths for a conflict, else the claim's paths
    holder: str | None = None  # backend path, matcher or host rule that holds what was asked
    reason: str | None = None

    @property
    def refused(self) -> bool:
        return self.state in (RuleState.CONFLICT, RuleState.REFUSED)

    @property
    def changed(self) -> bool:
        return self.state in (RuleState.ADDED, RuleState.CHANGED, RuleState.REMOVED)


# --- decisions as logged --------------------------------------------------------------------------------------


class Action(StrEnum):
    """The decision log's actions (docs/design.md §6): one spelling, used everywhere."""

    INGRESS_REMEDIATED = "ingress_remediated"
    INGRESS_COMPLIANT = "ingress_compliant"
    INGRESS_EXEMPT = "ingress_exempt"
    ROUTE_REGISTERED = "route_registered"
    ROUTE_UPDATED = "route_updated"
    ROUTE_REMOVED = "route_removed"
    ROUTE_UNCHANGED = "route_unchanged"
    ROUTE_CONFLICT = "route_conflict"
    ROUTE_INVALID = "route_invalid"
    ROUTE_UNREACHABLE = "route_unreachable"
    EVENT_IGNORED = "event_ignored"
    EVENT_INVALID = "event_invalid"
    API_ERROR = "api_error"
    SWEEP_SUMMARY = "sweep_summary"
    BUDGET_WARNING = "budget_warning"


# The route decisions that leave the service routed (a route that is on the load balancer, whether or not anyone
# may invoke it through it), and those a developer must fix (findings, WARNING).
ROUTED_ACTIONS = frozenset(
    {Action.ROUTE_REGISTERED, Action.ROUTE_UPDATED, Action.ROUTE_UNCHANGED, Action.ROUTE_UNREACHABLE}
)
FINDING_ACTIONS = frozenset({Action.ROUTE_CONFLICT, Action.ROUTE_INVALID, Action.ROUTE_UNREACHABLE})


# --- changes ------------------------------------------------------------------------------------------------------


class Op(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class Kind(StrEnum):
    NEG = "neg"
    BACKEND_SERVICE = "backend_service"
    SECURITY_POLICY = "security_policy"
    URL_MAP = "url_map"
    SERVICE_STATUS = "service_status"


@dataclass(frozen=True)
class Change:
    """One API write. `body` is REST JSON; update bodies are merge patches carrying the fingerprint just read."""

    op: Op
    kind: Kind
    name: str
    project: str
    why: str
    services: tuple[ServiceRef, ...]
    body: Json | None = None  # None for deletes
    region: str | None = None  # NEGs only


@dataclass(frozen=True)
class RouteOutcome:
    """One route decision's facts for one service, ready to log."""

    service: ServiceRef
    action: Action
    why: str
    host_alias: str | None = None
    hosts: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    backend: str | None = None
    holder: str | None = None
    reason: str | None = None
    changes: tuple[Change, ...] = ()
    published: str | None = None  # for route_unreachable: registered | updated | unchanged
