"""The call log: every API request the emulator answered, for tests that count reads and writes."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any

# POSTs that only read: they must not count as writes when tests assert "zero writes".
_READ_ONLY_POST_SUFFIXES = (":list", ":wait", "/wait", "/validate", ":testIamPermissions", ":getIamPolicy")


@dataclass(frozen=True)
class Call:
    seq: int
    method: str
    path: str
    query: dict[str, str]
    status: int
    time: str
    principal: str
    host: str
    write: bool


def is_write(method: str, path: str) -> bool:
    if method in ("GET", "HEAD", "OPTIONS"):
        return False
    return not (method == "POST" and path.endswith(_READ_ONLY_POST_SUFFIXES))


class CallLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[Call] = []
        self._seq = 0  # monotonic across clears, so a mark taken before a reset stays meaningful

    def add(
        self, *, method: str, path: str, query: dict[str, str], status: int, time: str, principal: str, host: str
    ) -> None:
        with self._lock:
            self._seq += 1
            self._calls.append(
                Call(self._seq, method, path, query, status, time, principal, host, is_write(method, path))
            )

    def since(self, seq: int = 0) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(c) for c in self._calls if c.seq > seq]

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()
