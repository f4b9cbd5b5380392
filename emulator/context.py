"""Facts about the current HTTP request that every API needs."""

from __future__ import annotations

import re

from flask import request

from .state import DEFAULT_PRINCIPAL

PRINCIPAL_HEADER = "X-Emulator-Principal"
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[a-z]{2,}")

# gcloud run prepends the region to the API host (`us-central1-run.emulator.invalid`) and, sent through
# the emulator as a proxy, the request line keeps that host (docs/google-apis.md §8).
_REGIONAL_HOST = re.compile(r"^(?P<region>[a-z]+-[a-z]+[0-9]+)-[a-z0-9.-]+")


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
