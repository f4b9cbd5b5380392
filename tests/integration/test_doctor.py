"""`python main.py doctor` against the emulator: the demo stack's setup (load balancer and triggers from devstack's
bootstrap, a project IAM policy granting each function's identity a custom role built from
`shared.permissions.FUNCTIONS`) passes; each broken piece fails naming the variable, the permission, the quota or
the budget."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from click.testing import CliRunner, Result
from google.cloud import compute_v1

from cli.doctor import doctor
from devstack.bootstrap import create_load_balancer, create_triggers
from emulator import EmulatorServer
from shared import clients
from shared.config import VARIABLES
from shared.methods import METHODS_BY_FUNCTION, V2_SET_IAM
from shared.permissions import FUNCTIONS

P, R = "runway-demo", "us-central1"
IDENTITY = {fn: f"runway-{short}@{P}.iam.gserviceaccount.com" for fn, short in (
    ("enforce_ingress", "enforce"), ("sync_routes", "sync"), ("reconcile_all", "reconcile")
)}  # fmt: skip
DESTINATION = {fn: f"http://127.0.0.1:9/{fn}" for fn in METHODS_BY_FUNCTION}  # nothing is delivered in these tests
OPTIONS = [arg for fn, uri in DESTINATION.items() for arg in ("--destination", f"{fn}={uri}")]
DEVELOPER = "user:developer@example.com"  # the emulator's caller when a call names none: doctor's own reads


def grant(emulator: EmulatorServer, *, without: str | None = None) -> None:
    """Each function's identity its custom role (all it needs, but `without`), as infra/iam.tf grants them."""
    iam = emulator.emulator.iam
    bindings: dict[str, list[str]] = {"roles/owner": [DEVELOPER]}
    for function, permissions in FUNCTIONS.items():
        role = f"runway_{function}"
        iam.add_role(f"projects/{P}", role, sorted(permissions - {without}))
        bindings[f"projects/{P}/roles/{role}"] = [f"serviceAccount:{IDENTITY[function]}"]
    iam.set_policy(f"projects/{P}", bindings)


