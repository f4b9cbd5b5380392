"""The route planner, table-driven with golden plans (tests/testdata/route_plan/<case>/plan.json).

Every case also checks, whatever it is about:
- foreign host rules, path matchers and path rules, and other owners' objects, survive byte-identical;
- the plan applies cleanly to a strict in-memory model (no dangling references, nothing deleted while in use,
  fingerprints checked), and planning again on the result gives an empty plan (convergence);
- the same input gives the same plan.

Regenerate goldens after a deliberate change, then review the diff:
`RUNWAY_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_route_plan.py`
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shared.naming import (
    ServiceRef,
    backend_service_name,
    backend_service_url,
    last_segment,
    marker_json,
    neg_name,
    neg_url,
    parse_marker,
    relative_name,
    security_policy_url,
)
from shared.route_contract import DesiredRoute, NotPublished, RouteInvalid
from shared.route_plan import (
    ROUTE_CONFLICT,
    ROUTE_INVALID,
    ROUTE_REGISTERED,
    ROUTE_REMOVED,
    ROUTE_UNCHANGED,
    ROUTE_UPDATED,
    Decision,
    Observed,
    Plan,
    PlanSettings,
    plan_service,
    plan_sweep,
)

GOLDEN = Path(__file__).parent / "testdata" / "route_plan"
LB = "lb-proj"
P = "proj-a1"
OWNER = "runway"
OTHER_OWNER = "team-b"
HOSTS = {"default": ("*",), "shop": ("shop.example.com",), "api_v2": ("api.example.com",)}
SETTINGS = PlanSettings(owner_id=OWNER, project=LB, url_map="lb", hosts=HOSTS, security_policy="armor")
US, EU = "us-central1", "europe-west1"
OLD, NEW, NEWER = (datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 6, 1, tzinfo=UTC))
LONGEST = "s" + "x" * 47 + "z"


def tf(name: str) -> str:
    return backend_service_url(LB, name)


# Terraform's part of the URL map: it must come out of every plan untouched.
TF_HOST_RULE = {"hosts": ["legacy.example.com"], "pathMatcher": "tf-legacy", "description": "terraform"}
TF_MATCHER = {
    "name": "tf-legacy",
    "defaultService": tf("tf-legacy"),
    "pathRules": [{"paths": ["/old", "/old/*"], "service": tf("tf-legacy")}],
}
TF_BACKENDS = [
    {"name": "tf-default", "description": "Managed by Terraform", "protocol": "HTTPS"},
    {"name": "tf-legacy", "description": "", "protocol": "HTTPS"},
]


def ref(service: str, project: str = P) -> ServiceRef:
    return ServiceRef(project, service)


def route(
    service: str,
    paths: tuple[str, ...] | None = None,
    alias: str = "default",
    regions: tuple[str, ...] = (US,),
    created: datetime | None = NEW,
    project: str = P,
) -> DesiredRoute:
    paths = paths or (f"/{service}", f"/{service}/*")
    return DesiredRoute(
        project, service, alias, HOSTS.get(alias, ()), tuple(sorted(paths)), frozenset(regions), created
    )


def gone(service: str) -> NotPublished:
    return NotPublished(P, service)


# -- observed-state builders -----------------------------------------------------------------------------------


@dataclass
class Lb:
    """A load balancer under construction; `observed()` freezes it into the planner's input."""

    host_rules: list[dict[str, Any]] = field(default_factory=lambda: [copy.deepcopy(TF_HOST_RULE)])
    matchers: list[dict[str, Any]] = field(default_factory=lambda: [copy.deepcopy(TF_MATCHER)])
    backends: list[dict[str, Any]] = field(default_factory=lambda: copy.deepcopy(TF_BACKENDS))
    negs: list[dict[str, Any]] = field(default_factory=list)
    default: str = tf("tf-default")

    def publish(
        self,
        service: str,
        paths: tuple[str, ...] | None = None,
        alias: str = "default",
        regions: tuple[str, ...] = (US,),
        owner: str = OWNER,
        policy: str | None = "armor",
        project: str = P,
    ) -> Lb:
        """Objects exactly as a converged runway (or another owner's runway) leaves them."""
        paths = tuple(sorted(paths or (f"/{service}", f"/{service}/*")))
        marker = marker_json(owner, project, service)
        groups = []
        for region in sorted(regions):
            name = neg_name(owner, project, region, service)
            self.negs.append(
                {
                    "name": name,
                    "description": marker,
                    "networkEndpointType": "SERVERLESS",
                    "cloudRun": {"service": service},
                    "region": f"https://www.googleapis.com/compute/v1/projects/{project}/regions/{region}",
                }
            )
            groups.append({"group": neg_url(project, region, name)})
        name = backend_service_name(owner, project, service)
        backend: dict[str, Any] = {
            "name": name,
            "description": marker,
            "loadBalancingScheme": "EXTERNAL_MANAGED",
            "protocol": "HTTPS",
            "backends": groups,
            "fingerprint": f"fp-{name}",
        }
        if policy:
            backend["securityPolicy"] = security_policy_url(LB, policy)
        self.backends.append(backend)
        self.add_rule(alias, {"paths": list(paths), "service": backend_service_url(LB, name)})
        return self

    def add_rule(self, alias: str, rule: dict[str, Any]) -> Lb:
        matcher_name = f"runway-{alias}" if "_" not in alias else f"runway-{alias.replace('_', '-')}"
        matcher = next((m for m in self.matchers if m["name"] == matcher_name), None)
        if matcher is None:
            matcher = {"name": matcher_name, "defaultService": self.default, "pathRules": []}
            self.matchers.append(matcher)
            self.host_rules.append({"hosts": list(HOSTS[alias]), "pathMatcher": matcher_name})
        matcher["pathRules"].append(rule)
        return self

    def observed(self) -> Observed:
        url_map = {
            "kind": "compute#urlMap",
            "name": "lb",
            "defaultService": self.default,
            "hostRules": self.host_rules,
            "pathMatchers": self.matchers,
            "fingerprint": "fp-map-0",
        }
        return Observed(url_map=url_map, backend_services=self.backends, negs=self.negs)


