"""The report rendered: a terminal table, markdown, JSON, CSV (HTML in `cli.report_html`)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cli.report_data import CSV_COLUMNS, Report, rfc3339

# ------------------------------------------------------------------------------------------------ formats


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
    remediations = report.remediations
    ttr = remediations.time_to_remediate
    out = [
        Section(
            "Decisions by action",
            ("action", "count"),
            tuple((action, str(n)) for action, n in report.counts.items() if n),
            empty="no decisions",
        ),
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
        Section(
            "Routes",
            ("time", "action", "service", "host", "paths", "backend"),
            tuple(
                (
                    _short_time(r.time),
                    r.action.removeprefix("route_"),
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
            ("start", *report.timeline.groups),
            tuple(
                (_short_time(b.start), *(str(getattr(b, g)) for g in report.timeline.groups))
                for b in report.timeline.buckets
                if b.total
            ),
            empty="no changes or findings",
        ),
    ]
    return out


def plural(count: int, noun: str) -> str:
    if count == 1:
        return f"1 {noun}"
    return f"{count} {noun[:-1] + 'ies' if noun.endswith('y') else noun + 's'}"


def headline(report: Report) -> str:
    totals, findings = report.totals, report.findings
    duplicates = f" ({plural(totals.duplicates, 'repeated delivery')} counted once)" if totals.duplicates else ""
    return (
        f"{plural(totals.decisions, 'decision')}{duplicates}: {totals.real} real, {totals.dry_run} dry-run; "
        f"{plural(findings.total, 'finding')} ({plural(findings.conflicts, 'conflict')}, "
        f"{plural(findings.invalid, 'invalid route')}, {plural(findings.errors, 'error')}, "
        f"{findings.dry_run} in dry run)"
    )


def title(report: Report) -> str:
    project = f" for {report.project}" if report.project else ""
    return f"runway report{project}, {rfc3339(report.since)} to {rfc3339(report.until)}"


def format_table(report: Report) -> str:
    lines = [title(report), headline(report)]
    for section in sections(report):
        lines += ["", section.title]
        if section.note:
            lines.append(f"  {section.note}")
        if not section.rows:
            lines.append(f"  {section.empty}")
            continue
        widths = [max(len(cell) for cell in column) for column in zip(section.headers, *section.rows, strict=True)]
        for row in (section.headers, *section.rows):
            lines.append("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines) + "\n"


_MD_SPECIAL = re.compile(r"([\\|*_`<\[\]])")


def _md_cell(text: str) -> str:
    # Cells hold log data: escape what Markdown would read as cell borders, emphasis, links, code or HTML.
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split())) or " "


def format_markdown(report: Report) -> str:
    lines = [f"## {title(report)}", "", headline(report)]
    for section in sections(report):
        lines += ["", f"### {section.title}", ""]
        if section.note:
            lines += [section.note, ""]
        if not section.rows:
            lines.append(f"_{section.empty}_")
            continue
        lines.append("| " + " | ".join(section.headers) + " |")
        lines.append("|" + "|".join(" --- " for _ in section.headers) + "|")
        lines += ["| " + " | ".join(_md_cell(cell) for cell in row) + " |" for row in section.rows]
    return "\n".join(lines) + "\n"


def format_json(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Logging returns JSON numbers as doubles: 503.0 is the code 503
    if isinstance(value, list | tuple):
        return " ".join(_csv_cell(v) for v in value)
    if isinstance(value, Mapping):
        return json.dumps(value, sort_keys=True)
    return str(value)


def format_csv(report: Report) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for decision in report.decisions:
        writer.writerow([_csv_cell(decision.get(column)) for column in CSV_COLUMNS])
    return buffer.getvalue()


def render(report: Report, fmt: str) -> str:
    if fmt == "html":
        from cli.report_html import format_html  # only the html format needs it

        return format_html(report)
    renderers = {"table": format_table, "json": format_json, "csv": format_csv, "markdown": format_markdown}
    return renderers[fmt](report)
