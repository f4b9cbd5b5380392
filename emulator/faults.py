"""Fault injection: error statuses, latency, operation delay and duplicate event deliveries.

Configured over `/_emulator/faults` so tests written in any language can drive it.
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError, invalid


@dataclass
class FaultRule:
    method: str  # HTTP method or "*"
    path: re.Pattern[str]
    status: int | None  # None: latency only
    rate: float  # probability per matching request
    remaining: int | None  # None: unlimited
    latency_ms: int
    message: str | None
    # Compute only: accept the write, then fail its operation (with httpErrorStatusCode and httpErrorMessage),
    # as production reports some failures (docs/google-apis.md §3.5). Nothing is changed.
    asynchronous: bool = False
    reason: str | None = None  # Compute's reason string (e.g. resourceInUseByAnotherResource); default from status

    def describe(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path.pattern,
            "status": self.status,
            "rate": self.rate,
            "remaining": self.remaining,
            "latencyMs": self.latency_ms,
            "message": self.message,
            "asynchronous": self.asynchronous,
            "reason": self.reason,
        }


@dataclass
class Faults:
    """All injected misbehaviour. Thread-safe; `decide` is called once per API request."""

    rules: list[FaultRule] = field(default_factory=list)
    operation_delay: float = 0.0
    duplicate_deliveries: int = 0
    latency_ms: int = 0
    seed: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _random: random.Random = field(default_factory=random.Random)

    def configure(self, body: dict[str, Any]) -> None:
        """Add rules and set knobs from a POST /_emulator/faults body."""
        if not isinstance(body, dict):
            raise invalid("faults body must be a JSON object")
        rules = [self._parse_rule(r) for r in body.get("rules", [])]
        with self._lock:
            self.rules.extend(rules)
            if "operationDelay" in body:
                self.operation_delay = _non_negative(body["operationDelay"], "operationDelay")
            if "duplicateDeliveries" in body:
                self.duplicate_deliveries = int(_non_negative(body["duplicateDeliveries"], "duplicateDeliveries"))
            if "latencyMs" in body:
                self.latency_ms = int(_non_negative(body["latencyMs"], "latencyMs"))
            if "seed" in body:
                self.seed = int(body["seed"])
                self._random.seed(self.seed)

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()
            self.operation_delay = 0.0
            self.duplicate_deliveries = 0
            self.latency_ms = 0

    def decide(self, method: str, path: str) -> tuple[int, ApiError | None, bool]:
        """The latency to add (ms), the error to answer with if any, and whether that error belongs in the
        request's operation rather than in the answer."""
        with self._lock:
            latency = self.latency_ms
            for rule in self.rules:
                if rule.method not in ("*", method) or not rule.path.search(path):
                    continue
                if rule.remaining == 0:
                    continue
                if rule.rate < 1.0 and self._random.random() >= rule.rate:
                    continue
                if rule.remaining is not None:
                    rule.remaining -= 1
                latency += rule.latency_ms
                if rule.status is not None:
                    return latency, ApiError(rule.status, rule.message, reason=rule.reason), rule.asynchronous
            return latency, None, False

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "rules": [r.describe() for r in self.rules],
                "operationDelay": self.operation_delay,
                "duplicateDeliveries": self.duplicate_deliveries,
                "latencyMs": self.latency_ms,
            }

    @staticmethod
    def _parse_rule(raw: Any) -> FaultRule:
        if not isinstance(raw, dict):
            raise invalid("each fault rule must be a JSON object")
        try:
            path = re.compile(str(raw.get("path", ".*")))
        except re.error as exc:
            raise invalid(f"fault rule path is not a regular expression: {exc}") from exc
        status = raw.get("status")
        if status is not None and not (400 <= int(status) <= 599):
            raise invalid("fault rule status must be a 4xx or 5xx HTTP status")
        rate = float(raw.get("rate", 1.0))
        if not 0.0 <= rate <= 1.0:
            raise invalid("fault rule rate must be between 0 and 1")
        count = raw.get("count")
        return FaultRule(
            method=str(raw.get("method", "*")).upper(),
            path=path,
            status=None if status is None else int(status),
            rate=rate,
            remaining=None if count is None else int(_non_negative(count, "count")),
            latency_ms=int(_non_negative(raw.get("latencyMs", 0), "latencyMs")),
            message=raw.get("message"),
            asynchronous=bool(raw.get("asynchronous", False)),
            reason=raw.get("reason"),
        )


def _non_negative(value: Any, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise invalid(f"{name} must be a number") from exc
    if number < 0:
        raise invalid(f"{name} must not be negative")
    return number
