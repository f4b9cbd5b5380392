"""Cloud Logging v2: entries.write, entries.list, logs.list, logs.delete, and the audit-log sink of Cloud Run."""

from __future__ import annotations

import copy
import threading
import time
import urllib.parse
from datetime import UTC, datetime, timedelta
from typing import Any

from ..audit import AdminActivity
from ..clock import now
from ..errors import ApiError, invalid
from ..paging import list_page
from ..runtime import Runtime
from .audit_entry import build_audit_entry
from .entries import EntryError, check_log_name, prepare
from .query import FilterError, compile_filter
from .sinks import LogSinks
from .store import LogStore

MAX_FILTER_LENGTH = 20_000  # ListLogEntriesRequest.filter, logging.v2 discovery document
PARTIAL_ERRORS_TYPE = "type.googleapis.com/google.logging.v2.WriteLogEntriesPartialErrors"
AUDIT_TICK = timedelta(microseconds=1)  # timestamps print microseconds: the least step that shows


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _bad_request(field: str, message: str) -> ApiError:
    detail = {
        "@type": "type.googleapis.com/google.rpc.BadRequest",
        "fieldViolations": [{"field": field, "description": message}],
    }
    return invalid(message, details=[detail])


class LoggingApi:
    name = "logging"

    def __init__(self, emu: Runtime) -> None:
        self.emu = emu
        self.store = LogStore()
        self._audit_lock = threading.Lock()
        self._last_audit = datetime.min.replace(tzinfo=UTC)  # kept across resets: time never goes back
        self.sinks = LogSinks()  # exports every entry stored below (the emulator connects it to Pub/Sub)

    # ------------------------------------------------------------------------------------------ the emulator seam

    def append_audit_entry(self, activity: AdminActivity) -> dict[str, Any]:
        """Store the Admin Activity entry of a Cloud Run write and return it (LogEntry JSON).

        Causal and monotonic: the entry is dated when its write was accepted or its operation completed
        (`activity.time`, else now), never before, and strictly after every audit entry written before it, so
        the order of timestamps is the order of writing; `receiveTimestamp` is never before `timestamp`."""
        with self._audit_lock:
            timestamp = max(activity.time or now(), self._last_audit + AUDIT_TICK)
            self._last_audit = timestamp
            entry = build_audit_entry(activity, timestamp, max(now(), timestamp))
            stored = self.store.add([entry])
        self.sinks.export(stored)
        return copy.deepcopy(entry)  # the stored entry is never mutated, whatever the caller does with this one

    def reset(self) -> None:
        self.store.clear()
        self.sinks.reset()

    def snapshot(self) -> dict[str, Any]:
        return {"entries": copy.deepcopy(self.store.all()), **self.sinks.snapshot()}

    # ------------------------------------------------------------------------------------------ the REST surface

    def write(self, body: dict[str, Any]) -> dict[str, Any]:
        """entries.write. Invalid entries fail the whole write unless partialSuccess, which keeps the valid ones."""
        raw_entries = body.get("entries")
        if not isinstance(raw_entries, list):
            raise _bad_request("entries", "entries is required and must be a list of LogEntry")
        defaults: dict[str, Any] = {}
        try:
            if body.get("logName"):
                defaults["logName"] = check_log_name(body["logName"], "logName")
        except EntryError as exc:
            raise _bad_request("logName", str(exc)) from exc
        if body.get("resource") is not None:
            defaults["resource"] = body["resource"]
        if body.get("labels") is not None:
            defaults["labels"] = body["labels"]
        partial = _truthy(body.get("partialSuccess"))
        # The python client sends `dry_run` in snake_case (docs/google-apis.md §5.2); proto JSON accepts both.
        dry_run = _truthy(body.get("dryRun")) or _truthy(body.get("dry_run"))
        received_ns = time.time_ns()
        prepared: list[dict[str, Any]] = []
        errors: dict[str, dict[str, Any]] = {}
        for index, raw in enumerate(raw_entries):
            try:
                prepared.append(prepare(raw, index, defaults, received_ns))
            except EntryError as exc:
                errors[str(index)] = {"code": 3, "message": str(exc)}
        if not dry_run and (partial or not errors):
            self.sinks.export(self.store.add(prepared))
        if errors:
            first = next(iter(errors.values()))["message"]
            detail = {"@type": PARTIAL_ERRORS_TYPE, "logEntryErrors": errors}
            raise invalid(first if len(errors) == 1 else f"{first} (and {len(errors) - 1} more)", details=[detail])
        return {}

    def list_entries(self, body: dict[str, Any]) -> dict[str, Any]:
        names = body.get("resourceNames") or [f"projects/{p}" for p in body.get("projectIds") or []]
        if not isinstance(names, list) or not names:
            raise _bad_request("resourceNames", "resourceNames is required: at least one of projects/[PROJECT_ID]")
        projects: set[str] = set()
        for name in names:
            parts = str(name).split("/")
            if len(parts) < 2 or parts[0] not in ("projects", "organizations", "folders", "billingAccounts"):
                raise _bad_request("resourceNames", f'Invalid resource name "{name}"')
            if parts[0] == "projects":
                projects.add(parts[1])  # other parents hold no entries here: the emulator only has projects
        filter_text = body.get("filter") or ""
        if len(filter_text) > MAX_FILTER_LENGTH:
            raise _bad_request("filter", f"filter is longer than {MAX_FILTER_LENGTH} characters")
        try:
            predicate = compile_filter(filter_text)
        except FilterError as exc:
            raise _bad_request("filter", str(exc)) from exc
        order = " ".join(str(body.get("orderBy") or "timestamp asc").split()).lower()
        if order not in ("timestamp", "timestamp asc", "timestamp desc"):
            raise _bad_request(
                "orderBy",
                f'Invalid orderBy "{body.get("orderBy")}": only "timestamp asc" and "timestamp desc" are supported',
            )
        entries = self.store.query(projects, predicate, descending=order.endswith("desc"))
        return list_page(entries, "entries", body.get("pageSize"), body.get("pageToken"), default=50, maximum=1000)

    def list_logs(self, project: str, page_size: Any, page_token: Any) -> dict[str, Any]:
        names = self.store.log_names(project)
        return list_page(names, "logNames", page_size, page_token, default=100, maximum=1000)

    def delete_log(self, project: str, log_id: str) -> None:
        # Flask hands the path decoded; stored names keep the log id URL-encoded.
        log_name = f"projects/{project}/logs/{urllib.parse.quote(urllib.parse.unquote(log_id), safe='')}"
        if not self.store.delete_log(log_name):
            raise ApiError(404, f"Log {log_name} does not exist")
