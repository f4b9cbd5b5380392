"""The URL-map planner (`shared.plan_url_map`), table-driven with one golden per case:
tests/testdata/plan_url_map/<case>.json holds the map body written (or null), every claim's result and the notes.

Every case states each claim's `RuleState` in the table itself (a wrong golden can't hide a wrong state), and also
checks, whatever it is about:
- foreign host rules and path matchers survive byte-identical and in order; path rules in runway matchers that
  name no claim's backend service (Terraform's, another installation's, services not in the batch) survive
  byte-identical, in the same matcher and in the same order (runway keeps a matcher's rules sorted by first path,
  and the maps here are as runway leaves them);
- the map written is valid for a strict checker (`assert_valid_map`): no host in two host rules, every host
  rule's matcher exists, no duplicate path in a matcher, every backend named is pre-existing or a granted claim's,
  runway matchers left empty are removed, each granted claim has exactly its one rule, a refused one keeps its
  rules, no granted new path takes traffic from another holder (prefix ownership);
- planning again on the map written, with the same claims, writes nothing and every granted claim is KEPT or
  ABSENT (convergence); refused claims stay refused the same way;
- the same input, in any claim order, gives the same output (determinism), and the input is not mutated.

Regenerate goldens after a deliberate change, then review the diff:
`RUNWAY_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_plan_url_map.py`
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shared.model import Claim, DesiredRoute, RuleResult, RuleState, ServiceRef
from shared.naming import (
    backend_service_path,
    full_url,
    is_runway_path_matcher,
    path_matcher_name,
    relative_name,
    service_backend_path,
)
from shared.plan_limits import Limits, size_of
from shared.plan_paths import takes_from
from shared.plan_url_map import MapPlan, MapSettings, plan_url_map, precedence

GOLDEN = Path(__file__).parents[1] / "testdata" / "plan_url_map"
LB = "lb-proj"  # the URL map's project
P = "proj-a1"
P2 = "proj-b2"
OWNER = "runway"
OTHER_OWNER = "team-b"
HOSTS: dict[str, tuple[str, ...]] = {
    "default": ("*",),
    "shop": ("shop.example.com",),
    "api_v2": ("api.example.com",),
}
SETTINGS = MapSettings(project=LB, url_map="lb", hosts=HOSTS)
UPKEEP = dataclasses.replace(SETTINGS, upkeep=True)
OLD, NEW, NEWER = datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 6, 1, tzinfo=UTC)
LONGEST = "s" + "x" * 47 + "z"  # the longest Cloud Run service id (49 characters)


def tf(name: str) -> str:
    """A Terraform-made backend service in the load balancer's project, as Compute spells it."""
    return full_url(backend_service_path(LB, name))


def rel(name: str) -> str:
    return backend_service_path(LB, name)


# Terraform's part of the URL map: it must come out of every plan untouched.
TF_HOST_RULE = {"hosts": ["legacy.example.com"], "pathMatcher": "tf-legacy", "description": "terraform"}
TF_MATCHER = {
    "name": "tf-legacy",
    "defaultService": tf("tf-legacy"),
    "pathRules": [{"paths": ["/old", "/old/*"], "service": tf("tf-legacy")}],
}


def ref(service: str, project: str = P) -> ServiceRef:
    return ServiceRef(project, service)


def backend(service: str, project: str = P, owner: str = OWNER) -> str:
    """Relative path of a service's backend service (in the service's own project)."""
    return service_backend_path(owner, ref(service, project))


def slug(service: str) -> tuple[str, ...]:
    return (f"/{service}", f"/{service}/*")


def route(
    service: str,
    paths: Sequence[str] | None = None,
    alias: str = "default",
    created: datetime | None = NEW,
    project: str = P,
) -> DesiredRoute:
    paths = tuple(sorted(paths or slug(service)))
    return DesiredRoute(project, service, alias, HOSTS.get(alias, ()), paths, frozenset({"us-central1"}), created)


def claim(
    service: str,
    paths: Sequence[str] | None = None,
    alias: str = "default",
    created: datetime | None = NEW,
    project: str = P,
) -> Claim:
    return Claim(ref(service, project), backend(service, project), route(service, paths, alias, created, project))


def release(service: str, project: str = P) -> Claim:
    return Claim(ref(service, project), backend(service, project), None)


# -- the map as read -------------------------------------------------------------------------------------------


@dataclass
class Lb:
    """A URL map under construction, as Compute returns it after a converged runway wrote it."""

    host_rules: list[dict[str, Any]] = field(default_factory=lambda: [copy.deepcopy(TF_HOST_RULE)])
    matchers: list[dict[str, Any]] = field(default_factory=lambda: [copy.deepcopy(TF_MATCHER)])
    default: str = field(default_factory=lambda: tf("tf-default"))

    def publish(
        self,
        service: str,
        paths: Sequence[str] | None = None,
        alias: str = "default",
        owner: str = OWNER,
        project: str = P,
    ) -> Lb:
        """The rule a converged runway (or another installation's) leaves for a service."""
        rule = {"paths": sorted(paths or slug(service)), "service": full_url(backend(service, project, owner))}
        return self.add_rule(alias, rule)

    def add_rule(self, alias: str, rule: Mapping[str, Any], hosts: Sequence[str] | None = None) -> Lb:
        """A path rule in the runway matcher of `alias` (made, with its host rule, when missing)."""
        name = path_matcher_name(alias)
        matcher = self.matcher(name)
        if matcher is None:
            matcher = {"name": name, "defaultService": self.default, "pathRules": []}
            self.matchers.append(matcher)
            self.host_rules.append({"hosts": list(hosts or HOSTS[alias]), "pathMatcher": name})
        matcher["pathRules"].append(dict(rule))
        matcher["pathRules"].sort(key=lambda r: sorted(r["paths"])[0])
        return self

    def matcher(self, name: str) -> dict[str, Any] | None:
        return next((m for m in self.matchers if m["name"] == name), None)

    def url_map(self) -> dict[str, Any]:
        return {
            "kind": "compute#urlMap",
            "id": "1234567890",
            "name": "lb",
            "selfLink": f"https://www.googleapis.com/compute/v1/projects/{LB}/global/urlMaps/lb",
            "defaultService": self.default,
            "hostRules": copy.deepcopy(self.host_rules),
            "pathMatchers": copy.deepcopy(self.matchers),
            "fingerprint": "fp-map-0",
        }


def applied(url_map: Mapping[str, Any], plan: MapPlan) -> dict[str, Any]:
    """The map after the write (Compute keeps what the patch does not name, and changes the fingerprint)."""
    after = copy.deepcopy(dict(url_map))
    if plan.body is not None:
        assert plan.body["fingerprint"] == url_map.get("fingerprint"), "the write must carry the fingerprint read"
        after.update(copy.deepcopy({k: v for k, v in plan.body.items() if k != "fingerprint"}))
        after["fingerprint"] = "fp-map-1"  # as long as the one read: byte budgets see the same size
    return after


# -- invariants --------------------------------------------------------------------------------------------------