# -- a strict model to apply plans to ----------------------------------------------------------------------------


def _neg_key(url: str) -> tuple[str, str]:
    parts = relative_name(url).split("/")
    return parts[3], parts[5]  # projects/P/regions/R/networkEndpointGroups/N


def apply(observed: Observed, plan: Plan) -> Observed:
    """What Compute would hold after the plan, checking what Compute checks."""
    url_map = copy.deepcopy(dict(observed.url_map))
    backends = {b["name"]: copy.deepcopy(dict(b)) for b in observed.backend_services}
    negs = {(last_segment(n["region"]), n["name"]): copy.deepcopy(dict(n)) for n in observed.negs}

    def referenced_backends() -> set[str]:
        refs = {url_map.get("defaultService")}
        for matcher in url_map.get("pathMatchers", []):
            refs.add(matcher.get("defaultService"))
            refs |= {rule.get("service") for rule in matcher.get("pathRules", [])}
        return {last_segment(r) for r in refs if r}

    for serial, change in enumerate(plan.changes, start=1):
        body = copy.deepcopy(change.body)
        if change.kind == "neg":
            key = (change.region or "", change.name)
            if change.op == "create":
                assert key not in negs, f"409 {key}"
                region_url = f"https://www.googleapis.com/compute/v1/projects/{change.project}/regions/{change.region}"
                negs[key] = {**body, "region": region_url}
            else:
                assert change.op == "delete"
                users = [b["name"] for b in backends.values() if key in map(_neg_key, _groups(b))]
                assert not users, f"400 NEG {key} in use by {users}"
                assert key in negs, f"404 {key}"
                del negs[key]
        elif change.kind == "backend_service":
            if change.op == "create":
                assert change.name not in backends, f"409 {change.name}"
                assert "securityPolicy" not in body and "healthChecks" not in body
                backends[change.name] = {**body, "fingerprint": f"fp-{serial}"}
            elif change.op == "update":
                current = backends[change.name]
                assert body.pop("fingerprint") == current["fingerprint"], "412 backend service"
                current.update(body, fingerprint=f"fp-{serial}")
            else:
                assert change.name not in referenced_backends(), f"400 {change.name} in use by the URL map"
                del backends[change.name]
            if change.op != "delete":
                for group in _groups(backends[change.name]):
                    assert group.startswith("https://www.googleapis.com/compute/v1/"), "groups must be full URLs"
                    assert _neg_key(group) in negs, f"404 NEG {group}"
        elif change.kind == "security_policy":
            backends[change.name]["securityPolicy"] = body["securityPolicy"]
        else:
            assert change.kind == "url_map" and change.op == "update"
            assert set(body) == {"hostRules", "pathMatchers", "fingerprint"}
            assert body.pop("fingerprint") == url_map["fingerprint"], "412 URL map"
            url_map.update(body, fingerprint=f"fp-map-{serial}")
            assert referenced_backends() <= set(backends), "URL map names a missing backend service"
            hosts = [h for rule in url_map["hostRules"] for h in rule["hosts"]]
            assert len(hosts) == len(set(hosts)), f"a host in two host rules: {hosts}"
            names = {m["name"] for m in url_map["pathMatchers"]}
            assert {r["pathMatcher"] for r in url_map["hostRules"]} <= names
            for matcher in url_map["pathMatchers"]:
                paths = [p for rule in matcher.get("pathRules", []) for p in rule["paths"]]
                assert len(paths) == len(set(paths)), f"duplicate path in {matcher['name']}"
    return Observed(url_map=url_map, backend_services=list(backends.values()), negs=list(negs.values()))


def _groups(backend: Mapping[str, Any]) -> list[str]:
    return [b["group"] for b in backend.get("backends", [])]


# -- invariants -------------------------------------------------------------------------------------------------


def _is_ours(obj: Mapping[str, Any], owner: str = OWNER) -> bool:
    marker = parse_marker(obj.get("description"))
    return bool(marker and marker.owner == owner)