@pytest.fixture
def env(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    values = {
        "RUNWAY_API_ENDPOINT": emulator.url,
        "RUNWAY_PROJECT": P,
        "RUNWAY_URL_MAP": "runway-lb",
        "RUNWAY_REGIONS": R,
        "RUNWAY_SECURITY_POLICY": "runway-edge",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    create_load_balancer(emulator.url, P)
    for function, uri in DESTINATION.items():
        create_triggers(emulator.url, P, function, uri)
    yield values
    requests.delete(f"{emulator.url}/_emulator/computeQuotas", timeout=5).raise_for_status()


def run(*args: str, env: dict[str, str] | None = None) -> tuple[Result, dict[str, Any]]:
    result = CliRunner().invoke(doctor, [*OPTIONS, *args, "--format", "json"], env=env, catch_exceptions=False)
    return result, json.loads(result.stdout) if result.stdout.startswith("{") else {}


def failed(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in body["checks"] if c["status"] == "fail"}


def test_the_demo_stacks_setup_passes(emulator: EmulatorServer, env: dict[str, str]) -> None:
    grant(emulator)
    result, body = run()
    assert result.exit_code == 0, result.output
    assert body["ok"] and body["failed"] == []
    statuses = {c["name"]: c["status"] for c in body["checks"]}
    assert set(statuses.values()) == {"pass"}
    assert [n for n in statuses if n.startswith(("permissions:", "triggers:", "quota:"))] == [
        "permissions:enforce_ingress",
        "permissions:sync_routes",
        "permissions:reconcile_all",
        "quota:BACKEND_SERVICES",
        "quota:NETWORK_ENDPOINT_GROUPS",
        "triggers:enforce_ingress",
        "triggers:sync_routes",
    ]
    text = CliRunner().invoke(doctor, OPTIONS, catch_exceptions=False)
    assert text.exit_code == 0 and "0 failed" in text.stdout.splitlines()[0]


def test_a_missing_url_map_names_the_variable(emulator: EmulatorServer, env: dict[str, str]) -> None:
    result, body = run(env={"RUNWAY_URL_MAP": "nowhere"})
    assert result.exit_code == 1
    problem = failed(body)["url_map"]
    assert problem["summary"] == f"RUNWAY_URL_MAP=nowhere: no such URL map in project {P} (RUNWAY_PROJECT)"
    assert "terraform apply" in problem["fix"]


def test_a_missing_security_policy_names_the_variable(emulator: EmulatorServer, env: dict[str, str]) -> None:
    result, body = run(env={"RUNWAY_SECURITY_POLICY": "no-such-policy"})
    assert result.exit_code == 1
    assert failed(body)["security_policy"]["summary"] == f"RUNWAY_SECURITY_POLICY=no-such-policy: missing in {P}"


def test_a_removed_permission_is_named(emulator: EmulatorServer, env: dict[str, str]) -> None:
    grant(emulator, without="compute.urlMaps.update")
    result, body = run()
    assert result.exit_code == 1
    problems = failed(body)
    assert set(problems) == {"permissions:sync_routes", "permissions:reconcile_all"}
    sync = problems["permissions:sync_routes"]
    assert sync["summary"] == f"{IDENTITY['sync_routes']} lacks permissions on projects/{P}"
    assert sync["evidence"] == [f"projects/{P}: missing compute.urlMaps.update"]
    assert "roles/iam.serviceAccountTokenCreator" in sync["fix"]


def test_an_identity_with_no_role_lacks_everything(emulator: EmulatorServer, env: dict[str, str]) -> None:
    grant(emulator)
    result, body = run("--identity", "enforce_ingress=stranger@runway-demo.iam.gserviceaccount.com")
    assert result.exit_code == 1
    (evidence,) = failed(body)["permissions:enforce_ingress"]["evidence"]
    assert evidence == f"projects/{P}: missing " + ", ".join(sorted(FUNCTIONS["enforce_ingress"]))


def test_a_budget_above_80_percent_is_named(emulator: EmulatorServer, env: dict[str, str]) -> None:
    url_maps = clients.compute(emulator.url).url_maps
    current = url_maps.get(project=P, url_map="runway-lb")
    default = current.default_service
    rules = [compute_v1.PathRule(paths=[f"/{'x' * 40}-{n}"], service=default) for n in range(4)]
    patch = compute_v1.UrlMap(
        fingerprint=current.fingerprint,
        host_rules=[compute_v1.HostRule(hosts=["static.example.com"], path_matcher="static")],
        path_matchers=[compute_v1.PathMatcher(name="static", default_service=default, path_rules=rules)],
    )
    url_maps.patch(project=P, url_map="runway-lb", url_map_resource=patch).result()
    result, body = run(env={"RUNWAY_URL_MAP_MAX_BYTES": "1024"})
    assert result.exit_code == 1
    assert set(failed(body)) == {"budget:bytes"}
    problem = failed(body)["budget:bytes"]
    assert problem["summary"].startswith("above 80 %: bytes per URL map: ")
    assert "RUNWAY_URL_MAP_MAX_BYTES" in problem["fix"]


def test_a_quota_above_80_percent_is_named(emulator: EmulatorServer, env: dict[str, str]) -> None:
    quotas = f"{emulator.url}/_emulator/computeQuotas"
    requests.post(quotas, json={"NETWORK_ENDPOINT_GROUPS": 1}, timeout=5).raise_for_status()
    neg = compute_v1.NetworkEndpointGroup(
        name="neg-a", network_endpoint_type="SERVERLESS", cloud_run=compute_v1.NetworkEndpointGroupCloudRun(service="a")
    )
    clients.compute(emulator.url).negs.insert(project=P, region=R, network_endpoint_group_resource=neg).result()
    result, body = run()
    assert result.exit_code == 1
    problem = failed(body)["quota:NETWORK_ENDPOINT_GROUPS"]
    assert problem["summary"] == f"NETWORK_ENDPOINT_GROUPS above 80 % in {P}/{R}"
    assert problem["evidence"] == [f"{P}/{R}: 1 of 1 (100%)"]


def test_a_missing_trigger_names_the_method(emulator: EmulatorServer, env: dict[str, str]) -> None:
    name = f"projects/{P}/locations/global/triggers/sync-routes-v2-setiampolicy"
    requests.delete(f"{emulator.url}/v1/{name}", timeout=5).raise_for_status()
    result, body = run()
    assert result.exit_code == 1
    assert failed(body)["triggers:sync_routes"]["summary"] == f"no trigger for {V2_SET_IAM}"
    result, body = run("--destination", "enforce_ingress=runway-enforce-ingress")
    assert failed(body)["triggers:enforce_ingress"]["summary"].startswith("none delivering to runway-enforce-ingress")


@pytest.mark.parametrize(
    ("variables", "args", "named"),
    [
        ({"RUNWAY_HOSTS": "{"}, [], "RUNWAY_HOSTS"),
        ({"RUNWAY_PROJECT": ""}, [], "RUNWAY_PROJECT"),
        ({"RUNWAY_URL_MAP": ""}, [], "RUNWAY_URL_MAP"),
        ({}, ["--identity", "nobody"], "--identity"),
        ({}, ["--destination", "reconcile_all=x"], "--destination"),
    ],
)
def test_usage_and_configuration_errors_exit_2(
    emulator: EmulatorServer, env: dict[str, str], variables: dict[str, str], args: list[str], named: str
) -> None:
    result = CliRunner().invoke(doctor, args, env=variables)
    assert result.exit_code == 2, result.output
    assert named in result.output


# ------------------------------------------------------------------------------------------------ pure checks


def observation(**changes: Any) -> Any:
    from dataclasses import replace

    from cli.doctor_checks import DoctorObservation
    from shared.config import Config

    config = Config.from_env({"RUNWAY_PROJECT": P, "RUNWAY_URL_MAP": "lb", "RUNWAY_REGIONS": R})
    base = DoctorObservation(
        config=config,
        lb_project=P,
        projects=(P,),
        identities=IDENTITY,
        destinations={fn: f"runway-{fn.replace('_', '-')}" for fn in METHODS_BY_FUNCTION},
        url_map={"name": "lb"},
        granted={(fn, f"projects/{P}"): frozenset(perms) for fn, perms in FUNCTIONS.items()},
    )
    return replace(base, **changes)


def by_name(obs: Any) -> dict[str, Any]:
    from cli.doctor_checks import doctor as evaluate

    return {c.name: c for c in evaluate(obs)}


@pytest.mark.parametrize(
    ("destination", "target", "points"),
    [
        ({"cloudRun": {"service": "runway-sync-routes", "region": R}}, "runway-sync-routes", True),
        ({"cloudFunction": f"projects/{P}/locations/{R}/functions/runway-sync-routes"}, "runway-sync-routes", True),
        ({"httpEndpoint": {"uri": "http://10.0.0.1/"}}, "http://10.0.0.1/", True),
        ({"cloudRun": {"service": "other"}}, "runway-sync-routes", False),
        ({}, "runway-sync-routes", False),
    ],
)
def test_what_a_trigger_points_at(destination: dict[str, Any], target: str, points: bool) -> None:
    from cli.doctor_checks import points_at

    assert points_at({"destination": destination}, target) is points


@pytest.mark.parametrize(("usage", "status"), [(40, "pass"), (41, "fail"), (50, "fail")])
def test_a_quota_fails_above_80_percent(usage: int, status: str) -> None:
    from cli.doctor_checks import Quota

    quotas = [Quota(P, "BACKEND_SERVICES", usage, 50), Quota(f"{P}/{R}", "NETWORK_ENDPOINT_GROUPS", 1, 100)]
    checks = by_name(observation(quotas=quotas))
    assert checks["quota:BACKEND_SERVICES"].status == status
    assert checks["quota:NETWORK_ENDPOINT_GROUPS"].status == "pass"


def test_unreadable_things_fail_with_the_reason() -> None:
    checks = by_name(
        observation(
            url_map="503 backend error",
            granted={(fn, f"projects/{P}"): "403 cannot impersonate" for fn in FUNCTIONS},
            triggers="eventarc.triggers.list: 403",
            quota_errors=[f"{P}: could not read its quotas: 403"],
        )
    )
    assert checks["url_map"].status == "fail" and "503 backend error" in checks["url_map"].summary
    assert checks["permissions:sync_routes"].evidence == (f"projects/{P}: could not test: 403 cannot impersonate",)
    assert checks["triggers:enforce_ingress"].status == "fail"
    assert checks["quota:BACKEND_SERVICES"].status == "fail" and checks["budget"].status == "skip"


def test_an_organization_scope_is_checked_for_the_scope_permissions() -> None:
    from cli.doctor_checks import required
    from shared.permissions import SCOPE

    assert required("reconcile_all", "organizations/123") == SCOPE["reconcile_all"]
    assert required("reconcile_all", f"projects/{P}") == FUNCTIONS["reconcile_all"]
    granted = {(fn, "organizations/123"): frozenset() for fn in FUNCTIONS} | {
        (fn, f"projects/{P}"): frozenset(perms) for fn, perms in FUNCTIONS.items()
    }
    check = by_name(observation(granted=granted))["permissions:reconcile_all"]
    assert check.status == "fail" and "organizations/123: missing resourcemanager.folders.list" in check.evidence[0]


def test_no_security_policy_is_a_warning_not_a_failure() -> None:
    checks = by_name(observation())
    assert checks["security_policy"].status == "warn"
