"""URL-map paths: which ones runway accepts, and which of them take traffic from which (prefix ownership).

Pure. Google's syntax for a path rule's paths (PathRule.paths in the Compute API reference): each starts with
`/`; `*` only as the last character, right after `/`; no `?` or `#` (the matcher never sees what follows them).
runway also refuses what is not a canonical path (docs/design.md §3, docs/decisions.md "Paths"): a path a
person reads one way and a client, proxy or the load balancer may treat another way is a hazard, whatever
Google would do with it. So: no dot segments, no empty segments, no percent-encoded `/`, `.` or `\\`, no
backslash, no `;` parameters, printable ASCII only.

Prefix ownership: a published `/x/*` holds everything under `/x/`, so a newcomer's `/x/`, `/x/admin` or
`/x/admin/*` would take part of that traffic (the load balancer picks the longest match): a conflict with the
holder of `/x/*`, unless it is the same service. A newcomer's `/x/*` over an existing `/x/admin` takes nothing
from it (the longer rule still wins), so that is allowed.
"""

from __future__ import annotations

import re

RESERVED = frozenset({"/", "/*"})
MAX_PATH_LEN = 1024  # a bound of our own: Google documents none for a path rule's path
_PRINTABLE = re.compile(r"[!-~]+")  # printable ASCII without space: anything else must be percent-encoded
_ENCODED_SEPARATOR = re.compile(r"%(2[eEfF]|5[cC])")  # . / \
_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def path_problem(path: str) -> str | None:
    """Why `path` is not a path runway may register, or None when it is fine."""
    if not path.startswith("/"):
        return f"path {path!r} must start with '/'"
    if len(path) > MAX_PATH_LEN:
        return f"path {path[:40]!r}... is longer than {MAX_PATH_LEN} characters"
    if not _PRINTABLE.fullmatch(path):
        return f"path {path!r} may hold only printable ASCII without spaces (percent-encode the rest)"
    if "?" in path or "#" in path:
        return f"path {path!r} may not contain '?' or '#'"
    star = path.find("*")
    if star >= 0 and (star != len(path) - 1 or not path.endswith("/*")):
        return f"path {path!r} may hold '*' only as its last character, right after '/'"
    if path in RESERVED:
        return f"path {path!r} is reserved for the URL map's default service"
    return _canonical_problem(path)


def _canonical_problem(path: str) -> str | None:
    if "\\" in path:
        return f"path {path!r} holds a backslash, which some clients and proxies read as '/'"
    if ";" in path:
        return f"path {path!r} holds ';' (a path parameter), which servers disagree about"
    if _PERCENT.search(path):
        return f"path {path!r} holds a '%' that is not a percent-encoding"
    if _ENCODED_SEPARATOR.search(path):
        return f"path {path!r} percent-encodes '.', '/' or '\\', which decodes to a different path"
    body = path[:-2] if path.endswith("/*") else path
    segments = body.split("/")[1:]
    # A trailing '/' (`/docs/`) is one empty last segment and a path of its own; anywhere else it is `//`.
    inner = segments[:-1] if body.endswith("/") else segments
    if any(segment == "" for segment in inner) or "//" in path:
        return f"path {path!r} has an empty segment ('//'), which many servers collapse into '/'"
    if any(segment in (".", "..") for segment in segments):
        return f"path {path!r} has a '.' or '..' segment, which clients and servers resolve away"
    return None


def prefix_of(path: str) -> str | None:
    """`/x/` for a `/x/*` path (what it holds everything under), else None."""
    return path[:-1] if path.endswith("/*") else None


def takes_from(newcomer: str, held: str) -> bool:
    """Whether publishing `newcomer` would take traffic that `held` serves today."""
    if newcomer == held:
        return True
    prefix = prefix_of(held)
    return prefix is not None and newcomer.startswith(prefix)