def assert_foreign_untouched(observed: Observed, plan: Plan, settings: PlanSettings = SETTINGS) -> None:
    """Foreign URL-map entries survive byte-identical, in order; foreign objects get no change at all."""
    ours_by_name = {b["name"] for b in observed.backend_services if _is_ours(b, settings.owner_id)}
    ours_negs = {n["name"] for n in observed.negs if _is_ours(n, settings.owner_id)}
    for change in plan.changes:
        if change.op == "create":
            (ours_negs if change.kind == "neg" else ours_by_name).add(change.name)
        if change.kind in ("backend_service", "security_policy") and change.op != "create":
            assert change.name in ours_by_name, f"touches a foreign backend service: {change}"
        if change.kind == "neg" and change.op != "create":
            assert change.name in ours_negs, f"touches a foreign NEG: {change}"
    for change in (c for c in plan.changes if c.kind == "url_map"):
        body = change.body or {}
        for key, runway in (("hostRules", "pathMatcher"), ("pathMatchers", "name")):
            before = [e for e in observed.url_map.get(key, []) if not str(e.get(runway, "")).startswith("runway-")]
            after = [e for e in body[key] if not str(e.get(runway, "")).startswith("runway-")]
            assert json.dumps(after) == json.dumps(before), f"foreign {key} changed"
        before_rules = _foreign_rules(observed.url_map["pathMatchers"], ours_by_name)
        after_rules = _foreign_rules(body["pathMatchers"], ours_by_name)
        assert after_rules == before_rules, "foreign path rules in runway matchers changed"


def _foreign_rules(matchers: list[Mapping[str, Any]], our_backends: set[str]) -> list[str]:
    ours = {relative_name(backend_service_url(LB, name)) for name in our_backends}
    return sorted(
        json.dumps(rule, sort_keys=True)
        for m in matchers
        if m["name"].startswith("runway-")
        for rule in m.get("pathRules", [])
        if relative_name(str(rule.get("service", "")), LB) not in ours
    )


def summary(plan: Plan) -> list[str]:
    return [
        " ".join([change.op, change.kind, ",".join(s.service for s in change.services), change.region or ""]).strip()
        for change in plan.changes
    ]


def outcomes(plan: Plan) -> dict[str, str]:
    return {o.service.service: o.action for o in plan.outcomes}


def to_json(plan: Plan) -> str:
    def encode(value: Any) -> Any:
        if isinstance(value, ServiceRef):
            return str(value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, list | tuple):
            return [encode(v) for v in value]
        if isinstance(value, dict):
            return {k: encode(v) for k, v in value.items()}
        return value

    return json.dumps(encode(plan), indent=2) + "\n"


def check_golden(case_id: str, plan: Plan) -> None:
    path = GOLDEN / case_id / "plan.json"
    text = to_json(plan)
    if os.environ.get("RUNWAY_UPDATE_GOLDEN") and (not path.exists() or path.read_text() != text):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        pytest.fail(f"golden {path} written: review the diff, then run again without RUNWAY_UPDATE_GOLDEN")
    assert path.exists(), f"no golden for {case_id}; run with RUNWAY_UPDATE_GOLDEN=1 and review it"
    assert text == path.read_text(), f"plan differs from {path}"


# -- the table ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    lb: Callable[[], Lb]
    decisions: Mapping[ServiceRef, Decision | None]
    changes: list[str]
    outcomes: dict[str, str]
    sweep: bool = False
    settings: PlanSettings = SETTINGS
    extra: Callable[[Observed, Plan], None] | None = None

    def plan(self, observed: Observed) -> Plan:
        if self.sweep:
            return plan_sweep({k: v for k, v in self.decisions.items() if v is not None}, observed, self.settings)
        ((key, decision),) = self.decisions.items()
        return plan_service(key, decision, observed, self.settings)


def url_map_body(plan: Plan) -> dict[str, Any]:
    (change,) = [c for c in plan.changes if c.kind == "url_map"]
    assert change.body is not None
    return change.body


def matcher(plan: Plan, name: str) -> dict[str, Any] | None:
    return next((m for m in url_map_body(plan)["pathMatchers"] if m["name"] == name), None)


def _new_route_bodies(observed: Observed, plan: Plan) -> None:
    neg, backend, policy, url_map = plan.changes
    neg_n = neg_name(OWNER, P, US, "hello")
    bs_n = backend_service_name(OWNER, P, "hello")
    assert neg.body == {
        "name": neg_n,
        "description": '{"managedBy":"runway","owner":"runway","service":"proj-a1/hello"}',
        "networkEndpointType": "SERVERLESS",
        "cloudRun": {"service": "hello"},
    }
    assert (neg.project, neg.region) == (P, US)
    assert backend.body == {
        "name": bs_n,
        "description": '{"managedBy":"runway","owner":"runway","service":"proj-a1/hello"}',
        "loadBalancingScheme": "EXTERNAL_MANAGED",
        "protocol": "HTTPS",
        "backends": [{"group": neg_url(P, US, neg_n)}],
    }
    assert backend.project == LB
    assert policy.name == bs_n
    assert policy.body == {"securityPolicy": security_policy_url(LB, "armor")}
    body = url_map.body or {}
    assert body["fingerprint"] == "fp-map-0"
    assert body["hostRules"][-1] == {"hosts": ["*"], "pathMatcher": "runway-default"}
    assert body["pathMatchers"][-1] == {
        "name": "runway-default",
        "defaultService": tf("tf-default"),
        "pathRules": [{"paths": ["/hello", "/hello/*"], "service": backend_service_url(LB, bs_n)}],
    }
    outcome = plan.outcomes[0]
    assert (outcome.host_alias, outcome.hosts, outcome.paths, outcome.regions) == (
        "default",
        ("*",),
        ("/hello", "/hello/*"),
        (US,),
    )
    assert outcome.backend == bs_n


