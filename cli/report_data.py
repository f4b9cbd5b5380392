"""The data of `python main.py report`: reading runway's decision log (docs/design.md §6) and summarizing it.

Three layers, so each can be tested on its own:

- `fetch_decisions` reads the log through the Logging API (google-cloud-logging over REST) and flattens each
  entry into a decision dict: the `jsonPayload` plus `timestamp` (an aware UTC datetime) and `severity`.
- `summarize` is pure: decisions → `Report`. It keeps decisions with `since <= timestamp < until`, counts a
  repeated delivery of one event once (same `event_id`, `function`, `action`, `service`; decisions without an
  `event_id`, such as the scheduled sweep's, are never merged), and splits the stream in two: the main sections
  say what runway did, the `dry_run` section what it would have done (decisions logged with `dry_run: true`).
- formatters render a `Report` as `table`, `json`, `csv`, `markdown` or `html` (`cli.report_html`).

JSON (`--format json`): `Report.to_dict()`, keys in this order, times RFC3339 UTC, lists in a fixed order:

    version             1; bumped when a key changes meaning or disappears
    project, since, until
    totals              {entries, decisions, duplicates, real, dry_run}: entries in the window, after
                        de-duplication, repeated deliveries dropped, and the split
    counts              {action: n} for every action of docs/design.md §6 (zeros included), real decisions only
    findings            {conflicts, invalid, errors, dry_run, total}: what makes the exit code 1
    remediations        {total, opened_to_all, time_to_remediate: {count, median, p95, max},
                         by_service: [{service, count, opened_to_all, principals, last}],
                         by_principal: [{principal, count, opened_to_all, services}]}  (most first)
    routes              [{time, action, service, host, hosts, paths, regions, backend, changes, principal}]
    conflicts           [{time, service, host, paths, holder, principal}]
    invalid             [{time, service, reason, principal}]
    exempt_open         [{service, ingress, last_seen, principal}]: exempt services whose latest ingress
                        decision in the window says they are open to all traffic
    errors              [{action, reason, count, services, retryable, first, last}]: api_error and
                        event_invalid grouped by reason (most first)
    dry_run             {total, counts, changes: [{time, action, service, detail}], findings: [same]}
    timeline            {bucket_seconds, groups, buckets: [{start, remediated, routes, conflicts, errors}]}:
                        real decisions over time; `conflicts` is route_conflict + route_invalid, `errors`
                        api_error + event_invalid

`time_to_remediate` is over `seconds_to_remediate` (event time → fix): the median, the 95th percentile by
nearest rank (the smallest value at least 95 % of the values are at or under) and the maximum; null when no
remediation carried one.

CSV (`--format csv`): one row per decision in the window after de-duplication, real and dry-run (column
`dry_run`), oldest first, with the columns of `CSV_COLUMNS`; lists are joined with spaces. A row per decision
(rather than per summary line) is what a spreadsheet can pivot any way it likes; the summaries are in the other
formats.

Exit codes: 0 the report holds no findings; 1 it holds findings (route conflicts, invalid route labels, API
errors, malformed events — real or dry-run); 2 usage or configuration error (the variable is named); 3 the
Logging API could not be read.
"""

from __future__ import annotations

import dataclasses
import math
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.decision_log import ACTION_NAMES, COMPONENT

FORMATS = ("table", "json", "csv", "markdown", "html")
SCHEMA_VERSION = 1
# The Logging API's largest page; fewer round trips for a week of decisions.
PAGE_SIZE = 1000

REMEDIATED = "ingress_remediated"
ROUTE_CHANGES = ("route_registered", "route_updated", "route_removed")
INGRESS_ACTIONS = ("ingress_remediated", "ingress_compliant", "ingress_exempt")
ERROR_ACTIONS = ("api_error", "event_invalid")
FINDING_ACTIONS = ("route_conflict", "route_invalid", *ERROR_ACTIONS)
CHANGE_ACTIONS = (REMEDIATED, *ROUTE_CHANGES)
# The chart's stacked groups, bottom to top.
GROUPS: Mapping[str, tuple[str, ...]] = {
    "remediated": (REMEDIATED,),
    "routes": ROUTE_CHANGES,
    "conflicts": ("route_conflict", "route_invalid"),
    "errors": ERROR_ACTIONS,
}
_GROUP_OF = {action: group for group, actions in GROUPS.items() for action in actions}
OPEN = "all"  # gcloud's name for INGRESS_TRAFFIC_ALL, as the decision log writes it
UNKNOWN_PRINCIPAL = "(unknown)"