def _backends_named(url_map: Mapping[str, Any]) -> set[str]:
    named = {relative_name(url_map["defaultService"], LB)} if url_map.get("defaultService") else set()
    for matcher in url_map.get("pathMatchers") or []:
        if matcher.get("defaultService"):
            named.add(relative_name(matcher["defaultService"], LB))
        for rule in matcher.get("pathRules") or []:
            if isinstance(rule.get("service"), str):
                named.add(relative_name(rule["service"], LB))
    return named


def _rules_of(url_map: Mapping[str, Any], backend_path: str) -> list[tuple[str, Mapping[str, Any]]]:
    return [
        (m["name"], rule)
        for m in url_map.get("pathMatchers") or []
        if is_runway_path_matcher(m["name"])
        for rule in m.get("pathRules") or []
        if isinstance(rule.get("service"), str) and relative_name(rule["service"], LB) == backend_path
    ]


def _untouchable_rules(url_map: Mapping[str, Any], claims: Iterable[Claim]) -> dict[str, list[str]]:
    """Path rules in runway matchers that name no claim's backend service, per matcher, as exact JSON."""
    claimed = {c.backend for c in claims}
    found: dict[str, list[str]] = {}
    for matcher in url_map.get("pathMatchers") or []:
        if not is_runway_path_matcher(matcher["name"]):
            continue
        rules = [
            json.dumps(rule)
            for rule in matcher.get("pathRules") or []
            if not (isinstance(rule.get("service"), str) and relative_name(rule["service"], LB) in claimed)
        ]
        if rules:
            found[matcher["name"]] = rules
    return found


def assert_foreign_survive(before: Mapping[str, Any], after: Mapping[str, Any], claims: Sequence[Claim]) -> None:
    for key, name_key in (("hostRules", "pathMatcher"), ("pathMatchers", "name")):
        theirs_before = [json.dumps(e) for e in before.get(key) or [] if not is_runway_path_matcher(e[name_key])]
        theirs_after = [json.dumps(e) for e in after.get(key) or [] if not is_runway_path_matcher(e[name_key])]
        assert theirs_after == theirs_before, f"foreign {key} changed"
    assert _untouchable_rules(after, claims) == _untouchable_rules(before, claims), "path rules of others changed"
    assert {k: v for k, v in after.items() if k not in ("hostRules", "pathMatchers", "fingerprint")} == {
        k: v for k, v in before.items() if k not in ("hostRules", "pathMatchers", "fingerprint")
    }


def assert_valid_map(
    before: Mapping[str, Any], after: Mapping[str, Any], claims: Sequence[Claim], plan: MapPlan
) -> None:
    """What Compute would refuse, and what runway promises of the map it writes."""
    names = [m["name"] for m in after["pathMatchers"]]
    assert len(names) == len(set(names)), f"two path matchers of one name: {names}"
    hosts: list[str] = []
    for host_rule in after["hostRules"]:
        assert host_rule.get("hosts"), f"a host rule without hosts: {host_rule}"
        assert host_rule["pathMatcher"] in names, f"a host rule names a missing matcher: {host_rule}"
        hosts += [host.lower() for host in host_rule["hosts"]]
    assert len(hosts) == len(set(hosts)), f"a host in two host rules: {hosts}"
    matched = {host_rule["pathMatcher"] for host_rule in after["hostRules"]}
    for matcher in after["pathMatchers"]:
        paths = [path for rule in matcher.get("pathRules") or [] for path in rule.get("paths") or []]
        assert len(paths) == len(set(paths)), f"a path twice in {matcher['name']}: {paths}"
        if is_runway_path_matcher(matcher["name"]):
            assert matcher.get("pathRules") or matcher.get("routeRules"), f"empty runway matcher {matcher['name']}"
            assert matcher["name"] in matched, f"runway matcher {matcher['name']} has no host rule"
    granted = {c.backend for c in claims if c.route is not None and not plan.results[c.ref].refused}
    unknown = _backends_named(after) - _backends_named(before) - granted
    assert not unknown, f"the map names backend services that are neither there before nor granted: {unknown}"
    for c in claims:
        result = plan.results[c.ref]
        rules = _rules_of(after, c.backend)
        if result.refused:
            assert sorted(json.dumps(r) for _, r in rules) == sorted(
                json.dumps(r) for _, r in _rules_of(before, c.backend)
            ), f"{c.ref} was refused but its rules changed"
        elif c.route is None:
            assert rules == [], f"{c.ref} released but still has rules"
        else:
            assert len(rules) == 1, f"{c.ref} granted but has {len(rules)} rules"
            (matcher_name, rule), wanted = rules[0], {"paths": list(c.route.paths), "service": full_url(c.backend)}
            assert matcher_name == path_matcher_name(c.route.host_alias)
            assert sorted(rule["paths"]) == list(c.route.paths)
            if result.state != RuleState.KEPT:  # written by runway now: exactly its canonical form
                assert rule == wanted, f"{c.ref}: {rule} is not {wanted}"
    # Prefix ownership: a granted path the claim did not hold before takes no traffic from a rule of someone else
    # that was there before and still is (among claimants of one batch, precedence decides: the table checks it).
    standing = _rule_meanings(before) & _rule_meanings(after)
    for c in claims:
        if c.route is None or plan.results[c.ref].refused:
            continue
        matcher_name = path_matcher_name(c.route.host_alias)
        had = {p for m, r in _rules_of(before, c.backend) if m == matcher_name for p in r["paths"]}
        for matcher, holder, paths in standing:
            if matcher != matcher_name or holder == c.backend:
                continue
            for path in set(c.route.paths) - had:
                for held in paths:
                    assert not takes_from(path, held), f"{c.ref}'s new {path} takes {held} from {holder}"


def _rule_meanings(url_map: Mapping[str, Any]) -> set[tuple[str, str, tuple[str, ...]]]:
    """(matcher, backend or rule JSON, paths) of every path rule in a runway matcher."""
    return {
        (
            m["name"],
            relative_name(rule["service"], LB) if isinstance(rule.get("service"), str) else json.dumps(rule),
            tuple(sorted(rule.get("paths") or [])),
        )
        for m in url_map.get("pathMatchers") or []
        if is_runway_path_matcher(m["name"])
        for rule in m.get("pathRules") or []
    }


# -- goldens -------------------------------------------------------------------------------------------------------


def result_json(result: RuleResult) -> dict[str, Any]:
    return {"state": str(result.state), "paths": list(result.paths), "holder": result.holder, "reason": result.reason}


def to_json(plan: MapPlan) -> str:
    data = {
        "body": plan.body,
        "results": {str(r): result_json(plan.results[r]) for r in sorted(plan.results)},
        "notes": list(plan.notes),
    }
    return json.dumps(data, indent=2) + "\n"


def check_golden(case_id: str, plan: MapPlan) -> None:
    path = GOLDEN / f"{case_id}.json"
    text = to_json(plan)
    if os.environ.get("RUNWAY_UPDATE_GOLDEN") and (not path.exists() or path.read_text() != text):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        pytest.fail(f"golden {path} written: review the diff, then run again without RUNWAY_UPDATE_GOLDEN")
    assert path.exists(), f"no golden for {case_id}; run with RUNWAY_UPDATE_GOLDEN=1 and review it"
    assert text == path.read_text(), f"plan differs from {path}"


# -- the table -----------------------------------------------------------------------------------------------------


