"""The report rendered: a terminal table, markdown, JSON, CSV (HTML in `cli.report_html`)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cli.report_html import format_html
from cli.report_model import Report, rfc3339
from cli.report_sections import headline, sections, title

# The CSV's columns (cli.report_model's docstring): the common fields, then those of particular actions.
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
    "finding",
    "published",
    "budget",
    "used",
    "limit",
    "fraction",
    "where",
    "posture",
    "budgets",
)


# ------------------------------------------------------------------------------------------------ formats


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
    renderers = {
        "table": format_table,
        "json": format_json,
        "csv": format_csv,
        "markdown": format_markdown,
        "html": format_html,
    }
    return renderers[fmt](report)
