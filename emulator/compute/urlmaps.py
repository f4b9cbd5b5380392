"""URL map validation and the URL-map tests, as production runs them on insert, update, patch and validate.

Google's size limits are checked first (`urlmap_limits`).

A reference to a missing backend service or bucket is refused with 404 `notFound` (`The resource
'projects/P/global/backendServices/BS' was not found`), the answer Terraform users report for URL maps
that name a deleted backend, and the same answer a backend service gets for a missing NEG. docs/google-apis.md
§3.5 leaves 404 vs 400 open; 404 keeps "missing" distinguishable from "malformed" (400 `invalid`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from ..errors import ApiError, invalid
from ..settings import UrlMapLimits
from . import urlmap_limits
from .references import BASE_URL, NAME_PATTERN, parse_partial
from .rules import Checked, bad_value, required
from .store import BACKEND_BUCKETS, BACKEND_SERVICES, URL_MAPS, Resource, Store, client_fields

VALIDATE_SCHEMES = ("EXTERNAL", "EXTERNAL_MANAGED", "LOAD_BALANCING_SCHEME_UNSPECIFIED")

_NAME = re.compile(NAME_PATTERN)
# `*` alone, or first and followed by `-` or `.`; then hostname characters; then an optional port.
_HOST = re.compile(r"(?:\*|\*[-.][a-z0-9.-]*|[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)(?::(?P<port>[0-9]{1,5}))?", re.I)
# Keys whose value is a backend reference, and what they may point at.
_REFERENCE_KEYS = {
    "defaultService": (BACKEND_SERVICES.name, BACKEND_BUCKETS.name),
    "service": (BACKEND_SERVICES.name, BACKEND_BUCKETS.name),
    "backendService": (BACKEND_SERVICES.name,),
}


def check_url_map(store: Store, project: str, body: Resource, limits: UrlMapLimits) -> Checked:
    """Validate a URL map for insert/update/patch (`body`: its client-owned fields, references as sent): the
    413 of every limit it exceeds, else the first problem's 400/404, as production answers."""
    urlmap_limits.check(body, project, limits)
    stored = json.loads(json.dumps(body))  # references are rewritten in place; never touch the caller's dict
    refs = _check_structure_and_references(store, project, stored)
    failures = run_tests(stored)
    if failures:
        index, failure = failures[0]
        raise bad_value(
            f"resource.tests[{index}]",
            stored["tests"][index],
            f"Test failure: expected service '{failure['expectedService']}' for host '{failure['host']}' "
            f"and path '{failure['path']}', got '{failure.get('actualService', '')}'.",
        )
    return stored, refs


def validate(store: Store, project: str, body: Resource, limits: UrlMapLimits) -> dict[str, Any]:
    """The body of `urlMaps.validate`: load errors instead of HTTP errors, and every test failure."""
    resource = body.get("resource")
    if not isinstance(resource, dict):
        raise required("resource")
    resource = client_fields(URL_MAPS, resource)
    schemes = body.get("loadBalancingSchemes") or []
    for i, scheme in enumerate(schemes):
        if scheme not in VALIDATE_SCHEMES:
            raise bad_value(f"loadBalancingSchemes[{i}]", scheme, f"Must be one of [{', '.join(VALIDATE_SCHEMES)}].")
    try:
        urlmap_limits.check(resource, project, limits)
        checked = json.loads(json.dumps(resource))
        refs = _check_structure_and_references(store, project, checked)
        _check_requested_schemes(store, refs, [s for s in schemes if s != "LOAD_BALANCING_SCHEME_UNSPECIFIED"])
    except ApiError as error:
        return {"result": {"loadSucceeded": False, "loadErrors": error.messages, "testPassed": False}}
    failures = [failure for _, failure in run_tests(checked)]
    result: dict[str, Any] = {"loadSucceeded": True, "testPassed": not failures}
    if failures:
        result["testFailures"] = failures
    return {"result": result}


# -- structure -----------------------------------------------------------------------------------------


