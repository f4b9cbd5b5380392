"""The Logging query language: parser and evaluator, table-driven (docs/google-apis.md §5.3)."""

from __future__ import annotations

import pytest

from emulator.logging.query import compile_filter
from emulator.logging.query_parser import (
    And,
    Compare,
    FilterError,
    Literal,
    Not,
    Or,
    Search,
    parse,
    parse_timestamp,
)

ENTRY = {
    "logName": "projects/p/logs/cloudaudit.googleapis.com%2Factivity",
    "resource": {"type": "cloud_run_revision", "labels": {"project_id": "p", "service_name": "hello"}},
    "timestamp": "2026-01-02T03:04:05.123456Z",
    "receiveTimestamp": "2026-01-02T03:04:05.812345678Z",
    "severity": "WARNING",
    "insertId": "1k2j3h4g5f6d",
    "labels": {"compute.googleapis.com/resource_id": "42", "env": "Prod"},
    "operation": {"id": "op-1", "producer": "run.googleapis.com", "first": True},
    "jsonPayload": {
        "action": "ingress_remediated",
        "message": "Ingress changed for service Hello-World",
        "count": 7,
        "ratio": 0.5,
        "dry_run": False,
        "paths": ["/api", "/api/*"],
        "nested": {"Key": "Value"},
        "empty": None,
    },
    "protoPayload": {
        "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
        "methodName": "google.cloud.run.v1.Services.ReplaceService",
        "authorizationInfo": [{"permission": "run.services.update"}, {"permission": "run.services.get"}],
    },
}

