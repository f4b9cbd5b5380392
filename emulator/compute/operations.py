"""Compute operations: every write answers with one, RUNNING until the configured delay has passed.

The change itself is applied when the request is accepted (see `ComputeApi`); the operation only reports
time passing. Status is derived from the clock on every read, so there is no background thread. Validation
failures are answered synchronously; an operation ends in error only when a fault rule says so
(`"asynchronous": true`), as production reports some failures. A failed operation carries `error.errors` and
both `httpErrorStatusCode` and `httpErrorMessage`: with only one, the python client takes it for a success.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import Any

from ..clock import compute_timestamp, monotonic, now
from ..errors import ApiError
from .references import BASE_URL, region_url
from .store import new_id

# operations.wait "returns … as DONE or … approach the 2 minute deadline" (docs/google-apis.md §3.4).
WAIT_DEADLINE_SECONDS = 120.0


@dataclass
class Operation:
    project: str
    region: str | None
    name: str
    fields: dict[str, Any]  # the static part of the body
    inserted: datetime
    started_at: float  # monotonic
    delay: float
    error: ApiError | None = None

    @property
    def path(self) -> str:
        scope = f"regions/{self.region}" if self.region else "global"
        return f"projects/{self.project}/{scope}/operations/{self.name}"

    def remaining(self) -> float:
        return max(0.0, self.started_at + self.delay - monotonic())

    def render(self) -> dict[str, Any]:
        done = self.remaining() <= 0
        body: dict[str, Any] = {
            "kind": "compute#operation",
            **self.fields,
            "status": "DONE" if done else "RUNNING",
            "progress": 100 if done else 0,
            "insertTime": compute_timestamp(self.inserted),
            "startTime": compute_timestamp(self.inserted),
            "selfLink": BASE_URL + self.path,
        }
        if done:
            body["endTime"] = compute_timestamp(self.inserted + timedelta(seconds=self.delay))
            if self.error is not None:
                code = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", self.error.reason).upper()  # backendError → BACKEND_ERROR
                body["error"] = {"errors": [{"code": code, "message": self.error.message}]}
                body["httpErrorStatusCode"] = self.error.code
                body["httpErrorMessage"] = HTTPStatus(self.error.code).phrase.upper()
        return body


def _operation_name() -> str:
    """`operation-<epoch ms>-<13 hex>-<8 hex>-<8 hex>`, the shape of production operation names."""
    millis = int(time.time() * 1000)
    return f"operation-{millis}-{secrets.token_hex(7)[:13]}-{secrets.token_hex(4)}-{secrets.token_hex(4)}"


class Operations:
    """Operation records by path, and requestId → operation for idempotent retries. Caller holds the lock."""

    def __init__(self) -> None:
        self._ops: dict[str, Operation] = {}
        self._by_request: dict[tuple[str, str | None, str], str] = {}

    def clear(self) -> None:
        self._ops.clear()
        self._by_request.clear()

    def for_request(self, project: str, region: str | None, request_id: str | None) -> Operation | None:
        if not request_id:
            return None
        path = self._by_request.get((project, region, request_id))
        return self._ops.get(path) if path else None

    def create(
        self,
        *,
        project: str,
        region: str | None,
        operation_type: str,
        target_link: str,
        target_id: str,
        user: str,
        request_id: str | None,
        delay: float,
        error: ApiError | None = None,
    ) -> Operation:
        name = _operation_name()
        fields: dict[str, Any] = {
            "id": new_id(),
            "name": name,
            "operationType": operation_type,
            "targetLink": target_link,
            "targetId": target_id,
            "user": user,
        }
        if region:
            fields["region"] = region_url(project, region)
        if request_id:
            fields["clientOperationId"] = request_id
        op = Operation(project, region, name, fields, now(), monotonic(), delay, error)
        self._ops[op.path] = op
        if request_id:
            self._by_request[(project, region, request_id)] = op.path
        return op

    def get(self, project: str, region: str | None, name: str) -> Operation:
        scope = f"regions/{region}" if region else "global"
        path = f"projects/{project}/{scope}/operations/{name}"
        op = self._ops.get(path)
        if op is None:
            raise ApiError(404, f"The resource '{path}' was not found")
        return op

    def all(self) -> list[Operation]:
        return list(self._ops.values())

    def in_scope(self, project: str, region: str | None) -> list[Operation]:
        return sorted(
            (op for op in self._ops.values() if op.project == project and op.region == region), key=lambda o: o.name
        )

    def delete(self, project: str, region: str | None, name: str) -> None:
        op = self.get(project, region, name)
        del self._ops[op.path]

    def snapshot(self) -> dict[str, Any]:
        return {path: op.render() for path, op in sorted(self._ops.items())}
