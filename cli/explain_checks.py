"""`python main.py explain`: the chain from a service's labels to a reachable route, checked link by link. Pure.

`explain(observation)` turns what `cli.explain_read` read (the service's copies, their invoker policy, runway's
NEGs and backend service for it, the live URL map, its route status, the latest decisions) into `Check`s, in
the order a request travels the chain:

- `label`: `public-route` (and `runway.dev/paths`) and how they parse; `runway-owner`: is it this installation's;
- `host`: the `public-host` alias, known in `RUNWAY_HOSTS`, and its hosts;
- `ingress`: the settled ingress of each copy (the load balancer needs internal-and-cloud-load-balancing, or all);
- `invoker`: may unauthenticated callers invoke each copy (allUsers holds roles/run.invoker, IAP, or the IAM
  check disabled);
- `neg:<region>`, `backend`, `rule:<host>`: runway's objects for the route (`cli.explain_route`);
- `routing`: when it is not routed, what runway would decide now against the live map: the holder of a path
  (a shadowing `/x/*` included), a limit, or nothing (the next event or sweep publishes it);
- `status`: the route status on the service (`runway-route`, `runway.dev/route-status`);
- `decisions`: runway's latest decisions about the service (information only).

Each check passes, fails, is skipped (it depends on one that failed) or informs; a failed one says what to do.
Published means the label, host and route checks pass; reachable means ingress and invoker pass. The exit code is
0 when both hold, else 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from cli.explain_model import FAIL, INFO, PASS, SKIP, Check, Explanation, Observation, gcloud_update
from cli.explain_route import route_checks
from shared.config import DEFAULT_ALIAS, Config
from shared.model import DesiredRoute, NotPublished, RouteInvalid, ServiceFacts
from shared.plan_ingress import ALL, INTERNAL_LOAD_BALANCER, INTERNAL_ONLY, NONE, UNSPECIFIED, V1_NAMES
from shared.plan_route import (
    ANNOTATION_PATHS,
    LABEL_HOST,
    LABEL_OWNER,
    LABEL_ROUTE,
    OFF_WORDS,
    ON_WORDS,
    SLUG_RE,
    decide_route,
    installation_of,
    wants_publishing,
)
from shared.plan_status import FINDING_STATES, status_of, unreachable_reason

DECISIONS_SHOWN = 5


def _mine(obs: Observation) -> list[ServiceFacts]:
    """The copies this installation handles (`runway-owner`)."""
    return [c for c in obs.copies if installation_of(c.labels) == obs.config.owner_id]


def desired_route(obs: Observation) -> DesiredRoute | None:
    """The route the service asks this installation for, None when it asks for none or an invalid one."""
    mine = _mine(obs)
    decision = decide_route(obs.ref, mine, obs.config.hosts) if mine else None
    return decision if isinstance(decision, DesiredRoute) else None


def explain(obs: Observation) -> Explanation:
    """Every check of the chain, in order (module docstring)."""
    config = obs.config
    mine = _mine(obs)
    decision = decide_route(obs.ref, mine, config.hosts) if mine else NotPublished(obs.ref.project, obs.ref.service)
    label = _label(obs, mine)
    host = _host(obs, mine)
    checks = [label, host, _ingress(obs, decision), _invoker(obs)]
    route = decision if isinstance(decision, DesiredRoute) else None
    checks += route_checks(obs, route, skip_reason=None if route else _why_no_route(label, host))
    checks.append(_status(obs, mine, chain_failed=any(c.status == FAIL for c in checks)))
    checks.append(_decisions(obs))
    regions = tuple(c.key.region for c in obs.copies)
    return Explanation(obs.ref, regions, tuple(checks), obs.decisions)


def _why_no_route(label: Check, host: Check) -> str:
    failed = label if label.status != PASS else host
    return f"no valid route asked for ({failed.name}: {failed.status})"


# --- label and host --------------------------------------------------------------------------------------------


def _publishing(mine: Sequence[ServiceFacts]) -> list[ServiceFacts]:
    """The copies whose labels ask to publish (valid or not)."""
    return [c for c in mine if wants_publishing(c.labels)]


def _label(obs: Observation, mine: Sequence[ServiceFacts]) -> Check:
    config, first = obs.config, obs.copies[0]
    if not mine:
        other = installation_of(first.labels)
        return Check(
            "label",
            FAIL,
            f"{LABEL_OWNER}={other}: handled by installation {other!r}, not this one ({config.owner_id!r})",
            (f"RUNWAY_OWNER_ID={config.owner_id}",),
            fix=f"explain it with that installation's configuration (RUNWAY_OWNER_ID={other}), or hand it to this "
            f"one: {gcloud_update(first.key, f'--update-labels {LABEL_OWNER}={config.owner_id}')}",
        )
    publish = gcloud_update(mine[0].key, f"--update-labels {LABEL_ROUTE}=true")
    asking = _publishing(mine)
    if not asking:
        off = next((c.labels[LABEL_ROUTE] for c in mine if LABEL_ROUTE in c.labels), None)
        summary = f"{LABEL_ROUTE}={off}: not published on purpose" if off else f"no {LABEL_ROUTE} label: not published"
        return Check("label", FAIL, summary, fix=f"to publish it: {publish}")
    value = asking[0].labels[LABEL_ROUTE]
    # The label alone: every alias the copies name is taken as known here; `host` checks the aliases.
    hosts = {**{_alias(c): ("*",) for c in mine}, **config.hosts}
    decided = decide_route(obs.ref, mine, hosts)
    owner = asking[0].labels.get(LABEL_OWNER)
    owner_text = f"{LABEL_OWNER}={owner}: this installation" if owner else f"no {LABEL_OWNER}: the default installation"
    evidence = (f"{owner_text} ({config.owner_id!r})",)
    if isinstance(decided, RouteInvalid):
        keeps = "an invalid label keeps whatever was published before"
        return Check("label", FAIL, f"not a valid route: {decided.reason}", (*evidence, keeps), _invalid(mine))
    assert isinstance(decided, DesiredRoute)
    source = ANNOTATION_PATHS if ANNOTATION_PATHS in asking[0].annotations else f"{LABEL_ROUTE}={value}"
    regions = ", ".join(sorted(decided.regions))
    return Check("label", PASS, f"{source}: publish at {', '.join(decided.paths)} ({regions})", evidence)


def _invalid(mine: Sequence[ServiceFacts]) -> str:
    """What to do about a route the label, the annotation or the regions' disagreement make invalid."""
    bad = [c for c in mine if not _slug_ok(c.labels.get(LABEL_ROUTE, ""))]
    if bad:
        command = gcloud_update(bad[0].key, f"--update-labels {LABEL_ROUTE}=SLUG")
        return f"set {LABEL_ROUTE} to true, an off word or a slug of 1-63 [a-z0-9_-]: {command}"
    if any(ANNOTATION_PATHS in c.annotations for c in mine):
        return (
            f"correct {ANNOTATION_PATHS}: comma-separated canonical URL-map paths, e.g. /api/v1,/api/v1/* "
            "(docs/design.md §3)"
        )
    return f"give every region's copy the same {LABEL_ROUTE}, {LABEL_HOST} and {ANNOTATION_PATHS}"


