"""After a route decision: is the published service reachable, has this finding been reported already, and the
route status on each copy of the service (docs/design.md §3 "Route status"). Shared by the event function and
the sweep."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from . import errors
from .apply_status import now_utc, reachable, write_statuses
from .config import Config
from .decision_log import DecisionLog
from .model import FINDING_ACTIONS, ROUTED_ACTIONS, Action, RouteOutcome, ServiceFacts, ServiceKey
from .plan_outcome import unreachable
from .plan_route import wants_publishing
from .plan_status import RouteStatus, already_reported, status_for, status_of, unreachable_reason
from .route_log import log_route_outcome

if TYPE_CHECKING:
    from google.cloud import run_v2


def report_route(
    outcome: RouteOutcome,
    service: ServiceKey | str,
    copies: Sequence[ServiceFacts],
    config: Config,
    log: DecisionLog,
    run: run_v2.ServicesClient,
    *,
    recheck_access: bool = False,
    repeat_after: timedelta | None = None,
) -> dict[str, Any]:
    """Log `outcome` (as `route_unreachable` when a copy refuses the load balancer, and as `route_unchanged` when
    its finding is already recorded on the service), then write the status on every copy. `repeat_after` (the
    sweep) logs a recorded finding again once its record is that old."""
    now = now_utc()
    # Only the copies whose own labels ask to publish are routed or refused; another region's unlabeled copy of
    # the same service is neither, and carries no status (one it still has is removed).
    labeled = [c for c in copies if wants_publishing(c.labels)]
    blocked: set[ServiceKey] = set()
    if outcome.action in ROUTED_ACTIONS and outcome.paths:
        recheck = recheck_access or outcome.action != Action.ROUTE_UNCHANGED
        access = {c.key: _reachable(run, c, recheck) for c in labeled}
        # A copy deleted since it was read has nothing to report: its delete event unpublishes it.
        labeled = [c for c in labeled if access[c.key] is not None]
        blocked = {key for key, ok in access.items() if ok is False}
        if blocked:
            outcome = unreachable(outcome, unreachable_reason(min(blocked)))
    statuses: dict[ServiceKey, RouteStatus | None] = {c.key: None for c in copies}
    statuses.update({c.key: status_for(outcome, c.key, reachable=c.key not in blocked, now=now) for c in labeled})
    if config.status and labeled and _reported(labeled, statuses, now, repeat_after):
        state = next(iter(s for s in statuses.values() if s is not None)).state
        return log.decide(
            Action.ROUTE_UNCHANGED,
            service=service,
            finding=state.value,
            message=f"{outcome.service}: {state.value}, already reported on the service: {outcome.why}",
        )
    record = log_route_outcome(log, service, outcome)
    if config.status and not config.dry_run:
        # A finding the sweep repeats gets a new time on the service, so it is repeated once per interval.
        refresh = {c.key for c in labeled} if repeat_after is not None and outcome.action in FINDING_ACTIONS else set()
        write_statuses(run, copies, statuses.__getitem__, refresh=refresh)
    return record


def _reachable(run: run_v2.ServicesClient, facts: ServiceFacts, recheck: bool) -> bool | None:
    """Whether the load balancer may invoke this copy; None when the copy no longer exists."""
    try:
        return reachable(run, facts, recheck=recheck)
    except errors.NotFound:
        return None


def _reported(
    copies: Sequence[ServiceFacts],
    statuses: dict[ServiceKey, RouteStatus | None],
    now: datetime,
    repeat_after: timedelta | None,
) -> bool:
    cutoff = None if repeat_after is None else now - repeat_after
    return all(already_reported(statuses[c.key], status_of(c.labels, c.annotations), older_than=cutoff) for c in copies)
