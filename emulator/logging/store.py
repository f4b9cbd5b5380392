"""The log store: every entry written, in arrival order, queryable by project, filter and time."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .entries import log_project
from .query import parse_timestamp


@dataclass(frozen=True)
class StoredEntry:
    seq: int  # arrival order: breaks timestamp ties, so equal timestamps list as written
    timestamp_ns: int
    project: str | None
    entry: dict[str, Any]


class LogStore:
    """Thread-safe. Entries are never mutated once stored; readers get the stored dicts, not copies."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[StoredEntry] = []
        # Logging drops an entry whose logName, timestamp and insertId repeat one it already has: that is
        # what makes a retried write with client-set insertIds idempotent.
        self._keys: set[tuple[str, str, str]] = set()
        self._seq = 0

    def add(self, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Store the entries; returns those stored (not the repeats of stored ones), for the sinks to export."""
        added: list[dict[str, Any]] = []
        with self._lock:
            for entry in entries:
                key = (entry["logName"], entry["timestamp"], entry["insertId"])
                if key in self._keys:
                    continue
                self._keys.add(key)
                self._seq += 1
                nanos = parse_timestamp(entry["timestamp"]) or 0
                self._entries.append(StoredEntry(self._seq, nanos, log_project(entry["logName"]), entry))
                added.append(entry)
        return added

    def query(
        self, projects: set[str], predicate: Callable[[dict[str, Any]], bool], *, descending: bool = False
    ) -> list[dict[str, Any]]:
        with self._lock:
            candidates = [s for s in self._entries if s.project in projects]
        candidates.sort(key=lambda s: (s.timestamp_ns, s.seq), reverse=descending)
        return [s.entry for s in candidates if predicate(s.entry)]

    def log_names(self, project: str) -> list[str]:
        with self._lock:
            names = {s.entry["logName"] for s in self._entries if s.project == project}
        return sorted(names)

    def delete_log(self, log_name: str) -> bool:
        """Drop every entry of one log; False if it had none."""
        with self._lock:
            kept = [s for s in self._entries if s.entry["logName"] != log_name]
            deleted = len(kept) != len(self._entries)
            self._entries = kept
            self._keys = {k for k in self._keys if k[0] != log_name}
        return deleted

    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            return [s.entry for s in self._entries]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._keys.clear()
