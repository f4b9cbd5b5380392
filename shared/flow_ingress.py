"""Applying the ingress policy to one live service (`enforce_ingress`, and the sweep's ingress pass): read the
settled service, decide (`shared.plan_ingress`), update with the etag just read, read again on 409."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from . import errors
from .api_run import read_service, set_ingress
from .config import Config
from .decision_log import DecisionLog
from .model import Action, ServiceFacts, ServiceKey
from .plan_ingress import V1_NAMES, decide_ingress
from .plan_route import wants_publishing

if TYPE_CHECKING:
    from google.cloud import run_v2

# A 409 means someone else wrote the service between our read and our update; each retry re-reads, so a
# handful of attempts only runs out under a sustained write storm, which Eventarc's redelivery then absorbs.
MAX_ATTEMPTS = 5


def enforce_ingress(
    key: ServiceKey,
    *,
    client: run_v2.ServicesClient,
    config: Config,
    log: DecisionLog,
    facts: ServiceFacts | None = None,
    event_time: datetime | None = None,
) -> dict[str, Any]:
    """Make one service's ingress follow the policy and log the decision; returns the decision record.

    `facts` may carry a settled service a sweep has just listed, saving the first read. Raises
    `errors.TemporaryError` (after logging nothing) when the API fails transiently or the etag race is lost
    `MAX_ATTEMPTS` times. A service that is gone, whichever call finds out, is `event_ignored`.
    """
    if facts is not None and facts.reconciling:
        facts = None  # listed mid-rollout: its ingress is not settled yet
    for _ in range(MAX_ATTEMPTS):
        if facts is None:
            facts = read_service(client, key, settle=True)
            if facts is None:
                return _gone(log, key)
        decision = decide_ingress(facts.ingress, exempt=config.is_exempt(key), published=wants_publishing(facts.labels))
        fields: dict[str, Any] = {"before": _v1(decision.before), "after": _v1(decision.after), "why": decision.why}
        if not decision.changes:
            return log.decide(decision.action, service=key, message=f"{key.service}: {decision.why}", **fields)
        if config.dry_run:
            return log.decide(
                decision.action,
                service=key,
                **fields,
                message=f"would set {key.service} ingress {fields['before']} -> {fields['after']}",
            )
        try:
            operation = set_ingress(client, facts, decision.after)
        except errors.Conflict:
            facts = None  # someone changed it meanwhile: decide again on what is there now
            continue
        except errors.NotFound:
            return _gone(log, key)  # deleted between our read and our write
        if event_time is not None:
            fields["seconds_to_remediate"] = round((datetime.now(UTC) - event_time).total_seconds(), 3)
        return log.decide(
            decision.action,
            service=key,
            operation=operation,
            **fields,
            message=f"set {key.service} ingress {fields['before']} -> {fields['after']}",
        )
    raise errors.Conflict(
        f"{key.name} kept changing under us: {MAX_ATTEMPTS} updates refused with a stale etag",
        method="run.services.update",
        resource=key.name,
    )


def _gone(log: DecisionLog, key: ServiceKey) -> dict[str, Any]:
    return log.decide(
        Action.EVENT_IGNORED, service=key, message=f"{key.service} no longer exists", reason="service not found"
    )


def _v1(ingress: str) -> str:
    """The short names users know from gcloud (`all`, `internal-and-cloud-load-balancing`)."""
    return V1_NAMES.get(ingress, ingress)
