"""The HTTP side of one request, for every API and the test controls: JSON in and out, flags, and who is calling.

A leaf: it imports nothing from the emulator but `errors`, so any module may use it without an import cycle.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Response, request

from .errors import ApiError

PRINCIPAL_HEADER = "X-Emulator-Principal"
DEFAULT_PRINCIPAL = "developer@example.com"
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[a-z]{2,}")

# gcloud run prepends the region to the API host (`us-central1-run.emulator.invalid`) and, sent through
# the emulator as a proxy, the request line keeps that host (docs/google-apis.md §8).
_REGIONAL_HOST = re.compile(r"^(?P<region>[a-z]+-[a-z]+[0-9]+)-[a-z0-9.-]+")


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


def arg(name: str) -> str | None:
    """A query parameter; an empty one is absent (clients send `?pageToken=` on first pages)."""
    return request.args.get(name) or None


def flag(name: str) -> bool:
    """A boolean query parameter as Google's REST surfaces read it: `true` or `1`."""
    return request.args.get(name, "").lower() in ("true", "1")


def principal() -> str:
    """Who is calling: the `X-Emulator-Principal` header, else a bearer token that is an email address (how
    a gcloud user picks an identity: `CLOUDSDK_AUTH_ACCESS_TOKEN_FILE` holding `dana@example.com`), else the
    default developer."""
    if header := request.headers.get(PRINCIPAL_HEADER):
        return header
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and _EMAIL.fullmatch(token.strip()):
        return token.strip()
    return DEFAULT_PRINCIPAL


def region_from_host() -> str | None:
    match = _REGIONAL_HOST.match(request.host.split(":", 1)[0])
    return match.group("region") if match else None


def caller_ip() -> str:
    return request.remote_addr or "127.0.0.1"


def user_agent() -> str:
    return request.headers.get("User-Agent", "")
