"""The data of `python main.py report` and its JSON contract: the shapes `cli.report_summary` fills and every
format renders. Pure values; reading the log is `cli.report_read`, summarizing `cli.report_summary`.

JSON (`--format json`): `Report.to_dict()`, keys in this order, times RFC3339 UTC, lists in a fixed order:

    version             2; bumped when a key changes meaning or disappears (2: `findings.unreachable`,
                        route_unreachable counted in `findings.total` and the timeline's `conflicts`)
    project, since, until
    totals              {entries, decisions, duplicates, real, dry_run}: entries in the window, after
                        de-duplication, repeated deliveries dropped, and the split
    counts              {action: n} for every action of docs/design.md §6 (zeros included), real decisions only
    findings            {conflicts, invalid, unreachable, errors, dry_run, total}: what makes the exit code 1
    remediations        {total, opened_to_all, time_to_remediate: {count, median, p95, max},
                         by_service: [{service, count, opened_to_all, principals, last}],
                         by_principal: [{principal, count, opened_to_all, services}]}  (most first)
    routes              [{time, action, service, host, hosts, paths, regions, backend, changes, principal,
                         unreachable}]: also route_unreachable's registrations and updates (`unreachable` true)
    conflicts           [{time, service, host, paths, holder, principal}]
    invalid             [{time, service, reason, principal}]
    exempt_open         [{service, ingress, last_seen, principal}]: exempt services whose latest ingress
                        decision in the window says they are open to all traffic
    errors              [{action, reason, count, services, retryable, first, last}]: api_error and
                        event_invalid grouped by reason (most first)
    dry_run             {total, counts, changes: [{time, action, service, detail}], findings: [same]}
    timeline            {bucket_seconds, groups, buckets: [{start, remediated, routes, conflicts, errors}]}:
                        real decisions over time; `conflicts` is route_conflict + route_invalid +
                        route_unreachable, `errors` api_error + event_invalid
    route_findings      {open: [finding], resolved: [finding]}, each finding
                        {service, kind, first_seen, last_seen, resolved, resolved_by, age_seconds, reports,
                         started_before_window, principal, holder, reason, paths}: below
    posture             null when the window holds no `sweep_summary`; else the latest one:
                        {time, function, dry_run, services, failures,
                         projects: [{project, private, published, exempt, open}]  (by project),
                         budgets: [{budget, used, limit, fraction, where, over}]  (by name; `over`: above 80 %),
                         warnings: [{time, budget, used, limit, fraction, where}]}: the latest
                        `budget_warning` of each budget in the window (by name)
    by_project          [{project, ingress_remediated, route_registered, route_updated, route_removed, conflicts,
                         invalid, unreachable, api_error, open_findings}] (by project; `cli.report_projects`):
                        real decisions per project of their `service`, and its open route findings

`time_to_remediate` is over `seconds_to_remediate` (event time → fix): the median, the 95th percentile by
nearest rank (the smallest value at least 95 % of the values are at or under) and the maximum; null when no
remediation carried one.

**Route findings.** A finding (`kind` conflict, invalid or unreachable) is the run of a service's consecutive
real route decisions that report the same finding: `route_conflict`, `route_invalid`, `route_unreachable`, or
`route_unchanged` with the field `finding` (still open, already reported on the service, docs/design.md §3).
Services are told apart by project and name (a route is one per project and name, whatever its regions). A
finding is **open** when the service's latest route decision in the window is still in it, **resolved** when a
later route decision is not (`resolved` its time, `resolved_by` its action; another kind of finding resolves
it too). `first_seen` is the run's first decision in the window; `started_before_window` says that one was
already a `route_unchanged` repeat, so the finding is older than the window shows. `age_seconds`: open, from
`first_seen` to the end of the window; resolved, from `first_seen` to `resolved`. `reports` counts the run's
decisions; `principal` is the first one's; `holder`, `reason` and `paths` come from its latest decision that
carried them. Open findings oldest first, resolved ones by resolution time.

`--service-project P` (repeatable) reports on the services of those projects: decisions naming another project's
service are left out before anything is counted (those naming no service stay), and `posture.projects` keeps P.

CSV (`--format csv`): one row per decision in the window after de-duplication, real and dry-run (column
`dry_run`), oldest first, with the columns of `cli.report_format.CSV_COLUMNS`; lists are joined with spaces,
objects written as JSON. A row per decision (rather than per summary line) is what a spreadsheet can pivot any
way it likes; the summaries, route findings and posture included, are in the other formats.

Exit codes: 0 the report holds no findings; 1 it holds findings (route conflicts, invalid route labels,
unreachable routes, API errors, malformed events — real or dry-run); 2 usage or configuration error (the
variable is named); 3 the Logging API could not be read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cli.report_projects import ProjectRollup

FORMATS = ("table", "json", "csv", "markdown", "html")
SCHEMA_VERSION = 2

REMEDIATED = "ingress_remediated"
ROUTE_CHANGES = ("route_registered", "route_updated", "route_removed")
INGRESS_ACTIONS = ("ingress_remediated", "ingress_compliant", "ingress_exempt")
ERROR_ACTIONS = ("api_error", "event_invalid")
ROUTE_FINDINGS = ("route_conflict", "route_invalid", "route_unreachable")
FINDING_ACTIONS = (*ROUTE_FINDINGS, *ERROR_ACTIONS)
CHANGE_ACTIONS = (REMEDIATED, *ROUTE_CHANGES)
ROUTE_ACTIONS = (*ROUTE_CHANGES, "route_unchanged", *ROUTE_FINDINGS)
# The chart's stacked groups, bottom to top.
GROUPS: Mapping[str, tuple[str, ...]] = {
    "remediated": (REMEDIATED,),
    "routes": ROUTE_CHANGES,
    "conflicts": ROUTE_FINDINGS,
    "errors": ERROR_ACTIONS,
}
OPEN = "all"  # gcloud's name for INGRESS_TRAFFIC_ALL, as the decision log writes it
UNKNOWN_PRINCIPAL = "(unknown)"


def rfc3339(moment: datetime) -> str:
    """UTC with `Z`; microseconds only when there are some, so whole-second times read cleanly."""
    moment = moment.astimezone(UTC)
    spec = "microseconds" if moment.microsecond else "seconds"
    return moment.isoformat(timespec=spec).replace("+00:00", "Z")


def as_time(value: Any) -> datetime | None:
    """An aware UTC datetime from a datetime or an RFC3339 string (naive: taken as UTC); None otherwise."""
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value.replace("z", "Z"))
        except ValueError:
            return None
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def flag(value: Any) -> bool:
    """A boolean field as logged (`true`, or the string `"true"`)."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def strings(value: Any) -> tuple[str, ...]:
    """A list field as logged (or a lone string) as a tuple of strings."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def text(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class Totals:
    entries: int  # decisions in the window as read
    decisions: int  # after de-duplication
    duplicates: int  # repeated deliveries dropped
    real: int
    dry_run: int


@dataclass(frozen=True)
class Stats:
    count: int
    median: float | None
    p95: float | None
    max: float | None


@dataclass(frozen=True)
class ServiceRemediations:
    service: str
    count: int
    opened_to_all: int  # remediations that found the service open to all traffic
    principals: tuple[str, ...]
    last: datetime


@dataclass(frozen=True)
class PrincipalRemediations:
    principal: str
    count: int
    opened_to_all: int
    services: tuple[str, ...]


@dataclass(frozen=True)
class Remediations:
    total: int
    opened_to_all: int
    time_to_remediate: Stats
    by_service: tuple[ServiceRemediations, ...]
    by_principal: tuple[PrincipalRemediations, ...]


@dataclass(frozen=True)
class RouteChange:
    time: datetime
    action: str
    service: str | None
    host: str | None
    hosts: tuple[str, ...]
    paths: tuple[str, ...]
    regions: tuple[str, ...]
    backend: str | None
    changes: tuple[str, ...]
    principal: str | None
    unreachable: bool = False


@dataclass(frozen=True)
class Conflict:
    time: datetime
    service: str | None
    host: str | None
    paths: tuple[str, ...]
    holder: str | None
    principal: str | None


@dataclass(frozen=True)
class Invalid:
    time: datetime
    service: str | None
    reason: str | None
    principal: str | None


@dataclass(frozen=True)
class ExemptOpen:
    service: str
    ingress: str | None
    last_seen: datetime
    principal: str | None


@dataclass(frozen=True)
class ErrorGroup:
    action: str
    reason: str
    count: int
    services: tuple[str, ...]
    retryable: bool | None  # None when no decision of the group said
    first: datetime
    last: datetime


@dataclass(frozen=True)
class DryRunItem:
    time: datetime
    action: str
    service: str | None
    detail: str


@dataclass(frozen=True)
class DryRun:
    total: int
    counts: dict[str, int]
    changes: tuple[DryRunItem, ...]
    findings: tuple[DryRunItem, ...]


@dataclass(frozen=True)
class Bucket:
    start: datetime
    remediated: int = 0
    routes: int = 0
    conflicts: int = 0
    errors: int = 0

    @property
    def total(self) -> int:
        return self.remediated + self.routes + self.conflicts + self.errors


@dataclass(frozen=True)
class Timeline:
    bucket_seconds: int
    groups: tuple[str, ...]
    buckets: tuple[Bucket, ...]


@dataclass(frozen=True)
class Findings:
    conflicts: int
    invalid: int
    unreachable: int
    errors: int
    dry_run: int
    total: int


@dataclass(frozen=True)
class RouteFinding:
    """One finding of one service, from its first report in the window to now or to what resolved it."""

    service: str
    kind: str  # conflict | invalid | unreachable
    first_seen: datetime
    last_seen: datetime
    resolved: datetime | None
    resolved_by: str | None  # the action of the decision that resolved it
    age_seconds: int
    reports: int
    started_before_window: bool
    principal: str | None
    holder: str | None
    reason: str | None
    paths: tuple[str, ...]

    @property
    def is_open(self) -> bool:
        return self.resolved is None


@dataclass(frozen=True)
class RouteFindings:
    open: tuple[RouteFinding, ...] = ()
    resolved: tuple[RouteFinding, ...] = ()


@dataclass(frozen=True)
class ProjectPosture:
    project: str
    private: int
    published: int
    exempt: int
    open: int


@dataclass(frozen=True)
class Budget:
    budget: str
    used: float
    limit: float
    fraction: float
    where: str | None
    over: bool  # above the warning line (80 %)


@dataclass(frozen=True)
class BudgetWarning:
    time: datetime
    budget: str
    used: float
    limit: float
    fraction: float
    where: str | None


@dataclass(frozen=True)
class Posture:
    """The fleet as the latest sweep in the window saw it (its `sweep_summary`)."""

    time: datetime
    function: str | None
    dry_run: bool
    services: int | None
    failures: int | None
    projects: tuple[ProjectPosture, ...]
    budgets: tuple[Budget, ...]
    warnings: tuple[BudgetWarning, ...]


@dataclass(frozen=True)
class Report:
    project: str | None
    since: datetime
    until: datetime
    totals: Totals
    counts: dict[str, int]
    remediations: Remediations
    routes: tuple[RouteChange, ...]
    conflicts: tuple[Conflict, ...]
    invalid: tuple[Invalid, ...]
    exempt_open: tuple[ExemptOpen, ...]
    errors: tuple[ErrorGroup, ...]
    dry_run: DryRun
    timeline: Timeline
    route_findings: RouteFindings = field(default_factory=RouteFindings)
    posture: Posture | None = None
    by_project: tuple[ProjectRollup, ...] = ()
    # The de-duplicated decisions themselves, oldest first: the CSV's rows. Not part of the JSON summary.
    decisions: tuple[dict[str, Any], ...] = field(default=(), repr=False, compare=False)

    @property
    def findings(self) -> Findings:
        errors = sum(group.count for group in self.errors)
        unreachable = self.counts.get("route_unreachable", 0)
        dry = len(self.dry_run.findings)
        total = len(self.conflicts) + len(self.invalid) + unreachable + errors + dry
        return Findings(len(self.conflicts), len(self.invalid), unreachable, errors, dry, total)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (module docstring): stable key order, RFC3339 times, lists not tuples."""
        body = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "decisions"}
        ordered: dict[str, Any] = {"version": SCHEMA_VERSION}
        for name, value in body.items():
            ordered[name] = _plain(value)
            if name == "counts":
                ordered["findings"] = _plain(self.findings)
        return ordered


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
