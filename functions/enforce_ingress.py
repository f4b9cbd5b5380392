"""`enforce_ingress`: audit-log triggered ingress remediation (docs/design.md §2)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared import clients, events
from shared.config import Config
from shared.decision_log import DecisionLog
from shared.flow_ingress import enforce_ingress

from ._invocation import handle_service_event

FUNCTION = "enforce_ingress"
# A deleted service has no ingress; who may invoke it is not ingress.
VERBS = frozenset({"create", "update"})


def handle(event: Any, headers: Mapping[str, str] | None = None, config: Config | None = None) -> dict[str, Any]:
    return handle_service_event(FUNCTION, event, headers, _enforce, verbs=VERBS, stage=_stage, config=config)


def _stage(event: events.ServiceEvent) -> str:
    # The ingress that serves is the one of the finished rollout: act on the entry that says it finished.
    return "last"


def _enforce(event: events.ServiceEvent, config: Config, log: DecisionLog) -> dict[str, Any]:
    return enforce_ingress(
        event.key,
        client=clients.run_services(config.api_endpoint, config.api_principal),
        config=config,
        log=log,
        event_time=event.event_time,
    )
