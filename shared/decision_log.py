"""The decision log (docs/design.md §6): one JSON object per line on stdout per decision, the reporting contract.

Cloud Run functions turn each stdout line that is a JSON object into a Cloud Logging entry with that
object as `jsonPayload`, lifting the special fields out of it (docs/google-apis.md §5.4): `severity`, `time`,
`logging.googleapis.com/labels`, `logging.googleapis.com/trace`, `logging.googleapis.com/spanId`,
`logging.googleapis.com/trace_sampled`. These are the same special fields google-cloud-logging's
`StructuredLogHandler` writes (`google/cloud/logging_v2/handlers/structured_log.py`,
`GCP_STRUCTURED_LOGGING_FIELDS`), and the trace headers are read the same way its `_helpers.py` does
(W3C `traceparent` first, then `X-Cloud-Trace-Context`). We write the lines ourselves instead of importing
that handler: importing `google.cloud.logging` costs about 0.8 s of cold start, for a `json.dumps`.

We do not go through Python `logging` either: a decision is a record with a fixed shape that callers (the
CLI, tests) also get back, not a message; writing directly needs no handler configured at import time
and cannot be silenced by someone else's logging setup.

`ACTIONS` (action → severity) and `ACTION_NAMES` are data so the report and infra (log-based metrics)
import the same table.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, TextIO

from shared.model import Action, ServiceKey

COMPONENT = "runway"
LABELS_FIELD = "logging.googleapis.com/labels"
TRACE_FIELD = "logging.googleapis.com/trace"
SPAN_FIELD = "logging.googleapis.com/spanId"
SAMPLED_FIELD = "logging.googleapis.com/trace_sampled"
ACTION_LABEL = "runway_action"


__all__ = ["ACTIONS", "ACTION_NAMES", "Action", "DecisionLog", "TraceContext"]

# action -> Cloud Logging severity (docs/design.md §6). Findings a developer fixes (conflicts, invalid labels)
# are WARNING: ERROR is runway's own failure, the one thing that pages the platform team.
ACTIONS: Mapping[str, str] = MappingProxyType(
    {
        Action.INGRESS_REMEDIATED.value: "NOTICE",
        Action.INGRESS_COMPLIANT.value: "DEBUG",
        Action.INGRESS_EXEMPT.value: "WARNING",
        Action.ROUTE_REGISTERED.value: "NOTICE",
        Action.ROUTE_UPDATED.value: "NOTICE",
        Action.ROUTE_REMOVED.value: "NOTICE",
        Action.ROUTE_UNCHANGED.value: "DEBUG",
        Action.ROUTE_CONFLICT.value: "WARNING",
        Action.ROUTE_INVALID.value: "WARNING",
        Action.ROUTE_UNREACHABLE.value: "WARNING",
        Action.EVENT_IGNORED.value: "DEBUG",
        Action.EVENT_INVALID.value: "ERROR",
        Action.API_ERROR.value: "ERROR",
        Action.SWEEP_SUMMARY.value: "INFO",
        Action.BUDGET_WARNING.value: "WARNING",
    }
)
ACTION_NAMES: tuple[str, ...] = tuple(ACTIONS)

# Fields docs/design.md §6 names for an action; missing one is a programming error, caught at call time.
REQUIRED_FIELDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        Action.INGRESS_REMEDIATED.value: ("before", "after"),
        Action.ROUTE_CONFLICT.value: ("holder",),
        Action.ROUTE_INVALID.value: ("reason",),
        Action.ROUTE_UNREACHABLE.value: ("reason",),
        Action.EVENT_INVALID.value: ("reason",),
        Action.SWEEP_SUMMARY.value: ("posture", "budgets"),
        Action.BUDGET_WARNING.value: ("budget", "used", "limit", "fraction"),
    }
)

COMMON_FIELDS = (
    "severity",
    "message",
    "component",
    "function",
    "action",
    "service",
    "principal",
    "event_id",
    "method",
    "dry_run",
)
_RESERVED = frozenset({*COMMON_FIELDS, "time", LABELS_FIELD, TRACE_FIELD, SPAN_FIELD, SAMPLED_FIELD})

# One lock for every DecisionLog: bound copies and concurrent invocations share stdout.
_WRITE_LOCK = threading.Lock()

_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?")
_XCLOUD = re.compile(r"([0-9a-fA-F]{32})(?:/([0-9]{1,20}))?(?:;o=([0-9]+))?")


@dataclasses.dataclass(frozen=True)
class TraceContext:
    """The trace an invocation belongs to: 32 hex trace id, 16 hex span id, sampled flag."""

    trace_id: str
    span_id: str | None = None
    sampled: bool = False

    @classmethod
    def from_headers(cls, headers: Mapping[str, Any] | None) -> TraceContext | None:
        """From W3C `traceparent`, else `X-Cloud-Trace-Context`; None when neither is present and valid."""
        if not headers:
            return None
        lowered = {str(k).lower(): v for k, v in headers.items() if isinstance(v, str)}
        return _parse_traceparent(lowered.get("traceparent")) or _parse_xcloud(lowered.get("x-cloud-trace-context"))


def _parse_traceparent(header: str | None) -> TraceContext | None:
    match = _TRACEPARENT.fullmatch(header.strip()) if header else None
    if not match:
        return None
    version, trace_id, span_id, flags, rest = match.groups()
    # W3C: version ff is invalid, version 00 has exactly four fields, all-zero ids are invalid.
    if version == "ff" or (version == "00" and rest) or set(trace_id) == {"0"} or set(span_id) == {"0"}:
        return None
    return TraceContext(trace_id, span_id, bool(int(flags, 16) & 1))


def _parse_xcloud(header: str | None) -> TraceContext | None:
    match = _XCLOUD.fullmatch(header.strip()) if header else None
    if not match:
        return None
    trace_id, span, option = match.groups()
    # The header's span id is decimal; Cloud Logging wants 16 hex digits.
    span_id = f"{int(span):016x}" if span and 0 < int(span) < 2**64 else None
    return TraceContext(trace_id.lower(), span_id, option == "1")


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclasses.dataclass(frozen=True)
class DecisionLog:
    """Writes decisions for one invocation, with its common context bound once.

    `project` is the project the function runs in: Cloud Logging wants traces as
    `projects/PROJECT/traces/TRACE_ID`, so without it no trace fields are written. `stream` defaults to
    the `sys.stdout` of the moment of writing (functions-framework and pytest both replace it).
    """

    function: str
    event_id: str | None = None
    principal: str | None = None
    method: str | None = None
    dry_run: bool = False
    trace: TraceContext | None = None
    project: str | None = None
    stream: TextIO | None = None
    clock: Callable[[], datetime] = _utcnow

    def bind(self, **context: Any) -> DecisionLog:
        """A copy with some context changed, e.g. `event_id`, `principal`, `method` once the event is decoded."""
        return dataclasses.replace(self, **context)

    def decide(
        self,
        action: Action,
        *,
        message: str,
        service: ServiceKey | str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Write one decision line and return the record as written (parsed back from the line)."""
        severity = ACTIONS.get(str(action))
        if severity is None:
            raise ValueError(f"unknown decision action {action!r}; expected one of {', '.join(ACTION_NAMES)}")
        name = str(action)
        clash = _RESERVED.intersection(fields)
        if clash:
            raise ValueError(f"fields {sorted(clash)} are set by DecisionLog, not per decision")
        missing = [field for field in REQUIRED_FIELDS.get(name, ()) if field not in fields]
        if missing:
            raise ValueError(f"decision {name!r} needs fields {missing}")

        record: dict[str, Any] = {
            "severity": severity,
            "message": message,
            "component": COMPONENT,
            "function": self.function,
            "action": name,
            "service": service.name if isinstance(service, ServiceKey) else service,
            "principal": self.principal,
            "event_id": self.event_id,
            "method": self.method,
            "dry_run": self.dry_run,
            **fields,
            "time": _rfc3339(self.clock()),
            LABELS_FIELD: {ACTION_LABEL: name},
        }
        if self.trace is not None and self.project:
            record[TRACE_FIELD] = f"projects/{self.project}/traces/{self.trace.trace_id}"
            if self.trace.span_id:
                record[SPAN_FIELD] = self.trace.span_id
            record[SAMPLED_FIELD] = self.trace.sampled
        line = json.dumps(record, default=_jsonable)
        stream = self.stream if self.stream is not None else sys.stdout
        with _WRITE_LOCK:
            stream.write(line + "\n")
            stream.flush()
        record_written: dict[str, Any] = json.loads(line)
        return record_written


def _rfc3339(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _jsonable(value: Any) -> Any:
    """Values json cannot encode: decided here so a log line never crashes a handler."""
    if isinstance(value, ServiceKey):
        return value.name
    if isinstance(value, datetime):
        return _rfc3339(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, Mapping):
        return dict(value)
    return str(value)
