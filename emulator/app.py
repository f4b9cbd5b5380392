"""The Flask app: every emulated API behind one base URL, plus test controls under /_emulator/.

The app imports the APIs' route tables; nothing in an API imports the app.
"""

from __future__ import annotations

import time

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from .clock import now, rfc3339
from .compute.routes import TABLE as COMPUTE_ROUTES
from .controls import CONTROL_PREFIX
from .controls import TABLE as CONTROL_ROUTES
from .errors import ApiError
from .eventarc.routes import TABLE as EVENTARC_ROUTES
from .http import json_response, principal
from .iam.enforce import authorize_request
from .iam.routes import TABLE as IAM_ROUTES
from .logging.routes import TABLE as LOGGING_ROUTES
from .pubsub.routes import TABLE as PUBSUB_ROUTES
from .resourcemanager.routes import TABLE as RESOURCE_MANAGER_ROUTES
from .routing import RouteTable
from .run.routes import TABLE as RUN_ROUTES
from .serviceusage.routes import TABLE as SERVICEUSAGE_ROUTES
from .state import Emulator

ROUTE_TABLES: dict[str, RouteTable] = {
    t.name: t
    for t in (
        RUN_ROUTES,
        COMPUTE_ROUTES,
        LOGGING_ROUTES,
        EVENTARC_ROUTES,
        RESOURCE_MANAGER_ROUTES,
        IAM_ROUTES,
        SERVICEUSAGE_ROUTES,
        PUBSUB_ROUTES,
    )
}

__all__ = ["CONTROL_PREFIX", "ROUTE_TABLES", "create_app"]


def create_app(emu: Emulator) -> Flask:
    app = Flask("emulator", static_folder=None)  # no `/static/` route: the emulator serves only Google paths
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["emulator"] = emu
    app.register_blueprint(CONTROL_ROUTES.blueprint(emu))
    # In `emu.apis` order: Cloud Run's v1 operations routes come before Eventarc's on the same path.
    for api in emu.apis:
        app.register_blueprint(ROUTE_TABLES[api.name].blueprint(api))

    @app.before_request
    def inject_faults() -> Response | None:
        if request.path.startswith(CONTROL_PREFIX):
            return None
        latency_ms, error, asynchronous = emu.faults.decide(request.method, request.path)
        if latency_ms:
            time.sleep(latency_ms / 1000)
        if error is not None and asynchronous and request.path.startswith("/compute/") and request.method != "GET":
            g.operation_error = error  # the Compute handler answers with an operation that fails with it
        elif error is not None:
            return json_response(error.body_for_path(request.path), error.code)
        return None

    @app.before_request
    def refuse_disabled_apis() -> None:
        # After the faults, before IAM: production refuses a call of a disabled API whoever makes it.
        rule = request.url_rule
        if not request.path.startswith(CONTROL_PREFIX) and rule is not None:
            refused = emu.serviceusage.refusal(request.blueprint, rule.rule, request.view_args or {})
            if refused is not None:
                raise refused

    @app.before_request
    def check_permissions() -> None:
        # After the faults, before the handler: a refused call changes nothing (emulator/iam/enforce.py).
        if not request.path.startswith(CONTROL_PREFIX):
            authorize_request(emu.iam)

    @app.after_request
    def log_call(response: Response) -> Response:
        if not request.path.startswith(CONTROL_PREFIX):
            emu.calls.add(
                method=request.method,
                path=request.path,
                query=dict(request.args),
                status=response.status_code,
                time=rfc3339(now()),
                principal=principal(),
                host=request.host,
            )
        return response

    @app.errorhandler(ApiError)
    def api_error(error: ApiError) -> Response:
        return json_response(error.body_for_path(request.path), error.code)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        code = error.code or 500
        message = (
            f"The requested URL {request.path} was not found on this server."
            if code == 404
            else (error.description or error.name)
        )
        api_err = ApiError(code, message)
        return json_response(api_err.body_for_path(request.path), code)

    return app
