"""The Logging query language (the subset in docs/google-apis.md §5.3): evaluation of a parsed filter on an entry.

`query_parser` turns the text into an AST (and holds the grammar); this module decides which entries match it.
"""

from __future__ import annotations

import math
import re
import unicodedata
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

from .query_parser import (
    TIME_FIELDS,
    And,
    Compare,
    FilterError,
    Literal,
    LogId,
    Node,
    Not,
    Or,
    ValueNode,
    canonical_key,
    only_comments,
    parse,
    parse_timestamp,
)

__all__ = ["SEVERITY_LEVELS", "FilterError", "canonical_log_name", "compile_filter", "evaluate", "parse_timestamp"]

SEVERITY_LEVELS = {
    "DEFAULT": 0,
    "DEBUG": 100,
    "INFO": 200,
    "NOTICE": 300,
    "WARNING": 400,
    "ERROR": 500,
    "CRITICAL": 600,
    "ALERT": 700,
    "EMERGENCY": 800,
}
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
# Under these the keys are user data (jsonPayload, label maps): matched exactly. Elsewhere they are proto field
# names, which Logging matches case-insensitively and in either camelCase or snake_case.
_USER_KEY_PARENTS = ("jsonpayload", "labels")


# ---------------------------------------------------------------------------------------------------- values


def canonical_log_name(log_name: str) -> str:
    """The log id URL-encoded (`a/b` → `a%2Fb`), as Logging stores and returns it."""
    parent, sep, log_id = log_name.partition("/logs/")
    return f"{parent}{sep}{urllib.parse.quote(urllib.parse.unquote(log_id), safe='')}" if sep else log_name


def _fold(text: str) -> str:
    # Logging normalizes strings with NFKC_CF before comparing (case-insensitive, compatibility forms equal).
    return unicodedata.normalize("NFKC", text).casefold()


def _number(text: str) -> float | None:
    return float(text) if _NUMBER.fullmatch(text.strip()) else None