# (id, filter, matches ENTRY)
CASES = [
    # comparisons and operators
    ("eq", 'jsonPayload.action="ingress_remediated"', True),
    ("eq-unquoted", "jsonPayload.action=ingress_remediated", True),
    ("eq-case-insensitive", 'jsonPayload.action="INGRESS_Remediated"', True),
    ("eq-spaces-around-op", 'jsonPayload.action = "ingress_remediated"', True),
    ("eq-mismatch", 'jsonPayload.action="route_registered"', False),
    ("ne", 'jsonPayload.action!="route_registered"', True),
    ("ne-same", 'jsonPayload.action!="ingress_remediated"', False),
    ("has-substring", 'jsonPayload.message:"service hello"', True),
    ("has-missing-substring", 'jsonPayload.message:"nope"', False),
    ("presence", "jsonPayload.action:*", True),
    ("presence-missing", "jsonPayload.nothing:*", False),
    ("presence-null-is-missing", "jsonPayload.empty:*", False),
    ("regex", r'jsonPayload.message=~"Hello-\w+$"', True),
    ("regex-is-case-sensitive", 'jsonPayload.message=~"hello-world"', False),
    ("regex-not", 'jsonPayload.message!~"^Route"', True),
    ("string-less-than", 'jsonPayload.action<"j"', True),
    # numbers and booleans in jsonPayload
    ("number-gt", "jsonPayload.count>5", True),
    ("number-ge-equal", "jsonPayload.count>=7", True),
    ("number-lt-false", "jsonPayload.count<7", False),
    ("number-eq-float", "jsonPayload.count=7.0", True),
    ("number-fraction", "jsonPayload.ratio<=0.5", True),
    ("number-not-lexicographic", "jsonPayload.count<10", True),
    ("bool-false", "jsonPayload.dry_run=false", True),
    ("bool-true-mismatch", "jsonPayload.dry_run=true", False),
    ("bool-operation-first", "operation.first=true", True),
    # severity by level
    ("severity-ge-lower", "severity>=NOTICE", True),
    ("severity-ge-equal", "severity>=WARNING", True),
    ("severity-ge-higher", "severity>=ERROR", False),
    ("severity-lowercase-value", "severity>=warning", True),
    ("severity-number", "severity=400", True),
    ("severity-lt", "severity<ERROR", True),
    # timestamps as instants
    ("time-ge-rfc3339", 'timestamp>="2026-01-02T03:04:05Z"', True),
    ("time-lt-rfc3339", 'timestamp<"2026-01-02T03:04:05.123456Z"', False),
    ("time-offset", 'timestamp<"2026-01-02T04:04:06+01:00"', True),
    ("time-offset-excludes", 'timestamp<"2026-01-02T04:04:05+01:00"', False),
    ("time-date", 'timestamp>="2026-01-02"', True),
    ("time-date-after", 'timestamp>="2026-01-03"', False),
    ("time-range", 'timestamp>="2026-01-01" AND timestamp<"2026-01-03"', True),
    ("receive-timestamp-nanos", 'receiveTimestamp>"2026-01-02T03:04:05.812345677Z"', True),
    ("time-snake-case-field", 'receive_timestamp>"2026-01-01"', True),
    # field paths
    ("quoted-key", 'labels."compute.googleapis.com/resource_id"="42"', True),
    ("label-value-case-insensitive", "labels.env=prod", True),
    ("resource-label", "resource.labels.service_name=hello", True),
    ("json-keys-case-sensitive", 'jsonPayload.nested.key="Value"', False),
    ("json-key-exact", 'jsonPayload.nested.Key="Value"', True),
    ("proto-keys-case-insensitive", 'protoPayload.methodname="google.cloud.run.v1.Services.ReplaceService"', True),
    ("proto-at-type", 'protoPayload.@type="type.googleapis.com/google.cloud.audit.AuditLog"', True),
    ("repeated-any-element", 'protoPayload.authorizationInfo.permission="run.services.get"', True),
    ("repeated-array-value", 'jsonPayload.paths="/api/*"', True),
    ("logname-unquoted", "logName=projects/p/logs/cloudaudit.googleapis.com%2Factivity", True),
    ("logname-has", 'logName:"cloudaudit.googleapis.com%2Factivity"', True),
    ("log-id-function", 'log_id("cloudaudit.googleapis.com/activity")', True),
    ("log-id-function-other", 'log_id("run.googleapis.com/stdout")', False),
    # missing fields
    ("missing-eq", "jsonPayload.missing=foo", False),
    ("missing-ne-is-false", "jsonPayload.missing!=foo", False),
    ("not-missing-eq-is-true", "NOT jsonPayload.missing=foo", True),
    ("missing-gt", "jsonPayload.missing>1", False),
    ("missing-regex-not", 'jsonPayload.missing!~"x"', False),
    # boolean operators and precedence (NOT > OR > AND)
    ("and", "jsonPayload.count=7 AND severity=WARNING", True),
    ("and-false", "jsonPayload.count=7 AND severity=ERROR", False),
    ("implicit-and", "jsonPayload.count=7 severity=ERROR", False),
    ("implicit-and-newline", "jsonPayload.count=7\nseverity=WARNING", True),
    ("or", "severity=ERROR OR jsonPayload.count=7", True),
    ("or-binds-tighter-than-and", "severity=ERROR AND jsonPayload.count=1 OR jsonPayload.count=7", False),
    # With AND binding tighter this would be True: WARNING OR (count=1 AND ERROR).
    ("or-binds-tighter-left", "severity=WARNING OR jsonPayload.count=1 AND severity=ERROR", False),
    # Without the parentheses this would be False: ERROR AND (count=1 OR count=7).
    ("parens-override", "(severity=ERROR AND jsonPayload.count=1) OR jsonPayload.count=7", True),
    ("not", "NOT severity=ERROR", True),
    ("not-binds-tighter-than-or", "NOT severity=WARNING OR jsonPayload.count=7", True),
    ("minus-is-not", "-severity=WARNING", False),
    ("minus-before-paren", "-(severity=ERROR OR jsonPayload.count=1)", True),
    ("double-not", "NOT NOT severity=WARNING", True),
    # value fan-out
    ("fanout-or", 'jsonPayload.action=("route_registered" OR "ingress_remediated")', True),
    ("fanout-or-none", 'jsonPayload.action=("route_registered" OR "route_removed")', False),
    ("fanout-and-has", 'jsonPayload.message:("ingress" AND "hello")', True),
    ("fanout-and-has-one-missing", 'jsonPayload.message:("ingress" AND "nope")', False),
    ("fanout-implicit-and", 'jsonPayload.message:("ingress" "hello")', True),
    ("fanout-not", 'jsonPayload.action=(NOT "route_registered")', True),
    # bare words: global search
    ("search-word", "remediated", True),
    ("search-quoted-phrase", '"for service hello"', True),
    ("search-nested-value", "run.services.get", True),
    ("search-absent", "unicorn", False),
    ("search-lowercase-keywords-are-words", "ingress and hello", False),
    ("search-function", 'SEARCH("hello-world")', True),
    # comments
    ("comment-line", "severity=WARNING -- and anything here severity=ERROR", True),
    ("comment-own-line", "-- a note\nseverity=WARNING", True),
    ("only-comment-matches-all", "-- nothing to filter", True),
    ("empty-matches-all", "   ", True),
]


