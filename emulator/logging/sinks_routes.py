"""The routes of `projects.sinks`, `folders.sinks` and `organizations.sinks` (logging.v2 discovery document), part of
Logging's route table; each handler calls `LoggingApi.sinks`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..http import arg, flag, request_json
from ..routing import Route

if TYPE_CHECKING:
    from .api import LoggingApi

PARENT_KINDS = ("projects", "folders", "organizations")


def create_sink(api: LoggingApi, kind: str, parent_id: str) -> Any:
    return api.sinks.create(
        f"{kind}/{parent_id}",
        request_json(),
        unique=flag("uniqueWriterIdentity"),
        custom_writer=arg("customWriterIdentity"),
    )


def list_sinks(api: LoggingApi, kind: str, parent_id: str) -> Any:
    return api.sinks.list_sinks(f"{kind}/{parent_id}", arg("filter"), arg("pageSize"), arg("pageToken"))


def get_sink(api: LoggingApi, kind: str, parent_id: str, sink_id: str) -> Any:
    return api.sinks.get(f"{kind}/{parent_id}", sink_id)


def update_sink(api: LoggingApi, kind: str, parent_id: str, sink_id: str) -> Any:
    return api.sinks.update(
        f"{kind}/{parent_id}",
        sink_id,
        request_json(),
        arg("updateMask"),
        unique=flag("uniqueWriterIdentity"),
        custom_writer=arg("customWriterIdentity"),
    )


def delete_sink(api: LoggingApi, kind: str, parent_id: str, sink_id: str) -> Any:
    return api.sinks.delete(f"{kind}/{parent_id}", sink_id)


ROUTES = tuple(
    Route(method, f"/v2/{kind}/<parent_id>/sinks{suffix}", handler, params={"kind": kind})
    for kind in PARENT_KINDS
    for method, suffix, handler in (
        ("POST", "", create_sink),
        ("GET", "", list_sinks),
        ("GET", "/<sink_id>", get_sink),
        ("PUT", "/<sink_id>", update_sink),
        ("PATCH", "/<sink_id>", update_sink),
        ("DELETE", "/<sink_id>", delete_sink),
    )
)
