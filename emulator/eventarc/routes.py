"""The Eventarc v1 route table: REST paths of the eventarc.v1 discovery document → `EventarcApi` calls."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import BaseConverter

from ..http import arg, flag, request_json
from ..routing import Route, RouteTable
from .api import EventarcApi

BASE = "/v1/projects/<project>/locations/<location>"


class OperationIdConverter(BaseConverter):
    """Eventarc operation ids (`operation-1712345678901-5f3c...`), tried before any plain `<id>` segment.

    On one base URL `/v1/projects/P/locations/L/operations/ID` is both Eventarc's and Cloud Run v1's route. The two
    id spaces never overlap (Run's are UUIDs), so the lower weight lets Eventarc's ids reach this API.
    """

    regex = r"operation-[^/]+"
    weight = 50


def create_trigger(api: EventarcApi, project: str, location: str) -> Any:
    body = request_json()
    return api.create_trigger(project, location, arg("triggerId"), body, validate_only=flag("validateOnly"))


def list_triggers(api: EventarcApi, project: str, location: str) -> Any:
    return api.list_triggers(project, location, arg("filter"), arg("orderBy"), arg("pageSize"), arg("pageToken"))


def get_trigger(api: EventarcApi, project: str, location: str, trigger_id: str) -> Any:
    return api.get_trigger(project, location, trigger_id)


def delete_trigger(api: EventarcApi, project: str, location: str, trigger_id: str) -> Any:
    return api.delete_trigger(
        project,
        location,
        trigger_id,
        arg("etag"),
        validate_only=flag("validateOnly"),
        allow_missing=flag("allowMissing"),
    )


def get_operation(api: EventarcApi, project: str, location: str, operation_id: str) -> Any:
    return api.get_operation(project, location, operation_id)


TABLE = RouteTable(
    "eventarc",
    (
        Route("POST", f"{BASE}/triggers", create_trigger),
        Route("GET", f"{BASE}/triggers", list_triggers),
        Route("GET", f"{BASE}/triggers/<trigger_id>", get_trigger),
        Route("DELETE", f"{BASE}/triggers/<trigger_id>", delete_trigger),
        # operations.list is not routed: its path is Cloud Run v1's operations.list too, and that route (registered
        # first) answers it. Eventarc operations are done when returned; getting one by name is what clients do.
        Route("GET", f"{BASE}/operations/<eventarc_operation:operation_id>", get_operation),
    ),
    converters={"eventarc_operation": OperationIdConverter},
)
