"""The Flask app: every emulated API behind one base URL, plus test controls under /_emulator/."""

from __future__ import annotations

import json
import time
from typing import Any

from flask import Blueprint, Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from .clock import now, rfc3339
from .context import principal
from .errors import ApiError
from .state import Emulator

CONTROL_PREFIX = "/_emulator"


def json_response(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def request_json() -> dict[str, Any]:
    """The JSON body of the request; an empty body is `{}`, anything else malformed is a 400."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise ApiError(400, f"Invalid JSON payload received. {exc}") from exc
    if not isinstance(body, dict):
        raise ApiError(400, "Invalid JSON payload received. Expected an object.")
    return body


def _controls(emu: Emulator) -> Blueprint:
    bp = Blueprint("emulator_controls", __name__, url_prefix=CONTROL_PREFIX)

    @bp.get("/health")
    def health() -> Response:
        return json_response({"status": "ok", "apis": [api.name for api in emu.apis]})

    @bp.post("/reset")
    def reset() -> Response:
        emu.reset()
        return json_response({})

    @bp.get("/state")
    def state() -> Response:
        return json_response(emu.snapshot())

    @bp.get("/requests")
    def requests_() -> Response:
        since = int(request.args.get("since", "0") or 0)
        return json_response({"requests": emu.calls.since(since)})

    @bp.post("/faults")
    def add_faults() -> Response:
        emu.faults.configure(request_json())
        return json_response(emu.faults.snapshot())

    @bp.get("/faults")
    def get_faults() -> Response:
        return json_response(emu.faults.snapshot())

    @bp.delete("/faults")
    def clear_faults() -> Response:
        emu.faults.clear()
        return json_response(emu.faults.snapshot())

    @bp.post("/deliveries:drain")
    def drain() -> Response:
        timeout = float(request.args.get("timeout", "30"))
        return json_response({"drained": emu.eventarc.drain(timeout=timeout)})

    return bp


def create_app(emu: Emulator) -> Flask:
    app = Flask("emulator", static_folder=None)  # no `/static/` route: the emulator serves only Google paths
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["emulator"] = emu
    app.register_blueprint(_controls(emu))
    for api in emu.apis:
        app.register_blueprint(api.blueprint())

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