def _slug_change(observed: Observed, plan: Plan) -> None:
    rules = (matcher(plan, "runway-default") or {})["pathRules"]
    assert [r["paths"] for r in rules] == [["/hi", "/hi/*"], ["/other", "/other/*"]]


def _host_change(observed: Observed, plan: Plan) -> None:
    body = url_map_body(plan)
    assert [m["name"] for m in body["pathMatchers"]] == ["tf-legacy", "runway-shop"]
    assert body["hostRules"] == [TF_HOST_RULE, {"hosts": ["shop.example.com"], "pathMatcher": "runway-shop"}]


def _second_region(observed: Observed, plan: Plan) -> None:
    update = next(c for c in plan.changes if c.kind == "backend_service")
    name = backend_service_name(OWNER, P, "hello")
    assert update.body == {
        "name": name,
        "backends": [
            {"group": neg_url(P, EU, neg_name(OWNER, P, EU, "hello"))},
            {"group": neg_url(P, US, neg_name(OWNER, P, US, "hello"))},
        ],
        "fingerprint": f"fp-{name}",
    }


def _removal(observed: Observed, plan: Plan) -> None:
    body = url_map_body(plan)
    assert body["pathMatchers"] == [TF_MATCHER]
    assert body["hostRules"] == [TF_HOST_RULE]
    assert all(c.body is None for c in plan.changes if c.op == "delete")


def _conflict_runway(observed: Observed, plan: Plan) -> None:
    (outcome,) = plan.outcomes
    assert outcome.holder == "proj-a1/holder"
    assert outcome.paths == ("/shared",)
    assert outcome.hosts == ("*",)
    assert outcome.why == "proj-a1/hello: /shared on 'default' already served by proj-a1/holder"


def _conflict_other_owner(observed: Observed, plan: Plan) -> None:
    assert plan.outcomes[0].holder == "proj-a1/theirs (owner team-b)"


def _conflict_foreign_rule(observed: Observed, plan: Plan) -> None:
    assert plan.outcomes[0].holder == "tf-legacy"
    assert plan.outcomes[0].paths == ("/hello",)


def _conflict_foreign_host(observed: Observed, plan: Plan) -> None:
    (outcome,) = plan.outcomes
    assert outcome.holder == "tf-shop"
    assert outcome.hosts == ("shop.example.com",)


def _invalid_keeps(observed: Observed, plan: Plan) -> None:
    assert plan.outcomes[0].reason == "label public-route='X' is not valid"


def _annotation(observed: Observed, plan: Plan) -> None:
    rules = (matcher(plan, "runway-default") or {})["pathRules"]
    assert rules[0]["paths"] == ["/api/v1", "/api/v1/*", "/healthz"]


def _names_at_limit(observed: Observed, plan: Plan) -> None:
    names = [c.name for c in plan.changes if c.kind != "url_map"]
    assert names and all(len(n) == 63 for n in names)


def _alias_underscore(observed: Observed, plan: Plan) -> None:
    body = url_map_body(plan)
    assert body["hostRules"][-1] == {"hosts": ["api.example.com"], "pathMatcher": "runway-api-v2-8d77fba3"}


def _gc(observed: Observed, plan: Plan) -> None:
    body = url_map_body(plan)
    kept = matcher(plan, "runway-default") or {}
    assert [r["paths"] for r in kept["pathRules"]] == [["/keep", "/keep/*"]]
    assert body["hostRules"] == [TF_HOST_RULE, {"hosts": ["*"], "pathMatcher": "runway-default"}]


def _claim_created(observed: Observed, plan: Plan) -> None:
    conflict = plan.outcome(ref("young"))
    assert conflict is not None and conflict.holder == "proj-a1/old"


def _claim_name(observed: Observed, plan: Plan) -> None:
    conflict = plan.outcome(ref("bbb"))
    assert conflict is not None and conflict.holder == "proj-a1/aaa"


def _cascade(observed: Observed, plan: Plan) -> None:
    a, c = plan.outcome(ref("a")), plan.outcome(ref("c"))
    assert a is not None and (a.holder, a.paths) == ("proj-a1/b", ("/b",))
    assert c is not None and (c.holder, c.paths) == ("proj-a1/a", ("/a",))


def _policy_change(observed: Observed, plan: Plan) -> None:
    (change,) = plan.changes
    assert change.body == {"securityPolicy": security_policy_url(LB, "armor")}
    assert change.why == "proj-a1/hello: attach Cloud Armor policy armor in place of old-policy"


