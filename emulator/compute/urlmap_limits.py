"""Google's fixed limits on one URL map, checked on insert, update, patch (on the resulting map) and validate.

The limits are those of a global external Application Load Balancer (Cloud Load Balancing quotas page, "URL
maps"; they cannot be increased), settable at run time (`UrlMapLimits`, `POST /_emulator/settings`).

Production refuses an over-long list with 413 and reason `fieldSizeTooLarge`, one `errors` item per list:
`Value for field 'resource.hostRules' is too large: maximum size 50 element(s); actual size 53.` (as a GKE
ingress controller was answered, kubernetes/kubernetes#46098). The count limits use that message. No production
text is known for the limits that are not the length of one list (host rules and path matchers together,
predicates, distinct backends, bytes): those keep the shape with a message of the same form.

Every limit is counted tolerantly, before the structure is checked, so a map both too large and malformed is
refused for its size, as production checks sizes first.
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import ApiError
from ..settings import UrlMapLimits
from .references import parse_partial
from .store import Resource

TOO_LARGE = "fieldSizeTooLarge"
# Keys whose value is a backend service or bucket (what `backendsPerUrlMap` counts).
_BACKEND_KEYS = ("defaultService", "service", "backendService")


def check(um: Resource, project: str, limits: UrlMapLimits) -> None:
    """413 `fieldSizeTooLarge` listing every limit the map exceeds."""
    problems = violations(um, project, limits)
    if problems:
        raise ApiError(413, problems[0], reason=TOO_LARGE, more=problems[1:])


def violations(um: Resource, project: str, limits: UrlMapLimits) -> list[str]:
    problems: list[str] = []
    size = len(json.dumps(um, separators=(",", ":")).encode())
    if size > limits.bytes:
        problems.append(_too_large("resource", f"maximum size {limits.bytes} bytes; actual size {size}."))
    host_rules, matchers = _dicts(um.get("hostRules")), _dicts(um.get("pathMatchers"))
    together = len(host_rules) + len(matchers)
    if together > limits.host_rules_and_path_matchers:
        why = f"maximum size {limits.host_rules_and_path_matchers} element(s) for hostRules and pathMatchers together"
        problems.append(_too_large("resource.hostRules", f"{why}; actual size {together}."))
    for i, rule in host_rules:
        problems += _list_too_long(f"resource.hostRules[{i}].hosts", rule.get("hosts"), limits.hosts_per_host_rule)
    for i, pm in matchers:
        for key in ("pathRules", "routeRules"):
            field = f"resource.pathMatchers[{i}].{key}"
            problems += _list_too_long(field, pm.get(key), limits.path_rules_per_path_matcher)
        predicates = _predicates(pm)
        if predicates > limits.predicates_per_path_matcher:
            why = f"maximum {limits.predicates_per_path_matcher} predicates; actual {predicates}."
            problems.append(_too_large(f"resource.pathMatchers[{i}]", why))
    backends = len(_backends(um, project))
    if backends > limits.backends_per_url_map:
        why = f"maximum {limits.backends_per_url_map} distinct backend services and backend buckets; actual {backends}."
        problems.append(_too_large("resource", why))
    problems += _list_too_long("resource.tests", um.get("tests"), limits.tests_per_url_map)
    return problems


def _predicates(pm: Resource) -> int:
    """With path rules every path counts; with route rules each match rule, plus each of its header and
    query-parameter matches."""
    count = sum(len(rule.get("paths") or []) for _, rule in _dicts(pm.get("pathRules")))
    for _, rule in _dicts(pm.get("routeRules")):
        for _, match in _dicts(rule.get("matchRules")):
            count += 1 + len(match.get("headerMatches") or []) + len(match.get("queryParameterMatches") or [])
    return count


def _backends(um: Resource, project: str) -> set[str]:
    """Distinct backend services and buckets the map routes to (its tests name backends, they route nothing)."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in _BACKEND_KEYS and isinstance(value, str) and value:
                    try:
                        found.add(parse_partial(value, key, project).path)
                    except ApiError:
                        found.add(value)  # malformed: the structure check refuses it later
                elif key != "tests":
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(um)
    return found


def _dicts(value: Any) -> list[tuple[int, Resource]]:
    """(index, item) of the objects of a list; anything else counts as empty (the structure check refuses it)."""
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)] if isinstance(value, list) else []


def _list_too_long(field: str, value: Any, limit: int) -> list[str]:
    """Production's own message for a list longer than its limit."""
    actual = len(value) if isinstance(value, list) else 0
    if actual <= limit:
        return []
    return [_too_large(field, f"maximum size {limit} element(s); actual size {actual}.")]


def _too_large(field: str, why: str) -> str:
    return f"Value for field '{field}' is too large: {why}"
