"""`sync_routes`: make the shared load balancer match one service's `public-route` label (docs/design.md §3, §4)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared import clients, events
from shared.config import Config
from shared.decision_log import DecisionLog
from shared.flow_routes import sync_service

from ._invocation import handle_service_event

FUNCTION = "sync_routes"
VERBS = frozenset({"create", "update", "delete", "iam"})


def handle(event: Any, headers: Mapping[str, str] | None = None, config: Config | None = None) -> dict[str, Any]:
    return handle_service_event(FUNCTION, event, headers, _sync, verbs=VERBS, stage=_stage, config=config)


def _stage(event: events.ServiceEvent) -> str:
    # Labels count from the moment the write is accepted, so a route follows the first entry; a deleted service
    # is gone only once its deletion finished.
    return "last" if event.verb == "delete" else "first"


def _sync(event: events.ServiceEvent, config: Config, log: DecisionLog) -> dict[str, Any]:
    return sync_service(
        event.key,
        config=config,
        log=log,
        run=clients.run_services(config.api_endpoint, config.api_principal),
        compute=clients.compute(config.api_endpoint, config.api_principal),
        recheck_access=event.verb == "iam",
    )