def _hosts_sync(observed: Observed, plan: Plan) -> None:
    body = url_map_body(plan)
    assert body["hostRules"][-1] == {
        "hosts": ["shop.example.com", "www.shop.example.com"],
        "pathMatcher": "runway-shop",
    }
    assert matcher(plan, "runway-shop") == observed.url_map["pathMatchers"][-1]  # same rules, untouched


def _other_owner_untouched(observed: Observed, plan: Plan) -> None:
    rules = (matcher(plan, "runway-default") or {})["pathRules"]
    theirs = backend_service_url(LB, backend_service_name(OTHER_OWNER, P, "theirs"))
    assert [r["service"] for r in rules] == [theirs]


def _limit(observed: Observed, plan: Plan) -> None:
    assert plan.outcomes[-1].reason == "path matcher runway-default would exceed 3 paths"


def _size_limit(observed: Observed, plan: Plan) -> None:
    reason = plan.outcomes[0].reason or ""
    assert reason.startswith("URL map lb would exceed")


def lb() -> Lb:
    return Lb()


def _dangling_rule_lb() -> Lb:
    return Lb().add_rule("default", {"paths": ["/hello"], "service": tf("tf-legacy")})


def _foreign_host_lb() -> Lb:
    base = Lb()
    base.host_rules.append({"hosts": ["shop.example.com"], "pathMatcher": "tf-shop"})
    base.matchers.append({"name": "tf-shop", "defaultService": tf("tf-legacy")})
    return base


def _orphans_lb() -> Lb:
    base = Lb().publish("keep").publish("orphan", regions=(US, EU))
    # A NEG whose backend service is already gone (a sweep interrupted half-way).
    base.negs.append(
        {
            "name": neg_name(OWNER, P, US, "stray"),
            "description": marker_json(OWNER, P, "stray"),
            "networkEndpointType": "SERVERLESS",
            "cloudRun": {"service": "stray"},
            "region": US,
        }
    )
    return base


def _default_drift_lb() -> Lb:
    base = Lb().publish("hello")
    base.default = tf("tf-legacy")  # Terraform changed the URL map's default service after runway's last write
    return base


def _default_follows(observed: Observed, plan: Plan) -> None:
    assert (matcher(plan, "runway-default") or {})["defaultService"] == tf("tf-legacy")


def _drifted_hosts_lb() -> Lb:
    return Lb().publish("hello", alias="shop")


_MAP_BYTES = len(json.dumps(Lb().observed().url_map, separators=(",", ":")))
SETTINGS_SHOP2 = dataclasses.replace(SETTINGS, hosts={**HOSTS, "shop": ("shop.example.com", "www.shop.example.com")})

