"""Which triggers an audit-log event goes to: exact filters, path patterns, the trigger's project and location.

Path patterns (https://cloud.google.com/eventarc/docs/path-patterns) match slash-separated segments: `*` inside a
segment matches any characters but `/`; a `**` segment matches zero or more whole segments; `{name}` captures one
segment and `{name=**}` any number. A leading `/` is optional on both sides.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Callable
from typing import Any

PATH_PATTERN_OPERATOR = "match-path-pattern"
_CAPTURE = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*(=\*\*?)?\}")
_MULTI = "**"

# The CloudEvent attribute each filter attribute of the Cloud Audit Logs provider is compared with.
FILTER_ATTRIBUTES = {
    "type": "type",
    "serviceName": "servicename",
    "methodName": "methodname",
    "resourceName": "resourcename",
}


def _segments(path: str) -> list[str]:
    return path.strip("/").split("/") if path.strip("/") else []


def compile_path_pattern(pattern: str) -> Callable[[str], bool]:
    """A predicate over resource names; raises ValueError for a pattern Eventarc would refuse."""
    segments: list[str] = []
    for segment in _segments(pattern):
        if not segment:
            raise ValueError("empty path segment ('//')")
        capture = _CAPTURE.fullmatch(segment)
        if capture:
            segments.append(_MULTI if capture.group(1) == "=**" else "*")
        elif "**" in segment and segment != _MULTI:
            raise ValueError(f"'**' must be a whole segment, not part of '{segment}'")
        elif "{" in segment or "}" in segment:
            raise ValueError(f"malformed capture in '{segment}'")
        else:
            segments.append(segment)
    if segments.count(_MULTI) > 1:
        raise ValueError("at most one '**' segment")
    return functools.partial(_match, tuple(segments))


def _match(pattern: tuple[str, ...], value: str) -> bool:
    return _match_segments(pattern, tuple(_segments(value)))


@functools.lru_cache(maxsize=4096)
def _match_segments(pattern: tuple[str, ...], value: tuple[str, ...]) -> bool:
    if not pattern:
        return not value
    head, rest = pattern[0], pattern[1:]
    if head == _MULTI:
        return any(_match_segments(rest, value[skip:]) for skip in range(len(value) + 1))
    if not value:
        return False
    # fnmatchcase treats `?` and `[` as wildcards too; resource names never contain them, so that is harmless.
    return fnmatch.fnmatchcase(value[0], head) and _match_segments(rest, value[1:])


def filters_match(filters: list[dict[str, Any]], attributes: dict[str, str]) -> bool:
    """Every filter must match ("only events that match all the provided filters are sent")."""
    for item in filters:
        actual = attributes.get(FILTER_ATTRIBUTES.get(item["attribute"], item["attribute"]))
        if actual is None:
            return False
        if item.get("operator") == PATH_PATTERN_OPERATOR:
            if not compile_path_pattern(item["value"])(actual):
                return False
        elif actual != item["value"]:
            return False
    return True


def location_matches(trigger_location: str, event_locations: list[str]) -> bool:
    """A `global` audit-log trigger receives events from every location; a regional one only its own."""
    return trigger_location == "global" or trigger_location in event_locations
