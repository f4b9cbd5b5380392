"""One service's objects (`shared.plan_objects`): NEG per region, backend service, Cloud Armor policy.

The table asserts exact Change lists (op, kind, name, project, region, body, and the reason). Beyond it, object
plans and URL-map plans of a few end-to-end scenarios are applied together, in the appliers' order (`before`,
the map write, `after`), to a strict in-memory Compute (`Compute`): no dangling references, nothing deleted while
in use, fingerprints checked, the map never naming a backend that is not there or not protected; planning again
on the result changes nothing (convergence).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from shared.model import Change, Claim, DesiredRoute, Kind, Op, RuleState, ServiceRef
from shared.naming import (
    backend_service_name,
    full_url,
    is_runway_path_matcher,
    marker_json,
    neg_name,
    neg_url,
    path_matcher_name,
    relative_name,
    security_policy_url,
    service_backend_path,
)
from shared.plan_objects import ObjectsPlan, is_ours, neg_regions, plan_objects
from shared.plan_url_map import MapPlan, MapSettings, plan_url_map

P = "proj-a1"
P2 = "proj-b2"
LB = "lb-proj"
OWNER = "runway"
OTHER_OWNER = "team-b"
US, EU, ASIA = "us-central1", "europe-west1", "asia-east1"
REGIONS = (ASIA, EU, US)
POLICY = "armor"
NEW = datetime(2025, 1, 1, tzinfo=UTC)
LONGEST = "s" + "x" * 47 + "z"
HOSTS = {"default": ("*",), "shop": ("shop.example.com",)}
SETTINGS = MapSettings(project=LB, url_map="lb", hosts=HOSTS)


def ref(service: str = "hello", project: str = P) -> ServiceRef:
    return ServiceRef(project, service)


def route(
    service: str = "hello",
    regions: Sequence[str] = (US,),
    paths: Sequence[str] | None = None,
    alias: str = "default",
    project: str = P,
) -> DesiredRoute:
    paths = tuple(sorted(paths or (f"/{service}", f"/{service}/*")))
    return DesiredRoute(project, service, alias, HOSTS[alias], paths, frozenset(regions), NEW)


def neg_of(service: str, region: str, project: str = P) -> str:
    return neg_name(OWNER, project, region, service)


def bs_of(service: str, project: str = P) -> str:
    return backend_service_name(OWNER, project, service)


# -- objects as Compute returns them ----------------------------------------------------------------------------


def neg(
    region: str = US, service: str = "hello", project: str = P, owner: str = OWNER, description: str | None = None
) -> dict[str, Any]:
    """Our NEG's name, with runway's marker for `owner` (or any other `description`)."""
    name = neg_of(service, region, project)
    return {
        "kind": "compute#networkEndpointGroup",
        "name": name,
        "description": marker_json(owner, project, service) if description is None else description,
        "networkEndpointType": "SERVERLESS",
        "cloudRun": {"service": service},
        "region": f"https://www.googleapis.com/compute/v1/projects/{project}/regions/{region}",
        "selfLink": neg_url(project, region, name),
    }


def backend(
    regions: Sequence[str] = (US,),
    service: str = "hello",
    project: str = P,
    owner: str = OWNER,
    policy: str | None = POLICY,
    protocol: str | None = "HTTPS",
    groups: list[dict[str, Any]] | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    """Our backend service's name, as a converged runway leaves it (policy: a bare name in `project`)."""
    name = bs_of(service, project)
    found: dict[str, Any] = {
        "kind": "compute#backendService",
        "name": name,
        "description": marker_json(owner, project, service) if description is None else description,
        "loadBalancingScheme": "EXTERNAL_MANAGED",
        "backends": groups
        if groups is not None
        else [{"group": neg_url(project, r, neg_of(service, r, project))} for r in sorted(regions)],
        "fingerprint": "fp-bs",
    }
    if protocol:
        found["protocol"] = protocol
    if policy:
        found["securityPolicy"] = policy if "/" in policy else security_policy_url(project, policy)
    return found


# -- the changes expected ----------------------------------------------------------------------------------------


def groups(regions: Iterable[str], service: str = "hello", project: str = P) -> list[dict[str, str]]:
    return [{"group": neg_url(project, r, neg_of(service, r, project))} for r in sorted(regions)]