Check = Callable[[Mapping[str, Any], MapPlan], None]


@dataclass(frozen=True)
class Case:
    id: str
    lb: Callable[[], Lb]
    claims: tuple[Claim, ...]
    states: Mapping[str, RuleState]  # `project/service` -> what became of its claim
    writes: bool  # whether the map changes
    settings: MapSettings = SETTINGS
    refused: Mapping[ServiceRef, str] = field(default_factory=dict)
    check: Check | None = None

    def plan(self, url_map: Mapping[str, Any], claims: Iterable[Claim] | None = None) -> MapPlan:
        return plan_url_map(url_map, self.claims if claims is None else claims, self.settings, self.refused)


def states(plan: MapPlan) -> dict[str, RuleState]:
    return {str(r): result.state for r, result in plan.results.items()}


def body(plan: MapPlan) -> dict[str, Any]:
    assert plan.body is not None, "the map should change"
    return plan.body


def matcher_of(plan: MapPlan, name: str) -> dict[str, Any] | None:
    return next((m for m in body(plan)["pathMatchers"] if m["name"] == name), None)


def rules_paths(plan: MapPlan, name: str = "runway-default") -> list[list[str]]:
    return [rule["paths"] for rule in (matcher_of(plan, name) or {}).get("pathRules", [])]


def result(plan: MapPlan, service: str, project: str = P) -> RuleResult:
    return plan.results[ref(service, project)]


def conflict(service: str, paths: tuple[str, ...], holder: str, alias: str = "default") -> Check:
    """The claim of `service` is a conflict on exactly `paths`, naming `holder` in its holder and reason."""

    def check(url_map: Mapping[str, Any], plan: MapPlan) -> None:
        got = result(plan, service)
        assert (got.paths, got.holder) == (paths, holder)
        assert got.reason == f"{', '.join(paths)} on {alias!r} already served by {holder}"

    return check


def refused_with(service: str, reason: str) -> Check:
    def check(url_map: Mapping[str, Any], plan: MapPlan) -> None:
        got = result(plan, service)
        assert (got.state, got.reason, got.holder) == (RuleState.REFUSED, reason, None)

    return check


def rules_are(*paths: list[str], matcher: str = "runway-default") -> Check:
    """The matcher's path rules, in order, hold exactly these paths."""

    def check(url_map: Mapping[str, Any], plan: MapPlan) -> None:
        assert rules_paths(plan, matcher) == list(paths)

    return check


def holder_is(service: str, project: str, holder: str) -> Check:
    def check(url_map: Mapping[str, Any], plan: MapPlan) -> None:
        assert result(plan, service, project).holder == holder

    return check


def reason_starts(service: str, text: str) -> Check:
    def check(url_map: Mapping[str, Any], plan: MapPlan) -> None:
        assert (result(plan, service).reason or "").startswith(text), result(plan, service)

    return check


def all_of(*checks: Check) -> Check:
    def check(url_map: Mapping[str, Any], plan: MapPlan) -> None:
        for one in checks:
            one(url_map, plan)

    return check


# -- case checks -----------------------------------------------------------------------------------------------


def _new_route(url_map: Mapping[str, Any], plan: MapPlan) -> None:
    written = body(plan)
    assert written["fingerprint"] == "fp-map-0"
    assert written["hostRules"] == [TF_HOST_RULE, {"hosts": ["*"], "pathMatcher": "runway-default"}]
    # The backend service lives in the service's project; the map names it across projects by full URL.
    service_url = f"https://www.googleapis.com/compute/v1/projects/{P}/global/backendServices/runway-hello-"
    assert written["pathMatchers"] == [
        TF_MATCHER,
        {
            "name": "runway-default",
            "defaultService": tf("tf-default"),
            "pathRules": [{"paths": ["/hello", "/hello/*"], "service": full_url(backend("hello"))}],
        },
    ]
    assert written["pathMatchers"][1]["pathRules"][0]["service"].startswith(service_url)
    assert plan.notes == ("add proj-a1/hello to /hello, /hello/* on 'default'",)
    assert result(plan, "hello").paths == ("/hello", "/hello/*")


def _slug_change(url_map: Mapping[str, Any], plan: MapPlan) -> None:
    assert rules_paths(plan) == [["/hi", "/hi/*"], ["/other", "/other/*"]]
    assert plan.notes == ("move proj-a1/hello to /hi, /hi/* on 'default'",)


def _host_change(url_map: Mapping[str, Any], plan: MapPlan) -> None:
    written = body(plan)
    assert [m["name"] for m in written["pathMatchers"]] == ["tf-legacy", "runway-shop"]
    assert written["hostRules"] == [TF_HOST_RULE, {"hosts": ["shop.example.com"], "pathMatcher": "runway-shop"}]
    assert plan.notes == ("move proj-a1/hello to /hello, /hello/* on 'shop'", "drop empty path matcher runway-default")


def _back_to_terraform(url_map: Mapping[str, Any], plan: MapPlan) -> None:
    assert body(plan)["pathMatchers"] == [TF_MATCHER]
    assert body(plan)["hostRules"] == [TF_HOST_RULE]


def _alias_underscore(url_map: Mapping[str, Any], plan: MapPlan) -> None:
    assert body(plan)["hostRules"][-1] == {"hosts": ["api.example.com"], "pathMatcher": "runway-api-v2-8d77fba3"}
    assert rules_paths(plan, "runway-api-v2-8d77fba3") == [["/hello", "/hello/*"]]


def _longest(url_map: Mapping[str, Any], plan: MapPlan) -> None:
    (rule,) = (matcher_of(plan, "runway-default") or {})["pathRules"]
    name = rule["service"].rsplit("/", 1)[-1]
    assert len(name) == 63 and name.startswith("runway-sxxx")


def _cross_project(url_map: Mapping[str, Any], plan: MapPlan) -> None:
    services = [rule["service"] for rule in (matcher_of(plan, "runway-default") or {})["pathRules"]]
    assert services == [full_url(backend("hello")), full_url(backend("hello", P2))]
    assert f"/projects/{P}/" in services[0] and f"/projects/{P2}/" in services[1]


def _other_owner_kept(url_map: Mapping[str, Any], plan: MapPlan) -> None:
    (rule,) = (matcher_of(plan, "runway-default") or {})["pathRules"]
    assert rule["service"] == full_url(backend("theirs", owner=OTHER_OWNER))


def _gc(url_map: Mapping[str, Any], plan: MapPlan) -> None:
    assert rules_paths(plan) == [["/keep", "/keep/*"]]
    assert body(plan)["hostRules"] == [TF_HOST_RULE, {"hosts": ["*"], "pathMatcher": "runway-default"}]


def _foreign_host(url_map: Mapping[str, Any], plan: MapPlan) -> None:
    got = result(plan, "hello")
    assert got.holder == "host rule of path matcher tf-shop"
    assert got.reason == "host shop.example.com of alias 'shop' is held by another host rule"
    assert got.paths == ("/hello", "/hello/*")


def _one_host_held(url_map: Mapping[str, Any], plan: MapPlan) -> None:
    got = result(plan, "hello")
    assert got.holder == "host rule of path matcher tf-shop"
    assert got.reason == "host www.shop.example.com of alias 'shop' is held by another host rule"