def _severity_level(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        if value.upper() in SEVERITY_LEVELS:
            return SEVERITY_LEVELS[value.upper()]
        number = _number(value)
        return int(number) if number is not None and number.is_integer() else None
    return None


# ---------------------------------------------------------------------------------------------------- evaluation


_MISSING = object()


def resolve(entry: dict[str, Any], path: tuple[str, ...]) -> list[Any]:
    """Every value at `path`; repeated fields fan out, so `authorizationInfo.permission` yields one per item."""
    current: list[Any] = [entry]
    user_keys = False
    for segment in path:
        found: list[Any] = []
        for node in current:
            for item in node if isinstance(node, list) else [node]:
                if isinstance(item, dict):
                    value = _lookup(item, segment, user_keys)
                    if value is not _MISSING and value is not None:
                        found.append(value)
        user_keys = user_keys or canonical_key(segment) in _USER_KEY_PARENTS
        current = found
        if not current:
            return []
    flat: list[Any] = []
    for value in current:
        flat.extend(value if isinstance(value, list) else [value])
    return flat


def _lookup(mapping: dict[str, Any], key: str, user_keys: bool) -> Any:
    if key in mapping:
        return mapping[key]
    if user_keys:
        return _MISSING
    wanted = canonical_key(key)
    for candidate, value in mapping.items():
        if canonical_key(candidate) == wanted:
            return value
    return _MISSING


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    elif value is not None:
        yield value


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _ordered(op: str, left: Any, right: Any) -> bool:
    if op == "=":
        return bool(left == right)
    if op == "<":
        return bool(left < right)
    if op == "<=":
        return bool(left <= right)
    if op == ">":
        return bool(left > right)
    if op == ">=":
        return bool(left >= right)
    raise AssertionError(op)


class _Field:
    """How one field compares: its kind decides whether `WARNING` is a level, a date an instant, `5` a number."""

    def __init__(self, path: tuple[str, ...]) -> None:
        top = canonical_key(path[0]) if len(path) == 1 else ""
        self.kind = {"severity": "severity", "logname": "logname"}.get(top, "time" if top in TIME_FIELDS else "value")

    def test(self, value: Any, op: str, literal: Literal) -> bool:
        """One value against one literal, for every operator except the negated ones (handled by the caller)."""
        if op == ":":
            if literal.text == "*" and not literal.quoted:
                return True
            return any(_fold(literal.text) in _fold(_as_text(leaf)) for leaf in _leaves(value))
        if op == "=~":
            return isinstance(value, str | int | float) and re.search(literal.text, _as_text(value)) is not None
        if isinstance(value, dict | list):
            return False
        if self.kind == "logname" and isinstance(value, str):
            # Either spelling of the log id names the same log: `a/b` and `a%2Fb`.
            return _ordered(op, _fold(canonical_log_name(value)), _fold(canonical_log_name(literal.text)))
        if self.kind == "severity":
            left, right = _severity_level(value), _severity_level(literal.text)
            if left is not None and right is not None:
                return _ordered(op, left, right)
        if self.kind == "time" and isinstance(value, str):
            left_ns, right_ns = parse_timestamp(value), parse_timestamp(literal.text)
            if left_ns is not None and right_ns is not None:
                return _ordered(op, left_ns, right_ns)
        if isinstance(value, bool):
            wanted = literal.text.lower()
            return op == "=" and wanted in ("true", "false") and value == (wanted == "true")
        if isinstance(value, int | float):
            number = _number(literal.text)
            if number is None or math.isnan(value):
                return op == "=" and _fold(_as_text(value)) == _fold(literal.text)
            return _ordered(op, float(value), number)
        return _ordered(op, _fold(_as_text(value)), _fold(literal.text))


def _compare(node: Compare, entry: dict[str, Any]) -> bool:
    values = resolve(entry, node.path)
    if not values:
        return False  # a missing field fails every comparison, `!=` included; only NOT makes it true
    typed = _Field(node.path)
    negated = node.op in ("!=", "!~")
    op = {"!=": "=", "!~": "=~"}.get(node.op, node.op)

    def leaf(literal: Literal) -> bool:
        hit = any(typed.test(value, op, literal) for value in values)
        return not hit if negated else hit

    return _eval_values(node.values, leaf)


def _eval_values(values: ValueNode, leaf: Callable[[Literal], bool]) -> bool:
    if isinstance(values, Literal):
        return leaf(values)
    if isinstance(values, Not):
        return not _eval_values(values.operand, leaf)  # type: ignore[arg-type]
    if isinstance(values, And):
        return _eval_values(values.left, leaf) and _eval_values(values.right, leaf)  # type: ignore[arg-type]
    return _eval_values(values.left, leaf) or _eval_values(values.right, leaf)  # type: ignore[arg-type]


def evaluate(node: Node, entry: dict[str, Any]) -> bool:
    """Whether the LogEntry (its JSON form) matches the filter AST."""
    if isinstance(node, And):
        return evaluate(node.left, entry) and evaluate(node.right, entry)
    if isinstance(node, Or):
        return evaluate(node.left, entry) or evaluate(node.right, entry)
    if isinstance(node, Not):
        return not evaluate(node.operand, entry)
    if isinstance(node, Compare):
        return _compare(node, entry)
    if isinstance(node, LogId):
        log_name = str(entry.get("logName", ""))
        _, _, encoded = log_name.partition("/logs/")
        return bool(encoded) and urllib.parse.unquote(encoded) == node.log_id
    needle = _fold(node.value.text)
    return any(needle in _fold(_as_text(leaf)) for leaf in _leaves(entry))


def compile_filter(text: str | None) -> Callable[[dict[str, Any]], bool]:
    """A predicate over LogEntry JSON; an empty or absent filter matches everything."""
    if text is None or not text.strip() or only_comments(text):
        return lambda entry: True
    node = parse(text)
    return lambda entry: evaluate(node, entry)