def _check_structure_and_references(store: Store, project: str, um: Resource) -> frozenset[str]:
    _check_one_default("resource", um)
    matchers = _list(um, "pathMatchers", "resource")
    names: set[str] = set()
    for i, pm in enumerate(matchers):
        field = f"resource.pathMatchers[{i}]"
        name = pm.get("name")
        if not name:
            raise required(f"{field}.name")
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise bad_value(f"{field}.name", name, f"Must be a match of regex '(?:{NAME_PATTERN})'")
        if name in names:
            raise bad_value(f"{field}.name", name, f"Duplicate path matcher name '{name}'.")
        names.add(name)
        _check_one_default(field, pm)
        _check_path_matcher(field, pm)
    seen_hosts: dict[str, int] = {}
    for i, rule in enumerate(_list(um, "hostRules", "resource")):
        field = f"resource.hostRules[{i}]"
        hosts = rule.get("hosts")
        if not hosts or not isinstance(hosts, list):
            raise required(f"{field}.hosts")
        for j, host in enumerate(hosts):
            _check_host(f"{field}.hosts[{j}]", host)
            key = host.lower()
            if key in seen_hosts:
                why = f"Host '{host}' is already used by resource.hostRules[{seen_hosts[key]}]."
                raise bad_value(f"{field}.hosts[{j}]", host, why)
            seen_hosts[key] = i
        matcher = rule.get("pathMatcher")
        if not matcher:
            raise required(f"{field}.pathMatcher")
        if matcher not in names:
            raise bad_value(f"{field}.pathMatcher", matcher, f"Path matcher '{matcher}' is not defined in the URL map.")
    for i, test in enumerate(_list(um, "tests", "resource")):
        for key in ("host", "path"):
            if not test.get(key):
                raise required(f"resource.tests[{i}].{key}")
    refs = _resolve_references(store, project, um)
    _check_requested_schemes(store, refs, [])
    return refs


def _check_one_default(field: str, holder: Resource) -> None:
    """Exactly one of defaultService / defaultUrlRedirect / defaultRouteAction.

    Production documents "only one of"; that one must be set is the emulator's conservative reading
    (gcloud requires a default for the map and every path matcher), so a plan that works here works there.
    """
    action = holder.get("defaultRouteAction") or {}
    present = [
        k
        for k, v in (
            ("defaultService", holder.get("defaultService")),
            ("defaultUrlRedirect", holder.get("defaultUrlRedirect")),
            ("defaultRouteAction.weightedBackendServices", action.get("weightedBackendServices")),
        )
        if v
    ]
    if len(present) > 1:
        raise invalid(
            f"Invalid value for field '{field}': only one of defaultService, defaultUrlRedirect or "
            f"defaultRouteAction.weightedBackendServices may be set; got {', '.join(present)}."
        )
    if not present and not action:
        raise invalid(
            f"Invalid value for field '{field}': one of defaultService, defaultUrlRedirect or "
            "defaultRouteAction must be set."
        )


def _check_path_matcher(field: str, pm: Resource) -> None:
    path_rules = _list(pm, "pathRules", field)
    route_rules = _list(pm, "routeRules", field)
    if path_rules and route_rules:
        raise invalid(f"Invalid value for field '{field}': only one of pathRules or routeRules may be set.")
    seen: dict[str, int] = {}
    for i, rule in enumerate(path_rules):
        rfield = f"{field}.pathRules[{i}]"
        paths = rule.get("paths")
        if not paths or not isinstance(paths, list):
            raise required(f"{rfield}.paths")
        for j, path in enumerate(paths):
            check_path(f"{rfield}.paths[{j}]", path)
            if path in seen:
                raise bad_value(
                    f"{rfield}.paths[{j}]",
                    path,
                    f"Duplicate path '{path}' in path matcher '{pm.get('name')}' (also in pathRules[{seen[path]}]).",
                )
            seen[path] = i
        _check_one_target(rfield, rule, "urlRedirect")
    priorities: set[Any] = set()
    for i, rule in enumerate(route_rules):
        rfield = f"{field}.routeRules[{i}]"
        if "priority" not in rule:
            raise required(f"{rfield}.priority")
        if rule["priority"] in priorities:
            raise bad_value(f"{rfield}.priority", rule["priority"], "Route rule priorities must be unique.")
        priorities.add(rule["priority"])
        for j, match in enumerate(_list(rule, "matchRules", rfield)):
            for key in ("prefixMatch", "fullPathMatch"):
                value = match.get(key)
                if value is not None and (not isinstance(value, str) or not value.startswith("/")):
                    raise bad_value(f"{rfield}.matchRules[{j}].{key}", value, "Must start with '/'.")
        _check_one_target(rfield, rule, "urlRedirect")