def _slug_ok(value: str) -> bool:
    return value.lower() in ON_WORDS or value.lower() in OFF_WORDS or SLUG_RE.fullmatch(value) is not None


def _alias(facts: ServiceFacts) -> str:
    return facts.labels.get(LABEL_HOST) or DEFAULT_ALIAS


def _host(obs: Observation, mine: Sequence[ServiceFacts]) -> Check:
    config, asking = obs.config, _publishing(mine)
    if not asking:
        return Check("host", SKIP, "no route asked for")
    aliases = sorted({_alias(c) for c in asking})
    known = ", ".join(sorted(config.hosts)) or "none"
    unknown = [a for a in aliases if a not in config.hosts]
    if unknown:
        alias = unknown[0]
        named = f"{LABEL_HOST}={alias}" if alias != DEFAULT_ALIAS else f"no {LABEL_HOST} label (alias {DEFAULT_ALIAS})"
        return Check(
            "host",
            FAIL,
            f"{named}: no such alias in RUNWAY_HOSTS",
            (f"known aliases: {known}",),
            fix=f"use a known alias ({gcloud_update(asking[0].key, f'--update-labels {LABEL_HOST}=ALIAS')}), "
            f"or ask the platform team to add {alias!r} to RUNWAY_HOSTS",
        )
    evidence = tuple(f"alias {a!r}: hosts {', '.join(config.hosts[a])}" for a in aliases)
    return Check("host", PASS, f"alias {', '.join(map(repr, aliases))} in RUNWAY_HOSTS", evidence)


# --- ingress and invoker ----------------------------------------------------------------------------------------


def _ingress_line(facts: ServiceFacts, config: Config, publishing: bool) -> tuple[str, str, str | None]:
    """(status, evidence, fix) for one copy."""
    key, ingress = facts.key, facts.ingress
    name = V1_NAMES.get(ingress, ingress)
    set_target = gcloud_update(key, "--ingress=internal-and-cloud-load-balancing")
    if ingress == INTERNAL_LOAD_BALANCER:
        return PASS, f"{key.region}: {name}", None
    if ingress in (ALL, UNSPECIFIED):
        if config.is_exempt(key):
            why = "exempt by RUNWAY_EXEMPT, so runway leaves it open: anyone reaches its run.app URL directly"
        else:
            why = "runway narrows it to internal-and-cloud-load-balancing (enforce_ingress, or the sweep)"
        return PASS, f"{key.region}: all (open to all traffic; the load balancer reaches it): {why}", None
    if ingress == INTERNAL_ONLY:
        later = (
            "runway moves a published service to internal-and-cloud-load-balancing on its next event or sweep; now: "
            if publishing and not config.is_exempt(key)
            else ""
        )
        return FAIL, f"{key.region}: internal: the load balancer cannot reach it", later + set_target
    if ingress == NONE:
        return FAIL, f"{key.region}: none: switched off on purpose (runway never changes it)", set_target
    return FAIL, f"{key.region}: {name}: the load balancer cannot reach it", set_target


