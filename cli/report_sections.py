"""The report's sections and headline, shared by every format (text, markdown and HTML render them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from cli.common import plural
from cli.report_model import Report, RouteFinding, rfc3339
from cli.report_projects import COLUMNS, total


def short_service(name: str | None) -> str:
    """`projects/P/locations/R/services/S` → `P/R/S`; anything else unchanged."""
    if not name:
        return "-"
    parts = name.split("/")
    if len(parts) == 6 and parts[0::2] == ["projects", "locations", "services"]:
        return "/".join(parts[1::2])
    return name


def _short_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _seconds_text(value: float | None) -> str:
    return "-" if value is None else f"{value:g}s"


def duration_text(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _clip(text: str | None, width: int = 100) -> str:
    text = " ".join((text or "-").split())
    return text if len(text) <= width else text[: width - 1] + "…"


@dataclass(frozen=True)
class Section:
    """One titled table of a report, shared by the table, markdown and html formats."""

    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""
    empty: str = "none"


def sections(report: Report) -> list[Section]:
    """The report as titled tables, in reading order; every format but json and csv renders these."""
    return [
        Section(
            "Decisions by action",
            ("action", "count"),
            tuple((action, str(n)) for action, n in report.counts.items() if n),
            empty="no decisions",
        ),
        *_remediation_sections(report),
        *_route_sections(report),
        _findings_section(report),
        Section(
            "Exempt services open to all",
            ("service", "ingress", "last seen"),
            tuple((short_service(e.service), e.ingress or "-", _short_time(e.last_seen)) for e in report.exempt_open),
        ),
        Section(
            "Errors",
            ("action", "count", "reason", "services"),
            tuple((g.action, str(g.count), _clip(g.reason), str(len(g.services))) for g in report.errors),
        ),
        _projects_section(report),
        *_posture_sections(report),
        Section(
            "Dry run (would have done)",
            ("time", "action", "service", "detail"),
            tuple(
                (_short_time(i.time), i.action, short_service(i.service), _clip(i.detail))
                for i in (*report.dry_run.changes, *report.dry_run.findings)
            ),
            note=f"{plural(report.dry_run.total, 'dry-run decision')}, not counted above",
        ),
        Section(
            f"Activity per {duration_text(report.timeline.bucket_seconds)}",
            # The JSON keeps the group's name `conflicts`; it counts every route finding (report_model).
            ("start", *("findings" if g == "conflicts" else g for g in report.timeline.groups)),
            tuple(
                (_short_time(b.start), *(str(getattr(b, g)) for g in report.timeline.groups))
                for b in report.timeline.buckets
                if b.total
            ),
            empty="no changes or findings",
        ),
    ]


# The Projects section's column headings, short enough for a terminal.
_PROJECT_HEADERS = (
    "project",
    "remediated",
    "registered",
    "updated",
    "removed",
    "conflicts",
    "invalid",
    "unreachable",
    "api_error",
    "open findings",
)


def _projects_section(report: Report) -> Section:
    """Real decisions rolled up per project of their service, then the total."""
    rows = report.by_project
    listed = (*rows, total(rows)) if rows else ()
    cells = tuple((r.project, *(str(getattr(r, c)) for c in COLUMNS)) for r in listed)
    return Section(
        "Projects",
        _PROJECT_HEADERS,
        cells,
        note="real decisions per project of the service each names; those naming no service are in no row",
        empty="no decision names a service",
    )


def _remediation_sections(report: Report) -> list[Section]:
    remediations = report.remediations
    ttr = remediations.time_to_remediate
    return [
        Section(
            "Remediations by service",
            ("service", "count", "opened to all", "principals", "last"),
            tuple(
                (
                    short_service(s.service),
                    str(s.count),
                    str(s.opened_to_all),
                    ", ".join(s.principals) or "-",
                    _short_time(s.last),
                )
                for s in remediations.by_service
            ),
            note=(
                f"{plural(remediations.total, 'remediation')} ({remediations.opened_to_all} found the service "
                f"open to all); time to remediate ({ttr.count} timed): median {_seconds_text(ttr.median)}, "
                f"p95 {_seconds_text(ttr.p95)}, max {_seconds_text(ttr.max)}"
            ),
        ),
        Section(
            "Remediations by principal",
            ("principal", "count", "opened to all", "services"),
            tuple(
                (p.principal, str(p.count), str(p.opened_to_all), str(len(p.services)))
                for p in remediations.by_principal
            ),
        ),
    ]


def _route_sections(report: Report) -> list[Section]:
    return [
        Section(
            "Routes",
            ("time", "action", "service", "host", "paths", "backend"),
            tuple(
                (
                    _short_time(r.time),
                    r.action.removeprefix("route_") + (" (unreachable)" if r.unreachable else ""),
                    short_service(r.service),
                    r.host or "-",
                    " ".join(r.paths) or "-",
                    r.backend or "-",
                )
                for r in report.routes
            ),
        ),
        Section(
            "Route conflicts",
            ("time", "service", "paths", "holder"),
            tuple(
                (_short_time(c.time), short_service(c.service), " ".join(c.paths) or "-", c.holder or "-")
                for c in report.conflicts
            ),
        ),
        Section(
            "Invalid routes",
            ("time", "service", "reason"),
            tuple((_short_time(i.time), short_service(i.service), _clip(i.reason)) for i in report.invalid),
        ),
    ]


def _finding_detail(finding: RouteFinding) -> str:
    if finding.holder:
        paths = " ".join(finding.paths)
        return f"{paths} held by {finding.holder}" if paths else f"held by {finding.holder}"
    return finding.reason or "-"


def _findings_section(report: Report) -> Section:
    found = report.route_findings
    rows = []
    for finding in (*found.open, *found.resolved):
        if finding.is_open:
            state = "open"
        else:
            by = (finding.resolved_by or "").removeprefix("route_")
            state = f"resolved {_short_time(finding.resolved or finding.last_seen)} ({by})"
        since = ("before " if finding.started_before_window else "") + _short_time(finding.first_seen)
        rows.append(
            (
                state,
                finding.kind,
                short_service(finding.service),
                since,
                age_text(finding.age_seconds),
                str(finding.reports),
                _clip(_finding_detail(finding)),
            )
        )
    return Section(
        "Route findings",
        ("state", "finding", "service", "first seen", "age", "reports", "detail"),
        tuple(rows),
        note=f"{len(found.open)} open, {len(found.resolved)} resolved; open ones oldest first",
    )


def _percent(fraction: float) -> str:
    return f"{fraction * 100:.1f} %"


def _posture_sections(report: Report) -> list[Section]:
    posture = report.posture
    if posture is None:
        none = "no sweep_summary in this window"
        return [
            Section("Posture", ("project",), (), empty=none),
            Section("URL-map budgets", ("budget",), (), empty=none),
        ]
    dry = ", dry run" if posture.dry_run else ""
    swept = f"{plural(posture.services, 'service')} swept" if posture.services is not None else "swept"
    failed = f", {posture.failures} failed" if posture.failures else ""
    warnings = "; ".join(f"{w.budget} {_percent(w.fraction)} at {_short_time(w.time)}" for w in posture.warnings)
    return [
        Section(
            f"Posture (latest sweep, {_short_time(posture.time)})",
            ("project", "private", "published", "exempt", "open"),
            tuple((p.project, str(p.private), str(p.published), str(p.exempt), str(p.open)) for p in posture.projects),
            note=f"{swept}{failed}{dry}",
        ),
        Section(
            "URL-map budgets",
            ("budget", "used", "limit", "used %", "where", "over 80 %"),
            tuple(
                (b.budget, f"{b.used:g}", f"{b.limit:g}", _percent(b.fraction), b.where or "-", "yes" if b.over else "")
                for b in posture.budgets
            ),
            note=f"budget warnings: {warnings}" if warnings else "no budget warnings in this window",
        ),
    ]


def age_text(seconds: int) -> str:
    """`3d 4h`, `2h 5m`, `7m 3s`, `45s`: the two largest units."""
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size or (unit == "s" and not parts):
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
        if len(parts) == 2:
            break
    return " ".join(parts)


def headline(report: Report) -> str:
    totals, findings = report.totals, report.findings
    duplicates = f" ({plural(totals.duplicates, 'repeated delivery')} counted once)" if totals.duplicates else ""
    return (
        f"{plural(totals.decisions, 'decision')}{duplicates}: {totals.real} real, {totals.dry_run} dry-run; "
        f"{plural(findings.total, 'finding')} ({plural(findings.conflicts, 'conflict')}, "
        f"{plural(findings.invalid, 'invalid route')}, {findings.unreachable} unreachable, "
        f"{plural(findings.errors, 'error')}, "
        f"{findings.dry_run} in dry run)"
    )


def title(report: Report) -> str:
    project = f" for {report.project}" if report.project else ""
    return f"runway report{project}, {rfc3339(report.since)} to {rfc3339(report.until)}"
