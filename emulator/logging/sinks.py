"""Log sinks on projects, folders and organizations (`v2/{parent}/sinks`), and the export of matching entries.

Every entry Logging stores (written with `entries.write`, or an audit entry of a Cloud Run write) is offered to
every sink: the sinks of its own project (or folder or organization), and the aggregated sinks (`includeChildren`)
of the folders and organization above it (`ResourceManagerApi.ancestors`). A sink whose destination is a Pub/Sub
topic publishes the entry there as its `writerIdentity`; the topic's IAM policy must let that identity publish
(docs/google-apis.md §9.5), else the export is refused and counted, not delivered. Other destinations are accepted
and stored but receive nothing (each export is recorded as `not_delivered`).
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
from collections import Counter, deque
from typing import Any, Protocol

from ..clock import now, rfc3339
from ..errors import ApiError, invalid
from ..paging import list_page
from .sinks_rules import (
    Sink,
    bad_request,
    check_fields,
    check_sink_id,
    update_mask,
    writable_fields,
    writer_identity,
)

MAX_RECORDS = 10_000
# Logging stamps each message it publishes with the entry's timestamp (seen on every sink-fed message).
TIMESTAMP_ATTRIBUTE = "logging.googleapis.com/timestamp"
_PARENT_KINDS = ("projects", "folders", "organizations")
_OTHER_PROJECT_BUCKET = re.compile(r"logging\.googleapis\.com/projects/(?P<project>[^/]+)/locations/[^/]+/buckets/.+")


class Hierarchy(Protocol):
    """What sinks need of Resource Manager."""

    def ancestors(self, project_id: str) -> list[str]: ...

    def exists(self, name: str) -> bool: ...

    def project_number(self, project: str) -> str: ...


class Publisher(Protocol):
    """What sinks need of Pub/Sub: publish as a member, subject to the topic's IAM policy."""

    def publish_as(
        self, topic: str, data: bytes, attributes: dict[str, str], member: str
    ) -> tuple[str, str | None]: ...