def create_neg(region: str, service: str = "hello", project: str = P) -> Change:
    name = neg_of(service, region, project)
    body = {
        "name": name,
        "description": marker_json(OWNER, project, service),
        "networkEndpointType": "SERVERLESS",
        "cloudRun": {"service": service},
    }
    r = ref(service, project)
    return Change(Op.CREATE, Kind.NEG, name, project, f"{r}: serverless NEG for {region}", (r,), body, region)


def create_backend(regions: Iterable[str], service: str = "hello", project: str = P) -> Change:
    name, r = bs_of(service, project), ref(service, project)
    body = {
        "name": name,
        "description": marker_json(OWNER, project, service),
        "loadBalancingScheme": "EXTERNAL_MANAGED",
        "protocol": "HTTPS",
        "backends": groups(regions, service, project),
    }
    why = f"{r}: backend service over {', '.join(sorted(regions))}"
    return Change(Op.CREATE, Kind.BACKEND_SERVICE, name, project, why, (r,), body)


def patch_backend(route_regions: Iterable[str], *, backends: bool = True, protocol: bool = False) -> Change:
    name, r = bs_of("hello"), ref()
    body: dict[str, Any] = {"name": name}
    if backends:
        body["backends"] = groups(route_regions)
    if protocol:
        body["protocol"] = "HTTPS"
    body["fingerprint"] = "fp-bs"
    why = f"{r}: backend service to serve {', '.join(sorted(route_regions))}"
    return Change(Op.UPDATE, Kind.BACKEND_SERVICE, name, P, why, (r,), body)


def attach(url: str, replacing: str | None = None, service: str = "hello", project: str = P) -> Change:
    r = ref(service, project)
    why = f"{r}: attach Cloud Armor policy {url.rsplit('/', 1)[-1]}" + (
        f" in place of {replacing}" if replacing else ""
    )
    return Change(Op.UPDATE, Kind.SECURITY_POLICY, bs_of(service, project), project, why, (r,), {"securityPolicy": url})


def delete_neg(region: str, why: str = "not published any more") -> Change:
    return Change(Op.DELETE, Kind.NEG, neg_of("hello", region), P, f"{ref()}: {why}", (ref(),), region=region)


def delete_backend() -> Change:
    return Change(Op.DELETE, Kind.BACKEND_SERVICE, bs_of("hello"), P, f"{ref()}: not published any more", (ref(),))


ARMOR = security_policy_url(P, POLICY)


# -- the table -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    route: DesiredRoute | None
    backend: Mapping[str, Any] | None
    negs: Mapping[str, Mapping[str, Any] | None]
    before: tuple[Change, ...] = ()
    after: tuple[Change, ...] = ()
    squatters: tuple[str, ...] = ()
    policy: str | None = POLICY
    ref: ServiceRef = field(default_factory=ref)


