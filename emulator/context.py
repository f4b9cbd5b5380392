"""Facts about the current HTTP request that every API needs."""

from __future__ import annotations

import re

from flask import request

from .state import DEFAULT_PRINCIPAL

PRINCIPAL_HEADER = "X-Emulator-Principal"

# gcloud run prepends the region to the API host (`us-central1-run.emulator.invalid`) and, sent through
# the emulator as a proxy, the request line keeps that host (gcp-facts.md §8).
_REGIONAL_HOST = re.compile(r"^(?P<region>[a-z]+-[a-z]+[0-9]+)-[a-z0-9.-]+")


def principal() -> str:
    return request.headers.get(PRINCIPAL_HEADER) or DEFAULT_PRINCIPAL


def region_from_host() -> str | None:
    match = _REGIONAL_HOST.match(request.host.split(":", 1)[0])
    return match.group("region") if match else None


def caller_ip() -> str:
    return request.remote_addr or "127.0.0.1"


def user_agent() -> str:
    return request.headers.get("User-Agent", "")