def entry_data(entry: dict[str, Any]) -> bytes:
    """The message data of an exported entry: the LogEntry as JSON (docs/google-apis.md §9.5), compact, keys
    sorted and newline-terminated as published captures of sink-fed messages show."""
    return (json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n").encode()


class LogSinks:
    """Thread-safe. Never calls out (Resource Manager, Pub/Sub) while holding its own lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sinks: dict[str, Sink] = {}
        self._records: deque[dict[str, Any]] = deque(maxlen=MAX_RECORDS)
        self._counts: Counter[str] = Counter()
        self.hierarchy: Hierarchy | None = None
        self.publisher: Publisher | None = None

    def connect(self, hierarchy: Hierarchy, publisher: Publisher) -> None:
        self.hierarchy, self.publisher = hierarchy, publisher

    def reset(self) -> None:
        with self._lock:
            self._sinks.clear()
            self._records.clear()
            self._counts.clear()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            sinks = [{"parent": s.parent, **s.to_json()} for s in self._sinks.values()]
            exports = {
                "published": self._counts["published"],
                "refused": self._counts["refused"],
                "notDelivered": self._counts["not_delivered"],
                "records": list(self._records),
            }
        return {"sinks": sinks, "sinkExports": exports}

    # ------------------------------------------------------------------------------------------ the REST methods

    def create(self, parent: str, body: dict[str, Any], *, unique: bool, custom_writer: str | None) -> dict[str, Any]:
        self._check_parent(parent)
        sink_id = check_sink_id(body.get("name"))
        fields, predicate, exclusions = check_fields(writable_fields(body))
        unique = unique or not parent.startswith("projects/")
        stamp = rfc3339(now())
        sink = Sink(parent, sink_id, fields, None, unique, stamp, stamp, predicate, exclusions)
        sink.writer_identity = self._writer(sink, custom_writer)
        with self._lock:
            if sink.name in self._sinks:
                raise ApiError(409, f"Sink {sink_id} already exists")
            self._sinks[sink.name] = sink
            return sink.to_json()

    def get(self, parent: str, sink_id: str) -> dict[str, Any]:
        with self._lock:
            return self._sink(parent, sink_id).to_json()

    def list_sinks(self, parent: str, filter_text: str | None, page_size: Any, page_token: Any) -> dict[str, Any]:
        self._check_parent(parent)
        if filter_text:
            raise ApiError(501, "The emulator does not implement ListSinks filter; filter on the client side")
        with self._lock:
            found = [s.to_json() for s in sorted(self._sinks.values(), key=lambda s: s.sink_id) if s.parent == parent]
        return list_page(found, "sinks", page_size, page_token, default=200, maximum=1000)

    def update(
        self,
        parent: str,
        sink_id: str,
        body: dict[str, Any],
        mask: str | None,
        *,
        unique: bool,
        custom_writer: str | None,
    ) -> dict[str, Any]:
        """sinks.update and sinks.patch: the fields the mask names are replaced (absent from the body: cleared).

        `uniqueWriterIdentity` true on a sink without one gives it the service agent; false never takes it away."""
        given = writable_fields(body)
        paths = update_mask(mask)
        with self._lock:
            current = self._sink(parent, sink_id)
            fields = dict(current.fields)
        for path in paths:
            if path in given:
                fields[path] = given[path]
            else:
                fields.pop(path, None)
        fields, predicate, exclusions = check_fields(fields)
        updated = dataclasses.replace(current, fields=fields, predicate=predicate, exclusions=exclusions)
        updated.unique = current.unique or unique
        updated.update_time = rfc3339(now())
        updated.writer_identity = self._writer(updated, custom_writer)
        with self._lock:
            self._sink(parent, sink_id)  # still there
            self._sinks[updated.name] = updated
            return updated.to_json()

    def delete(self, parent: str, sink_id: str) -> dict[str, Any]:
        with self._lock:
            del self._sinks[self._sink(parent, sink_id).name]
        return {}

    # ------------------------------------------------------------------------------------------ export

    def export(self, entries: list[dict[str, Any]]) -> None:
        """Offer freshly stored entries to every sink that covers them; publish those a sink exports."""
        with self._lock:
            sinks = [s for s in self._sinks.values() if not s.fields.get("disabled")]
        if not entries or not sinks or self.hierarchy is None:
            return
        for entry in entries:
            owner = str(entry["logName"]).split("/logs/", 1)[0]
            lineage: list[str] | None = None
            for sink in sinks:
                if sink.parent != owner:
                    if not sink.aggregated:
                        continue
                    if lineage is None:
                        lineage = self.hierarchy.ancestors(owner)
                    if sink.parent not in lineage:
                        continue
                if sink.exports(entry):
                    self._deliver(sink, entry)

    def _deliver(self, sink: Sink, entry: dict[str, Any]) -> None:
        record: dict[str, Any] = {
            "sink": sink.name,
            "insertId": entry.get("insertId"),
            "logName": entry.get("logName"),
            "destination": sink.fields["destination"],
            "time": rfc3339(now()),
        }
        topic = sink.topic
        if topic is None or self.publisher is None:
            record.update(outcome="not_delivered", reason="only Pub/Sub destinations are emulated")
        else:
            attributes = {TIMESTAMP_ATTRIBUTE: str(entry.get("timestamp", ""))}
            outcome, message_id = self.publisher.publish_as(
                topic, entry_data(entry), attributes, sink.writer_identity or ""
            )
            if outcome == "published":
                record.update(outcome="published", messageId=message_id)
            elif outcome == "PERMISSION_DENIED":
                reason = f"{sink.writer_identity} may not publish to {topic} (pubsub.topics.publish)"
                record.update(outcome="refused", status=outcome, reason=reason)
            else:
                record.update(outcome="refused", status=outcome, reason=f"topic {topic} does not exist")
        with self._lock:
            self._records.append(record)
            self._counts[record["outcome"]] += 1

    # ------------------------------------------------------------------------------------------ internals

    def _check_parent(self, parent: str) -> None:
        kind, _, ident = parent.partition("/")
        if kind not in _PARENT_KINDS or not ident:
            raise invalid(f'Invalid parent "{parent}"')
        if kind != "projects" and self.hierarchy is not None and not self.hierarchy.exists(parent):
            raise ApiError(404, f"Parent resource {parent} was not found")

    def _sink(self, parent: str, sink_id: str) -> Sink:
        """The sink, or 404. Caller holds the lock."""
        sink = self._sinks.get(f"{parent}/sinks/{sink_id}")
        if sink is None:
            raise ApiError(404, f"Sink {sink_id} does not exist")
        return sink

    def _writer(self, sink: Sink, custom: str | None) -> str | None:
        destination = sink.fields["destination"]
        if custom:
            bucket = _OTHER_PROJECT_BUCKET.fullmatch(destination)
            if not bucket or f"projects/{bucket.group('project')}" == sink.parent:
                raise bad_request(
                    "custom_writer_identity",
                    "customWriterIdentity is only allowed for a log bucket destination in another project",
                )
            if not custom.startswith("serviceAccount:"):
                raise bad_request("custom_writer_identity", "customWriterIdentity must be serviceAccount:EMAIL")
            return custom
        project_number = self.hierarchy.project_number if self.hierarchy is not None else (lambda p: p)
        return writer_identity(sink.parent, destination, sink.unique, project_number)
