"""Fault injection: error statuses, latency, operation delay and duplicate event deliveries.

Configured over `/_emulator/faults` so tests written in any language can drive it.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import params
from .errors import ApiError


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

    def configure(self, body: Any) -> None:
        """Add rules and set knobs from a POST /_emulator/faults body; nothing changes unless all of it is valid."""
        body = params.mapping(body, "", _KNOBS)
        raw_rules = [] if body.get("rules") is None else body["rules"]
        if not isinstance(raw_rules, list):
            raise params.bad_param("rules", f"expected a list of fault rules, got {raw_rules!r}")
        rules = [_parse_rule(raw, f"rules[{i}]") for i, raw in enumerate(raw_rules)]
        knobs = {key: parse(body[key], key) for key, parse in _KNOB_PARSERS.items() if body.get(key) is not None}
        with self._lock:
            self.rules.extend(rules)
            self.operation_delay = knobs.get("operationDelay", self.operation_delay)
            self.duplicate_deliveries = knobs.get("duplicateDeliveries", self.duplicate_deliveries)
            self.latency_ms = knobs.get("latencyMs", self.latency_ms)
            if "seed" in knobs:
                self.seed = knobs["seed"]
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


# Bounds of the knobs: anything beyond them is a typo in a test, not a scenario (a test never waits 10 minutes).
MAX_OPERATION_DELAY_S = 600
MAX_LATENCY_MS = 60_000
MAX_DUPLICATE_DELIVERIES = 10
MAX_COUNT = 1_000_000_000
_SEED_RANGE = 2**63
_HTTP_METHODS = ("*", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")

_KNOB_PARSERS: dict[str, Callable[[Any, str], Any]] = {
    "operationDelay": lambda v, n: params.number(v, n, minimum=0, maximum=MAX_OPERATION_DELAY_S),
    "duplicateDeliveries": lambda v, n: params.integer(v, n, minimum=0, maximum=MAX_DUPLICATE_DELIVERIES),
    "latencyMs": lambda v, n: params.integer(v, n, minimum=0, maximum=MAX_LATENCY_MS),
    "seed": lambda v, n: params.integer(v, n, minimum=-_SEED_RANGE, maximum=_SEED_RANGE - 1),
}
_KNOBS = ("rules", *_KNOB_PARSERS)
_RULE_FIELDS = ("method", "path", "status", "rate", "count", "latencyMs", "message", "asynchronous", "reason")


def _parse_rule(raw: Any, name: str) -> FaultRule:
    rule = {k: v for k, v in params.mapping(raw, name, _RULE_FIELDS).items() if v is not None}
    method = params.string(rule.get("method", "*"), f"{name}.method").upper()
    if method not in _HTTP_METHODS:
        raise params.bad_param(f"{name}.method", f"expected an HTTP method or '*', got {rule['method']!r}")
    pattern = params.string(rule.get("path", ".*"), f"{name}.path")
    try:
        path = re.compile(pattern)
    except re.error as exc:
        raise params.bad_param(f"{name}.path", f"not a regular expression: {exc}") from exc
    status = rule.get("status")
    count = rule.get("count")
    message = rule.get("message")
    reason = rule.get("reason")
    return FaultRule(
        method=method,
        path=path,
        status=None if status is None else params.integer(status, f"{name}.status", minimum=400, maximum=599),
        rate=params.number(rule.get("rate", 1.0), f"{name}.rate", minimum=0, maximum=1),
        remaining=None if count is None else params.integer(count, f"{name}.count", minimum=0, maximum=MAX_COUNT),
        latency_ms=params.integer(rule.get("latencyMs", 0), f"{name}.latencyMs", minimum=0, maximum=MAX_LATENCY_MS),
        message=None if message is None else params.string(message, f"{name}.message"),
        asynchronous=params.boolean(rule.get("asynchronous", False), f"{name}.asynchronous"),
        reason=None if reason is None else params.string(reason, f"{name}.reason"),
    )
