"""The Service Usage v1 route table: REST paths of the serviceusage.v1 discovery document → `ServiceUsageApi`."""

from __future__ import annotations

from typing import Any

from flask import request

from ..errors import ApiError
from ..http import request_json
from ..routing import Route, RouteTable
from .api import ServiceUsageApi

BASE = "/v1/projects/<project>/services"


def get_service(api: ServiceUsageApi, project: str, service: str) -> Any:
    return api.get(project, service)


def batch_get(api: ServiceUsageApi, project: str) -> Any:
    return api.batch_get(project, request.args.getlist("names"))


def service_verb(api: ServiceUsageApi, project: str, service: str) -> Any:
    """`services/S:enable` and `services/S:disable` (one path segment holds the service and the verb)."""
    service, _, verb = service.partition(":")
    if verb not in ("enable", "disable"):
        raise ApiError(501, f"Method '{verb or 'POST'}' is not implemented by the emulator.", status="UNIMPLEMENTED")
    request_json()  # the body (disable options) is read and checked to be JSON; nothing in it changes the answer
    return api.set_state(project, service, enabled=verb == "enable")


def batch_enable(api: ServiceUsageApi, project: str) -> Any:
    return api.batch_enable(project, request_json().get("serviceIds"))


def get_operation(api: ServiceUsageApi, name: str) -> Any:
    return api.get_operation(name)


TABLE = RouteTable(
    "serviceusage",
    (
        Route("GET", f"{BASE}:batchGet", batch_get),
        Route("POST", f"{BASE}:batchEnable", batch_enable),
        Route("GET", f"{BASE}/<service>", get_service),
        Route("POST", f"{BASE}/<service>", service_verb),
        Route("GET", "/v1/operations/<name>", get_operation),
    ),
)