# Smallest bucket at least window/TARGET_BUCKETS wide: round sizes keep the chart's labels readable.
TARGET_BUCKETS = 24
_BUCKET_SIZES = (60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800)

CSV_COLUMNS = (
    "timestamp",
    "severity",
    "action",
    "dry_run",
    "function",
    "service",
    "principal",
    "event_id",
    "method",
    "before",
    "after",
    "seconds_to_remediate",
    "host",
    "paths",
    "regions",
    "backend",
    "changes",
    "holder",
    "reason",
    "retryable",
    "code",
    "message",
)

_DURATION = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


# ------------------------------------------------------------------------------------------------ times


def parse_when(text: str, now: datetime) -> datetime:
    """`30m`, `24h`, `7d` (back from `now`; also `s` and `w`) or an RFC3339 timestamp with a zone → aware UTC."""
    value = text.strip()
    match = _DURATION.fullmatch(value.lower())
    if match:
        amount = int(match.group(1))
        if amount <= 0:
            raise ValueError(f"{text!r} is an empty window; expected a positive duration like 30m, 24h, 7d")
        return now - timedelta(**{_UNITS[match.group(2)]: amount})
    try:
        moment = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise ValueError(
            f"{text!r} is neither a duration (like 30m, 24h, 7d) nor an RFC3339 timestamp (like 2026-03-01T12:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        # A zone-less time is ambiguous between the operator's zone and UTC; Logging would read it as UTC.
        raise ValueError(f"{text!r} has no time zone; add Z or an offset like +02:00")
    return moment.astimezone(UTC)


def rfc3339(moment: datetime) -> str:
    """UTC with `Z`; microseconds only when there are some, so whole-second times read cleanly."""
    moment = moment.astimezone(UTC)
    spec = "microseconds" if moment.microsecond else "seconds"
    return moment.isoformat(timespec=spec).replace("+00:00", "Z")


def _as_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value.replace("z", "Z"))
        except ValueError:
            return None
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


# ------------------------------------------------------------------------------------------------ reading


def decision_filter(since: datetime, until: datetime | None = None) -> str:
    """The Logging filter for runway's decisions in a window.

    It always names `timestamp`: otherwise google-cloud-logging appends its own `timestamp>=` of 24 hours ago
    (docs/google-apis.md §5.2), silently cutting every longer window.
    """
    text = f'jsonPayload.component="{COMPONENT}" AND timestamp>="{rfc3339(since)}"'
    if until is not None:
        text += f' AND timestamp<"{rfc3339(until)}"'
    return text


def fetch_decisions(
    client: Any, project: str, since: datetime, until: datetime | None = None, *, page_size: int = PAGE_SIZE
) -> list[dict[str, Any]]:
    """runway's decisions logged in `project` in [since, until), oldest first, as flat dicts.

    `client` is a `google.cloud.logging.Client` (see `shared.clients.logging_client`). Each dict is the entry's
    `jsonPayload` plus `timestamp` (aware UTC datetime) and `severity`, the two fields Cloud Logging lifts out of
    the line the function printed.
    """
    from google.cloud.logging import ASCENDING  # about 0.5 s; only this path needs it

    entries = client.list_entries(
        resource_names=[f"projects/{project}"],
        filter_=decision_filter(since, until),
        order_by=ASCENDING,
        page_size=page_size,
    )
    decisions: list[dict[str, Any]] = []
    for entry in entries:
        payload = entry.payload
        if not isinstance(payload, Mapping):
            continue
        decision = dict(payload)
        decision["timestamp"] = _as_time(entry.timestamp)
        decision["severity"] = entry.severity
        decisions.append(decision)
    return decisions


# ------------------------------------------------------------------------------------------------ the report


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
    errors: int
    dry_run: int
    total: int


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
    # The de-duplicated decisions themselves, oldest first: the CSV's rows. Not part of the JSON summary.
    decisions: tuple[dict[str, Any], ...] = field(default=(), repr=False, compare=False)

    @property
    def findings(self) -> Findings:
        errors = sum(group.count for group in self.errors)
        dry = len(self.dry_run.findings)
        return Findings(
            len(self.conflicts), len(self.invalid), errors, dry, len(self.conflicts) + len(self.invalid) + errors + dry
        )

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


