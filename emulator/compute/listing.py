"""Compute list responses: `filter`, `orderBy`, `maxResults`/`pageToken` and the list envelope.

The filter subset: comparisons `FIELD = VALUE` and `FIELD != VALUE` (exact), `FIELD eq REGEX` and
`FIELD ne REGEX` (RE2, whole-field match), values bare or quoted, nested fields with dots; several
comparisons each in parentheses, joined by whitespace/`AND` or all by `OR`. Anything else is a 400, so a
caller never mistakes an unsupported filter for an empty result.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import invalid
from ..paging import list_page

MAX_RESULTS = 500

_COMPARISON = re.compile(
    r"""\s*(?P<field>[A-Za-z_][\w.]*)\s*(?P<op>!=|=|\b(?:eq|ne)\b)\s*
        (?P<value>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s()]+)\s*""",
    re.X,
)
Predicate = Callable[[dict[str, Any]], bool]


def parse_filter(text: str | None) -> Predicate:
    if not text or not text.strip():
        return lambda _: True
    text = text.strip()
    if not text.startswith("("):
        # A single un-parenthesized comparison; for eq/ne the value may hold spaces ("eq unquoted literal").
        single = re.fullmatch(r"\s*([A-Za-z_][\w.]*)\s+(eq|ne)\s+(.+?)\s*", text)
        if single:
            return _comparison(single[1], single[2], single[3], text)
        match = _COMPARISON.fullmatch(text)
        if not match:
            raise _unsupported(text)
        return _comparison(match["field"], match["op"], match["value"], text)
    parts: list[Predicate] = []
    joiners: set[str] = set()
    rest = text
    while rest:
        group = re.match(r"\(([^()]*)\)\s*", rest)
        if not group:
            raise _unsupported(text)
        inner = _COMPARISON.fullmatch(group[1])
        if not inner:
            raise _unsupported(text)
        parts.append(_comparison(inner["field"], inner["op"], inner["value"], text))
        rest = rest[group.end() :]
        joiner = re.match(r"(AND|OR)\s+", rest)
        if joiner:
            joiners.add(joiner[1])
            rest = rest[joiner.end() :]
        elif rest:
            joiners.add("AND")
    if len(joiners) > 1:
        raise _unsupported(text, "mixing AND and OR is not supported by the emulator")
    if joiners == {"OR"}:
        return lambda item: any(p(item) for p in parts)
    return lambda item: all(p(item) for p in parts)


def _comparison(field: str, op: str, raw: str, text: str) -> Predicate:
    value = raw
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        value = re.sub(r"\\(.)", r"\1", raw[1:-1])
    if op in ("=", "!="):
        want = op == "="
        return lambda item: (_field(item, field) == value) == want
    try:
        pattern = re.compile(value)
    except re.error as exc:
        raise _unsupported(text, f"not a regular expression: {exc}") from exc
    want = op == "eq"
    return lambda item: bool(pattern.fullmatch(_field(item, field))) == want


def _field(item: dict[str, Any], dotted: str) -> str:
    node: Any = item
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return ""
        node = node[part]
    if isinstance(node, bool):
        return "true" if node else "false"
    return node if isinstance(node, str) else str(node)


def _unsupported(text: str, why: str = "Invalid list filter expression.") -> Exception:
    return invalid(f"Invalid value for field 'filter': '{text}'. {why}")


def select(items: Sequence[dict[str, Any]], args: Any) -> list[dict[str, Any]]:
    """The items a list's `filter` keeps, in its `orderBy` order (name, the default, or creationTimestamp desc)."""
    selected = [item for item in items if parse_filter(args.get("filter"))(item)]
    order = (args.get("orderBy") or "name").strip()
    if order == "creationTimestamp desc":
        selected.sort(key=lambda item: item.get("creationTimestamp", ""), reverse=True)
    elif order != "name":
        raise invalid(
            f"Invalid value for field 'orderBy': '{order}'. Only 'name' and 'creationTimestamp desc' are supported."
        )
    return selected


def max_results_of(args: Any) -> int:
    raw_max = args.get("maxResults")
    try:
        max_results = int(raw_max) if raw_max not in (None, "") else MAX_RESULTS
    except ValueError as exc:
        raise invalid(f"Invalid value for field 'maxResults': '{raw_max}'. Must be an integer.") from exc
    if not 0 <= max_results <= MAX_RESULTS:
        raise invalid(f"Invalid value for field 'maxResults': '{raw_max}'. Must be between 0 and {MAX_RESULTS}.")
    return max_results


def list_body(
    items: Sequence[dict[str, Any]],
    args: Any,
    *,
    kind: str,
    list_id: str,
    self_link: str | None,
) -> dict[str, Any]:
    """The list envelope: `kind`, `id`, then `items` and `nextPageToken` only when there is something in them."""
    selected = select(items, args)
    max_results = max_results_of(args)
    body: dict[str, Any] = {"kind": kind, "id": list_id}
    body |= list_page(selected, "items", max_results, args.get("pageToken"), default=MAX_RESULTS, maximum=MAX_RESULTS)
    if self_link is not None:
        body["selfLink"] = self_link
    return body