HAND_MADE = "made by hand"
CASES = [
    # -- publishing a new route ---------------------------------------------------------------------------------
    Case("new_single_region", route(), None, {}, (create_neg(US), create_backend([US]), attach(ARMOR))),
    Case("new_without_policy", route(), None, {}, (create_neg(US), create_backend([US])), policy=None),
    Case(
        "new_multi_region",
        route(regions=(US, EU)),
        None,
        {},
        (create_neg(EU), create_neg(US), create_backend([EU, US]), attach(ARMOR)),
    ),
    Case("new_neg_known_absent", route(), None, {US: None}, (create_neg(US), create_backend([US]), attach(ARMOR))),
    Case("new_neg_known_present", route(), None, {US: neg(US)}, (create_backend([US]), attach(ARMOR))),
    Case(
        "new_other_regions_read_absent",
        route(),
        None,
        {US: None, EU: None, ASIA: None},
        (create_neg(US), create_backend([US]), attach(ARMOR)),
    ),
    Case(
        "new_in_other_project",
        route(project=P2),
        None,
        {},
        (
            create_neg(US, project=P2),
            create_backend([US], project=P2),
            attach(security_policy_url(P2, POLICY), project=P2),
        ),
        ref=ref(project=P2),
    ),
    # -- converged --------------------------------------------------------------------------------------------------
    Case("converged_negs_unread", route(), backend(), {}),
    Case("converged_negs_read", route(), backend(), {US: neg(US), EU: None, ASIA: None}),
    Case("converged_two_regions", route(regions=(US, EU)), backend((EU, US)), {}),
    # -- regions ----------------------------------------------------------------------------------------------------
    Case("region_added_neg_unread", route(regions=(US, EU)), backend(), {}, (create_neg(EU), patch_backend([EU, US]))),
    Case("region_added_neg_present", route(regions=(US, EU)), backend(), {EU: neg(EU)}, (patch_backend([EU, US]),)),
    Case(
        "region_removed",
        route(),
        backend((US, EU)),
        {},
        (patch_backend([US]),),
        (delete_neg(EU, "no longer published in europe-west1"),),
    ),
    Case(
        "region_moved",
        route(regions=(EU,)),
        backend((US,)),
        {},
        (create_neg(EU), patch_backend([EU])),
        (delete_neg(US, "no longer published in us-central1"),),
    ),
    Case(
        "stray_neg_of_ours_removed",
        route(),
        backend(),
        {US: neg(US), ASIA: neg(ASIA), EU: None},
        (),
        (delete_neg(ASIA, "no longer published in asia-east1"),),
    ),
    Case("foreign_neg_under_our_name_elsewhere_left_alone", route(), backend(), {EU: neg(EU, description=HAND_MADE)}),
    Case("other_owner_neg_under_our_name_elsewhere_left_alone", route(), backend(), {EU: neg(EU, owner=OTHER_OWNER)}),
    # -- the backend service's own settings ---------------------------------------------------------------------------
    Case(
        "protocol_differs", route(), backend(protocol="HTTP"), {}, (patch_backend([US], backends=False, protocol=True),)
    ),
    Case("protocol_missing_means_https", route(), backend(protocol=None), {}),
    Case(
        "groups_and_protocol_differ",
        route(regions=(US, EU)),
        backend(protocol="HTTP2"),
        {},
        (create_neg(EU), patch_backend([EU, US], protocol=True)),
    ),
    Case(
        "groups_spelled_differently",
        route(regions=(US, EU)),
        backend(
            groups=[
                {"group": f"projects/{P}/regions/{US}/networkEndpointGroups/{neg_of('hello', US)}"},
                {
                    "group": f"https://compute.googleapis.com/compute/beta/projects/{P}/regions/{EU}/"
                    f"networkEndpointGroups/{neg_of('hello', EU)}"
                },
            ]
        ),
        {},
    ),
    Case(
        "groups_with_server_fields",
        route(),
        backend(
            groups=[{"group": neg_url(P, US, neg_of("hello", US)), "balancingMode": "UTILIZATION", "capacityScaler": 1}]
        ),
        {},
    ),
    Case(
        "groups_detached_by_hand",
        route(regions=(US, EU)),
        backend(groups=[]),
        {US: neg(US), EU: neg(EU)},
        (patch_backend([EU, US]),),
    ),
    # -- Cloud Armor ------------------------------------------------------------------------------------------------
    Case("policy_attach", route(), backend(policy=None), {}, (attach(ARMOR),)),
    Case("policy_replace", route(), backend(policy="old-policy"), {}, (attach(ARMOR, replacing="old-policy"),)),
    Case(
        "policy_same_by_meaning_path_configured",
        route(),
        backend(),
        {},
        policy=f"projects/{P}/global/securityPolicies/armor",
    ),
    Case(
        "policy_same_by_meaning_url_configured",
        route(),
        backend(policy=f"projects/{P}/global/securityPolicies/armor"),
        {},
        policy=ARMOR,
    ),
    Case(
        "policy_same_by_meaning_other_api_version",
        route(),
        backend(policy=f"https://compute.googleapis.com/compute/beta/projects/{P}/global/securityPolicies/armor"),
        {},
    ),
    Case("policy_not_configured_leaves_existing", route(), backend(policy="manual"), {}, policy=None),
    Case(
        "policy_in_another_project",
        route(),
        backend(),
        {},
        (attach(security_policy_url("sec-proj", "shared"), replacing="armor"),),
        policy="projects/sec-proj/global/securityPolicies/shared",
    ),
    Case(
        "policy_with_region_and_groups_in_dependency_order",
        route(regions=(US, EU)),
        backend(policy=None),
        {},
        (create_neg(EU), patch_backend([EU, US]), attach(ARMOR)),
    ),
    # -- releasing ----------------------------------------------------------------------------------------------------
    Case("release_with_backend", None, backend((US, EU)), {}, (), (delete_backend(), delete_neg(EU), delete_neg(US))),
    Case(
        "release_with_backend_and_stray_neg",
        None,
        backend(),
        {ASIA: neg(ASIA), EU: None},
        (),
        (delete_backend(), delete_neg(ASIA), delete_neg(US)),
    ),
    Case("release_without_backend", None, None, {US: neg(US), EU: None}, (), (delete_neg(US),)),
    Case("release_nothing", None, None, {}),
    Case("release_nothing_read", None, None, {US: None, EU: None}),
    Case("release_foreign_backend_left_alone", None, backend(description=HAND_MADE), {}),
    Case(
        "release_other_owner_objects_left_alone",
        None,
        backend(owner=OTHER_OWNER),
        {US: neg(US, owner=OTHER_OWNER)},
    ),
    Case(
        "release_foreign_backend_our_neg_removed",
        None,
        backend(description=HAND_MADE),
        {US: neg(US)},
        (),
        (delete_neg(US),),
    ),
    # -- squatters: our names held by objects runway does not own ---------------------------------------------------
    Case("squatter_foreign_backend", route(), backend(description=HAND_MADE), {}, squatters=(bs_of("hello"),)),
    Case("squatter_other_owner_backend", route(), backend(owner=OTHER_OWNER), {}, squatters=(bs_of("hello"),)),
    Case(
        "squatter_broken_marker",
        route(),
        backend(description='{"managedBy":"runway","owner":"runway"'),
        {},
        squatters=(bs_of("hello"),),
    ),
    Case(
        "squatter_foreign_neg",
        route(),
        None,
        {US: neg(US, description=HAND_MADE)},
        squatters=(f"{US}/{neg_of('hello', US)}",),
    ),
    Case(
        "squatter_backend_and_neg",
        route(regions=(US, EU)),
        backend(owner=OTHER_OWNER),
        {EU: neg(EU, owner=OTHER_OWNER), US: neg(US)},
        squatters=(bs_of("hello"), f"{EU}/{neg_of('hello', EU)}"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_exact_changes_and_squatters(case: Case) -> None:
    inputs = copy.deepcopy((case.backend, case.negs))
    plan = plan_objects(case.ref, case.route, case.backend, case.negs, owner_id=OWNER, security_policy=case.policy)
    assert plan.before == case.before
    assert plan.after == case.after
    assert plan.squatters == case.squatters
    assert plan.converged is (not case.before and not case.after)
    assert (case.backend, case.negs) == inputs, "the planner mutated its input"
    assert_touches_only_ours(case, plan)
    assert_in_dependency_order(plan)


def test_case_ids_unique() -> None:
    assert len({case.id for case in CASES}) == len(CASES)


def assert_touches_only_ours(case: Case, plan: ObjectsPlan) -> None:
    """Updates and deletes only ever target objects of ours (or objects not read, which the applier checks)."""
    for change in plan.changes:
        if change.op == Op.CREATE:
            continue
        if change.kind == Kind.NEG:
            found = case.negs.get(change.region or "")
            assert found is None or is_ours(found, OWNER), f"touches a foreign NEG: {change}"
        else:
            made = any(c.op == Op.CREATE and c.kind == Kind.BACKEND_SERVICE for c in plan.before)
            ours = case.backend is not None and is_ours(case.backend, OWNER)
            assert ours or made, f"touches a foreign backend: {change}"


def assert_in_dependency_order(plan: ObjectsPlan) -> None:
    """NEGs, then the backend service, then its policy; removal: the backend service, then its NEGs."""
    rank = {(Op.CREATE, Kind.NEG): 0, (Op.CREATE, Kind.BACKEND_SERVICE): 1, (Op.UPDATE, Kind.BACKEND_SERVICE): 1}
    rank[(Op.UPDATE, Kind.SECURITY_POLICY)] = 2
    ranks = [rank[(c.op, c.kind)] for c in plan.before]
    assert ranks == sorted(ranks)
    kinds = [c.kind for c in plan.after]
    assert all(c.op == Op.DELETE for c in plan.after)
    assert kinds == sorted(kinds, key=lambda k: k != Kind.BACKEND_SERVICE)


def test_names_at_limit() -> None:
    plan = plan_objects(ref(LONGEST), route(LONGEST, (US, EU)), None, {}, owner_id=OWNER, security_policy=POLICY)
    names = [c.name for c in plan.before]
    assert len(names) == 4 and all(len(name) == 63 for name in names)
    assert [c.kind for c in plan.before] == [Kind.NEG, Kind.NEG, Kind.BACKEND_SERVICE, Kind.SECURITY_POLICY]


def test_neg_regions_from_group_urls() -> None:
    found = backend(
        groups=[
            {"group": neg_url(P, US, "x")},
            {"group": f"projects/{P}/regions/{EU}/networkEndpointGroups/y"},
            {"group": "https://www.googleapis.com/compute/v1/projects/p/zones/z/instanceGroups/ig"},
            "not a mapping",
        ]
    )
    assert neg_regions(found) == {US, EU}
    assert neg_regions(None) == set()
    assert neg_regions({"backends": "junk"}) == set()


# -- a strict in-memory Compute --------------------------------------------------------------------------------------

COMPUTE_V1 = "https://www.googleapis.com/compute/v1/"


class Refused(AssertionError):
    """Compute (or the applier) would refuse this write."""


def tf(name: str) -> str:
    return full_url(f"projects/{LB}/global/backendServices/{name}")


@dataclass
class Compute:
    """The objects runway reads and writes, checking what Compute checks on every write."""

    url_map: dict[str, Any]
    backends: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (project, name)
    negs: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)  # (project, region, name)
    serial: int = 0

    @classmethod
    def terraform(cls) -> Compute:
        """Only Terraform's frame: the URL map, its default service and a legacy matcher."""
        url_map = {
            "name": "lb",
            "defaultService": tf("tf-default"),
            "hostRules": [{"hosts": ["legacy.example.com"], "pathMatcher": "tf-legacy"}],
            "pathMatchers": [{"name": "tf-legacy", "defaultService": tf("tf-legacy")}],
            "fingerprint": "fp-map-0",
        }
        backends = {(LB, name): {"name": name, "description": "terraform"} for name in ("tf-default", "tf-legacy")}
        return cls(url_map, backends)

    def publish(
        self, service: str, regions: Sequence[str] = (US,), paths: Sequence[str] | None = None, project: str = P
    ) -> Compute:
        """What a converged runway leaves for a service (built by hand, not by the planners)."""
        for region in regions:
            self.negs[(project, region, neg_of(service, region, project))] = neg(region, service, project)
        self.backends[(project, bs_of(service, project))] = backend(tuple(regions), service, project)
        name = path_matcher_name("default")
        matcher = next((m for m in self.url_map["pathMatchers"] if m["name"] == name), None)
        if matcher is None:
            matcher = {"name": name, "defaultService": tf("tf-default"), "pathRules": []}
            self.url_map["pathMatchers"].append(matcher)
            self.url_map["hostRules"].append({"hosts": ["*"], "pathMatcher": name})
        rule = {"paths": sorted(paths or (f"/{service}", f"/{service}/*")), "service": full_url(svc(service, project))}
        matcher["pathRules"] = sorted([*matcher["pathRules"], rule], key=lambda r: r["paths"][0])
        return self

    def _stamp(self) -> str:
        self.serial += 1
        return f"fp-{self.serial}"

    def _in_use_by_map(self) -> set[str]:
        named = {self.url_map.get("defaultService")}
        for matcher in self.url_map.get("pathMatchers", []):
            named.add(matcher.get("defaultService"))
            named |= {rule.get("service") for rule in matcher.get("pathRules", [])}
        return {relative_name(n) for n in named if n}

    def _neg_users(self, key: tuple[str, str, str]) -> list[str]:
        wanted = f"projects/{key[0]}/regions/{key[1]}/networkEndpointGroups/{key[2]}"
        return [name for (_, name), b in self.backends.items() if wanted in _group_paths(b)]

    def _check_groups(self, project: str, found: Mapping[str, Any]) -> None:
        for entry in found.get("backends") or []:
            group = entry["group"]
            if not group.startswith(COMPUTE_V1):
                raise Refused(f"400: backends[].group must be a full URL: {group}")
            parts = relative_name(group).split("/")
            if parts[1] != project:
                raise Refused(f"400: a backend service uses NEGs of its own project only: {group}")
            if (parts[1], parts[3], parts[5]) not in self.negs:
                raise Refused(f"404: NEG {group}")

    def apply(self, change: Change) -> None:
        body = copy.deepcopy(change.body) or {}
        if change.kind == Kind.NEG:
            assert change.region, change
            key = (change.project, change.region, change.name)
            if change.op == Op.CREATE:
                assert body["name"] == change.name and body["networkEndpointType"] == "SERVERLESS"
                assert body["cloudRun"] == {"service": change.services[0].service}
                if key in self.negs:  # the applier: "already exists, and ours" is done; anybody else's is refused
                    if not is_ours(self.negs[key], OWNER):
                        raise Refused(f"adoption refused: {key}")
                    return
                region_url = f"{COMPUTE_V1}projects/{change.project}/regions/{change.region}"
                self.negs[key] = {**body, "region": region_url, "selfLink": neg_url(*key)}
            else:
                assert change.op == Op.DELETE and change.body is None
                if users := self._neg_users(key):
                    raise Refused(f"400: NEG {key} is in use by {users}")
                self.negs.pop(key, None)  # a 404 on a delete counts as success
        elif change.kind == Kind.BACKEND_SERVICE:
            key2 = (change.project, change.name)
            if change.op == Op.CREATE:
                assert "securityPolicy" not in body and "fingerprint" not in body
                if key2 in self.backends:
                    if not is_ours(self.backends[key2], OWNER):
                        raise Refused(f"adoption refused: {key2}")
                    return
                self._check_groups(change.project, body)
                self.backends[key2] = {**body, "fingerprint": self._stamp()}
            elif change.op == Op.UPDATE:
                current = self.backends[key2]
                if body.pop("fingerprint") != current.get("fingerprint"):
                    raise Refused(f"412: backend service {key2}")
                assert body.pop("name") == change.name
                self._check_groups(change.project, {**current, **body})
                current.update(body, fingerprint=self._stamp())
            else:
                assert change.body is None
                if svc_path(*key2) in self._in_use_by_map():
                    raise Refused(f"400: backend service {key2} is in use by the URL map")
                self.backends.pop(key2, None)
        else:
            assert change.kind == Kind.SECURITY_POLICY and change.op == Op.UPDATE
            assert set(body) == {"securityPolicy"} and body["securityPolicy"].startswith(COMPUTE_V1)
            current = self.backends[(change.project, change.name)]
            current.update(securityPolicy=body["securityPolicy"], fingerprint=self._stamp())

    def write_map(self, body: Mapping[str, Any], protected: bool = True) -> None:
        body = copy.deepcopy(dict(body))
        assert set(body) == {"hostRules", "pathMatchers", "fingerprint"}
        if body.pop("fingerprint") != self.url_map["fingerprint"]:
            raise Refused("412: URL map")
        self.url_map.update(body, fingerprint=self._stamp())
        for path in self._in_use_by_map():
            parts = path.split("/")
            found = self.backends.get((parts[1], parts[4]))
            if found is None:
                raise Refused(f"404: the URL map names a missing backend service {path}")
            if protected and is_ours(found, OWNER) and not found.get("securityPolicy"):
                raise Refused(f"the URL map names {path} before its Cloud Armor policy is attached")

    def ours(self) -> tuple[set[tuple[str, str]], set[tuple[str, str, str]]]:
        return (
            {k for k, b in self.backends.items() if is_ours(b, OWNER)},
            {k for k, n in self.negs.items() if is_ours(n, OWNER)},
        )


def svc(service: str, project: str = P) -> str:
    return service_backend_path(OWNER, ref(service, project))


def svc_path(project: str, name: str) -> str:
    return f"projects/{project}/global/backendServices/{name}"


def _group_paths(found: Mapping[str, Any]) -> set[str]:
    return {relative_name(entry["group"]) for entry in found.get("backends") or []}


Decisions = Mapping[ServiceRef, DesiredRoute | None]


def plan_all(compute: Compute, decisions: Decisions, read_negs: bool) -> tuple[MapPlan, dict[ServiceRef, ObjectsPlan]]:
    """What the flows plan: each service's objects (NEGs read in every region, or none read as events do), then
    one URL-map plan for every claim."""
    objects = {}
    for r, wanted in decisions.items():
        found = compute.backends.get((r.project, bs_of(r.service, r.project)))
        negs = {g: compute.negs.get((r.project, g, neg_of(r.service, g, r.project))) for g in REGIONS}
        objects[r] = plan_objects(r, wanted, found, negs if read_negs else {}, owner_id=OWNER, security_policy=POLICY)
    claims = [
        Claim(r, svc(r.service, r.project), wanted) for r, wanted in decisions.items() if not objects[r].squatters
    ]
    return plan_url_map(compute.url_map, claims, SETTINGS), objects


def sync(compute: Compute, decisions: Decisions, read_negs: bool) -> MapPlan:
    """Plan, then apply in the appliers' order: every `before`, the one map write, every `after`."""
    map_plan, objects = plan_all(compute, decisions, read_negs)
    granted = sorted(r for r, result in map_plan.results.items() if not result.refused)
    for r in granted:
        for change in objects[r].before:
            compute.apply(change)
    if map_plan.body is not None:
        compute.write_map(map_plan.body)
    for r in granted:
        for change in objects[r].after:
            compute.apply(change)
    return map_plan


@dataclass(frozen=True)
class Scenario:
    id: str
    start: Callable[[], Compute]
    decisions: Decisions
    states: Mapping[str, RuleState]
    check: Callable[[Compute], None] | None = None


def _nothing_of_ours_left(compute: Compute) -> None:
    assert compute.ours() == (set(), set())
    assert [m["name"] for m in compute.url_map["pathMatchers"]] == ["tf-legacy"]
    assert [h["pathMatcher"] for h in compute.url_map["hostRules"]] == ["tf-legacy"]


def _only_us_left(compute: Compute) -> None:
    assert compute.ours()[1] == {(P, US, neg_of("hello", US))}


def _runway_paths(compute: Compute) -> list[list[str]]:
    return [
        rule["paths"]
        for m in compute.url_map["pathMatchers"]
        if is_runway_path_matcher(m["name"])
        for rule in m.get("pathRules", [])
    ]


def _moved_paths(compute: Compute) -> None:
    assert _runway_paths(compute) == [["/hi", "/hi/*"]]


def _moved_host(compute: Compute) -> None:
    assert [h["pathMatcher"] for h in compute.url_map["hostRules"]] == ["tf-legacy", "runway-shop"]
    assert [h["hosts"] for h in compute.url_map["hostRules"]] == [["legacy.example.com"], ["shop.example.com"]]


SCENARIOS = [
    Scenario("new_route", Compute.terraform, {ref(): route()}, {"proj-a1/hello": RuleState.ADDED}),
    Scenario(
        "new_route_two_regions",
        Compute.terraform,
        {ref(): route(regions=(US, EU))},
        {"proj-a1/hello": RuleState.ADDED},
    ),
    Scenario(
        "move_paths",
        lambda: Compute.terraform().publish("hello"),
        {ref(): route(paths=("/hi", "/hi/*"))},
        {"proj-a1/hello": RuleState.CHANGED},
        _moved_paths,
    ),
    Scenario(
        "move_host",
        lambda: Compute.terraform().publish("hello"),
        {ref(): route(alias="shop")},
        {"proj-a1/hello": RuleState.CHANGED},
        _moved_host,
    ),
    Scenario(
        "unlabel",
        lambda: Compute.terraform().publish("hello", (US, EU)),
        {ref(): None},
        {"proj-a1/hello": RuleState.REMOVED},
        _nothing_of_ours_left,
    ),
    Scenario(
        "region_removed",
        lambda: Compute.terraform().publish("hello", (US, EU)),
        {ref(): route()},
        {"proj-a1/hello": RuleState.KEPT},
        _only_us_left,
    ),
    Scenario(
        "region_added",
        lambda: Compute.terraform().publish("hello"),
        {ref(): route(regions=(US, EU, ASIA))},
        {"proj-a1/hello": RuleState.KEPT},
    ),
    Scenario(
        "sweep_of_many",
        lambda: Compute.terraform().publish("keep").publish("gone", (US, EU)).publish("grow"),
        {
            ref("keep"): route("keep"),
            ref("gone"): None,
            ref("grow"): route("grow", (US, ASIA), paths=("/grow", "/grow/*", "/g")),
            ref("new"): route("new", (EU,)),
            ref("new", P2): route("new", (US,), paths=("/new2",), project=P2),
            ref("late", P2): route("late", (US,), paths=("/new2",), project=P2),
        },
        {
            "proj-a1/keep": RuleState.KEPT,
            "proj-a1/gone": RuleState.REMOVED,
            "proj-a1/grow": RuleState.CHANGED,
            "proj-a1/new": RuleState.ADDED,
            "proj-b2/late": RuleState.ADDED,  # same creation time: name order, `late` before `new`
            "proj-b2/new": RuleState.CONFLICT,
        },
    ),
]


@pytest.mark.parametrize("read_negs", [True, False], ids=["negs-read", "negs-unread"])
@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_scenario_applies_cleanly_and_converges(scenario: Scenario, read_negs: bool) -> None:
    compute = scenario.start()
    map_plan = sync(compute, scenario.decisions, read_negs)
    assert {str(r): result.state for r, result in map_plan.results.items()} == scenario.states
    if scenario.check:
        scenario.check(compute)
    # Every service granted has exactly its objects; every refused one made nothing.
    backends, negs = compute.ours()
    for r, wanted in scenario.decisions.items():
        key = (r.project, bs_of(r.service, r.project))
        if wanted is None or map_plan.results[r].refused:  # released, or a newcomer refused before making anything
            assert key not in backends and not any((p, n) == (r.project, neg_of(r.service, g, p)) for p, g, n in negs)
            continue
        assert _group_paths(compute.backends[key]) == {
            f"projects/{r.project}/regions/{g}/networkEndpointGroups/{neg_of(r.service, g, r.project)}"
            for g in wanted.regions
        }
        assert {g for (p, g, n) in negs if (p, n) == (r.project, neg_of(r.service, g, r.project))} == set(
            wanted.regions
        )
    # Planning again on what Compute holds now: nothing to do, for either way of reading NEGs.
    for again_read in (True, False):
        again, objects = plan_all(compute, scenario.decisions, again_read)
        assert again.body is None, again.notes
        pending = {r: o.changes for r, o in objects.items() if not o.converged and not again.results[r].refused}
        assert pending == {}, pending  # a refused newcomer still has everything to make: the flows make none of it
        for r, result in again.results.items():
            if map_plan.results[r].refused:
                assert result.state == map_plan.results[r].state
            else:
                assert result.state in (RuleState.KEPT, RuleState.ABSENT), result


def test_scenario_ids_unique() -> None:
    assert len({s.id for s in SCENARIOS}) == len(SCENARIOS)


# -- the model is strict: it refuses the writes Compute refuses ----------------------------------------------------


def test_model_refuses_deleting_a_backend_the_map_names() -> None:
    compute = Compute.terraform().publish("hello")
    map_plan, objects = plan_all(compute, {ref(): None}, read_negs=False)
    with pytest.raises(Refused, match="in use by the URL map"):
        compute.apply(objects[ref()].after[0])  # before the map write: wrong order
    assert map_plan.body is not None


def test_model_refuses_deleting_a_neg_in_use() -> None:
    compute = Compute.terraform().publish("hello", (US, EU))
    _, objects = plan_all(compute, {ref(): route()}, read_negs=False)
    (drop_eu,) = objects[ref()].after
    with pytest.raises(Refused, match="in use"):
        compute.apply(drop_eu)  # before the backend service stops using it


def test_model_refuses_a_stale_backend_fingerprint() -> None:
    compute = Compute.terraform().publish("hello")
    _, objects = plan_all(compute, {ref(): route(regions=(US, EU))}, read_negs=True)
    compute.backends[(P, bs_of("hello"))]["fingerprint"] = "changed-meanwhile"
    compute.apply(objects[ref()].before[0])  # the NEG
    with pytest.raises(Refused, match="412"):
        compute.apply(objects[ref()].before[1])


def test_model_refuses_a_map_naming_an_unprotected_or_missing_backend() -> None:
    compute = Compute.terraform()
    map_plan, objects = plan_all(compute, {ref(): route()}, read_negs=False)
    assert map_plan.body is not None
    with pytest.raises(Refused, match="missing backend"):
        Compute.terraform().write_map(map_plan.body)
    for change in objects[ref()].before[:-1]:  # everything but the policy
        compute.apply(change)
    with pytest.raises(Refused, match="Cloud Armor"):
        compute.write_map(map_plan.body)


def test_squatter_makes_nothing_and_claims_nothing() -> None:
    compute = Compute.terraform()
    compute.backends[(P, bs_of("hello"))] = backend(description=HAND_MADE)
    map_plan, objects = plan_all(compute, {ref(): route()}, read_negs=False)
    assert objects[ref()] == ObjectsPlan(squatters=(bs_of("hello"),))
    assert map_plan.results == {} and map_plan.body is None


def test_adopting_a_neg_made_by_an_earlier_attempt() -> None:
    """An attempt that made the NEG and died: the next, not reading NEGs, plans the create again; the applier
    takes "exists, and ours" as done, and the route converges."""
    compute = Compute.terraform()
    compute.negs[(P, US, neg_of("hello", US))] = neg(US)
    sync(compute, {ref(): route()}, read_negs=False)
    again, objects = plan_all(compute, {ref(): route()}, read_negs=False)
    assert again.body is None and objects[ref()].converged


def test_policy_replaced_then_kept_when_none_is_configured() -> None:
    compute = Compute.terraform().publish("hello")
    compute.backends[(P, bs_of("hello"))]["securityPolicy"] = security_policy_url(P, "old-policy")
    sync(compute, {ref(): route()}, read_negs=False)
    found = compute.backends[(P, bs_of("hello"))]
    assert found["securityPolicy"] == ARMOR
    assert plan_objects(ref(), route(), found, {}, owner_id=OWNER, security_policy=None).converged
