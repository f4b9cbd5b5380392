"""What one route decision amounts to, for the log and the service's status: the action and its facts. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from shared.model import (
    Action,
    Change,
    Decision,
    DesiredRoute,
    Kind,
    NotPublished,
    RouteInvalid,
    RouteOutcome,
    RuleResult,
    RuleState,
    ServiceRef,
)
from shared.naming import last_segment


def route_outcome(
    ref: ServiceRef,
    decision: Decision,
    *,
    rule: RuleResult | None,
    changes: Sequence[Change] = (),
    backend: str | None = None,
    squatters: Sequence[str] = (),
    removed_paths: Sequence[str] = (),
) -> RouteOutcome:
    """The outcome of deciding `ref`'s route: `rule` is what became of its claim on the URL map (None when it
    made none), `changes` the writes made (or, in a dry run, planned) for it."""
    mine = tuple(changes)
    if isinstance(decision, RouteInvalid):
        why = f"{ref}: {decision.reason}; routes left as they are"
        return RouteOutcome(ref, Action.ROUTE_INVALID, why, reason=decision.reason)
    if isinstance(decision, NotPublished):
        if (rule is not None and rule.state == RuleState.REMOVED) or mine:
            name = last_segment(backend) if backend else None
            why = f"{ref}: routes and resources removed"
            return RouteOutcome(ref, Action.ROUTE_REMOVED, why, paths=tuple(removed_paths), backend=name, changes=mine)
        return RouteOutcome(ref, Action.ROUTE_UNCHANGED, f"{ref}: not published, nothing to remove")
    return _published(ref, decision, rule, mine, backend, squatters)


def _published(
    ref: ServiceRef,
    route: DesiredRoute,
    rule: RuleResult | None,
    changes: tuple[Change, ...],
    backend: str | None,
    squatters: Sequence[str],
) -> RouteOutcome:
    base = RouteOutcome(
        ref,
        Action.ROUTE_UNCHANGED,
        f"{ref}: already published as asked",
        host_alias=route.host_alias,
        hosts=route.hosts,
        paths=route.paths,
        regions=tuple(sorted(route.regions)),
        backend=last_segment(backend) if backend else None,
    )
    if squatters:
        holder = ", ".join(squatters)
        why = f"{ref}: names {holder} are taken by objects runway does not own"
        return replace(base, action=Action.ROUTE_CONFLICT, why=why, holder=holder, backend=None)
    if rule is not None and rule.state == RuleState.CONFLICT:
        return replace(
            base, action=Action.ROUTE_CONFLICT, why=f"{ref}: {rule.reason}", paths=rule.paths, holder=rule.holder
        )
    if rule is not None and rule.state == RuleState.REFUSED:
        why = f"{ref}: {rule.reason}; routes left as they are"
        return replace(base, action=Action.ROUTE_INVALID, why=why, reason=rule.reason)
    state = rule.state if rule is not None else RuleState.KEPT
    if state == RuleState.ADDED:
        why = f"{ref}: published at {', '.join(route.paths)}"
        return replace(base, action=Action.ROUTE_REGISTERED, why=why, changes=changes)
    if state == RuleState.CHANGED or changes:
        parts = [c.why.removeprefix(f"{ref}: ") for c in changes if c.kind != Kind.URL_MAP]
        if state == RuleState.CHANGED:
            parts.append(f"routes now {', '.join(route.paths)} on {route.host_alias!r}")
        what = "routes changed" if state == RuleState.CHANGED else "resources changed"
        return replace(base, action=Action.ROUTE_UPDATED, why=f"{ref}: {what}: {'; '.join(parts)}", changes=changes)
    return base


def unreachable(outcome: RouteOutcome, reason: str) -> RouteOutcome:
    """A published outcome whose service refuses the load balancer's requests: a finding for its developer."""
    published = outcome.action.value.removeprefix("route_")
    why = f"{outcome.why}; but unreachable: {reason}"
    return replace(outcome, action=Action.ROUTE_UNREACHABLE, why=why, reason=reason, published=published)
