"""`explain`'s checks of runway's objects for a route: NEG per region, backend service, the URL-map rule on each
host of the alias, and, when it is not routed, what runway would decide now against the live map. Pure.

Names, markers and references follow docs/naming.md and docs/design.md §4: runway's NEG and backend service are
found by their deterministic names and told apart from anybody else's by the ownership marker; its path rules
sit in the `runway-<alias>` path matcher and name the backend service.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from cli.explain_model import FAIL, PASS, SKIP, Check, Observation
from shared.model import Claim, DesiredRoute, RuleState
from shared.naming import (
    backend_service_name,
    last_segment,
    neg_name,
    neg_url,
    parse_marker,
    path_matcher_name,
    relative_name,
    security_policy_path,
    service_backend_path,
)
from shared.plan_limits import Limits
from shared.plan_objects import is_ours
from shared.plan_paths import takes_from
from shared.plan_url_map import MapSettings, plan_url_map

RECONCILE = "the service's next event or the scheduled sweep makes it (now: python main.py reconcile)"


def route_checks(obs: Observation, route: DesiredRoute | None, *, skip_reason: str | None) -> list[Check]:
    """The `neg:<region>`, `backend`, `rule:<host>` and `routing` checks (skipped, with what exists, without a
    valid route)."""
    if route is None:
        return _skipped(obs, skip_reason or "no valid route asked for")
    checks = [_neg(obs, region) for region in sorted(route.regions)]
    checks.append(_backend(obs, route))
    checks += [_rule(obs, route, host) for host in route.hosts]
    if all(c.status == PASS for c in checks):
        return [*checks, _routed(obs, route)]
    routing = _not_routed(obs, route)
    if routing.status == FAIL and routing.fix != RECONCILE:
        # Refused (a holder, a limit): runway makes nothing for the route, so what is missing is the routing's fix.
        why = f"runway makes nothing for a refused route (see routing): {routing.fix}"
        checks = [replace(c, fix=why) if c.status == FAIL and c.fix == RECONCILE else c for c in checks]
    return [*checks, routing]


def backend_path(obs: Observation) -> str:
    return service_backend_path(obs.config.owner_id, obs.ref)


def _ours(obj: Mapping[str, Any] | None, owner: str) -> tuple[bool, str]:
    """(is it runway's, for this installation (`is_ours`); what its marker says)."""
    marker = parse_marker(obj.get("description")) if obj else None
    if marker is None:
        return False, "no runway marker (not made by runway)"
    if marker.owner != owner:
        return False, f"made by runway installation {marker.owner!r} for {marker.ref}"
    return is_ours(obj, owner), f"runway's ({marker.owner}) for {marker.ref}"


def _skipped(obs: Observation, reason: str) -> list[Check]:
    owner = obs.config.owner_id
    negs = [f"{r}: {n.get('name')}" for r, n in sorted(obs.negs.items()) if n is not None and is_ours(n, owner)]
    backend = obs.backend if is_ours(obs.backend, owner) else None
    rules = _rules_naming(obs, backend_path(obs)) if backend else []
    return [
        Check("neg", SKIP, reason, tuple(f"exists: {n}" for n in negs)),
        Check("backend", SKIP, reason, (f"exists: {backend.get('name')}",) if backend else ()),
        Check("rule", SKIP, reason, tuple(f"exists: {m}: {', '.join(p)}" for m, p in rules)),
        Check("routing", SKIP, reason, ("what is published stays as it is",) if backend or negs else ()),
    ]


def _neg(obs: Observation, region: str) -> Check:
    name = neg_name(obs.config.owner_id, obs.ref.project, region, obs.ref.service)
    neg = obs.negs.get(region)
    if neg is None:
        return Check(f"neg:{region}", FAIL, f"no serverless NEG {name} in {region}", fix=RECONCILE)
    ours, marker = _ours(neg, obs.config.owner_id)
    if not ours:
        return Check(
            f"neg:{region}",
            FAIL,
            f"{name} exists but is not this installation's: {marker}",
            fix="runway never adopts what it does not own: its owner deletes or renames that NEG",
        )
    target = (neg.get("cloudRun") or {}).get("service")
    if target != obs.ref.service:
        return Check(f"neg:{region}", FAIL, f"{name} points at Cloud Run service {target!r}", fix=RECONCILE)
    return Check(f"neg:{region}", PASS, f"{name} → Cloud Run service {target}", (marker,))


def _backend(obs: Observation, route: DesiredRoute) -> Check:
    config, ref = obs.config, obs.ref
    name = backend_service_name(config.owner_id, ref.project, ref.service)
    backend = obs.backend
    if backend is None:
        return Check("backend", FAIL, f"no backend service {name}", fix=RECONCILE)
    ours, marker = _ours(backend, config.owner_id)
    if not ours:
        fix = "runway never adopts what it does not own: its owner deletes or renames that backend service"
        return Check("backend", FAIL, f"{name} exists but is not this installation's: {marker}", fix=fix)
    groups = {relative_name(str(b.get("group", "")), ref.project) for b in backend.get("backends") or []}
    wanted = {
        relative_name(neg_url(ref.project, r, neg_name(config.owner_id, ref.project, r, ref.service)))
        for r in route.regions
    }
    evidence = [marker, "NEGs: " + (", ".join(sorted(last_segment(g) for g in groups)) or "none")]
    attached = backend.get("securityPolicy")
    evidence.append(f"Cloud Armor policy: {relative_name(str(attached), ref.project) if attached else 'none'}")
    if wanted - groups:
        missing = ", ".join(sorted(last_segment(g) for g in wanted - groups))
        return Check("backend", FAIL, f"{name} does not use NEG {missing}", tuple(evidence), fix=RECONCILE)
    policy = config.security_policy
    if policy and (
        not attached or relative_name(str(attached), ref.project) != security_policy_path(ref.project, policy)
    ):
        return Check(
            "backend",
            FAIL,
            f"{name} lacks the Cloud Armor policy RUNWAY_SECURITY_POLICY={policy}",
            tuple(evidence),
            fix=RECONCILE,
        )
    if not policy:
        evidence.append("RUNWAY_SECURITY_POLICY is not set: no policy is required")
    return Check("backend", PASS, f"{name} with the NEGs of {', '.join(sorted(route.regions))}", tuple(evidence))


def _matcher(obs: Observation, name: str) -> Mapping[str, Any] | None:
    return next((m for m in obs.url_map.get("pathMatchers") or [] if m.get("name") == name), None)


def _rules_naming(obs: Observation, backend: str) -> list[tuple[str, list[str]]]:
    """(path matcher, paths) of every path rule that names `backend`."""
    return [
        (str(m.get("name")), list(rule.get("paths") or []))
        for m in obs.url_map.get("pathMatchers") or []
        for rule in m.get("pathRules") or []
        if relative_name(str(rule.get("service", "")), obs.lb_project) == backend
    ]


def _rule(obs: Observation, route: DesiredRoute, host: str) -> Check:
    wanted, backend = path_matcher_name(route.host_alias), backend_path(obs)
    host_rule = next(
        (h for h in obs.url_map.get("hostRules") or [] if host.lower() in {x.lower() for x in h.get("hosts") or []}),
        None,
    )
    if host_rule is None:
        return Check(f"rule:{host}", FAIL, f"no host rule for {host} on URL map {obs.config.url_map}", fix=RECONCILE)
    matcher_name = str(host_rule.get("pathMatcher"))
    if matcher_name != wanted:
        summary = f"host {host} is served by path matcher {matcher_name}, not {wanted}"
        return Check(f"rule:{host}", FAIL, summary, fix=RECONCILE)
    matcher = _matcher(obs, matcher_name) or {}
    paths = [
        sorted(rule.get("paths") or [])
        for rule in matcher.get("pathRules") or []
        if relative_name(str(rule.get("service", "")), obs.lb_project) == backend
    ]
    if not paths:
        return Check(
            f"rule:{host}", FAIL, f"no path rule in {matcher_name} names {last_segment(backend)}", fix=RECONCILE
        )
    if sorted(route.paths) not in paths:
        have = "; ".join(", ".join(p) for p in paths)
        summary = f"{matcher_name} routes {have} to it, the labels ask for another route"
        return Check(f"rule:{host}", FAIL, summary, fix=RECONCILE)
    summary = f"{host} → {matcher_name} → {', '.join(route.paths)} → {last_segment(backend)}"
    return Check(f"rule:{host}", PASS, summary)


def _named(obs: Observation, holders: str) -> str:
    return ", ".join(obs.holder_names.get(h, h) for h in holders.split(", "))


def _settings(obs: Observation) -> MapSettings:
    config = obs.config
    return MapSettings(
        project=obs.lb_project,
        url_map=config.url_map or "",
        hosts=config.hosts,
        limits=Limits(bytes=config.url_map_max_bytes),
    )


def decide_now(obs: Observation, route: DesiredRoute) -> Any:
    """What runway would decide for the route against the live map now (a `RuleResult`)."""
    claim = Claim(obs.ref, backend_path(obs), route)
    return plan_url_map(obs.url_map, [claim], _settings(obs)).results[obs.ref]


def _others(obs: Observation, route: DesiredRoute) -> list[tuple[str, str]]:
    """(path, backend or matcher) of every other rule in the alias's path matcher."""
    matcher = _matcher(obs, path_matcher_name(route.host_alias)) or {}
    mine = backend_path(obs)
    found = []
    for rule in matcher.get("pathRules") or []:
        holder = relative_name(str(rule.get("service", "")), obs.lb_project) or f"a rule of {matcher.get('name')}"
        if holder != mine:
            found += [(str(path), holder) for path in rule.get("paths") or []]
    return found


def related_holders(obs: Observation, route: DesiredRoute) -> set[str]:
    """Backend services whose owners `explain` names: those holding or inside the route's paths."""
    return {
        holder
        for path, holder in _others(obs, route)
        if holder.startswith("projects/") and any(takes_from(p, path) or takes_from(path, p) for p in route.paths)
    }


def _not_routed(obs: Observation, route: DesiredRoute) -> Check:
    result = decide_now(obs, route)
    shadows = tuple(
        f"{p} is inside {held}, held by {_named(obs, holder)}" if p != held else f"{p} is held by {_named(obs, holder)}"
        for p in route.paths
        for held, holder in _others(obs, route)
        if takes_from(p, held)
    )
    if result.state == RuleState.CONFLICT:
        summary = f"{', '.join(result.paths)} on {route.host_alias!r} already served by {_named(obs, result.holder)}"
        fix = (
            "the holder keeps its paths (docs/design.md §3): choose free ones (public-route=<slug>, or the "
            "runway.dev/paths annotation), or the holder releases them"
        )
        return Check("routing", FAIL, summary, shadows or (result.reason or "",), fix=fix)
    if result.state == RuleState.REFUSED:
        fix = "a URL-map limit (docs/google-apis.md §9.1): the platform team removes routes or raises the limit"
        return Check("routing", FAIL, f"refused: {result.reason}", fix=fix)
    if result.state in (RuleState.ADDED, RuleState.CHANGED):
        return Check("routing", FAIL, "nothing holds its paths: runway would publish it now", fix=RECONCILE)
    return Check("routing", PASS, "its rule is on the map; the objects above are what is missing")


def _routed(obs: Observation, route: DesiredRoute) -> Check:
    inside = tuple(
        f"{held} (held by {_named(obs, holder)}) is more specific and takes those requests"
        for p in route.paths
        for held, holder in _others(obs, route)
        if held != p and takes_from(held, p)
    )
    return Check("routing", PASS, "routed: no other rule holds its paths", inside)
