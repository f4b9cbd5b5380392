"""What every CloudEvent function does before and after its own work: config, decoding, logging, errors."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from shared import errors, events
from shared.config import Config, ConfigError, load_config
from shared.decision_log import DecisionLog, TraceContext
from shared.flow_scope import outside_scope
from shared.model import Action

Work = Callable[[events.ServiceEvent, Config, DecisionLog], dict[str, Any]]
# Which audit entry of a long-running write a function acts on ("first" or "last"), given the event's verb.
Stage = Callable[[events.ServiceEvent], str]


def handle_service_event(
    function: str,
    event: Any,
    headers: Mapping[str, str] | None,
    work: Work,
    *,
    verbs: frozenset[str],
    stage: Stage,
    config: Config | None = None,
) -> dict[str, Any]:
    """Decode the event, run `work` on a service event, and log exactly one outcome for anything else.

    Returns the decision record. Temporary API failures are logged as `api_error` and re-raised, so the
    function answers non-2xx and Eventarc redelivers; permanent ones are logged and acknowledged. A bad
    configuration (a variable, or an object it names that does not exist) is logged and raised too: every
    event is retried once the platform team fixes it. `config` is given by the CLI's `replay` (with its
    overrides); deployed functions read the environment.
    """
    log = DecisionLog(
        function=function, trace=TraceContext.from_headers(headers), project=os.environ.get("GOOGLE_CLOUD_PROJECT")
    )
    decoded = events.decode(event)
    log = log.bind(event_id=decoded.event_id, method=decoded.method, principal=decoded.principal)
    try:
        config = config or load_config()
        log = log.bind(dry_run=config.dry_run, project=log.project or config.project)
        return _handle(decoded, config, log, work, verbs, stage)
    except ConfigError as exc:
        log_misconfiguration(log, exc, service=getattr(decoded, "key", None))
        raise


def log_misconfiguration(log: DecisionLog, exc: ConfigError, service: Any = None) -> dict[str, Any]:
    """The one decision for a bad configuration: an error naming the variables, retried once they are fixed."""
    return log.decide(
        Action.API_ERROR,
        service=service,
        reason=str(exc),
        retryable=True,
        variables=list(exc.variables),
        message=f"runway is misconfigured: {exc}",
    )


def _handle(
    decoded: events.Decoded, config: Config, log: DecisionLog, work: Work, verbs: frozenset[str], stage: Stage
) -> dict[str, Any]:
    if isinstance(decoded, events.Invalid):
        return log.decide(Action.EVENT_INVALID, reason=decoded.reason, message=f"malformed event: {decoded.reason}")
    if isinstance(decoded, events.Ignored):
        return log.decide(
            Action.EVENT_IGNORED, service=decoded.key, reason=decoded.reason, message=f"not handled: {decoded.reason}"
        )
    if decoded.verb not in verbs:
        reason = f"a {decoded.verb} is nothing this function acts on"
        return log.decide(Action.EVENT_IGNORED, service=decoded.key, reason=reason, message=f"not handled: {reason}")
    own = config.own_identity
    if own and decoded.principal and decoded.principal.lower() == own.lower():
        # This function's own write (an ingress fix, a route status): it changed only what the function had just
        # decided from the service as it was, and anyone else's change is an event of its own.
        reason = f"a write by this function's own identity ({own})"
        return log.decide(Action.EVENT_IGNORED, service=decoded.key, reason=reason, message=f"not handled: {reason}")
    wanted = stage(decoded)
    if not decoded.acted_on_by(wanted):
        other = "last" if wanted == "first" else "first"
        assert decoded.operation is not None
        reason = f"the {other} audit entry of operation {decoded.operation.id}; acting on its {wanted}"
        return log.decide(Action.EVENT_IGNORED, service=decoded.key, reason=reason, message=f"not handled: {reason}")
    return _work(decoded, config, log, work)


def _work(decoded: events.ServiceEvent, config: Config, log: DecisionLog, work: Work) -> dict[str, Any]:
    try:
        outside = outside_scope(decoded.key, config)
        if outside is not None:
            return log.decide(
                Action.EVENT_IGNORED, service=decoded.key, reason=outside, message=f"not handled: {outside}"
            )
        return work(decoded, config, log)
    except errors.RunwayApiError as exc:
        record = log.decide(
            Action.API_ERROR,
            service=decoded.key,
            reason=str(exc),
            retryable=exc.temporary,
            code=exc.code,
            api_method=exc.method,
            message=f"{'will retry' if exc.temporary else 'gave up'}: {exc}",
        )
        if exc.temporary:
            raise
        return record
