"""The Logging query language (the subset in docs/google-apis.md §5.3): recursive-descent parser → AST.

`query` evaluates the AST on entries.

Grammar, with Logging's unusual precedence NOT > OR > AND (`a AND b OR c` is `a AND (b OR c)`):

    filter     := and_expr EOF
    and_expr   := or_expr { ["AND"] or_expr }          -- adjacency is an implicit AND
    or_expr    := not_expr { "OR" not_expr }
    not_expr   := ("NOT" | "-") not_expr | primary
    primary    := "(" and_expr ")" | function | comparison | value     -- a bare value searches every field
    comparison := path OP (value | "(" value_expr ")")                  -- `f = ("a" OR "b")` fans out
    path       := segment { "." segment }             -- segment: a name or a "quoted string"
    OP         := "=" | "!=" | "<" | "<=" | ">" | ">=" | ":" | "=~" | "!~"

Keywords are case-sensitive: lowercase `and`/`or`/`not` are search terms, as in Logging. `--` starts a comment.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

OPERATORS = ("!=", "<=", ">=", "=~", "!~", "=", "<", ">", ":")  # longest first, so `<=` is not read as `<`
_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?)?\s*([Zz]|[+-]\d{2}:?\d{2})?"
)
_NAME_CHAR = re.compile(r"[A-Za-z0-9_@$\-]")
_WORD_END = frozenset(' \t\r\n()"')
_KEYWORDS = ("AND", "OR", "NOT")
TIME_FIELDS = ("timestamp", "receivetimestamp")


class FilterError(ValueError):
    """A filter that does not parse; `offset` is 0-based, `line`/`column` 1-based, as Logging reports them."""

    def __init__(self, text: str, offset: int, reason: str) -> None:
        self.offset = offset
        self.line = text.count("\n", 0, offset) + 1
        self.column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        self.reason = reason
        super().__init__(f"Unparseable filter: {reason} at line {self.line}, column {self.column}")


# ---------------------------------------------------------------------------------------------------- the AST


@dataclass(frozen=True)
class Literal:
    text: str
    quoted: bool
    offset: int = field(compare=False)  # for error messages only: two equal filters are equal ASTs


@dataclass(frozen=True)
class And:
    left: Node
    right: Node


@dataclass(frozen=True)
class Or:
    left: Node
    right: Node


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class Search:
    """A bare value: a case-insensitive substring of any field."""

    value: Literal


@dataclass(frozen=True)
class Compare:
    """`path OP values`; `values` is a tree of And/Or/Not over Literals when the value fans out."""

    path: tuple[str, ...]
    op: str
    values: ValueNode


@dataclass(frozen=True)
class LogId:
    """`log_id("cloudaudit.googleapis.com/activity")`: the log id of logName, unencoded."""

    log_id: str


Node = And | Or | Not | Search | Compare | LogId
ValueNode = Literal | And | Or | Not


# ---------------------------------------------------------------------------------------------------- the parser


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, reason: str, offset: int | None = None) -> FilterError:
        return FilterError(self.text, self.pos if offset is None else offset, reason)

    # -- lexical helpers

    def skip_space(self) -> None:
        while self.pos < len(self.text):
            if self.text[self.pos].isspace():
                self.pos += 1
            elif self.text.startswith("--", self.pos):
                end = self.text.find("\n", self.pos)
                self.pos = len(self.text) if end < 0 else end
            else:
                return

    def peek(self) -> str:
        self.skip_space()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def peek_keyword(self) -> str | None:
        self.skip_space()
        for word in _KEYWORDS:
            end = self.pos + len(word)
            if self.text.startswith(word, self.pos) and (end == len(self.text) or self.text[end] in _WORD_END):
                return word
        return None

    def take_keyword(self, word: str) -> None:
        self.skip_space()
        self.pos += len(word)

    def at_end(self) -> bool:
        self.skip_space()
        return self.pos >= len(self.text)

    def quoted(self) -> Literal:
        start = self.pos
        self.pos += 1
        out: list[str] = []
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch == '"':
                self.pos += 1
                return Literal("".join(out), True, start)
            if ch == "\\" and self.pos + 1 < len(self.text):
                nxt = self.text[self.pos + 1]
                # Unknown escapes keep their backslash so that regular expressions such as "\d+" survive.
                out.append({'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r"}.get(nxt, "\\" + nxt))
                self.pos += 2
                continue
            out.append(ch)
            self.pos += 1
        raise self.error("unterminated string", start)

    def word(self) -> Literal:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in _WORD_END:
            self.pos += 1
        if self.pos == start:
            raise self.error("expected a value")
        return Literal(self.text[start : self.pos], False, start)

    def value(self) -> Literal:
        ch = self.peek()
        if ch == '"':
            return self.quoted()
        if ch in ("", "(", ")"):
            raise self.error("expected a value" if ch else "expected a value, found the end of the filter")
        if self.peek_keyword() is not None:
            raise self.error(f"expected a value, found the keyword {self.peek_keyword()}")
        return self.word()

    def close(self, open_at: int) -> None:
        if self.at_end():
            raise self.error("missing ')' for the '(' here", open_at)
        if self.text[self.pos] != ")":
            raise self.error(f"unexpected {self.text[self.pos]!r}")
        self.pos += 1

    # -- grammar

    def parse(self) -> Node:
        if self.at_end():
            raise self.error("empty filter")
        node = self.and_expr()
        if not self.at_end():
            raise self.error(f"unexpected {self.text[self.pos]!r}")
        return node

    def and_expr(self) -> Node:
        return self.conjunction(self.not_expr)

    def conjunction(self, unary: Callable[[], Any]) -> Any:
        """`term {[AND] term}` where a term is `unary {OR unary}`: Logging's precedence, OR binding tighter than
        AND, for whole expressions and for the value lists of `field = (a OR b)` alike."""
        node = self.disjunction(unary)
        while True:
            keyword = self.peek_keyword()
            if keyword == "AND":
                self.take_keyword("AND")
            elif keyword == "OR" or self.peek() in ("", ")"):
                return node
            node = And(node, self.disjunction(unary))

    def disjunction(self, unary: Callable[[], Any]) -> Any:
        node = unary()
        while self.peek_keyword() == "OR":
            self.take_keyword("OR")
            node = Or(node, unary())
        return node

    def not_expr(self) -> Node:
        keyword = self.peek_keyword()
        if keyword == "NOT":
            self.take_keyword("NOT")
            return Not(self.not_expr())
        if keyword is not None:
            raise self.error(f"unexpected keyword {keyword}")
        if self.peek() == "-":
            self.pos += 1
            return Not(self.not_expr())
        return self.primary()

    def primary(self) -> Node:
        ch = self.peek()
        if ch == "":
            raise self.error("expected an expression, found the end of the filter")
        if ch == ")":
            raise self.error("unexpected ')'")
        if ch == "(":
            open_at = self.pos
            self.pos += 1
            node = self.and_expr()
            self.close(open_at)
            return node
        start = self.pos
        path = self.path()
        if path is not None:
            if len(path) == 1 and self.pos < len(self.text) and self.text[self.pos] == "(":
                return self.function(path[0], start)
            op = self.operator()
            if op is not None:
                return self.comparison(path, op)
        self.pos = start  # not a comparison: the term is a bare value to search for
        return Search(self.value())

    def path(self) -> tuple[str, ...] | None:
        segments: list[str] = []
        while True:
            if self.pos < len(self.text) and self.text[self.pos] == '"':
                segments.append(self.quoted().text)
            else:
                start = self.pos
                while self.pos < len(self.text) and _NAME_CHAR.match(self.text[self.pos]):
                    self.pos += 1
                if self.pos == start:
                    return None
                segments.append(self.text[start : self.pos])
            if self.pos < len(self.text) and self.text[self.pos] == ".":
                self.pos += 1
                continue
            return tuple(segments)

    def operator(self) -> str | None:
        save = self.pos
        self.skip_space()
        for op in OPERATORS:
            if self.text.startswith(op, self.pos):
                self.pos += len(op)
                return op
        self.pos = save
        return None

    def comparison(self, path: tuple[str, ...], op: str) -> Compare:
        if self.peek() == "(":
            open_at = self.pos
            self.pos += 1
            values = self.value_and()
            self.close(open_at)
        else:
            values = self.value()
        node = Compare(path, op, values)
        self.check(node)
        return node

    def value_and(self) -> ValueNode:
        return self.conjunction(self.value_not)

    def value_not(self) -> ValueNode:
        if self.peek_keyword() == "NOT":
            self.take_keyword("NOT")
            return Not(self.value_not())
        if self.peek() == "(":
            open_at = self.pos
            self.pos += 1
            node = self.value_and()
            self.close(open_at)
            return node
        return self.value()

    def function(self, name: str, start: int) -> Node:
        self.pos += 1  # the "("
        if self.peek() != '"':
            raise self.error(f"{name}() takes one quoted string")
        argument = self.quoted().text
        if self.peek() != ")":
            raise self.error(f"{name}() takes one quoted string")
        self.pos += 1
        if name == "log_id":
            return LogId(argument)
        if name == "SEARCH":
            return Search(Literal(argument, True, start))
        raise self.error(f"unknown function {name}()", start)

    def check(self, node: Compare) -> None:
        """Reject at parse time what can never evaluate, so the caller gets a position."""
        for literal in _literals(node.values):
            if node.op in ("=~", "!~"):
                try:
                    re.compile(literal.text)
                except re.error as exc:
                    raise self.error(f"invalid regular expression: {exc}", literal.offset) from exc
            elif node.op == ":" and literal.text == "*" and not literal.quoted:
                continue
            elif (
                len(node.path) == 1
                and canonical_key(node.path[0]) in TIME_FIELDS
                and node.op != ":"
                and parse_timestamp(literal.text) is None
            ):
                raise self.error(f"invalid timestamp {literal.text!r}", literal.offset)


def _literals(values: ValueNode) -> Iterator[Literal]:
    if isinstance(values, Literal):
        yield values
    elif isinstance(values, Not):
        yield from _literals(values.operand)  # type: ignore[arg-type]
    elif isinstance(values, And | Or):
        yield from _literals(values.left)  # type: ignore[arg-type]
        yield from _literals(values.right)  # type: ignore[arg-type]


def only_comments(text: str) -> bool:
    """Whether the filter is blank but for `--` comments: a filter that matches everything."""
    return _Parser(text).at_end()


def parse(text: str) -> Node:
    """The AST of a Logging filter; raises FilterError (with the position) if it does not parse."""
    return _Parser(text).parse()


def parse_timestamp(text: str) -> int | None:
    """Nanoseconds since the epoch of an RFC 3339 timestamp or an ISO date (midnight UTC); None if neither."""
    match = _TIMESTAMP.fullmatch(text.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        dt = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), tzinfo=UTC)
    except ValueError:
        return None
    offset = 0
    if zone and zone not in ("Z", "z"):
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    seconds = int(dt.timestamp()) - offset
    nanos = int((fraction or "").ljust(9, "0"))
    return seconds * 1_000_000_000 + nanos


def canonical_key(key: str) -> str:
    return key.replace("_", "").lower()