def _ingress(obs: Observation, decision: Any) -> Check:
    publishing = not isinstance(decision, NotPublished)
    lines = [_ingress_line(c, obs.config, publishing) for c in obs.copies]
    failed = [line for line in lines if line[0] == FAIL]
    evidence = tuple(line[1] for line in lines)
    if failed:
        return Check("ingress", FAIL, failed[0][1].split(": ", 1)[1], evidence, fix=failed[0][2])
    summary = "the load balancer may reach " + ("every copy" if len(lines) > 1 else "it")
    return Check("ingress", PASS, summary, evidence)


def _invoker(obs: Observation) -> Check:
    evidence: list[str] = []
    fix, summary = None, None
    for facts in obs.copies:
        key, read = facts.key, obs.invoker.get(facts.key.region)
        if facts.invoker_public:
            evidence.append(f"{key.region}: the IAM invoker check is disabled (invokerIamDisabled)")
        elif facts.iap_enabled:
            evidence.append(f"{key.region}: IAP is on")
        elif read is True:
            evidence.append(f"{key.region}: allUsers holds roles/run.invoker")
        elif read is False:
            evidence.append(f"{key.region}: allUsers does not hold roles/run.invoker, IAP is off")
            summary = summary or "unauthenticated requests may not invoke it: the load balancer's get 403"
            fix = fix or unreachable_reason(key).split("to allow them: ", 1)[1]
        else:
            evidence.append(f"{key.region}: {read}")
            summary = summary or "the invoker policy could not be read"
            fix = fix or "grant yourself run.services.getIamPolicy on the service (roles/run.viewer) and explain again"
    if summary is not None:
        return Check("invoker", FAIL, summary, tuple(evidence), fix=fix)
    return Check("invoker", PASS, "unauthenticated requests (the load balancer's) may invoke it", tuple(evidence))


# --- status and decisions ---------------------------------------------------------------------------------------


def _status(obs: Observation, mine: Sequence[ServiceFacts], *, chain_failed: bool) -> Check:
    labeled = any(LABEL_ROUTE in c.labels for c in mine)
    evidence: list[str] = []
    states = []
    for facts in mine or obs.copies:
        status = status_of(facts.labels, facts.annotations)
        if status is None:
            evidence.append(f"{facts.key.region}: no route status")
            continue
        states.append(status)
        detail = "; ".join(
            filter(None, (", ".join(status.urls), status.reason, status.holder and f"holder {status.holder}"))
        )
        evidence.append(f"{facts.key.region}: runway-route={status.state.value} ({status.time}): {detail or '-'}")
    if not states:
        if labeled:
            return Check("status", INFO, "no status on the service yet", (*evidence, _NO_STATUS))
        return Check("status", PASS, "none (the service is not published)", tuple(evidence))
    finding = next((s for s in states if s.state in FINDING_STATES), None)
    if finding is None:
        return Check("status", PASS, f"runway-route={states[0].state.value}", tuple(evidence))
    summary = f"runway-route={finding.state.value}: runway recorded a finding on the service"
    if chain_failed:
        return Check("status", FAIL, summary, tuple(evidence))
    stale = "the checks above pass now: runway rewrites the status on the service's next event or sweep"
    return Check("status", INFO, summary, (*evidence, stale))


_NO_STATUS = "RUNWAY_STATUS=off, or runway has not handled the service since it was labeled"


def _decisions(obs: Observation) -> Check:
    if isinstance(obs.decisions, str):
        return Check("decisions", INFO, "the decision log could not be read", (obs.decisions,))
    if not obs.decisions:
        return Check("decisions", INFO, "no decision about the service in the last 24 h")
    lines = tuple(decision_line(d) for d in obs.decisions[:DECISIONS_SHOWN])
    return Check("decisions", INFO, f"the latest {len(lines)} of the last 24 h, newest first", lines)


def decision_line(decision: Mapping[str, Any]) -> str:
    moment = decision.get("timestamp")
    when = moment.strftime("%Y-%m-%d %H:%M:%S") if isinstance(moment, datetime) else str(moment or "-")
    return f"{when} {decision.get('function') or '-'} {decision.get('action')}: {decision.get('message') or ''}"
