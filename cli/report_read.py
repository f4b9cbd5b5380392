"""Reading runway's decision log (docs/design.md §6) through the Logging API, for `report` and `explain`.

`fetch_decisions` flattens each entry into a decision dict: the `jsonPayload` plus `timestamp` (an aware UTC
datetime) and `severity`, the two fields Cloud Logging lifts out of the line a function printed. The window's
ends are parsed by `parse_when`, the form `--since` and `--until` take.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from cli.report_model import as_time, rfc3339
from shared.decision_log import COMPONENT

# The Logging API's largest page; fewer round trips for a week of decisions.
PAGE_SIZE = 1000

_DURATION = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_when(text: str, now: datetime) -> datetime:
    """`30m`, `24h`, `7d` (back from `now`; also `s` and `w`) or an RFC3339 timestamp with a zone → aware UTC."""
    value = text.strip()
    match = _DURATION.fullmatch(value.lower())
    if match:
        amount = int(match.group(1))
        if amount <= 0:
            raise ValueError(f"{text!r} is an empty window; expected a positive duration like 30m, 24h, 7d")
        return now - timedelta(**{_UNITS[match.group(2)]: amount})
    try:
        moment = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise ValueError(
            f"{text!r} is neither a duration (like 30m, 24h, 7d) nor an RFC3339 timestamp (like 2026-03-01T12:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        # A zone-less time is ambiguous between the operator's zone and UTC; Logging would read it as UTC.
        raise ValueError(f"{text!r} has no time zone; add Z or an offset like +02:00")
    return moment.astimezone(UTC)


def decision_filter(since: datetime, until: datetime | None = None, *, services: Iterable[str] = ()) -> str:
    """The Logging filter for runway's decisions in a window (about these services only, when given).

    It always names `timestamp`: otherwise google-cloud-logging appends its own `timestamp>=` of 24 hours ago
    (docs/google-apis.md §5.2), silently cutting every longer window.
    """
    text = f'jsonPayload.component="{COMPONENT}" AND timestamp>="{rfc3339(since)}"'
    if until is not None:
        text += f' AND timestamp<"{rfc3339(until)}"'
    names = [f'"{name}"' for name in dict.fromkeys(services)]
    if names:
        text += f" AND jsonPayload.service=({' OR '.join(names)})"
    return text


def fetch_decisions(
    client: Any,
    project: str,
    since: datetime,
    until: datetime | None = None,
    *,
    page_size: int = PAGE_SIZE,
    services: Iterable[str] = (),
    newest_first: bool = False,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """runway's decisions logged in `project` in [since, until), oldest first (or newest first, at most `limit`),
    as flat dicts; `services` keeps those about these service names only.

    `client` is a `google.cloud.logging.Client` (see `shared.clients.logging_client`).
    """
    from google.cloud.logging import ASCENDING, DESCENDING  # about 0.5 s; only this path needs it

    entries = client.list_entries(
        resource_names=[f"projects/{project}"],
        filter_=decision_filter(since, until, services=services),
        order_by=DESCENDING if newest_first else ASCENDING,
        page_size=min(page_size, limit) if limit else page_size,
        max_results=limit,
    )
    decisions: list[dict[str, Any]] = []
    for entry in entries:
        payload = entry.payload
        if not isinstance(payload, Mapping):
            continue
        decision = dict(payload)
        decision["timestamp"] = as_time(entry.timestamp)
        decision["severity"] = entry.severity
        decisions.append(decision)
    return decisions
