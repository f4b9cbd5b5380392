"""A sweep's result printed the way `terraform plan` prints: + create, ~ update, - delete, each with why; over
several projects, a table per project with their total (`cli.plan_rollup`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from shared.sweep_result import SweepResult

from .common import plural
from .plan_rollup import COUNTS, total

SYMBOL = {"create": "+", "update": "~", "delete": "-"}
_HEADERS = ("PROJECT", "SERVICES", "INGRESS", "CREATE", "UPDATE", "DELETE", "FINDINGS", "FAILURES")


def as_text(result: SweepResult, *, dry_run: bool, by_project: Sequence[dict[str, Any]] = ()) -> str:
    """The plan (or what was applied); `by_project` (from `cli.plan_rollup.by_project`) is shown when it holds
    more than one project."""
    verb = "would" if dry_run else "did"
    lines = [f"{plural(len(result.services), 'service')} swept."]
    ingress = result.ingress_changes()
    if ingress:
        lines += ["", f"Ingress ({verb} change):"]
        lines += [f"  ~ {d['service']}: {d['before']} -> {d['after']}  ({d.get('why', '')})" for d in ingress]
    if result.changes:
        lines += ["", f"Load balancer ({verb} change):"]
        for change in result.changes:
            where = f" ({change.region})" if change.region else ""
            lines.append(f"  {SYMBOL[change.op]} {change.kind} {change.name}{where}")
            lines.append(f"      why: {change.why}")
    problems = result.findings()
    if problems:
        lines += ["", "Findings:"]
        for d in problems:
            detail = f"held by {d['holder']}" if d.get("holder") else d.get("reason") or d.get("message", "")
            what = f"{d['finding']} (already on the service)" if d.get("finding") else d["action"]
            lines.append(f"  ! {what} {d.get('service')}: {detail}")
    for failure in result.failures:
        lines.append(f"  ! failed: {failure['service']}: {failure['error']}")
    if len(by_project) > 1:
        lines += ["", "By project:", *project_table(by_project)]
    counts = {op: sum(1 for c in result.changes if c.op == op) for op in SYMBOL}
    lines.append("")
    if not result.changes and not ingress:
        lines.append("No changes. Every service and the load balancer match the policy and the labels.")
    else:
        prefix = "Plan" if dry_run else "Applied"
        lines.append(
            f"{prefix}: {len(ingress)} ingress to fix, {counts['create']} to create, "
            f"{counts['update']} to update, {counts['delete']} to destroy."
        )
    return "\n".join(lines)


def project_table(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The per-project rows as an aligned table, the rolled-up total last."""
    cells = [_HEADERS] + [(str(r["project"]), *(str(r[c]) for c in COUNTS)) for r in (*rows, total(rows))]
    widths = [max(len(line[i]) for line in cells) for i in range(len(_HEADERS))]
    return ["  " + "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in cells]


def as_json(result: SweepResult, *, dry_run: bool, by_project: Sequence[dict[str, Any]] = ()) -> str:
    """`SweepResult.summary` with `by_project` added (a list of per-project counts, sorted by project)."""
    return json.dumps({**result.summary(dry_run=dry_run), "by_project": list(by_project)}, indent=2)
