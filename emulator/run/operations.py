"""Cloud Run Admin API: `projects.locations.operations` get/list/wait/delete, of v2 and of v1.

v1 has the same resource: gcloud waits on `POST /v1/projects/P/locations/R/operations/{id}:wait`, the id taken
from the `run.googleapis.com/operation-id` annotation (seen from gcloud 528 against the emulator).
"""

from __future__ import annotations

import re
import time
from typing import Any

from ..clock import monotonic
from ..errors import invalid
from ..paging import list_page
from .api import RunApi
from .views import render_operation

# "If left blank, the wait will be at most the time permitted by the underlying HTTP/RPC protocol" (run.v2.json
# GoogleLongrunningWaitOperationRequest.timeout); the emulator's stand-in for that limit.
MAX_WAIT_SECONDS = 60.0
_DURATION = re.compile(r"^(\d+(?:\.\d{1,9})?)s$")


def parse_duration(text: str, where: str) -> float:
    match = _DURATION.match(text.strip())
    if not match:
        raise invalid(f"Invalid value at '{where}' (type.googleapis.com/google.protobuf.Duration), \"{text}\"")
    return float(match.group(1))


def list_operations(
    api: RunApi, project: str, location: str, version: str, filter_text: str, page_size: Any, page_token: Any
) -> dict[str, Any]:
    wanted = filter_text.replace(" ", "")
    if wanted not in ("", "done:true", "done:false"):
        raise invalid(f"Invalid filter: '{filter_text}'. Supported: done:true, done:false.")
    at = monotonic()
    store = api.store
    with api.emu.lock:
        project = store.project_id(project)
        ops = [
            op
            for op in store.operations.values()
            if op.project == project and op.region == location and wanted in ("", f"done:{str(op.done(at)).lower()}")
        ]
        return list_page(
            ops,
            "operations",
            page_size,
            page_token,
            default=100,
            maximum=100,
            render=lambda op: render_operation(op, version=version),
        )


def get_operation(api: RunApi, project: str, location: str, op_id: str, version: str) -> dict[str, Any]:
    with api.emu.lock:
        op = api.store.get_operation(api.store.project_id(project), location, op_id)
        return render_operation(op, version=version)


def delete_operation(api: RunApi, project: str, location: str, op_id: str) -> None:
    with api.emu.lock:
        op = api.store.get_operation(api.store.project_id(project), location, op_id)
        del api.store.operations[op.name]


def wait_operation(api: RunApi, project: str, location: str, op_id: str, version: str, timeout: Any) -> dict[str, Any]:
    limit = MAX_WAIT_SECONDS
    if timeout not in (None, ""):
        limit = min(parse_duration(str(timeout), "timeout"), MAX_WAIT_SECONDS)
    deadline = monotonic() + limit
    with api.emu.lock:
        op = api.store.get_operation(api.store.project_id(project), location, op_id)
    # Sleep outside the lock: other clients keep working while this one waits.
    remaining = min(op.done_at, deadline) - monotonic()
    if remaining > 0:
        time.sleep(remaining)
    return render_operation(op, version=version)
