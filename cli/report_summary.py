"""The report as a pure function of decisions: decisions → `cli.report_model.Report`.

`summarize` keeps decisions with `since <= timestamp < until`, counts a repeated delivery of one event once (same
`event_id`, `function`, `action`, `service`; decisions without an `event_id`, such as the scheduled sweep's, are
never merged), and splits the stream in two: the main sections say what runway did, the `dry_run` section what it
would have done (decisions logged with `dry_run: true`). Route findings and the posture are in
`cli.report_findings`, the roll-up per service project in `cli.report_projects`. What each part of the result
means: `cli.report_model`.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from cli.report_findings import posture, route_findings
from cli.report_model import (
    CHANGE_ACTIONS,
    ERROR_ACTIONS,
    FINDING_ACTIONS,
    GROUPS,
    INGRESS_ACTIONS,
    OPEN,
    REMEDIATED,
    ROUTE_CHANGES,
    UNKNOWN_PRINCIPAL,
    Bucket,
    Conflict,
    DryRun,
    DryRunItem,
    ErrorGroup,
    ExemptOpen,
    Invalid,
    PrincipalRemediations,
    Remediations,
    Report,
    RouteChange,
    ServiceRemediations,
    Stats,
    Timeline,
    Totals,
    as_time,
    flag,
    strings,
    text,
)
from cli.report_projects import by_project
from shared.decision_log import ACTION_NAMES

_GROUP_OF = {action: group for group, actions in GROUPS.items() for action in actions}
# Smallest bucket at least window/TARGET_BUCKETS wide: round sizes keep the chart's labels readable.
TARGET_BUCKETS = 24
_BUCKET_SIZES = (60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800)


def summarize(
    decisions: Iterable[Mapping[str, Any]], *, since: datetime, until: datetime, project: str | None = None
) -> Report:
    """The report over decisions with `since <= timestamp < until` (see the module docstring for the rules)."""
    start, end = as_time(since), as_time(until)
    if start is None or end is None:
        raise ValueError(f"since and until must be datetimes, got {since!r} and {until!r}")
    in_window = _in_window(decisions, start, end)
    rows = _deduplicated(in_window)
    real = [d for d in rows if not flag(d.get("dry_run"))]
    dry = [d for d in rows if flag(d.get("dry_run"))]
    findings = route_findings(real, end)
    return Report(
        project=project,
        since=start,
        until=end,
        totals=Totals(len(in_window), len(rows), len(in_window) - len(rows), len(real), len(dry)),
        counts=_counts(real),
        remediations=_remediations([d for d in real if d.get("action") == REMEDIATED]),
        routes=tuple(change for d in real if (change := _route_change(d)) is not None),
        conflicts=tuple(_conflict(d) for d in real if d.get("action") == "route_conflict"),
        invalid=tuple(
            Invalid(d["timestamp"], d.get("service"), text(d.get("reason")), d.get("principal"))
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
        timeline=_timeline(real, start, end),
        route_findings=findings,
        posture=posture(rows),
        by_project=by_project(real, (f.service for f in findings.open)),
        decisions=tuple(rows),
    )


def _in_window(decisions: Iterable[Mapping[str, Any]], since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Decisions in [since, until), each with an aware `timestamp`, in a total order (so the report does not
    depend on the order Logging returned ties in)."""
    found: list[dict[str, Any]] = []
    for raw in decisions:
        moment = as_time(raw.get("timestamp"))
        if moment is not None and since <= moment < until:
            found.append({**raw, "timestamp": moment})
    found.sort(
        key=lambda d: (
            d["timestamp"],
            str(d.get("action") or ""),
            str(d.get("service") or ""),
            str(d.get("function") or ""),
            str(d.get("event_id") or ""),
        )
    )
    return found


def _deduplicated(decisions: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Eventarc delivers at least once: a redelivered event yields the same decision again; keep the first."""
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str, str]] = set()
    for decision in decisions:
        if decision.get("event_id"):
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
    return rows


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


def _opened(group: Sequence[Mapping[str, Any]]) -> int:
    return sum(1 for r in group if r.get("before") == OPEN)


def _remediations(rows: Sequence[Mapping[str, Any]]) -> Remediations:
    by_service: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    by_principal: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        by_service[str(row.get("service") or "-")].append(row)
        by_principal[str(row.get("principal") or UNKNOWN_PRINCIPAL)].append(row)
    services = sorted(
        (
            ServiceRemediations(
                service,
                len(group),
                _opened(group),
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
                principal, len(group), _opened(group), tuple(sorted({str(r.get("service") or "-") for r in group}))
            )
            for principal, group in by_principal.items()
        ),
        key=lambda p: (-p.count, p.principal),
    )
    seconds = [s for s in (_seconds(r.get("seconds_to_remediate")) for r in rows) if s is not None]
    return Remediations(len(rows), _opened(rows), stats(seconds), tuple(services), tuple(principals))


def _route_change(d: Mapping[str, Any]) -> RouteChange | None:
    """A change of the load balancer: registered, updated or removed, including a registration or update logged as
    `route_unreachable` (routed, but answered 403 until its owner allows it); None for any other decision."""
    action = str(d.get("action"))
    unreachable = action == "route_unreachable" and d.get("published") in ("registered", "updated")
    if unreachable:
        action = f"route_{d['published']}"
    elif action not in ROUTE_CHANGES:
        return None
    return RouteChange(
        time=d["timestamp"],
        action=action,
        service=d.get("service"),
        host=text(d.get("host")),
        hosts=strings(d.get("hosts")),
        paths=strings(d.get("paths")),
        regions=strings(d.get("regions")),
        backend=text(d.get("backend")),
        changes=strings(d.get("changes")),
        principal=d.get("principal"),
        unreachable=unreachable,
    )


def _conflict(d: Mapping[str, Any]) -> Conflict:
    return Conflict(
        d["timestamp"], d.get("service"), d.get("host"), strings(d.get("paths")), d.get("holder"), d.get("principal")
    )


def _exempt_open(rows: Sequence[Mapping[str, Any]]) -> tuple[ExemptOpen, ...]:
    latest: dict[str, Mapping[str, Any]] = {}
    for row in rows:  # oldest first, so the last one written wins
        if row.get("action") in INGRESS_ACTIONS and row.get("service"):
            latest[str(row["service"])] = row
    return tuple(
        ExemptOpen(service, text(row.get("after") or row.get("before")), row["timestamp"], row.get("principal"))
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
            filter(None, (f"host {d['host']}" if d.get("host") else None, " ".join(strings(d.get("paths"))) or None))
        )
    elif action == "route_conflict":
        detail = f"{' '.join(strings(d.get('paths')))} held by {d.get('holder')}".strip()
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