def _check_one_target(field: str, rule: Resource, redirect_key: str) -> None:
    targets = [
        k
        for k in ("service", redirect_key, "routeAction.weightedBackendServices")
        if (rule.get(k) if "." not in k else (rule.get("routeAction") or {}).get("weightedBackendServices"))
    ]
    if len(targets) != 1:
        raise invalid(
            f"Invalid value for field '{field}': exactly one of service, {redirect_key} or "
            f"routeAction.weightedBackendServices must be set; got {len(targets)}."
        )


def check_path(field: str, path: Any) -> None:
    """Path syntax of a path rule: starts with `/`, `*` only last and right after `/`, no `?` or `#`."""
    if not isinstance(path, str) or not path.startswith("/"):
        raise bad_value(field, path, "A path must start with '/'.")
    if "?" in path or "#" in path:
        raise bad_value(field, path, "A path must not contain '?' or '#'.")
    star = path.find("*")
    if star != -1 and (star != len(path) - 1 or path[-2] != "/"):
        raise bad_value(field, path, "The only place a '*' is allowed is at the end of a path, following a '/'.")


def _check_host(field: str, host: Any) -> None:
    match = _HOST.fullmatch(host) if isinstance(host, str) else None
    if not match:
        raise bad_value(
            field,
            host,
            "A host must be a valid hostname with an optional port; '*' may only be the first character "
            "and, if followed by anything, must be followed by '-' or '.'.",
        )
    port = match["port"]
    if port is not None and not 1 <= int(port) <= 65535:
        raise bad_value(field, host, "The port must be between 1 and 65535.")


def _list(holder: Resource, key: str, field: str) -> list[dict[str, Any]]:
    value = holder.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise bad_value(f"{field}.{key}", value, "Must be a list of objects.")
    return value


# -- references ----------------------------------------------------------------------------------------


def _references(node: Any, field: str) -> Iterator[tuple[dict[str, Any], str, str]]:
    """(holder, key, field path) of every backend reference in the map, tests included."""
    if isinstance(node, dict):
        for key, value in node.items():
            sub = f"{field}.{key}"
            if key in _REFERENCE_KEYS and isinstance(value, str | type(None)):
                yield node, key, sub
            else:
                yield from _references(value, sub)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _references(item, f"{field}[{i}]")


def _resolve_references(store: Store, project: str, um: Resource) -> frozenset[str]:
    refs: set[str] = set()
    for holder, key, field in _references(um, "resource"):
        value = holder[key]
        if not value:
            continue
        ref = parse_partial(value, field, project)
        allowed = _REFERENCE_KEYS[key]
        if ref.collection not in allowed or ref.scope != "global":
            raise bad_value(field, value, f"Must be the URL of a global {' or '.join(_singular(a) for a in allowed)}.")
        store.resolve(ref)
        holder[key] = ref.url
        if not field.startswith("resource.tests"):
            refs.add(ref.path)
    return frozenset(refs)


def _singular(collection: str) -> str:
    return {"backendServices": "backend service", "backendBuckets": "backend bucket"}[collection]


