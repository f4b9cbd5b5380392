"""A sweep's result printed the way `terraform plan` prints: + create, ~ update, - delete, each with why."""

from __future__ import annotations

import json

from shared.sweep_result import SweepResult

SYMBOL = {"create": "+", "update": "~", "delete": "-"}


def as_text(result: SweepResult, *, dry_run: bool) -> str:
    verb = "would" if dry_run else "did"
    lines = [f"{len(result.services)} services swept."]
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
            detail = f"held by {d['holder']}" if d.get("holder") else d.get("reason", "")
            lines.append(f"  ! {d['action']} {d.get('service')}: {detail}")
    for failure in result.failures:
        lines.append(f"  ! failed: {failure['service']}: {failure['error']}")
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


def as_json(result: SweepResult, *, dry_run: bool) -> str:
    return json.dumps(result.summary(dry_run=dry_run), indent=2)