# ------------------------------------------------------------------------------------------------ summarize


def summarize(
    decisions: Iterable[Mapping[str, Any]], *, since: datetime, until: datetime, project: str | None = None
) -> Report:
    """The report over decisions with `since <= timestamp < until` (see the module docstring for the rules)."""
    start, end = _as_time(since), _as_time(until)
    if start is None or end is None:
        raise ValueError(f"since and until must be datetimes, got {since!r} and {until!r}")
    since, until = start, end
    in_window: list[dict[str, Any]] = []
    for raw in decisions:
        moment = _as_time(raw.get("timestamp"))
        if moment is not None and since <= moment < until:
            in_window.append({**raw, "timestamp": moment})
    # A total order, so the report does not depend on the order Logging returned ties in.
    in_window.sort(
        key=lambda d: (
            d["timestamp"],
            str(d.get("action") or ""),
            str(d.get("service") or ""),
            str(d.get("function") or ""),
            str(d.get("event_id") or ""),
        )
    )
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str, str]] = set()
    for decision in in_window:
        if decision.get("event_id"):
            # Eventarc delivers at least once: a redelivered event yields the same decision again.
            key = (
                str(decision["event_id"]),
                str(decision.get("function")),
                str(decision.get("action")),
                str(decision.get("service")),
            )
            if key in seen:
                continue
            seen.add(key)
        rows.append(decision)
    real = [d for d in rows if not _flag(d.get("dry_run"))]
    dry = [d for d in rows if _flag(d.get("dry_run"))]
    return Report(
        project=project,
        since=since,
        until=until,
        totals=Totals(len(in_window), len(rows), len(in_window) - len(rows), len(real), len(dry)),
        counts=_counts(real),
        remediations=_remediations([d for d in real if d.get("action") == REMEDIATED]),
        routes=tuple(_route_change(d) for d in real if d.get("action") in ROUTE_CHANGES),
        conflicts=tuple(
            Conflict(
                d["timestamp"],
                d.get("service"),
                d.get("host"),
                _strings(d.get("paths")),
                d.get("holder"),
                d.get("principal"),
            )
            for d in real
            if d.get("action") == "route_conflict"
        ),
        invalid=tuple(
            Invalid(d["timestamp"], d.get("service"), _text(d.get("reason")), d.get("principal"))
            for d in real
            if d.get("action") == "route_invalid"
        ),
        exempt_open=_exempt_open(real),
        errors=_errors([d for d in real if d.get("action") in ERROR_ACTIONS]),
        dry_run=DryRun(
            total=len(dry),
            counts=_counts(dry),
            changes=tuple(_dry_item(d) for d in dry if d.get("action") in CHANGE_ACTIONS),
            findings=tuple(_dry_item(d) for d in dry if d.get("action") in FINDING_ACTIONS),
        ),
        timeline=_timeline(real, since, until),
        decisions=tuple(rows),
    )


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _counts(decisions: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    found = Counter(str(d.get("action")) for d in decisions)
    counts = {action: found.pop(action, 0) for action in ACTION_NAMES}
    counts.update(sorted(found.items()))  # actions a newer runway may log: shown, not dropped
    return counts


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def stats(values: Sequence[float]) -> Stats:
    """Count, median, nearest-rank p95 and max, rounded to milliseconds; None for an empty sample."""
    if not values:
        return Stats(0, None, None, None)
    ordered = sorted(values)
    p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]
    return Stats(len(ordered), round(statistics.median(ordered), 3), round(p95, 3), round(ordered[-1], 3))


def _remediations(rows: Sequence[Mapping[str, Any]]) -> Remediations:
    by_service: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    by_principal: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        by_service[str(row.get("service") or "-")].append(row)
        by_principal[str(row.get("principal") or UNKNOWN_PRINCIPAL)].append(row)

    def opened(group: Sequence[Mapping[str, Any]]) -> int:
        return sum(1 for r in group if r.get("before") == OPEN)

    services = sorted(
        (
            ServiceRemediations(
                service,
                len(group),
                opened(group),
                tuple(sorted({str(r["principal"]) for r in group if r.get("principal")})),
                max(r["timestamp"] for r in group),
            )
            for service, group in by_service.items()
        ),
        key=lambda s: (-s.count, s.service),
    )
    principals = sorted(
        (
            PrincipalRemediations(
                principal, len(group), opened(group), tuple(sorted({str(r.get("service") or "-") for r in group}))
            )
            for principal, group in by_principal.items()
        ),
        key=lambda p: (-p.count, p.principal),
    )
    seconds = [s for s in (_seconds(r.get("seconds_to_remediate")) for r in rows) if s is not None]
    return Remediations(len(rows), opened(rows), stats(seconds), tuple(services), tuple(principals))