def _hosts_follow(url_map: Mapping[str, Any], plan: MapPlan) -> None:
    written = body(plan)
    assert written["hostRules"][-1] == {
        "hosts": ["shop.example.com", "www.shop.example.com"],
        "pathMatcher": "runway-shop",
    }
    assert matcher_of(plan, "runway-shop") == url_map["pathMatchers"][-1]  # same rules, untouched
    assert plan.notes == ("hosts of runway-shop: shop.example.com, www.shop.example.com",)


def _default_follows(url_map: Mapping[str, Any], plan: MapPlan) -> None:
    assert (matcher_of(plan, "runway-default") or {})["defaultService"] == tf("tf-legacy")
    assert "path matcher runway-default default follows the URL map's" in plan.notes


def _foreign_rule_kept(url_map: Mapping[str, Any], plan: MapPlan) -> None:
    rules = (matcher_of(plan, "runway-default") or {})["pathRules"]
    foreign = next(m for m in url_map["pathMatchers"] if m["name"] == "runway-default")["pathRules"]
    assert [r for r in rules if r in foreign] == foreign  # the very same bytes


def _folded(url_map: Mapping[str, Any], plan: MapPlan) -> None:
    ours = [h for h in body(plan)["hostRules"] if h["pathMatcher"] == "runway-shop"]
    assert ours == [{"hosts": ["shop.example.com", "www.shop.example.com"], "pathMatcher": "runway-shop"}]


def _dropped_empty(url_map: Mapping[str, Any], plan: MapPlan) -> None:
    assert matcher_of(plan, "runway-shop") is None
    assert [h["pathMatcher"] for h in body(plan)["hostRules"]] == ["tf-legacy", "runway-default"]
    assert plan.notes == ("drop empty path matcher runway-shop",)


def _merged(url_map: Mapping[str, Any], plan: MapPlan) -> None:
    assert rules_paths(plan) == [["/a", "/b"]]


def _spelled(url_map: Mapping[str, Any], plan: MapPlan) -> None:
    assert plan.notes == ()


def _usage_over(budget: str, used: int, limit: int) -> Check:
    def check(url_map: Mapping[str, Any], plan: MapPlan) -> None:
        usage = plan.usage[budget]
        assert (usage.used, usage.limit, usage.exceeded) == (used, limit, used > limit)

    return check


def _refused_keeps_rule(url_map: Mapping[str, Any], plan: MapPlan) -> None:
    assert plan.body is None


# -- maps ------------------------------------------------------------------------------------------------------------


def lb() -> Lb:
    return Lb()


def _dangling_rule_lb() -> Lb:
    return Lb().add_rule("default", {"paths": ["/hello"], "service": tf("tf-legacy")})


def _redirect_rule_lb() -> Lb:
    return Lb().add_rule("default", {"paths": ["/hello"], "urlRedirect": {"hostRedirect": "elsewhere.example.com"}})


def _foreign_host_lb() -> Lb:
    base = Lb()
    base.host_rules.append({"hosts": ["shop.example.com"], "pathMatcher": "tf-shop"})
    base.matchers.append({"name": "tf-shop", "defaultService": tf("tf-legacy")})
    return base


def _one_host_held_lb() -> Lb:
    base = Lb().publish("other")
    base.host_rules.append({"hosts": ["WWW.Shop.example.com"], "pathMatcher": "tf-shop"})
    base.matchers.append({"name": "tf-shop", "defaultService": tf("tf-legacy")})
    return base


def _default_drift_lb() -> Lb:
    base = Lb().publish("hello")
    base.default = tf("tf-legacy")  # Terraform changed the map's default service after runway's last write
    return base


def _duplicate_host_rules_lb() -> Lb:
    base = Lb().publish("hello", alias="shop")
    base.host_rules.append({"hosts": ["www.shop.example.com"], "pathMatcher": "runway-shop"})
    return base


def _empty_matcher_lb() -> Lb:
    base = Lb().publish("hello")
    base.matchers.append({"name": "runway-shop", "defaultService": tf("tf-default"), "pathRules": []})
    base.host_rules.append({"hosts": ["shop.example.com"], "pathMatcher": "runway-shop"})
    return base


def _two_rules_lb() -> Lb:
    return Lb().publish("hello", ("/a",)).publish("hello", ("/b",))


def _spelled_lb() -> Lb:
    base = Lb().publish("hello")
    rule = base.matchers[-1]["pathRules"][0]
    rule["paths"] = list(reversed(rule["paths"]))
    rule["service"] = f"projects/{P}/global/backendServices/{backend('hello').rsplit('/', 1)[-1]}"
    base.matchers[-1]["defaultService"] = relative_name(tf("tf-default"))
    base.host_rules[-1]["hosts"] = ["*"]
    return base


def _unconfigured_alias_lb() -> Lb:
    return Lb().add_rule("blog", {"paths": ["/old"], "service": full_url(backend("old"))}, hosts=["blog.example.com"])


def _prefix_lb(holder: str, paths: Sequence[str]) -> Callable[[], Lb]:
    return lambda: Lb().publish(holder, paths)


SHOP2 = dataclasses.replace(SETTINGS, hosts={**HOSTS, "shop": ("shop.example.com", "www.shop.example.com")})
SHOP2_UPKEEP = dataclasses.replace(SHOP2, upkeep=True)


def limits(**kwargs: int) -> MapSettings:
    return dataclasses.replace(SETTINGS, limits=Limits(**kwargs))


