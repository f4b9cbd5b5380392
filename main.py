"""runway's entry points, as Cloud Functions loads them, and its command line (`python main.py --help`).

Kept light on purpose: each entry point imports its module on first use, so a cold start pays only for
what that function needs (the ingress path never imports google.cloud.compute_v1).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import functions_framework


def _headers() -> Mapping[str, str] | None:
    import flask

    return dict(flask.request.headers) if flask.has_request_context() else None


@functions_framework.cloud_event
def enforce_ingress(cloud_event: Any) -> None:
    """Eventarc → Cloud Run audit log: set ingress to internal-and-cloud-load-balancing where policy says."""
    from functions.enforce_ingress import handle

    handle(cloud_event, _headers())


@functions_framework.cloud_event
def sync_routes(cloud_event: Any) -> None:
    """Eventarc → Cloud Run audit log: make the shared load balancer match the service's public-route label."""
    from functions.sync_routes import handle

    handle(cloud_event, _headers())


@functions_framework.http
def reconcile_all(request: Any) -> Any:
    """Cloud Scheduler → HTTP: sweep every service of every configured region; repair drift, collect orphans."""
    from functions.reconcile_all import handle

    return handle(request)


if __name__ == "__main__":
    from cli import main

    main()
