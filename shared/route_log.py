"""Logging a route outcome as a decision (docs/design.md §6): the one spelling of its fields, for the event
function and the sweep alike."""

from __future__ import annotations

from typing import Any

from shared.decision_log import DecisionLog
from shared.model import RouteOutcome, ServiceKey


def log_route_outcome(
    log: DecisionLog, service: ServiceKey | str, outcome: RouteOutcome, **extra: Any
) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if outcome.host_alias is not None:
        fields["host"] = outcome.host_alias
    if outcome.hosts:
        fields["hosts"] = list(outcome.hosts)
    if outcome.paths:
        fields["paths"] = list(outcome.paths)
    if outcome.regions:
        fields["regions"] = list(outcome.regions)
    if outcome.backend:
        fields["backend"] = outcome.backend
    if outcome.holder is not None:
        fields["holder"] = outcome.holder
    if outcome.reason is not None:
        fields["reason"] = outcome.reason
    if outcome.published is not None:
        fields["published"] = outcome.published
    if outcome.changes:
        fields["changes"] = [f"{c.op} {c.kind} {c.name}" for c in outcome.changes]
    return log.decide(outcome.action, service=service, message=outcome.why, **fields, **extra)
