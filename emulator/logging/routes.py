"""The Cloud Logging v2 route table: REST paths of the logging.v2 discovery document → `LoggingApi` calls."""

from __future__ import annotations

from typing import Any

from ..http import arg, request_json
from ..routing import Route, RouteTable
from .api import LoggingApi
from .sinks_routes import ROUTES as SINK_ROUTES


def write_entries(api: LoggingApi) -> Any:
    return api.write(request_json())


def list_entries(api: LoggingApi) -> Any:
    return api.list_entries(request_json())


def list_logs(api: LoggingApi, project: str) -> Any:
    return api.list_logs(project, arg("pageSize"), arg("pageToken"))


def delete_log(api: LoggingApi, project: str, log_id: str) -> Any:
    api.delete_log(project, log_id)
    return {}


TABLE = RouteTable(
    "logging",
    (
        Route("POST", "/v2/entries:write", write_entries),
        Route("POST", "/v2/entries:list", list_entries),
        Route("GET", "/v2/projects/<project>/logs", list_logs),
        Route("DELETE", "/v2/projects/<project>/logs/<path:log_id>", delete_log),
        *SINK_ROUTES,
    ),
)
