"""The report as one self-contained HTML page: inline CSS, an inline SVG chart, no scripts, fonts or links.

A page that loads nothing can be attached to a ticket or mailed and still render the same, and cannot leak
that it was opened. Every value from the log goes through `html.escape`: service names, principals and
reasons come from events anyone with run.services.update can shape.
"""

from __future__ import annotations

from datetime import UTC
from html import escape

from cli.report_model import Report
from cli.report_sections import Section, duration_text, headline, sections, title

COLORS = {"remediated": "#2e7d32", "routes": "#1565c0", "conflicts": "#ef6c00", "errors": "#c62828"}
_WIDTH, _HEIGHT = 760, 220
_LEFT, _RIGHT, _TOP, _BOTTOM = 40, 10, 10, 40

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:60rem;color:#222;
padding:0 1rem}
h1{font-size:1.4rem;margin-bottom:.2rem}h2{font-size:1.1rem;margin:1.6rem 0 .4rem}
.headline{color:#444}.note{color:#555;margin:.2rem 0 .5rem}.empty{color:#777;font-style:italic}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.25rem .6rem;border-bottom:1px solid #ddd;
vertical-align:top;word-break:break-word}th{background:#f4f4f4}
.legend span{display:inline-block;margin-right:1rem}.legend i{display:inline-block;width:.8rem;height:.8rem;
margin-right:.3rem;vertical-align:-1px}
svg text{font-size:10px;fill:#555}
""".strip()


def _label(report: Report, index: int) -> str:
    start = report.timeline.buckets[index].start.astimezone(UTC)
    if report.timeline.bucket_seconds >= 86400:
        return start.strftime("%m-%d")
    if index == 0 or (start.hour == 0 and start.minute == 0):
        return start.strftime("%m-%d %H:%M")
    return start.strftime("%H:%M")


def chart(report: Report) -> str:
    """Stacked bars, one `<g class="bar">` per non-empty bucket, one `<rect>` per non-empty group in it."""
    timeline = report.timeline
    buckets = timeline.buckets
    peak = max((b.total for b in buckets), default=0)
    plot_w, plot_h = _WIDTH - _LEFT - _RIGHT, _HEIGHT - _TOP - _BOTTOM
    slot = plot_w / len(buckets)
    bar_w = max(1.0, slot * 0.8)
    parts = [
        f'<svg width="{_WIDTH}" height="{_HEIGHT}" '
        f'viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img" aria-label="decisions over time">',
        f'<line x1="{_LEFT}" y1="{_TOP + plot_h}" x2="{_LEFT + plot_w}" y2="{_TOP + plot_h}" stroke="#999"/>',
        f'<text x="{_LEFT - 4}" y="{_TOP + 8}" text-anchor="end">{peak}</text>',
        f'<text x="{_LEFT - 4}" y="{_TOP + plot_h}" text-anchor="end">0</text>',
    ]
    if not peak:
        parts.append(
            f'<text x="{_LEFT + plot_w / 2}" y="{_TOP + plot_h / 2}" text-anchor="middle">'
            "no changes or findings in this window</text>"
        )
    label_every = max(1, round(len(buckets) / 8))
    for index, bucket in enumerate(buckets):
        x = _LEFT + index * slot + (slot - bar_w) / 2
        if index % label_every == 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{_TOP + plot_h + 14}" text-anchor="middle">'
                f"{escape(_label(report, index))}</text>"
            )
        if not bucket.total:
            continue
        counts = ", ".join(f"{g} {getattr(bucket, g)}" for g in timeline.groups if getattr(bucket, g))
        parts.append(
            f'<g class="bar"><title>{escape(bucket.start.strftime("%Y-%m-%d %H:%M"))} UTC: {escape(counts)}</title>'
        )
        y = _TOP + plot_h
        for group in timeline.groups:
            value = getattr(bucket, group)
            if not value:
                continue
            height = plot_h * value / peak
            y -= height
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{height:.1f}" fill="{COLORS[group]}"/>'
            )
        parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts)


def _section(section: Section) -> str:
    out = [f"<h2>{escape(section.title)}</h2>"]
    if section.note:
        out.append(f'<p class="note">{escape(section.note)}</p>')
    if not section.rows:
        out.append(f'<p class="empty">{escape(section.empty)}</p>')
        return "\n".join(out)
    out.append("<table><thead><tr>" + "".join(f"<th>{escape(h)}</th>" for h in section.headers) + "</tr></thead>")
    out.append("<tbody>")
    out += ["<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in section.rows]
    out.append("</tbody></table>")
    return "\n".join(out)


def format_html(report: Report) -> str:
    legend = "".join(
        f'<span><i style="background:{color}"></i>{escape("findings" if group == "conflicts" else group)}</span>'
        for group, color in COLORS.items()
    )
    body = [
        f"<h1>{escape(title(report))}</h1>",
        f'<p class="headline">{escape(headline(report))}</p>',
        f"<h2>Decisions over time (per {duration_text(report.timeline.bucket_seconds)}, UTC)</h2>",
        f'<p class="legend">{legend}</p>',
        chart(report),
        *(_section(section) for section in sections(report)),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title(report))}</title>\n<style>\n{_CSS}\n</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )
