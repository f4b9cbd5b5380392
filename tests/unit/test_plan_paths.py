"""URL-map paths (`shared.plan_paths`): which paths runway accepts, with the exact reason for each refusal, and which
paths take traffic from which (prefix ownership, docs/design.md §3)."""

from __future__ import annotations

import pytest

from shared.plan_paths import MAX_PATH_LEN, path_problem, prefix_of, takes_from

DOTS = "has a '.' or '..' segment, which clients and servers resolve away"
EMPTY = "has an empty segment ('//'), which many servers collapse into '/'"
ENCODED = "percent-encodes '.', '/' or '\\', which decodes to a different path"
STAR = "may hold '*' only as its last character, right after '/'"
RESERVED = "is reserved for the URL map's default service"
PRINTABLE = "may hold only printable ASCII without spaces (percent-encode the rest)"

GOOD = [
    "/x",
    "/x/",
    "/x/*",
    "/api/v1",
    "/api/v1/*",
    "/%7Euser",
    "/a%20b",
    "/my_app-2",
    "/...",
    "/.well-known/acme",
    "/a.b/c..d",
    "/%252F",  # an encoded '%': decodes to the text `%2F`, not to a separator
    "/" + "a" * (MAX_PATH_LEN - 1),
]


@pytest.mark.parametrize("path", GOOD)
def test_path_accepted(path: str) -> None:
    assert path_problem(path) is None


REFUSED = [
    # not canonical (docs/design.md §3): a person reads one path, a client or proxy another
    ("/a/../admin", DOTS),
    ("/a/.", DOTS),
    ("/./x", DOTS),
    ("/..", DOTS),
    ("/x/./", DOTS),
    ("/x/../*", DOTS),
    ("//evil", EMPTY),
    ("/a//b", EMPTY),
    ("/x//", EMPTY),
    ("/x//*", EMPTY),
    ("//*", EMPTY),
    ("/%2e%2e/x", ENCODED),
    ("/%2F", ENCODED),
    ("/a%2fb", ENCODED),
    ("/a/%2E", ENCODED),
    ("/%5c", ENCODED),
    ("/%5C/x", ENCODED),
    ("/a\\b", "holds a backslash, which some clients and proxies read as '/'"),
    ("/a;b=c", "holds ';' (a path parameter), which servers disagree about"),
    ("/%", "holds a '%' that is not a percent-encoding"),
    ("/%zz", "holds a '%' that is not a percent-encoding"),
    ("/a%2", "holds a '%' that is not a percent-encoding"),
    # Google's syntax
    ("api", "must start with '/'"),
    ("", "must start with '/'"),
    ("*", "must start with '/'"),
    ("/a*", STAR),
    ("/a/*/b", STAR),
    ("/x/*/", STAR),
    ("/**", STAR),
    ("/x/**", STAR),
    ("/a/*/*", STAR),
    ("/a?b", "may not contain '?' or '#'"),
    ("/a#b", "may not contain '?' or '#'"),
    ("/", RESERVED),
    ("/*", RESERVED),
    ("/café", PRINTABLE),
    ("/a b", PRINTABLE),
    ("/a\tb", PRINTABLE),
    ("/a\x7fb", PRINTABLE),
]


@pytest.mark.parametrize(("path", "problem"), REFUSED, ids=[repr(path) for path, _ in REFUSED])
def test_path_refused_with_exact_reason(path: str, problem: str) -> None:
    assert path_problem(path) == f"path {path!r} {problem}"


def test_path_too_long_is_refused_and_quoted_short() -> None:
    path = "/" + "a" * MAX_PATH_LEN
    assert path_problem(path) == f"path {path[:40]!r}... is longer than {MAX_PATH_LEN} characters"


def test_first_problem_wins_in_documented_order() -> None:
    # printable before '?', '?' before '*', '*' before reserved, Google's syntax before canonical form
    assert path_problem("/a b?") == f"path '/a b?' {PRINTABLE}"
    assert path_problem("/a?/*x") == "path '/a?/*x' may not contain '?' or '#'"
    assert path_problem("/..*") == f"path '/..*' {STAR}"
    assert path_problem("/a\\..") == "path '/a\\\\..' holds a backslash, which some clients and proxies read as '/'"


PREFIXES = [("/x/*", "/x/"), ("/a/b/*", "/a/b/"), ("/x", None), ("/x/", None), ("/x/a", None)]


@pytest.mark.parametrize(("path", "prefix"), PREFIXES)
def test_prefix_of(path: str, prefix: str | None) -> None:
    assert prefix_of(path) == prefix


TAKES = [
    ("/x", "/x", True),  # the same path
    ("/x/*", "/x/*", True),
    ("/x/admin", "/x/*", True),  # inside the prefix
    ("/x/admin/*", "/x/*", True),
    ("/x/", "/x/*", True),  # the trailing slash is inside too
    ("/x/a/b/c", "/x/*", True),
    ("/x", "/x/*", False),  # the bare path is not under `/x/`
    ("/xy", "/x/*", False),
    ("/xy/*", "/x/*", False),
    ("/x/*", "/x/admin", False),  # a newcomer's prefix takes nothing from a longer path
    ("/x/*", "/x", False),
    ("/x/*", "/x/", False),
    ("/x/*", "/x/a/*", False),
    ("/y/x", "/x/*", False),
    ("/x/admin", "/x/admin/*", False),
]


@pytest.mark.parametrize(("newcomer", "held", "takes"), TAKES, ids=[f"{n} vs {h}" for n, h, _ in TAKES])
def test_takes_from(newcomer: str, held: str, takes: bool) -> None:
    assert takes_from(newcomer, held) is takes