CASES = [
    Case(
        "new_route",
        lb,
        {ref("hello"): route("hello")},
        [
            "create neg hello us-central1",
            "create backend_service hello",
            "update security_policy hello",
            "update url_map hello",
        ],
        {"hello": ROUTE_REGISTERED},
        extra=_new_route_bodies,
    ),
    Case("no_op", lambda: Lb().publish("hello"), {ref("hello"): route("hello")}, [], {"hello": ROUTE_UNCHANGED}),
    Case(
        "slug_change",
        lambda: Lb().publish("hello").publish("other"),
        {ref("hello"): route("hello", ("/hi", "/hi/*"))},
        ["update url_map hello"],
        {"hello": ROUTE_UPDATED},
        extra=_slug_change,
    ),
    Case(
        "host_change",
        lambda: Lb().publish("hello"),
        {ref("hello"): route("hello", alias="shop")},
        ["update url_map hello"],
        {"hello": ROUTE_UPDATED},
        extra=_host_change,
    ),
    Case(
        "second_region",
        lambda: Lb().publish("hello"),
        {ref("hello"): route("hello", regions=(US, EU))},
        ["create neg hello europe-west1", "update backend_service hello"],
        {"hello": ROUTE_UPDATED},
        extra=_second_region,
    ),
    Case(
        "region_removed",
        lambda: Lb().publish("hello", regions=(US, EU)),
        {ref("hello"): route("hello")},
        ["update backend_service hello", "delete neg hello europe-west1"],
        {"hello": ROUTE_UPDATED},
    ),
    Case(
        "removal_label_gone",
        lambda: Lb().publish("hello", regions=(US, EU)),
        {ref("hello"): gone("hello")},
        [
            "update url_map hello",
            "delete backend_service hello",
            "delete neg hello europe-west1",
            "delete neg hello us-central1",
        ],
        {"hello": ROUTE_REMOVED},
        extra=_removal,
    ),
    Case(
        "removal_service_deleted",
        lambda: Lb().publish("hello"),
        {ref("hello"): None},
        ["update url_map hello", "delete backend_service hello", "delete neg hello us-central1"],
        {"hello": ROUTE_REMOVED},
        extra=_removal,
    ),
    Case("not_published_nothing_to_do", lb, {ref("hello"): gone("hello")}, [], {"hello": ROUTE_UNCHANGED}),
    Case(
        "conflict_runway_service",
        lambda: Lb().publish("holder", ("/shared",)),
        {ref("hello"): route("hello", ("/hello", "/shared"))},
        [],
        {"hello": ROUTE_CONFLICT},
        extra=_conflict_runway,
    ),
    Case(
        "conflict_other_owner",
        lambda: Lb().publish("theirs", ("/hello",), owner=OTHER_OWNER),
        {ref("hello"): route("hello", ("/hello",))},
        [],
        {"hello": ROUTE_CONFLICT},
        extra=_conflict_other_owner,
    ),
    Case(
        "conflict_foreign_rule",
        _dangling_rule_lb,
        {ref("hello"): route("hello", ("/hello",))},
        [],
        {"hello": ROUTE_CONFLICT},
        extra=_conflict_foreign_rule,
    ),
    Case(
        "conflict_foreign_host_rule",
        _foreign_host_lb,
        {ref("hello"): route("hello", alias="shop")},
        [],
        {"hello": ROUTE_CONFLICT},
        extra=_conflict_foreign_host,
    ),
    Case(
        "conflict_keeps_existing_route",
        lambda: Lb().publish("hello").publish("holder", ("/hi",)),
        {ref("hello"): route("hello", ("/hi",))},
        [],
        {"hello": ROUTE_CONFLICT},
    ),
    Case(
        "invalid_keeps_existing_route",
        lambda: Lb().publish("hello"),
        {ref("hello"): RouteInvalid(P, "hello", "label public-route='X' is not valid")},
        [],
        {"hello": ROUTE_INVALID},
        extra=_invalid_keeps,
    ),
    Case("unknown_alias", lb, {ref("hello"): route("hello", alias="blog")}, [], {"hello": ROUTE_INVALID}),
    Case(
        "foreign_rule_in_runway_matcher_survives",
        _dangling_rule_lb,
        {ref("other"): route("other")},
        [
            "create neg other us-central1",
            "create backend_service other",
            "update security_policy other",
            "update url_map other",
        ],
        {"other": ROUTE_REGISTERED},
    ),
    Case("sweep_keeps_matcher_with_foreign_rule", _dangling_rule_lb, {}, [], {}, sweep=True),
    Case(
        "annotation_paths",
        lb,
        {ref("hello"): route("hello", ("/api/v1", "/api/v1/*", "/healthz"))},
        [
            "create neg hello us-central1",
            "create backend_service hello",
            "update security_policy hello",
            "update url_map hello",
        ],
        {"hello": ROUTE_REGISTERED},
        extra=_annotation,
    ),
    Case(
        "names_at_limit",
        lb,
        {ref(LONGEST): route(LONGEST, ("/long",), regions=(US, EU))},
        [
            f"create neg {LONGEST} europe-west1",
            f"create neg {LONGEST} us-central1",
            f"create backend_service {LONGEST}",
            f"update security_policy {LONGEST}",
            f"update url_map {LONGEST}",
        ],
        {LONGEST: ROUTE_REGISTERED},
        extra=_names_at_limit,
    ),
    Case(
        "alias_with_underscore",
        lb,
        {ref("hello"): route("hello", alias="api_v2")},
        [
            "create neg hello us-central1",
            "create backend_service hello",
            "update security_policy hello",
            "update url_map hello",
        ],
        {"hello": ROUTE_REGISTERED},
        extra=_alias_underscore,
    ),
    Case(
        "no_security_policy_configured",
        lambda: Lb().publish("hello", policy="manual"),
        {ref("hello"): route("hello")},
        [],
        {"hello": ROUTE_UNCHANGED},
        settings=dataclasses.replace(SETTINGS, security_policy=None),
    ),
    Case(
        "security_policy_change",
        lambda: Lb().publish("hello", policy="old-policy"),
        {ref("hello"): route("hello")},
        ["update security_policy hello"],
        {"hello": ROUTE_UPDATED},
        extra=_policy_change,
    ),
    Case(
        "security_policy_same_by_meaning",
        lambda: Lb().publish("hello"),
        {ref("hello"): route("hello")},
        [],
        {"hello": ROUTE_UNCHANGED},
        settings=dataclasses.replace(SETTINGS, security_policy=f"projects/{LB}/global/securityPolicies/armor"),
    ),
    Case(
        "event_leaves_other_services_alone",
        _orphans_lb,
        {ref("hello"): route("hello")},
        [
            "create neg hello us-central1",
            "create backend_service hello",
            "update security_policy hello",
            "update url_map hello",
        ],
        {"hello": ROUTE_REGISTERED},
    ),
    Case(
        "sweep_gc_orphans",
        _orphans_lb,
        {ref("keep"): route("keep")},
        [
            "update url_map orphan",
            "delete backend_service orphan",
            "delete neg orphan europe-west1",
            "delete neg orphan us-central1",
            "delete neg stray us-central1",
        ],
        {"keep": ROUTE_UNCHANGED, "orphan": ROUTE_REMOVED, "stray": ROUTE_REMOVED},
        sweep=True,
        extra=_gc,
    ),
    Case(
        "sweep_other_owner_untouched",
        lambda: Lb().publish("theirs", owner=OTHER_OWNER).publish("mine"),
        {},
        ["update url_map mine", "delete backend_service mine", "delete neg mine us-central1"],
        {"mine": ROUTE_REMOVED},
        sweep=True,
        extra=_other_owner_untouched,
    ),
    Case(
        "sweep_everything_gone",
        lambda: Lb().publish("a").publish("b", alias="shop"),
        {},
        [
            "update url_map a,b",
            "delete backend_service a",
            "delete backend_service b",
            "delete neg a us-central1",
            "delete neg b us-central1",
        ],
        {"a": ROUTE_REMOVED, "b": ROUTE_REMOVED},
        sweep=True,
        extra=_removal,
    ),
    Case(
        "sweep_claimants_oldest_wins",
        lb,
        {ref("young"): route("young", ("/x",), created=NEW), ref("old"): route("old", ("/x",), created=OLD)},
        [
            "create neg old us-central1",
            "create backend_service old",
            "update security_policy old",
            "update url_map old",
        ],
        {"old": ROUTE_REGISTERED, "young": ROUTE_CONFLICT},
        sweep=True,
        extra=_claim_created,
    ),
    Case(
        "sweep_claimants_name_order",
        lb,
        {
            ref("bbb"): route("bbb", ("/x",)),
            ref("aaa"): route("aaa", ("/x",)),
            ref("ccc"): route("ccc", ("/x",), created=None),
        },
        [
            "create neg aaa us-central1",
            "create backend_service aaa",
            "update security_policy aaa",
            "update url_map aaa",
        ],
        {"aaa": ROUTE_REGISTERED, "bbb": ROUTE_CONFLICT, "ccc": ROUTE_CONFLICT},
        sweep=True,
        extra=_claim_name,
    ),
    Case(
        "sweep_holder_beats_older_claimant",
        lambda: Lb().publish("young", ("/x",)),
        {ref("young"): route("young", ("/x",), created=NEWER), ref("old"): route("old", ("/x",), created=OLD)},
        [],
        {"old": ROUTE_CONFLICT, "young": ROUTE_UNCHANGED},
        sweep=True,
    ),
    Case(
        "sweep_released_path_is_free",
        lambda: Lb().publish("mover", ("/x",)),
        {ref("mover"): route("mover", ("/y",)), ref("taker"): route("taker", ("/x",))},
        [
            "create neg taker us-central1",
            "create backend_service taker",
            "update security_policy taker",
            "update url_map mover,taker",
        ],
        {"mover": ROUTE_UPDATED, "taker": ROUTE_REGISTERED},
        sweep=True,
    ),
    Case(
        "sweep_conflict_cascade",
        lambda: Lb().publish("a", ("/a",)).publish("b", ("/b",)),
        {
            ref("a"): route("a", ("/b",), created=OLD),
            ref("b"): RouteInvalid(P, "b", "bad label"),
            ref("c"): route("c", ("/a",), created=OLD),
        },
        [],
        {"a": ROUTE_CONFLICT, "b": ROUTE_INVALID, "c": ROUTE_CONFLICT},
        sweep=True,
        extra=_cascade,
    ),
    Case(
        "sweep_hosts_follow_config",
        _drifted_hosts_lb,
        {ref("hello"): route("hello", alias="shop")},
        ["update url_map"],
        {"hello": ROUTE_UNCHANGED},
        sweep=True,
        settings=SETTINGS_SHOP2,
        extra=_hosts_sync,
    ),
    Case(
        "sweep_matcher_default_follows_url_map",
        _default_drift_lb,
        {ref("hello"): route("hello")},
        ["update url_map"],
        {"hello": ROUTE_UNCHANGED},
        sweep=True,
        extra=_default_follows,
    ),
    Case(
        "event_matcher_default_follows_url_map",
        _default_drift_lb,
        {ref("hello"): route("hello")},
        ["update url_map hello"],
        {"hello": ROUTE_UPDATED},
        extra=_default_follows,
    ),
    Case(
        "limit_paths_per_matcher",
        lambda: Lb().publish("a", ("/a",)),
        {ref("a"): route("a", ("/a",)), ref("b"): route("b", ("/b", "/c", "/d"))},
        [],
        {"a": ROUTE_UNCHANGED, "b": ROUTE_INVALID},
        sweep=True,
        settings=dataclasses.replace(SETTINGS, max_paths_per_matcher=3),
        extra=_limit,
    ),
    Case(
        "limit_url_map_size",
        lb,
        {ref("hello"): route("hello")},
        [],
        {"hello": ROUTE_INVALID},
        settings=dataclasses.replace(SETTINGS, max_url_map_bytes=_MAP_BYTES + 50),
        extra=_size_limit,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_plan(case: Case) -> None:
    observed = case.lb().observed()
    pristine = copy.deepcopy(observed)
    plan = case.plan(observed)

    assert summary(plan) == case.changes
    assert outcomes(plan) == case.outcomes
    assert plan.converged is (not case.changes)
    assert_foreign_untouched(observed, plan, case.settings)
    if case.extra:
        case.extra(observed, plan)
    check_golden(case.id, plan)

    assert observed == pristine, "the planner mutated its input"
    assert to_json(case.plan(case.lb().observed())) == to_json(plan), "same input, same plan"

    after = apply(observed, plan)
    again = case.plan(after)
    assert again.changes == (), f"not converged: {summary(again)}"
    for outcome in again.outcomes:
        assert outcome.action in (ROUTE_UNCHANGED, ROUTE_CONFLICT, ROUTE_INVALID), outcome


def test_case_ids_unique() -> None:
    assert len({case.id for case in CASES}) == len(CASES)


# -- properties beyond the table ---------------------------------------------------------------------------------


def test_sweep_is_independent_of_input_order() -> None:
    base = Lb().publish("keep").publish("orphan", regions=(US, EU)).publish("theirs", ("/t",), owner=OTHER_OWNER)
    decisions = {ref("keep"): route("keep"), ref("new"): route("new", regions=(EU, US)), ref("z"): gone("z")}
    plan = plan_sweep(decisions, base.observed(), SETTINGS)

    shuffled = Lb(
        backends=list(reversed(base.backends)),
        negs=list(reversed(base.negs)),
        host_rules=base.host_rules,
        matchers=base.matchers,
    )
    reordered = dict(reversed(list(decisions.items())))
    assert to_json(plan_sweep(reordered, shuffled.observed(), SETTINGS)) == to_json(plan)


def test_sweep_then_event_converged() -> None:
    decisions = {ref(s): route(s, regions=(US, EU)) for s in ("a", "b", "c")}
    observed = apply(Lb().observed(), plan_sweep(decisions, Lb().observed(), SETTINGS))
    for key, decision in decisions.items():
        assert plan_service(key, decision, observed, SETTINGS).changes == ()


def test_event_then_sweep_converged_and_one_rule_per_service() -> None:
    observed = Lb().observed()
    for service in ("a", "b"):
        observed = apply(observed, plan_service(ref(service), route(service), observed, SETTINGS))
    decisions = {ref("a"): route("a"), ref("b"): route("b")}
    assert plan_sweep(decisions, observed, SETTINGS).changes == ()
    runway = next(m for m in observed.url_map["pathMatchers"] if m["name"] == "runway-default")
    assert len(runway["pathRules"]) == 2


def test_drift_is_repaired_without_recreating() -> None:
    observed = Lb().publish("hello", regions=(US, EU)).observed()
    backend = next(b for b in observed.backend_services if b["name"] == backend_service_name(OWNER, P, "hello"))
    backend["backends"] = backend["backends"][:1]  # someone detached a region
    runway = observed.url_map["pathMatchers"][-1]
    runway["pathRules"] = []  # and deleted the rule
    plan = plan_service(ref("hello"), route("hello", regions=(US, EU)), observed, SETTINGS)
    assert summary(plan) == ["update backend_service hello", "update url_map hello"]
    assert outcomes(plan) == {"hello": ROUTE_REGISTERED}


def test_rule_spelled_differently_is_the_same_rule() -> None:
    base = Lb().publish("hello")
    rule = base.matchers[-1]["pathRules"][0]
    rule["paths"] = list(reversed(rule["paths"]))
    rule["service"] = f"global/backendServices/{backend_service_name(OWNER, P, 'hello')}"
    base.matchers[-1]["defaultService"] = relative_name(tf("tf-default"))
    base.host_rules[-1]["hosts"] = ["*"]
    assert plan_service(ref("hello"), route("hello"), base.observed(), SETTINGS).changes == ()


def test_other_installation_sharing_the_matcher() -> None:
    """Two owners on one alias: each keeps its own rules; neither removes the other's, nor the shared matcher."""
    observed = Lb().publish("theirs", owner=OTHER_OWNER).publish("mine").observed()
    plan = plan_sweep({}, observed, SETTINGS)
    other = dataclasses.replace(SETTINGS, owner_id=OTHER_OWNER)
    after = apply(observed, plan)
    their_plan = plan_sweep({ref("theirs"): route("theirs")}, after, other)
    assert their_plan.changes == ()
    assert_foreign_untouched(after, their_plan, other)


def test_url_map_update_is_one_change_for_many_services() -> None:
    decisions = {ref(s): route(s) for s in ("a", "b", "c")}
    plan = plan_sweep(decisions, Lb().observed(), SETTINGS)
    kinds = [c.kind for c in plan.changes]
    assert kinds.count("url_map") == 1
    assert kinds.index("url_map") > max(i for i, k in enumerate(kinds) if k != "url_map")
    (url_map,) = [c for c in plan.changes if c.kind == "url_map"]
    assert url_map.services == (ref("a"), ref("b"), ref("c"))


def test_foreign_name_collision_is_a_conflict_not_an_api_error() -> None:
    base = Lb()
    base.backends.append({"name": backend_service_name(OWNER, P, "hello"), "description": "hand made"})
    plan = plan_service(ref("hello"), route("hello"), base.observed(), SETTINGS)
    assert plan.changes == ()
    outcome = plan.outcomes[0]
    assert outcome.action == ROUTE_CONFLICT
    assert outcome.holder == backend_service_name(OWNER, P, "hello")
