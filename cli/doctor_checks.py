"""`python main.py doctor`: the platform team's preflight, as a pure function of what `cli.doctor_read` read.

One `Check` per line of the table, in this order, each failure naming the variable, the permission, the quota or
the budget, and its fix:

- `configuration`: the RUNWAY_* variables parse (a bad one never gets here: the command exits 2);
- `url_map`: RUNWAY_URL_MAP exists in RUNWAY_PROJECT;
- `security_policy`: RUNWAY_SECURITY_POLICY exists in every project in scope (runway attaches it from the backend
  service's own project, docs/design.md §4); unset, a warning;
- `permissions:<function>`: the function's identity holds every permission its calls need
  (`shared.permissions.FUNCTIONS`, on each project in scope; `SCOPE` on an organization or folder of RUNWAY_SCOPE),
  as `testIamPermissions` answers for that identity;
- `quota:<metric>`: the Compute quotas routes use up (BACKEND_SERVICES per project, NETWORK_ENDPOINT_GROUPS per
  project and region), failing above 80 %;
- `budget:<name>`: the URL map's budgets (`shared.plan_limits.usage`, bytes against RUNWAY_URL_MAP_MAX_BYTES),
  failing above 80 %;
- `triggers:<function>`: an Eventarc trigger (location `global`) for every method the function handles
  (`shared.methods.METHODS_BY_FUNCTION`), with the audit-log filters and pointing at the function.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cli.explain_model import FAIL, PASS, SKIP, Check
from shared.config import Config
from shared.methods import EVENT_TYPE, METHODS_BY_FUNCTION, SERVICE_NAME
from shared.naming import last_segment
from shared.permissions import FUNCTIONS, SCOPE
from shared.plan_limits import WARN_FRACTION, Limits, usage

WARN = "warn"
QUOTA_METRICS = ("BACKEND_SERVICES", "NETWORK_ENDPOINT_GROUPS")
APPLY_INFRA = "terraform apply in infra/"


@dataclass(frozen=True)
class Quota:
    where: str  # a project, or project/region
    metric: str
    usage: float
    limit: float


@dataclass(frozen=True)
class DoctorObservation:
    config: Config
    lb_project: str
    projects: tuple[str, ...]  # in scope (RUNWAY_SCOPE, else RUNWAY_PROJECT)
    identities: Mapping[str, str]  # function -> service account email
    destinations: Mapping[str, str]  # event function -> its Cloud Run service (or the URL triggers deliver to)
    url_map: Mapping[str, Any] | str | None  # None: no such map; str: why it could not be read
    policies: Mapping[str, bool | str] = field(default_factory=dict)  # project -> exists (str: read error)
    granted: Mapping[tuple[str, str], frozenset[str] | str] = field(default_factory=dict)  # (function, resource)
    quotas: Sequence[Quota] = ()
    quota_errors: Sequence[str] = ()
    triggers: Sequence[Mapping[str, Any]] | str = ()


def doctor(obs: DoctorObservation) -> list[Check]:
    checks = [_configuration(obs), _url_map(obs), _security_policy(obs)]
    checks += [_permissions(obs, function) for function in FUNCTIONS]
    checks += [_quota(obs, metric) for metric in QUOTA_METRICS]
    checks += _budgets(obs)
    checks += [_triggers(obs, function) for function in METHODS_BY_FUNCTION]
    return checks


def _configuration(obs: DoctorObservation) -> Check:
    config = obs.config
    evidence = (
        f"RUNWAY_PROJECT={obs.lb_project}",
        f"RUNWAY_URL_MAP={config.url_map}",
        f"RUNWAY_SCOPE={config.effective_scope()} ({len(obs.projects)} project(s))",
        f"RUNWAY_REGIONS={','.join(config.regions) or '(not set)'}",
        f"RUNWAY_OWNER_ID={config.owner_id}",
    )
    return Check("configuration", PASS, "the RUNWAY_* variables parse", evidence)


def _url_map(obs: DoctorObservation) -> Check:
    name = obs.config.url_map
    if isinstance(obs.url_map, str):
        return Check("url_map", FAIL, f"RUNWAY_URL_MAP={name}: could not be read: {obs.url_map}")
    if obs.url_map is None:
        return Check(
            "url_map",
            FAIL,
            f"RUNWAY_URL_MAP={name}: no such URL map in project {obs.lb_project} (RUNWAY_PROJECT)",
            fix=f"{APPLY_INFRA} creates it; or set RUNWAY_URL_MAP to the shared load balancer's URL map",
        )
    return Check("url_map", PASS, f"{name} exists in {obs.lb_project}")


def _security_policy(obs: DoctorObservation) -> Check:
    policy = obs.config.security_policy
    if not policy:
        return Check("security_policy", WARN, "RUNWAY_SECURITY_POLICY is not set: no Cloud Armor on runway's routes")
    evidence = tuple(
        f"{project}: {'exists' if found is True else 'missing' if found is False else found}"
        for project, found in sorted(obs.policies.items())
    )
    missing = [project for project, found in sorted(obs.policies.items()) if found is not True]
    if missing:
        return Check(
            "security_policy",
            FAIL,
            f"RUNWAY_SECURITY_POLICY={policy}: missing in {', '.join(missing)}",
            evidence,
            fix=f"{APPLY_INFRA} creates it in each project in scope; or set RUNWAY_SECURITY_POLICY to an existing one",
        )
    return Check("security_policy", PASS, f"{policy} exists in every project in scope", evidence)


def required(function: str, resource: str) -> frozenset[str]:
    """What `function` needs on `resource` (a project, or the organization or folder of RUNWAY_SCOPE)."""
    return FUNCTIONS[function] if resource.startswith("projects/") else SCOPE[function]


def _permissions(obs: DoctorObservation, function: str) -> Check:
    email = obs.identities[function]
    evidence, problems = [], []
    for (fn, resource), held in sorted(obs.granted.items()):
        if fn != function:
            continue
        if isinstance(held, str):
            evidence.append(f"{resource}: could not test: {held}")
            problems.append(resource)
            continue
        missing = sorted(required(function, resource) - held)
        evidence.append(f"{resource}: missing {', '.join(missing)}" if missing else f"{resource}: all held")
        if missing:
            problems.append(resource)
    name = f"permissions:{function}"
    if problems:
        return Check(
            name,
            FAIL,
            f"{email} lacks permissions on {', '.join(problems)}",
            tuple(evidence),
            fix=f"grant {email} the custom role infra/iam.tf makes for {function} ({APPLY_INFRA}), or add what is "
            "missing to it (testing as the account needs roles/iam.serviceAccountTokenCreator on it for whoever runs "
            "doctor)",
        )
    return Check(name, PASS, f"{email} holds what its calls need", tuple(evidence))


def _percent(used: float, limit: float) -> float:
    return used / limit if limit else 1.0


def _quota(obs: DoctorObservation, metric: str) -> Check:
    found = [q for q in obs.quotas if q.metric == metric]
    evidence = tuple(
        f"{q.where}: {q.usage:g} of {q.limit:g} ({_percent(q.usage, q.limit):.0%})" for q in found
    ) + tuple(obs.quota_errors)
    over = [q for q in found if _percent(q.usage, q.limit) > WARN_FRACTION]
    name = f"quota:{metric}"
    if over:
        worst = max(over, key=lambda q: _percent(q.usage, q.limit))
        return Check(
            name,
            FAIL,
            f"{metric} above 80 % in {', '.join(q.where for q in over)}",
            evidence,
            fix=f"request a higher {metric} quota for {worst.where} (console: IAM & Admin > Quotas), "
            "or remove what no route uses",
        )
    if not found:
        return Check(name, SKIP if not obs.quota_errors else FAIL, "not read", evidence)
    top = max(found, key=lambda q: _percent(q.usage, q.limit))
    return Check(
        name, PASS, f"at most {_percent(top.usage, top.limit):.0%} used ({evidence[found.index(top)]})", evidence
    )


def _budgets(obs: DoctorObservation) -> list[Check]:
    if not isinstance(obs.url_map, Mapping):
        return [Check("budget", SKIP, "no URL map to measure")]
    checks = []
    for name, budget in sorted(usage(obs.url_map, Limits(bytes=obs.config.url_map_max_bytes)).items()):
        text = f"{budget.describe()} ({budget.fraction:.1%})"
        if budget.fraction > WARN_FRACTION:
            fix = (
                "raise RUNWAY_URL_MAP_MAX_BYTES where Google's 1 MB limit applies (docs/design.md §5), or remove routes"
                if name == "bytes"
                else "Google's fixed limit (docs/google-apis.md §9.1): remove routes, or move some to another alias"
            )
            checks.append(Check(f"budget:{name}", FAIL, f"above 80 %: {text}", fix=fix))
        else:
            checks.append(Check(f"budget:{name}", PASS, text))
    return checks


def _filters(trigger: Mapping[str, Any]) -> dict[str, str]:
    return {str(f.get("attribute")): str(f.get("value")) for f in trigger.get("eventFilters") or []}


def points_at(trigger: Mapping[str, Any], target: str) -> bool:
    """Whether the trigger delivers to `target`: a Cloud Run service name (a gen2 function's), a function, or the
    URL of an HTTP endpoint."""
    destination = trigger.get("destination") or {}
    run = (destination.get("cloudRun") or {}).get("service")
    function = last_segment(str(destination.get("cloudFunction") or ""))
    uri = (destination.get("httpEndpoint") or {}).get("uri")
    return target in (run, function, uri)


def _triggers(obs: DoctorObservation, function: str) -> Check:
    name = f"triggers:{function}"
    if isinstance(obs.triggers, str):
        return Check(name, FAIL, f"the triggers could not be listed: {obs.triggers}")
    target = obs.destinations[function]
    evidence, missing, elsewhere = [], [], []
    for method in sorted(METHODS_BY_FUNCTION[function]):
        audit = {"type": EVENT_TYPE, "serviceName": SERVICE_NAME, "methodName": method}
        matching = [t for t in obs.triggers if _filters(t) == audit]
        mine = [t for t in matching if points_at(t, target)]
        if mine:
            evidence.append(f"{method}: {str(mine[0].get('name')).rsplit('/', 1)[-1]}")
        elif matching:
            elsewhere.append(method)
            evidence.append(f"{method}: only triggers delivering elsewhere")
        else:
            missing.append(method)
            evidence.append(f"{method}: none")
    if missing or elsewhere:
        what = [f"no trigger for {', '.join(missing)}"] if missing else []
        what += [f"none delivering to {target} for {', '.join(elsewhere)}"] if elsewhere else []
        fix = f"{APPLY_INFRA} makes one per function and method (location global); --destination names another target"
        return Check(name, FAIL, "; ".join(what), tuple(evidence), fix=fix)
    count = len(METHODS_BY_FUNCTION[function])
    return Check(name, PASS, f"a trigger for each of its {count} methods, delivering to {target}", tuple(evidence))
