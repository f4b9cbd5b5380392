"""LogEntry rules of `entries.write`: defaults from the request, validation, server-filled fields."""

from __future__ import annotations

import copy
import re
import secrets
import string
import urllib.parse
from datetime import UTC, datetime
from typing import Any

from .query import SEVERITY_LEVELS, canonical_log_name, parse_timestamp

_PARENTS = ("projects", "organizations", "folders", "billingAccounts")
_LOG_NAME = re.compile(r"(?P<parent>projects|organizations|folders|billingAccounts)/(?P<id>[^/]+)/logs/(?P<log>.+)")
# Documented LOG_ID charset, after URL-decoding: letters, digits, `/`, `_`, `-`, `.`; under 512 characters.
_LOG_ID = re.compile(r"[A-Za-z0-9/_\-.]{1,511}")
_PAYLOADS = ("textPayload", "jsonPayload", "protoPayload")
_SEVERITY_BY_NUMBER = {number: name for name, number in SEVERITY_LEVELS.items()}
_INSERT_ID_ALPHABET = string.ascii_lowercase + string.digits
_KNOWN_FIELDS = frozenset(
    (
        *_PAYLOADS,
        "logName",
        "resource",
        "timestamp",
        "receiveTimestamp",
        "severity",
        "insertId",
        "httpRequest",
        "labels",
        "operation",
        "trace",
        "spanId",
        "traceSampled",
        "sourceLocation",
        "split",
        "errorGroups",
        "apphub",
        "apphubDestination",
        "apphubSource",
    )
)


class EntryError(ValueError):
    """One entry of a write is invalid; the message is what Logging would say about it."""


def new_insert_id() -> str:
    """Looks like Logging's own (`1k2j3h4g5f6d`): 12 lowercase base-36 characters."""
    return "".join(secrets.choice(_INSERT_ID_ALPHABET) for _ in range(12))


def format_timestamp(nanos: int) -> str:
    """A proto3 JSON Timestamp: UTC, `Z`, 0, 3, 6 or 9 fractional digits as the value needs."""
    seconds, fraction = divmod(nanos, 1_000_000_000)
    text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if fraction == 0:
        return text + "Z"
    if fraction % 1_000_000 == 0:
        return f"{text}.{fraction // 1_000_000:03d}Z"
    if fraction % 1_000 == 0:
        return f"{text}.{fraction // 1_000:06d}Z"
    return f"{text}.{fraction:09d}Z"


def log_project(log_name: str) -> str | None:
    match = _LOG_NAME.fullmatch(log_name)
    return match.group("id") if match and match.group("parent") == "projects" else None


def check_log_name(log_name: Any, where: str) -> str:
    if not isinstance(log_name, str) or not log_name:
        raise EntryError(f"{where}: logName is required, in the entry or in the request")
    match = _LOG_NAME.fullmatch(log_name)
    if match is None:
        raise EntryError(
            f'{where}: invalid logName "{log_name}"; expected the form projects/[PROJECT_ID]/logs/[LOG_ID]'
            f" ({', '.join(_PARENTS[1:])} also accepted)"
        )
    if not _LOG_ID.fullmatch(urllib.parse.unquote(match.group("log"))):
        raise EntryError(
            f'{where}: invalid log id "{match.group("log")}"; it must be URL-encoded, under 512 characters, and '
            "made of letters, digits, '/', '_', '-' and '.'"
        )
    # The python client does not encode the log id of `client.logger("a/b")`; Logging accepts either form.
    return canonical_log_name(log_name)


def _check_labels(labels: Any, where: str) -> dict[str, str]:
    if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
        raise EntryError(f"{where}: labels must be a map of strings to strings")
    return labels


def _severity(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and value in SEVERITY_LEVELS:
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value in _SEVERITY_BY_NUMBER:
        return _SEVERITY_BY_NUMBER[value]
    raise EntryError(
        f"Invalid value at '{where}.severity' (type.googleapis.com/google.logging.type.LogSeverity), {value!r}"
    )


def _timestamp(value: Any, field: str, where: str) -> int:
    nanos = parse_timestamp(value) if isinstance(value, str) and "T" in value.upper() else None
    if nanos is None:
        raise EntryError(
            f"Invalid value at '{where}.{field}' (type.googleapis.com/google.protobuf.Timestamp), "
            f"Field '{field}', Illegal timestamp format; timestamps must end with 'Z' or have a valid "
            f"timezone offset. {value!r}"
        )
    return nanos


def prepare(raw: Any, index: int, defaults: dict[str, Any], received_ns: int) -> dict[str, Any]:
    """The entry as stored: request defaults applied, checked, and the server-side fields filled in."""
    where = f"entries[{index}]"
    if not isinstance(raw, dict):
        raise EntryError(f"{where}: a LogEntry must be a JSON object")
    unknown = sorted(set(raw) - _KNOWN_FIELDS)
    if unknown:
        raise EntryError(
            f"Invalid JSON payload received. Unknown name \"{unknown[0]}\" at '{where}': Cannot find field."
        )
    entry = copy.deepcopy(raw)
    entry.pop("receiveTimestamp", None)  # output only
    entry["logName"] = check_log_name(entry.get("logName") or defaults.get("logName"), where)
    resource = entry.get("resource") or defaults.get("resource")
    if not isinstance(resource, dict) or not resource.get("type"):
        raise EntryError(f"{where}: resource is required, with a type, in the entry or in the request")
    entry["resource"] = copy.deepcopy(resource)
    payloads = [name for name in _PAYLOADS if name in entry]
    if len(payloads) > 1:
        raise EntryError(f"{where}: only one of textPayload, jsonPayload, protoPayload may be set")
    if "jsonPayload" in entry and not isinstance(entry["jsonPayload"], dict):
        raise EntryError(f"{where}: jsonPayload must be a JSON object")
    if "protoPayload" in entry and not (isinstance(entry["protoPayload"], dict) and "@type" in entry["protoPayload"]):
        raise EntryError(f"{where}: protoPayload must be a JSON object with an @type")
    labels = dict(_check_labels(defaults.get("labels") or {}, "labels"))
    labels.update(_check_labels(entry.get("labels") or {}, where))  # the entry's own labels win
    if labels:
        entry["labels"] = labels
    else:
        entry.pop("labels", None)
    severity = _severity(entry.get("severity"), where)
    if severity is None or severity == "DEFAULT":
        entry.pop("severity", None)  # proto3 JSON omits the default enum value
    else:
        entry["severity"] = severity
    timestamp_ns = _timestamp(entry["timestamp"], "timestamp", where) if entry.get("timestamp") else received_ns
    entry["timestamp"] = format_timestamp(timestamp_ns)
    if not entry.get("insertId"):
        entry["insertId"] = new_insert_id()
    entry["receiveTimestamp"] = format_timestamp(received_ns)
    return entry