def _bytes_settings() -> MapSettings:
    """A byte budget that holds `old`'s rule but not `young`'s as well (each rule estimated as its compact JSON)."""
    base = size_of(Lb().publish("a", ("/a",)).url_map())
    rule = size_of({"paths": ["/p1"], "service": full_url(backend("old"))}) + 1
    return limits(bytes=base + rule + rule // 2)


GOOGLE_SAYS = "Invalid value for field 'resource.pathMatchers[1].pathRules[1].paths[0]': '/b'. Google says no."

S = RuleState
CASES = [
    # -- publishing -------------------------------------------------------------------------------------------
    Case("new_route", lb, (claim("hello"),), {"proj-a1/hello": S.ADDED}, True, check=_new_route),
    Case("unchanged", lambda: Lb().publish("hello"), (claim("hello"),), {"proj-a1/hello": S.KEPT}, False),
    Case(
        "rule_spelled_differently_is_kept",
        _spelled_lb,
        (claim("hello"),),
        {"proj-a1/hello": S.KEPT},
        False,
        settings=UPKEEP,
        check=_spelled,
    ),
    Case(
        "slug_change",
        lambda: Lb().publish("hello").publish("other"),
        (claim("hello", ("/hi", "/hi/*")),),
        {"proj-a1/hello": S.CHANGED},
        True,
        check=_slug_change,
    ),
    Case(
        "host_change",
        lambda: Lb().publish("hello"),
        (claim("hello", alias="shop"),),
        {"proj-a1/hello": S.CHANGED},
        True,
        check=_host_change,
    ),
    Case(
        "annotation_paths",
        lb,
        (claim("hello", ("/api/v1", "/api/v1/*", "/healthz")),),
        {"proj-a1/hello": S.ADDED},
        True,
        check=rules_are(["/api/v1", "/api/v1/*", "/healthz"]),
    ),
    Case(
        "alias_with_underscore",
        lb,
        (claim("hello", alias="api_v2"),),
        {"proj-a1/hello": S.ADDED},
        True,
        check=_alias_underscore,
    ),
    Case("names_at_limit", lb, (claim(LONGEST, ("/long",)),), {f"proj-a1/{LONGEST}": S.ADDED}, True, check=_longest),
    Case(
        "cross_project_same_service_name",
        lb,
        (claim("hello"), claim("hello", ("/hello2", "/hello2/*"), project=P2)),
        {"proj-a1/hello": S.ADDED, "proj-b2/hello": S.ADDED},
        True,
        check=_cross_project,
    ),
    Case(
        "two_rules_for_one_service_merged",
        _two_rules_lb,
        (claim("hello", ("/a", "/b")),),
        {"proj-a1/hello": S.CHANGED},
        True,
        check=_merged,
    ),
    Case(
        "other_owner_same_service_name",
        lambda: Lb().publish("hello", ("/theirs",), owner=OTHER_OWNER),
        (claim("hello"),),
        {"proj-a1/hello": S.ADDED},
        True,
    ),
    Case(
        "unclaimed_services_untouched",
        lambda: Lb().publish("keep").publish("orphan", alias="shop"),
        (claim("hello"),),
        {"proj-a1/hello": S.ADDED},
        True,
    ),
    Case(
        "foreign_rule_in_runway_matcher_survives",
        _dangling_rule_lb,
        (claim("other"),),
        {"proj-a1/other": S.ADDED},
        True,
        check=_foreign_rule_kept,
    ),
    # -- releasing --------------------------------------------------------------------------------------------
    Case(
        "release_removes_rule_and_empty_matcher",
        lambda: Lb().publish("hello"),
        (release("hello"),),
        {"proj-a1/hello": S.REMOVED},
        True,
        check=_back_to_terraform,
    ),
    Case(
        "release_keeps_shared_matcher",
        lambda: Lb().publish("hello").publish("other"),
        (release("hello"),),
        {"proj-a1/hello": S.REMOVED},
        True,
        check=rules_are(["/other", "/other/*"]),
    ),
    Case("release_absent", lb, (release("hello"),), {"proj-a1/hello": S.ABSENT}, False),
    Case(
        "release_everything",
        lambda: Lb().publish("a").publish("b", alias="shop"),
        (release("a"), release("b")),
        {"proj-a1/a": S.REMOVED, "proj-a1/b": S.REMOVED},
        True,
        check=_back_to_terraform,
    ),
    Case(
        "gc_orphans",
        lambda: Lb().publish("keep").publish("orphan"),
        (claim("keep"), release("orphan")),
        {"proj-a1/keep": S.KEPT, "proj-a1/orphan": S.REMOVED},
        True,
        settings=UPKEEP,
        check=_gc,
    ),
    Case(
        "other_owner_untouched",
        lambda: Lb().publish("theirs", owner=OTHER_OWNER).publish("mine"),
        (release("mine"),),
        {"proj-a1/mine": S.REMOVED},
        True,
        settings=UPKEEP,
        check=_other_owner_kept,
    ),
    Case(
        "release_in_unconfigured_alias_drops_its_matcher",
        _unconfigured_alias_lb,
        (release("old"),),
        {"proj-a1/old": S.REMOVED},
        True,
        check=_back_to_terraform,
    ),
    Case("upkeep_leaves_unconfigured_alias", _unconfigured_alias_lb, (), {}, False, settings=UPKEEP),
    # -- conflicts ----------------------------------------------------------------------------------------------
    Case(
        "conflict_runway_service",
        lambda: Lb().publish("holder", ("/shared",)),
        (claim("hello", ("/hello", "/shared")),),
        {"proj-a1/hello": S.CONFLICT},
        False,
        check=conflict("hello", ("/shared",), backend("holder")),
    ),
    Case(
        "conflict_other_owner",
        lambda: Lb().publish("theirs", ("/hello",), owner=OTHER_OWNER),
        (claim("hello", ("/hello",)),),
        {"proj-a1/hello": S.CONFLICT},
        False,
        check=conflict("hello", ("/hello",), backend("theirs", owner=OTHER_OWNER)),
    ),
    Case(
        "conflict_other_project",
        lambda: Lb().publish("hello"),
        (claim("hello", project=P2),),
        {"proj-b2/hello": S.CONFLICT},
        False,
        check=holder_is("hello", P2, backend("hello")),
    ),
    Case(
        "conflict_foreign_rule",
        _dangling_rule_lb,
        (claim("hello", ("/hello",)),),
        {"proj-a1/hello": S.CONFLICT},
        False,
        check=conflict("hello", ("/hello",), rel("tf-legacy")),
    ),
    Case(
        "conflict_foreign_rule_without_service",
        _redirect_rule_lb,
        (claim("hello", ("/hello",)),),
        {"proj-a1/hello": S.CONFLICT},
        False,
        check=conflict("hello", ("/hello",), "a rule of path matcher runway-default"),
    ),
    Case(
        "conflict_foreign_host_rule",
        _foreign_host_lb,
        (claim("hello", alias="shop"),),
        {"proj-a1/hello": S.CONFLICT},
        False,
        check=_foreign_host,
    ),
    Case(
        "conflict_one_host_of_alias_held_refuses_alias",
        _one_host_held_lb,
        (claim("hello", alias="shop"), claim("other")),
        {"proj-a1/hello": S.CONFLICT, "proj-a1/other": S.KEPT},
        False,
        settings=SHOP2,
        check=_one_host_held,
    ),
    Case(
        "conflict_keeps_existing_route",
        lambda: Lb().publish("hello").publish("holder", ("/hi",)),
        (claim("hello", ("/hi",)),),
        {"proj-a1/hello": S.CONFLICT},
        False,
        check=conflict("hello", ("/hi",), backend("holder")),
    ),
    Case(
        "unknown_alias",
        lb,
        (claim("hello", alias="blog"),),
        {"proj-a1/hello": S.REFUSED},
        False,
        check=refused_with("hello", "host alias 'blog' is not in RUNWAY_HOSTS"),
    ),
    Case(
        "unknown_alias_keeps_existing_route",
        lambda: Lb().publish("hello"),
        (claim("hello", alias="blog"),),
        {"proj-a1/hello": S.REFUSED},
        False,
        check=refused_with("hello", "host alias 'blog' is not in RUNWAY_HOSTS"),
    ),
    # -- precedence among claimants (the sweep plans every claim at once) ------------------------------------------
    Case(
        "claimants_oldest_wins",
        lb,
        (claim("young", ("/x",), created=NEW), claim("old", ("/x",), created=OLD)),
        {"proj-a1/old": S.ADDED, "proj-a1/young": S.CONFLICT},
        True,
        check=conflict("young", ("/x",), backend("old")),
    ),
    Case(
        "claimants_name_order_then_unknown_time_last",
        lb,
        (claim("bbb", ("/x",)), claim("ccc", ("/x",), created=None), claim("aaa", ("/x",))),
        {"proj-a1/aaa": S.ADDED, "proj-a1/bbb": S.CONFLICT, "proj-a1/ccc": S.CONFLICT},
        True,
        check=all_of(conflict("bbb", ("/x",), backend("aaa")), conflict("ccc", ("/x",), backend("aaa"))),
    ),
    Case(
        "claimants_unknown_time_last",
        lb,
        (claim("aaa", ("/x",), created=None), claim("zzz", ("/x",))),
        {"proj-a1/aaa": S.CONFLICT, "proj-a1/zzz": S.ADDED},
        True,
        check=conflict("aaa", ("/x",), backend("zzz")),
    ),
    Case(
        "claimants_naive_time_taken_as_utc",
        lb,
        (claim("aware", ("/x",), created=NEW), claim("naive", ("/x",), created=datetime(2024, 12, 31, 23, 0))),
        {"proj-a1/aware": S.CONFLICT, "proj-a1/naive": S.ADDED},
        True,
        check=conflict("aware", ("/x",), backend("naive")),
    ),
    Case(
        "claimants_overlap_on_one_path",
        lb,
        (claim("old", ("/x", "/y"), created=OLD), claim("young", ("/y", "/z"), created=NEW)),
        {"proj-a1/old": S.ADDED, "proj-a1/young": S.CONFLICT},
        True,
        check=conflict("young", ("/y",), backend("old")),
    ),
    Case(
        "holder_beats_older_claimant",
        lambda: Lb().publish("young", ("/x",)),
        (claim("young", ("/x",), created=NEWER), claim("old", ("/x",), created=OLD)),
        {"proj-a1/old": S.CONFLICT, "proj-a1/young": S.KEPT},
        False,
        check=conflict("old", ("/x",), backend("young")),
    ),
    Case(
        "released_path_is_free",
        lambda: Lb().publish("mover", ("/x",)),
        (claim("mover", ("/y",)), claim("taker", ("/x",))),
        {"proj-a1/mover": S.CHANGED, "proj-a1/taker": S.ADDED},
        True,
        check=rules_are(["/x"], ["/y"]),
    ),
    Case(
        "release_frees_path_in_same_batch",
        lambda: Lb().publish("a", ("/x",)),
        (release("a"), claim("b", ("/x",))),
        {"proj-a1/a": S.REMOVED, "proj-a1/b": S.ADDED},
        True,
    ),
    Case(
        "conflict_cascade",
        lambda: Lb().publish("a", ("/a",)).publish("b", ("/b",)),
        (claim("a", ("/b",), created=OLD), claim("c", ("/a",), created=OLD)),  # b: invalid, so not in the batch
        {"proj-a1/a": S.CONFLICT, "proj-a1/c": S.CONFLICT},
        False,
        check=all_of(conflict("a", ("/b",), backend("b")), conflict("c", ("/a",), backend("a"))),
    ),
    # -- prefix ownership -----------------------------------------------------------------------------------------
    Case(
        "prefix_sub_path_conflict",
        _prefix_lb("owner1", ("/owner1", "/owner1/*")),
        (claim("admin", ("/owner1/admin", "/owner1/admin/*")),),
        {"proj-a1/admin": S.CONFLICT},
        False,
        check=conflict("admin", ("/owner1/admin", "/owner1/admin/*"), backend("owner1")),
    ),
    Case(
        "prefix_trailing_slash_conflict",
        _prefix_lb("holder", ("/x/*",)),
        (claim("hello", ("/x/",)),),
        {"proj-a1/hello": S.CONFLICT},
        False,
        check=conflict("hello", ("/x/",), backend("holder")),
    ),
    Case(
        "prefix_bare_path_is_not_inside",
        _prefix_lb("holder", ("/x/*",)),
        (claim("hello", ("/x",)),),
        {"proj-a1/hello": S.ADDED},
        True,
    ),
    Case(
        "prefix_same_service_extends_own_prefix",
        _prefix_lb("hello", ("/x", "/x/*")),
        (claim("hello", ("/x", "/x/*", "/x/admin", "/x/admin/*")),),
        {"proj-a1/hello": S.CHANGED},
        True,
    ),
    Case(
        "prefix_newcomer_over_existing_sub_path",
        _prefix_lb("admin", ("/x/admin",)),
        (claim("hello", ("/x/*",)),),
        {"proj-a1/hello": S.ADDED},
        True,
        check=rules_are(["/x/*"], ["/x/admin"]),
    ),
    Case(
        "prefix_sub_path_holder_keeps_it",
        lambda: Lb().publish("admin", ("/x/admin",)).publish("hello", ("/x/*",)),
        (claim("admin", ("/x/admin",)),),
        {"proj-a1/admin": S.KEPT},
        False,
    ),
    Case(
        "prefix_sub_path_holder_keeps_it_beside_older_prefix_claimant",
        _prefix_lb("admin", ("/x/admin",)),
        (claim("admin", ("/x/admin",), created=NEWER), claim("hello", ("/x/*",), created=OLD)),
        {"proj-a1/admin": S.KEPT, "proj-a1/hello": S.ADDED},
        True,
    ),
    Case(
        "prefix_sub_path_holder_cannot_grow_inside_prefix",
        lambda: Lb().publish("admin", ("/x/admin",)).publish("hello", ("/x/*",)),
        (claim("admin", ("/x/admin", "/x/more")),),
        {"proj-a1/admin": S.CONFLICT},
        False,
        check=conflict("admin", ("/x/more",), backend("hello")),
    ),
    Case(
        "prefix_over_foreign_rule_allowed",
        lambda: Lb().add_rule("default", {"paths": ["/x/legacy"], "service": tf("tf-legacy")}),
        (claim("hello", ("/x/*",)),),
        {"proj-a1/hello": S.ADDED},
        True,
        check=_foreign_rule_kept,
    ),
    Case(
        "prefix_under_foreign_prefix_conflict",
        lambda: Lb().add_rule("default", {"paths": ["/y/*"], "service": tf("tf-legacy")}),
        (claim("hello", ("/y/z",)),),
        {"proj-a1/hello": S.CONFLICT},
        False,
        check=conflict("hello", ("/y/z",), rel("tf-legacy")),
    ),
    Case(
        "prefix_of_other_owner_conflict",
        lambda: Lb().publish("theirs", ("/x/*",), owner=OTHER_OWNER),
        (claim("hello", ("/x/admin",)),),
        {"proj-a1/hello": S.CONFLICT},
        False,
        check=conflict("hello", ("/x/admin",), backend("theirs", owner=OTHER_OWNER)),
    ),
    Case(
        "prefix_claimants_older_prefix_wins",
        lb,
        (claim("old", ("/x/*",), created=OLD), claim("young", ("/x/admin",), created=NEW)),
        {"proj-a1/old": S.ADDED, "proj-a1/young": S.CONFLICT},
        True,
        check=conflict("young", ("/x/admin",), backend("old")),
    ),
    Case(
        "prefix_claimants_older_sub_path_then_prefix",
        lb,
        (claim("old", ("/x/admin",), created=OLD), claim("young", ("/x/*",), created=NEW)),
        {"proj-a1/old": S.ADDED, "proj-a1/young": S.ADDED},
        True,
    ),
    Case(
        "prefix_on_other_alias_is_independent",
        _prefix_lb("holder", ("/x/*",)),
        (claim("hello", ("/x/admin",), alias="shop"),),
        {"proj-a1/hello": S.ADDED},
        True,
    ),
    Case(
        "prefix_holder_releasing_frees_it",
        _prefix_lb("holder", ("/x/*",)),
        (release("holder"), claim("hello", ("/x/admin",))),
        {"proj-a1/holder": S.REMOVED, "proj-a1/hello": S.ADDED},
        True,
    ),
    # -- upkeep: matchers follow configuration and the map's default ------------------------------------------------
    Case(
        "upkeep_hosts_follow_config",
        lambda: Lb().publish("hello", alias="shop"),
        (claim("hello", alias="shop"),),
        {"proj-a1/hello": S.KEPT},
        True,
        settings=SHOP2_UPKEEP,
        check=_hosts_follow,
    ),
    Case(  # an unchanged service's event never rewrites its matcher: that is the sweep's upkeep
        "event_kept_leaves_its_matcher_hosts_to_the_sweep",
        lambda: Lb().publish("hello", alias="shop"),
        (claim("hello", alias="shop"),),
        {"proj-a1/hello": S.KEPT},
        False,
        settings=SHOP2,
    ),
    Case(
        "event_leaves_host_drift_of_other_matchers",
        lambda: Lb().publish("hello", alias="shop").publish("a"),
        (claim("a"),),
        {"proj-a1/a": S.KEPT},
        False,
        settings=SHOP2,
    ),
    Case(
        "event_rewrite_applies_config_hosts",
        lambda: Lb().publish("hello", alias="shop"),
        (claim("new", alias="shop"),),
        {"proj-a1/new": S.ADDED},
        True,
        settings=SHOP2,
    ),
    Case(
        "upkeep_matcher_default_follows_url_map",
        _default_drift_lb,
        (claim("hello"),),
        {"proj-a1/hello": S.KEPT},
        True,
        settings=UPKEEP,
        check=_default_follows,
    ),
    Case(
        "upkeep_without_claims_default_follows_url_map",
        _default_drift_lb,
        (),
        {},
        True,
        settings=UPKEEP,
        check=_default_follows,
    ),
    Case(
        "event_rewrite_default_follows_url_map",
        _default_drift_lb,
        (claim("other"),),
        {"proj-a1/other": S.ADDED},
        True,
        check=_default_follows,
    ),
    Case(
        "event_kept_leaves_its_matcher_default_to_the_sweep",
        _default_drift_lb,
        (claim("hello"),),
        {"proj-a1/hello": S.KEPT},
        False,
    ),
    Case("upkeep_keeps_matcher_with_foreign_rule", _dangling_rule_lb, (), {}, False, settings=UPKEEP),
    Case(
        "upkeep_leaves_unclaimed_routes",
        lambda: Lb().publish("a").publish("b", alias="shop"),
        (),
        {},
        False,
        settings=UPKEEP,
    ),
    Case(
        "upkeep_drops_empty_runway_matcher",
        _empty_matcher_lb,
        (),
        {},
        True,
        settings=UPKEEP,
        check=_dropped_empty,
    ),
    Case(
        "upkeep_folds_duplicate_host_rules",
        _duplicate_host_rules_lb,
        (claim("hello", alias="shop"),),
        {"proj-a1/hello": S.KEPT},
        True,
        settings=SHOP2_UPKEEP,
        check=_folded,
    ),
    # -- Google's limits --------------------------------------------------------------------------------------------
    Case(
        "limit_path_rules_per_matcher",
        lambda: Lb().publish("a", ("/a",)),
        (claim("a", ("/a",)), claim("c", ("/c",), created=NEW), claim("b", ("/b",), created=OLD)),
        {"proj-a1/a": S.KEPT, "proj-a1/b": S.ADDED, "proj-a1/c": S.REFUSED},
        True,
        settings=limits(path_rules_per_path_matcher=2),
        check=refused_with("c", "Google's limit on path rules per path matcher: 3 of 2 (pathMatchers[runway-default])"),
    ),
    Case(
        "limit_predicates_refused_alone",
        lambda: Lb().publish("a", ("/a", "/a/*")),
        (
            claim("big", ("/b1", "/b2", "/b3", "/b4"), created=OLD),
            claim("fits", ("/f", "/f/*"), created=NEW),
            claim("late", ("/l", "/l/*"), created=NEWER),
        ),
        {"proj-a1/big": S.REFUSED, "proj-a1/fits": S.ADDED, "proj-a1/late": S.REFUSED},
        True,
        settings=limits(predicates_per_path_matcher=5),
        check=all_of(
            refused_with(
                "big", "Google's limit on path predicates per path matcher: 6 of 5 (pathMatchers[runway-default])"
            ),
            refused_with(
                "late", "Google's limit on path predicates per path matcher: 6 of 5 (pathMatchers[runway-default])"
            ),
        ),
    ),
    Case(
        "limit_host_rules_and_path_matchers",
        lambda: Lb().publish("a"),
        (claim("s", alias="shop", created=OLD), claim("b")),
        {"proj-a1/s": S.REFUSED, "proj-a1/b": S.ADDED},
        True,
        settings=limits(host_rules_and_path_matchers=4),
        check=refused_with("s", "Google's limit on host rules and path matchers per URL map: 6 of 4"),
    ),
    Case(
        "limit_backends_per_url_map",  # tf-default, tf-legacy and a's: a fourth fits, a fifth does not
        lambda: Lb().publish("a", ("/a",)),
        (claim("a", ("/a",)), claim("late", ("/l",), created=NEW), claim("early", ("/e",), created=OLD)),
        {"proj-a1/a": S.KEPT, "proj-a1/early": S.ADDED, "proj-a1/late": S.REFUSED},
        True,
        settings=limits(backends_per_url_map=4),
        check=refused_with("late", "Google's limit on backend services and buckets per URL map: 5 of 4"),
    ),
    Case(
        "limit_backends_moved_rule_counts_once",  # a's backend is already referenced: moving its rule adds none
        lambda: Lb().publish("a", ("/a",)),
        (claim("a", ("/a2",)),),
        {"proj-a1/a": S.CHANGED},
        True,
        settings=limits(backends_per_url_map=3),
    ),
    Case(
        "limit_bytes_oldest_first",
        lambda: Lb().publish("a", ("/a",)),
        (claim("young", ("/p2",), created=NEW), claim("old", ("/p1",), created=OLD)),
        {"proj-a1/old": S.ADDED, "proj-a1/young": S.REFUSED},
        True,
        settings=_bytes_settings(),
        check=reason_starts("young", "Google's limit on bytes per URL map: "),
    ),
    Case(
        "limit_existing_rules_over_lowered_limit_kept",
        lambda: Lb().publish("a", ("/a",)).publish("b", ("/b",)).publish("c", ("/c",)),
        (claim("a", ("/a",)), claim("b", ("/b",)), claim("c", ("/c",)), claim("d", ("/d",), created=OLD)),
        {"proj-a1/a": S.KEPT, "proj-a1/b": S.KEPT, "proj-a1/c": S.KEPT, "proj-a1/d": S.REFUSED},
        False,
        settings=limits(path_rules_per_path_matcher=1),
        check=all_of(
            refused_with("d", "Google's limit on path rules per path matcher: 4 of 1 (pathMatchers[runway-default])"),
            _usage_over("path_rules_per_path_matcher", 3, 1),
        ),
    ),
    Case(
        "limit_changed_rule_can_be_refused",
        lambda: Lb().publish("a", ("/a", "/a/*")).publish("b", ("/b", "/b/*")),
        (claim("a", ("/a", "/a/*", "/a2")),),
        {"proj-a1/a": S.REFUSED},
        False,
        settings=limits(predicates_per_path_matcher=4),
        check=refused_with(
            "a", "Google's limit on path predicates per path matcher: 5 of 4 (pathMatchers[runway-default])"
        ),
    ),
    Case(
        "limit_refusal_keeps_path_cascade",
        lambda: Lb().publish("mover", ("/x",)),
        (claim("mover", ("/y", "/y/*", "/z"), created=OLD), claim("taker", ("/x",), created=NEW)),
        {"proj-a1/mover": S.REFUSED, "proj-a1/taker": S.CONFLICT},
        False,
        settings=limits(predicates_per_path_matcher=2),
        check=conflict("taker", ("/x",), backend("mover")),
    ),
    Case(
        "refused_by_google",
        lb,
        (claim("a", ("/a",)), claim("b", ("/b",))),
        {"proj-a1/a": S.ADDED, "proj-a1/b": S.REFUSED},
        True,
        refused={ref("b"): GOOGLE_SAYS},
        check=refused_with("b", GOOGLE_SAYS),
    ),
    Case(
        "refused_by_google_keeps_existing_rule",
        lambda: Lb().publish("b", ("/b",)),
        (claim("b", ("/b2",)),),
        {"proj-a1/b": S.REFUSED},
        False,
        refused={ref("b"): GOOGLE_SAYS},
        check=all_of(refused_with("b", GOOGLE_SAYS), _refused_keeps_rule),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_case_states_golden_and_invariants(case: Case) -> None:
    url_map = case.lb().url_map()
    pristine = copy.deepcopy(url_map)
    plan = case.plan(url_map)

    assert states(plan) == case.states
    assert plan.changes is case.writes
    assert bool(plan.notes) is case.writes
    if plan.body is not None:
        assert set(plan.body) == {"hostRules", "pathMatchers", "fingerprint"}
    if case.check:
        case.check(url_map, plan)
    check_golden(case.id, plan)
    assert url_map == pristine, "the planner mutated its input"

    after = applied(url_map, plan)
    assert_foreign_survive(url_map, after, case.claims)
    assert_valid_map(url_map, after, case.claims, plan)

    assert to_json(case.plan(case.lb().url_map())) == to_json(plan), "same input, same plan"
    assert to_json(case.plan(case.lb().url_map(), reversed(case.claims))) == to_json(plan), "claim order matters"

    again = case.plan(after)
    assert again.body is None, f"not converged: {again.notes}"
    for r, first in plan.results.items():
        if first.refused:  # refused the same way (a limit's numbers may differ: granted rules now count first)
            got = again.results[r]
            assert (got.state, got.paths, got.holder) == (first.state, first.paths, first.holder), got
            assert (got.reason or "").split(":")[0] == (first.reason or "").split(":")[0], got
        else:
            assert again.results[r].state in (RuleState.KEPT, RuleState.ABSENT), again.results[r]


def test_case_ids_unique() -> None:
    assert len({case.id for case in CASES}) == len(CASES)


def test_every_golden_has_a_case() -> None:
    assert {path.stem for path in GOLDEN.glob("*.json")} == {case.id for case in CASES}


# -- properties beyond the table -------------------------------------------------------------------------------------


def test_one_batch_and_one_claim_at_a_time_agree() -> None:
    """Claims granted together, or one event after the other, give maps equal by meaning; each converged."""
    claims = [claim("a"), claim("b", alias="shop"), claim("c", ("/c",)), claim("hello", project=P2)]
    batch = applied(Lb().url_map(), plan_url_map(Lb().url_map(), claims, SETTINGS))
    one_by_one = Lb().url_map()
    for c in claims:
        one_by_one = applied(one_by_one, plan_url_map(one_by_one, [c], SETTINGS))
    for c in claims:
        assert plan_url_map(batch, [c], SETTINGS).results[c.ref].state == RuleState.KEPT
    together = plan_url_map(one_by_one, claims, UPKEEP)
    assert together.body is None and {r.state for r in together.results.values()} == {RuleState.KEPT}
    default = next(m for m in one_by_one["pathMatchers"] if m["name"] == "runway-default")
    assert [rule["paths"] for rule in default["pathRules"]] == [["/a", "/a/*"], ["/c"], ["/hello", "/hello/*"]]


def test_other_installation_sharing_the_matcher() -> None:
    """Two owners on one alias: each keeps its own rules; neither removes the other's, nor the shared matcher."""
    url_map = Lb().publish("theirs", owner=OTHER_OWNER).publish("mine").url_map()
    after = applied(url_map, plan_url_map(url_map, [release("mine")], UPKEEP))
    theirs = Claim(ref("theirs"), backend("theirs", owner=OTHER_OWNER), route("theirs"))
    plan = plan_url_map(after, [theirs], UPKEEP)
    assert plan.body is None and plan.results[ref("theirs")].state == RuleState.KEPT


def test_usage_is_of_the_map_as_planned() -> None:
    url_map = Lb().publish("a").url_map()
    plan = plan_url_map(url_map, [claim("b", ("/b1", "/b2", "/b3")), release("a")], SETTINGS)
    usage = plan.usage
    assert (usage["path_rules_per_path_matcher"].used, usage["predicates_per_path_matcher"].used) == (1, 3)
    assert usage["predicates_per_path_matcher"].where == "pathMatchers[runway-default]"
    assert usage["host_rules_and_path_matchers"].used == 4
    assert usage["bytes"].used == size_of(applied(url_map, plan))


def test_kept_claim_never_refused_whatever_the_limits() -> None:
    url_map = Lb().publish("a", ("/a", "/a/*")).publish("b", alias="shop").url_map()
    tight = dataclasses.replace(
        UPKEEP,
        limits=Limits(
            host_rules_and_path_matchers=1,
            path_rules_per_path_matcher=0,
            predicates_per_path_matcher=0,
            backends_per_url_map=1,
            bytes=10,
        ),
    )
    plan = plan_url_map(url_map, [claim("a", ("/a", "/a/*")), claim("b", alias="shop")], tight)
    assert plan.body is None
    assert {r.state for r in plan.results.values()} == {RuleState.KEPT}
    over = ("bytes", "host_rules_and_path_matchers", "backends_per_url_map")
    assert all(u.exceeded for k, u in plan.usage.items() if k in over)


def test_precedence_oldest_first_unknown_last_then_name() -> None:
    """The one order among claimants, the planner's and the writer's bisection's (`precedence`)."""
    naive_old = claim("naive", created=datetime(2023, 1, 1))  # naive: taken as UTC
    given = [claim("b", created=None), claim("z", created=NEW), claim("a", created=None), claim("y", created=OLD)]
    order = [c.ref.service for c in precedence([*given, naive_old])]
    assert order == ["naive", "y", "z", "a", "b"]