@pytest.mark.parametrize(("text", "expected"), [pytest.param(f, e, id=i) for i, f, e in CASES])
def test_filter_matches(text: str, expected: bool) -> None:
    assert compile_filter(text)(ENTRY) is expected


# (id, filter, fragment of the message, line, column)
BAD = [
    ("dangling-operator", "severity>=", "expected a value", 1, 11),
    ("unclosed-paren", "(severity=ERROR", "missing ')'", 1, 1),
    ("stray-close-paren", "severity=ERROR)", "unexpected ')'", 1, 15),
    ("leading-and", "AND severity=ERROR", "unexpected keyword AND", 1, 1),
    ("and-and", "a AND AND b", "unexpected keyword AND", 1, 7),
    ("trailing-or", "severity=ERROR OR", "end of the filter", 1, 18),
    ("unterminated-string", 'jsonPayload.x="abc', "unterminated string", 1, 15),
    ("bad-regex", 'jsonPayload.x=~"(a"', "invalid regular expression", 1, 16),
    ("bad-timestamp", 'timestamp>="yesterday"', "invalid timestamp", 1, 12),
    ("unknown-function", 'frobnicate("x")', "unknown function frobnicate()", 1, 1),
    ("keyword-as-value", "severity=AND", "found the keyword AND", 1, 10),
    ("second-line", 'severity=ERROR\nAND (x="1"', "missing ')'", 2, 5),
    ("empty-fanout", "severity=()", "expected a value", 1, 11),
]


@pytest.mark.parametrize(("text", "fragment", "line", "column"), [pytest.param(*c[1:], id=c[0]) for c in BAD])
def test_bad_filter_reports_position(text: str, fragment: str, line: int, column: int) -> None:
    with pytest.raises(FilterError) as caught:
        parse(text)
    assert fragment in str(caught.value)
    assert (caught.value.line, caught.value.column) == (line, column)
    assert str(caught.value).startswith("Unparseable filter: ")
    assert str(caught.value).endswith(f"at line {line}, column {column}")


def test_ast_shape_shows_precedence() -> None:
    a, b, c = (Search(Literal(word, False, 0)) for word in "abc")
    assert parse("a AND b OR c") == And(a, Or(b, c))
    assert parse("a OR b c") == And(Or(a, b), c)
    assert parse("NOT a OR b") == Or(Not(a), b)
    node = parse('x = ("1" OR "2")')
    assert isinstance(node, Compare) and node.path == ("x",) and isinstance(node.values, Or)


@pytest.mark.parametrize(
    ("text", "nanos"),
    [
        pytest.param("2026-01-02T03:04:05Z", 1767323045 * 10**9, id="zulu"),
        pytest.param("2026-01-02T03:04:05.5Z", 1767323045 * 10**9 + 500_000_000, id="fraction"),
        pytest.param("2026-01-02T03:04:05.123456789Z", 1767323045 * 10**9 + 123456789, id="nanos"),
        pytest.param("2026-01-02T05:04:05+02:00", 1767323045 * 10**9, id="offset"),
        pytest.param("2026-01-02", 1767312000 * 10**9, id="date"),
        pytest.param("not a time", None, id="garbage"),
        pytest.param("2026-13-02", None, id="bad-month"),
    ],
)
def test_parse_timestamp(text: str, nanos: int | None) -> None:
    assert parse_timestamp(text) == nanos