def _route_change(d: Mapping[str, Any]) -> RouteChange:
    return RouteChange(
        time=d["timestamp"],
        action=str(d["action"]),
        service=d.get("service"),
        host=_text(d.get("host")),
        hosts=_strings(d.get("hosts")),
        paths=_strings(d.get("paths")),
        regions=_strings(d.get("regions")),
        backend=_text(d.get("backend")),
        changes=_strings(d.get("changes")),
        principal=d.get("principal"),
    )


def _exempt_open(rows: Sequence[Mapping[str, Any]]) -> tuple[ExemptOpen, ...]:
    latest: dict[str, Mapping[str, Any]] = {}
    for row in rows:  # oldest first, so the last one written wins
        if row.get("action") in INGRESS_ACTIONS and row.get("service"):
            latest[str(row["service"])] = row
    return tuple(
        ExemptOpen(service, _text(row.get("after") or row.get("before")), row["timestamp"], row.get("principal"))
        for service, row in sorted(latest.items())
        if row.get("action") == "ingress_exempt"
    )


def _errors(rows: Sequence[Mapping[str, Any]]) -> tuple[ErrorGroup, ...]:
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[(str(row["action"]), str(row.get("reason") or "(no reason)"))].append(row)
    result = []
    for (action, reason), group in groups.items():
        flags = [r["retryable"] for r in group if isinstance(r.get("retryable"), bool)]
        result.append(
            ErrorGroup(
                action,
                reason,
                len(group),
                tuple(sorted({str(r["service"]) for r in group if r.get("service")})),
                any(flags) if flags else None,
                group[0]["timestamp"],
                group[-1]["timestamp"],
            )
        )
    return tuple(sorted(result, key=lambda g: (-g.count, g.action, g.reason)))


def _dry_item(d: Mapping[str, Any]) -> DryRunItem:
    action = str(d.get("action"))
    if action == REMEDIATED:
        detail = f"ingress {d.get('before')} -> {d.get('after')}"
    elif action in ROUTE_CHANGES:
        detail = " ".join(
            filter(None, (f"host {d['host']}" if d.get("host") else None, " ".join(_strings(d.get("paths"))) or None))
        )
    elif action == "route_conflict":
        detail = f"{' '.join(_strings(d.get('paths')))} held by {d.get('holder')}".strip()
    else:
        detail = str(d.get("reason") or "")
    return DryRunItem(d["timestamp"], action, d.get("service"), detail)


def bucket_seconds(window: timedelta) -> int:
    """The chart's bucket size: the smallest round size giving at most about TARGET_BUCKETS buckets."""
    wanted = window.total_seconds() / TARGET_BUCKETS
    for size in _BUCKET_SIZES:
        if size >= wanted:
            return size
    week = _BUCKET_SIZES[-1]
    return week * math.ceil(wanted / week)


def _timeline(rows: Sequence[Mapping[str, Any]], since: datetime, until: datetime) -> Timeline:
    size = bucket_seconds(until - since)
    # Buckets start on multiples of their size since the epoch (whole hours, whole days), not at `since`,
    # so their labels are round; the first and last may reach outside the window.
    first = math.floor(since.timestamp() / size) * size
    count = max(1, math.ceil((until.timestamp() - first) / size))
    tallies: list[Counter[str]] = [Counter() for _ in range(count)]
    for row in rows:
        group = _GROUP_OF.get(str(row.get("action")))
        if group is not None:
            index = min(count - 1, int((row["timestamp"].timestamp() - first) // size))
            tallies[index][group] += 1
    buckets = tuple(
        Bucket(datetime.fromtimestamp(first + i * size, UTC), **{g: tally[g] for g in GROUPS})
        for i, tally in enumerate(tallies)
    )
    return Timeline(size, tuple(GROUPS), buckets)
