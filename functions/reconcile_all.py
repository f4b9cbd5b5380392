"""`reconcile_all`: the scheduled sweep over every service (HTTP, invoked by Cloud Scheduler with OIDC)."""

from __future__ import annotations

import os
from typing import Any

from shared import clients, errors
from shared.config import ConfigError, load_config
from shared.decision_log import DecisionLog, TraceContext
from shared.flow_sweep import sweep
from shared.model import Action

from ._invocation import log_misconfiguration

FUNCTION = "reconcile_all"


def handle(request: Any) -> tuple[dict[str, Any], int]:
    """Sweep and answer a JSON summary: 200 when every service converged (or was planned, in a dry run), 500 when
    any service failed (each failure listed under `failures`; every other service was applied all the same) or
    the sweep could not run, so the scheduler's job shows the failure and retries per its own policy."""
    if request.method != "POST":
        # Cloud Scheduler POSTs; anything else (a probe, a crawler) must not start a sweep.
        return {"error": "POST to run the sweep"}, 405
    log = DecisionLog(
        function=FUNCTION,
        trace=TraceContext.from_headers(request.headers),
        project=os.environ.get("GOOGLE_CLOUD_PROJECT"),
    )
    try:
        config = load_config()
        log = log.bind(dry_run=config.dry_run, project=log.project or config.project)
        result = sweep(
            config=config,
            log=log,
            run=clients.run_services(config.api_endpoint, config.api_principal),
            compute=clients.compute(config.api_endpoint, config.api_principal),
        )
    except ConfigError as exc:
        log_misconfiguration(log, exc)
        return {"error": str(exc), "variables": list(exc.variables)}, 500
    except errors.RunwayApiError as exc:
        log.decide(Action.API_ERROR, reason=str(exc), retryable=exc.temporary, message=f"sweep failed: {exc}")
        return {"error": str(exc), "retryable": exc.temporary}, 500
    return result.summary(dry_run=config.dry_run), 500 if result.failures else 200
