"""Typed reading of test-control input (`/_emulator/` bodies and query parameters, `Settings`).

Every bad value is a 400 naming the parameter (`seed: expected an integer, got 'abc'`), with a google.rpc
BadRequest detail, so a typo in a test's setup fails loudly instead of answering 500 or being ignored.
Numbers may come as JSON numbers or as decimal strings (query parameters are strings); booleans are JSON
booleans only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from typing import Any

from .errors import ApiError

_INTEGER = re.compile(r"[+-]?[0-9]+")


def bad_param(name: str, why: str) -> ApiError:
    violation = {"field": name, "description": why}
    detail = {"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [violation]}
    return ApiError(400, f"{name}: {why}", details=[detail])


def integer(value: Any, name: str, *, minimum: int, maximum: int) -> int:
    if isinstance(value, bool):
        raise bad_param(name, f"expected an integer, got {value!r}")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        raise bad_param(name, f"expected an integer, got {value!r}")
    if not minimum <= number <= maximum:
        raise bad_param(name, f"must be between {minimum} and {maximum}, got {value!r}")
    return number


def number(value: Any, name: str, *, minimum: float, maximum: float) -> float:
    parsed: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        parsed = float(value)
    elif isinstance(value, str):
        try:
            parsed = float(value.strip())
        except ValueError:
            parsed = None
    if parsed is None or not math.isfinite(parsed):
        raise bad_param(name, f"expected a number, got {value!r}")
    if not minimum <= parsed <= maximum:
        raise bad_param(name, f"must be between {minimum:g} and {maximum:g}, got {value!r}")
    return parsed


def boolean(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise bad_param(name, f"expected true or false, got {value!r}")
    return value


def string(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise bad_param(name, f"expected a string, got {value!r}")
    return value


def mapping(value: Any, name: str, known: Collection[str]) -> Mapping[str, Any]:
    """A JSON object whose keys are all in `known`."""
    if not isinstance(value, Mapping):
        raise bad_param(name or "body", f"expected a JSON object, got {value!r}")
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise bad_param(f"{name}.{unknown[0]}" if name else unknown[0], f"unknown field; known: {', '.join(known)}")
    return value


def only_params(args: Mapping[str, Any], known: Collection[str]) -> None:
    """Query parameters: every one must be known."""
    unknown = sorted(set(args) - set(known))
    if unknown:
        allowed = ", ".join(known) if known else "none"
        raise bad_param(unknown[0], f"unknown query parameter; known: {allowed}")
