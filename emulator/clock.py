"""Timestamps in the formats Google APIs print."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def rfc3339(dt: datetime, *, nanos: bool = False) -> str:
    """`2026-01-02T03:04:05.123456Z` (Run, Logging) or with nine digits (`receiveTimestamp`)."""
    text = dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return (text + "000Z") if nanos else (text + "Z")


def compute_timestamp(dt: datetime) -> str:
    """Compute prints `creationTimestamp` as `2026-01-02T03:04:05.123-08:00`; UTC offset here."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}-00:00"


def monotonic() -> float:
    return time.monotonic()