def _check_requested_schemes(store: Store, refs: frozenset[str], schemes: list[str]) -> None:
    """Backend services of one URL map serve one load balancer, so they share one scheme."""
    found: dict[str, str] = {}
    for path in sorted(refs):
        if f"/{BACKEND_SERVICES.name}/" in path:
            resource = store.find(path) or {}
            found.setdefault(resource.get("loadBalancingScheme", "EXTERNAL"), path)
    if len(found) > 1:
        (first, a), (second, b) = list(found.items())[:2]
        raise invalid(
            f"The URL map references backend services of different load balancing schemes: '{a}' is {first}, "
            f"'{b}' is {second}."
        )
    for scheme, path in found.items():
        if schemes and scheme not in schemes:
            raise invalid(
                f"The backend service '{path}' has load balancing scheme {scheme}, which conflicts with the "
                f"requested load balancing schemes [{', '.join(schemes)}]."
            )


# -- tests ---------------------------------------------------------------------------------------------


def run_tests(um: Resource) -> list[tuple[int, dict[str, Any]]]:
    """(index, TestFailure) of every test whose expected service is not where the map sends it.

    Only `service` expectations are checked; redirects and output URLs are accepted as given.
    """
    failures = []
    for i, test in enumerate(um.get("tests") or []):
        expected = test.get("service")
        if not expected:
            continue
        actual = route(um, test["host"], test["path"])
        if actual != expected:
            failure = {"host": test["host"], "path": test["path"], "expectedService": expected}
            if actual:
                failure["actualService"] = actual
            failures.append((i, failure))
    return failures


def route(um: Resource, host: str, path: str) -> str | None:
    """The backend (full URL) a request for host+path reaches, or None for a redirect or no match."""
    matcher = _matcher_for_host(um, host)
    if matcher is None:
        return _target(um, "default")
    path = re.split(r"[?#]", path, maxsplit=1)[0]
    best: tuple[int, int, Resource] | None = None
    for rule in matcher.get("pathRules") or []:
        for pattern in rule.get("paths") or []:
            if pattern.endswith("/*"):
                hit, rank = path.startswith(pattern[:-1]), (len(pattern) - 1, 0)
            else:
                hit, rank = path == pattern, (len(pattern), 1)
            if hit and (best is None or rank > best[:2]):
                best = (*rank, rule)
    if best is not None:
        return _target(best[2], "")
    for rule in sorted(matcher.get("routeRules") or [], key=lambda r: int(r.get("priority", 0))):
        if any(_route_match(m, path) for m in rule.get("matchRules") or [{}]):
            return _target(rule, "")
    return _target(matcher, "default")


def _matcher_for_host(um: Resource, host: str) -> Resource | None:
    host = host.lower()
    bare = host.split(":", 1)[0]
    best: tuple[int, str] | None = None
    for rule in um.get("hostRules") or []:
        for pattern in (p.lower() for p in rule.get("hosts") or []):
            if pattern in (host, bare):
                best = (10**6, rule["pathMatcher"])
                break
            wildcard = pattern.startswith("*") and (host.endswith(pattern[1:]) or bare.endswith(pattern[1:]))
            if wildcard and (best is None or len(pattern) > best[0]):
                best = (len(pattern), rule["pathMatcher"])
    if best is None:
        return None
    return next((pm for pm in um.get("pathMatchers") or [] if pm.get("name") == best[1]), None)


def _route_match(match: Resource, path: str) -> bool:
    if set(match) - {"prefixMatch", "fullPathMatch", "ignoreCase"}:
        return False  # header, query and template matches depend on more than host+path: never assumed
    subject = path.lower() if match.get("ignoreCase") else path
    if "prefixMatch" in match:
        return subject.startswith(match["prefixMatch"])
    if "fullPathMatch" in match:
        return subject == match["fullPathMatch"]
    return True


def _target(holder: Resource, prefix: str) -> str | None:
    service = holder.get(f"{prefix}Service" if prefix else "service")
    if service:
        return service if service.startswith(BASE_URL) else None
    action = holder.get(f"{prefix}RouteAction" if prefix else "routeAction") or {}
    weighted = action.get("weightedBackendServices") or []
    return weighted[0].get("backendService") if len(weighted) == 1 else None
