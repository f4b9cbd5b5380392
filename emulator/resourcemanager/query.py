"""The query language of Resource Manager's search methods and of v1 `projects.list` `filter`.

`field:value` or `field=value` terms, case-insensitive, a trailing `*` matching any suffix and a lone `*` any
value; terms joined by `AND`, `OR` (AND binds tighter; adjacent terms are ANDed), negated with `NOT`, grouped with
parentheses; values may be double-quoted. What each kind of resource answers to is its `fields` function: the
discovery documents' tables (cloudresourcemanager.v3 `projects.search`, `folders.search`,
`organizations.search`; v1 `projects.list`). An unknown field is a 400, never an empty result.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import invalid

Fields = Callable[[str], list[str] | None]  # field name (lowercase) -> its values; None for an unknown field

_TOKEN = re.compile(
    r'\s*(?:(?P<paren>[()])|(?P<term>(?:[^\s()":=]+)\s*[:=]\s*(?:"(?:[^"\\]|\\.)*"|[^\s()]*))|(?P<word>\S+))'
)


@dataclass(frozen=True)
class Term:
    key: str
    value: str


@dataclass(frozen=True)
class Not:
    inner: Node


@dataclass(frozen=True)
class All:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Any_:
    parts: tuple[Node, ...]


Node = Term | Not | All | Any_


def _tokens(text: str) -> list[str | Term]:
    out: list[str | Term] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            break
        pos = match.end()
        if match["paren"]:
            out.append(match["paren"])
        elif match["term"]:
            key, _, value = re.split(r"\s*([:=])\s*", match["term"], maxsplit=1)
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            out.append(Term(key.lower(), value))
        elif match["word"].upper() in ("AND", "OR", "NOT"):
            out.append(match["word"].upper())
        else:
            raise invalid(f"Invalid query: '{match['word']}' is not a 'field:value' expression.")
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.pos = 0

    def peek(self) -> str | Term | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str | Term | None:
        token = self.peek()
        self.pos += 1
        return token

    def parse(self) -> Node | None:
        if not self.tokens:
            return None
        node = self.any_()
        if self.peek() is not None:
            raise invalid(f"Invalid query: unexpected {self.peek()!r} in '{self.text}'.")
        return node

    def any_(self) -> Node:
        parts = [self.all_()]
        while self.peek() == "OR":
            self.take()
            parts.append(self.all_())
        return parts[0] if len(parts) == 1 else Any_(tuple(parts))

    def all_(self) -> Node:
        parts = [self.unary()]
        while self.peek() not in (None, "OR", ")"):
            if self.peek() == "AND":
                self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else All(tuple(parts))

    def unary(self) -> Node:
        token = self.take()
        if token == "NOT":
            return Not(self.unary())
        if token == "(":
            node = self.any_()
            if self.take() != ")":
                raise invalid(f"Invalid query: missing ')' in '{self.text}'.")
            return node
        if isinstance(token, Term):
            return token
        raise invalid(f"Invalid query: unexpected {token!r} in '{self.text}'.")


def parse(text: str | None) -> Node | None:
    return _Parser(text or "").parse()


def _value_matches(wanted: str, actual: str) -> bool:
    wanted, actual = wanted.lower(), actual.lower()
    if wanted == "*":
        return actual != ""
    if wanted.endswith("*"):
        return actual.startswith(wanted[:-1])
    return actual == wanted


def matches(node: Node | None, fields: Fields) -> bool:
    if node is None:
        return True
    if isinstance(node, Not):
        return not matches(node.inner, fields)
    if isinstance(node, All):
        return all(matches(part, fields) for part in node.parts)
    if isinstance(node, Any_):
        return any(matches(part, fields) for part in node.parts)
    values = fields(node.key)
    if values is None:
        raise invalid(f"Invalid query: unknown field '{node.key}'.")
    return any(_value_matches(node.value, value) for value in values)


def check(node: Node | None, fields: Fields) -> None:
    """Refuse unknown fields even when nothing is there to match against."""
    if isinstance(node, Not):
        check(node.inner, fields)
    elif isinstance(node, All | Any_):
        for part in node.parts:
            check(part, fields)
    elif isinstance(node, Term) and fields(node.key) is None:
        raise invalid(f"Invalid query: unknown field '{node.key}'.")
