"""`python main.py explain`: the chain of one service, checked against the emulator, compared with golden outputs.

Each situation is made with the real client libraries and runway's own sweep (`shared.flow_sweep.sweep`, in
process), its decisions shipped to the emulator's Logging as Cloud Run's agent would; then `explain` runs through
click's CliRunner in both formats. Times, ports and other volatile bits are normalized before comparing with
`tests/testdata/explain/<case>.txt` and `.json` (the text one ends with the exit code). `UPDATE_GOLDEN=1` rewrites
them. The pure checks are table-tested at the end, on crafted observations.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from google.cloud import run_v2
from google.cloud.logging import Resource
from google.iam.v1 import iam_policy_pb2, policy_pb2

from cli.explain import explain
from cli.explain_checks import explain as evaluate
from cli.explain_model import Observation
from devstack.bootstrap import create_load_balancer
from devstack.log_agent import entry_from_line
from emulator import EmulatorServer
from shared import clients
from shared.config import VARIABLES, Config
from shared.decision_log import DecisionLog
from shared.flow_sweep import sweep
from shared.model import ServiceFacts, ServiceKey, ServiceRef
from shared.naming import backend_service_name, neg_name

P, R = "runway-demo", "us-central1"
GOLDEN = Path(__file__).parents[1] / "testdata" / "explain"
HOSTS = '{"default": ["*"], "shop": ["shop.example.com", "www.shop.example.com"]}'
ILB, ALL = "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER", "INGRESS_TRAFFIC_ALL"


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
        "RUNWAY_HOSTS": HOSTS,
        "RUNWAY_EXEMPT": f"{P}/*/legacy-*",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    create_load_balancer(emulator.url, P)
    yield values


def deploy(
    emulator: EmulatorServer,
    name: str,
    labels: dict[str, str] | None = None,
    *,
    annotations: dict[str, str] | None = None,
    ingress: str = ILB,
    public: bool = True,
) -> None:
    """A service; `public`: allUsers may invoke it (what a load balancer's requests need)."""
    run = clients.run_services(emulator.url)
    service = run_v2.Service(
        labels=labels or {},
        annotations=annotations or {},
        ingress=run_v2.IngressTraffic[ingress],
        template=run_v2.RevisionTemplate(containers=[run_v2.Container(image="hello")]),
    )
    run.create_service(parent=f"projects/{P}/locations/{R}", service_id=name, service=service).result()
    if public:
        policy = policy_pb2.Policy(bindings=[policy_pb2.Binding(role="roles/run.invoker", members=["allUsers"])])
        resource = f"projects/{P}/locations/{R}/services/{name}"
        run.set_iam_policy(request=iam_policy_pb2.SetIamPolicyRequest(resource=resource, policy=policy))


def ship(emulator: EmulatorServer, lines: list[str]) -> None:
    """Decision lines into the emulator's Logging, as Cloud Run's agent turns a function's stdout into entries."""
    resource = Resource(type="cloud_run_revision", labels={"project_id": P, "location": R, "service_name": "sweep"})
    logger = clients.logging_client(P, emulator.url).logger("run.googleapis.com/stdout", resource=resource)
    with logger.batch() as batch:
        for line in lines:
            entry = entry_from_line(line, stream="stdout")
            batch.log_struct(
                entry["jsonPayload"],
                severity=entry["severity"],
                labels=entry["labels"],
                timestamp=datetime.fromisoformat(entry["timestamp"]),
            )


def run_sweep(emulator: EmulatorServer) -> None:
    out = io.StringIO()
    sweep(
        config=Config.from_env(dict(os.environ)),
        log=DecisionLog(function="reconcile_all", stream=out),
        run=clients.run_services(emulator.url),
        compute=clients.compute(emulator.url),
    )
    ship(emulator, out.getvalue().splitlines())


_VOLATILE = [
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"), "<time>"),
    (re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"), "<time>"),
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:<port>"),
]


def normalized(text: str) -> str:
    for pattern, replacement in _VOLATILE:
        text = pattern.sub(replacement, text)
    return text


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"{path} is missing: run with UPDATE_GOLDEN=1 once and review it"
    assert text == path.read_text(), f"{name} differs from its golden output (UPDATE_GOLDEN=1 rewrites it)"


def explained(case: str, service: str, code: int) -> dict[str, Any]:
    """Run explain in both formats; compare with the goldens; the JSON answer."""
    text = CliRunner().invoke(explain, [service], catch_exceptions=False)
    body = CliRunner().invoke(explain, [service, "--format", "json"], catch_exceptions=False)
    assert (text.exit_code, body.exit_code) == (code, code), text.output
    check_golden(f"{case}.txt", normalized(text.stdout) + f"[exit {text.exit_code}]\n")
    check_golden(f"{case}.json", normalized(body.stdout))
    answer: dict[str, Any] = json.loads(body.stdout)
    assert answer["exit_code"] == code
    return answer


def statuses(answer: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["status"] for c in answer["checks"]}


# ------------------------------------------------------------------------------------------------ the situations


def test_published(emulator: EmulatorServer, env: dict[str, str]) -> None:
    deploy(emulator, "catalog", {"public-route": "true"})
    run_sweep(emulator)
    answer = explained("published", "catalog", 0)
    assert answer["published"] and answer["reachable"] and answer["first_failure"] is None
    assert set(statuses(answer).values()) <= {"pass", "info"}
    assert [d["action"] for d in answer["decisions"]][:2] == ["route_registered", "ingress_compliant"]


def test_conflict(emulator: EmulatorServer, env: dict[str, str]) -> None:
    deploy(emulator, "catalog", {"public-route": "true"})
    run_sweep(emulator)
    deploy(emulator, "intruder", {"public-route": "catalog"})
    run_sweep(emulator)
    answer = explained("conflict", "intruder", 1)
    assert answer["first_failure"]["name"] == f"neg:{R}"
    routing = next(c for c in answer["checks"] if c["name"] == "routing")
    assert routing["status"] == "fail" and f"{P}/catalog" in routing["summary"]
    assert statuses(answer)["status"] == "fail"  # runway-route=conflict, and it is


def test_invalid_label(emulator: EmulatorServer, env: dict[str, str]) -> None:
    deploy(emulator, "broken", {"public-route": "true"}, annotations={"runway.dev/paths": "/api,/api/../admin"})
    run_sweep(emulator)
    answer = explained("invalid-label", "broken", 1)
    assert answer["first_failure"]["name"] == "label" and "'..'" in answer["first_failure"]["summary"]


def test_unknown_host_alias(emulator: EmulatorServer, env: dict[str, str]) -> None:
    deploy(emulator, "storefront", {"public-route": "store", "public-host": "nope"})
    run_sweep(emulator)
    answer = explained("unknown-host-alias", "storefront", 1)
    assert statuses(answer)["label"] == "pass" and answer["first_failure"]["name"] == "host"
    assert "default, shop" in " ".join(answer["first_failure"]["evidence"])


def test_exempt_and_open(emulator: EmulatorServer, env: dict[str, str]) -> None:
    deploy(emulator, "legacy-app", {"public-route": "true"}, ingress=ALL)
    run_sweep(emulator)
    answer = explained("exempt-open", "legacy-app", 0)
    ingress = next(c for c in answer["checks"] if c["name"] == "ingress")
    assert "exempt by RUNWAY_EXEMPT" in ingress["evidence"][0]
    assert "ingress_exempt" in [d["action"] for d in answer["decisions"]]


def test_unreachable(emulator: EmulatorServer, env: dict[str, str]) -> None:
    deploy(emulator, "private-api", {"public-route": "true"}, public=False)
    run_sweep(emulator)
    answer = explained("unreachable", "private-api", 1)
    assert answer["published"] and not answer["reachable"]
    first = answer["first_failure"]
    assert first["name"] == "invoker"
    assert first["fix"] == (
        f"gcloud run services add-iam-policy-binding private-api --region={R} --project={P} "
        "--member=allUsers --role=roles/run.invoker"
    )
    assert "route_unreachable" in [d["action"] for d in answer["decisions"]]


def test_not_labeled(emulator: EmulatorServer, env: dict[str, str]) -> None:
    deploy(emulator, "plain")
    answer = explained("not-labeled", "plain", 1)
    assert answer["first_failure"]["name"] == "label"
    assert answer["decisions"] == []


# ------------------------------------------------------------------------------------------------ usage errors


@pytest.mark.parametrize(
    ("args", "variables", "message"),
    [
        (["ghost"], {}, "no Cloud Run service 'ghost' in project runway-demo (us-central1)"),
        (["Not_A_Name"], {}, "not a Cloud Run v2 service name"),
        (["plain"], {"RUNWAY_HOSTS": "{"}, "RUNWAY_HOSTS"),
        (["plain"], {"RUNWAY_URL_MAP": "nowhere"}, "URL map 'nowhere' does not exist"),
        (["plain"], {"RUNWAY_REGIONS": ""}, "RUNWAY_REGIONS: not set"),
        (["plain", "--format", "yaml"], {}, "--format"),
    ],
)
def test_usage_errors_exit_2(
    emulator: EmulatorServer, env: dict[str, str], args: list[str], variables: dict[str, str], message: str
) -> None:
    deploy(emulator, "plain")
    result = CliRunner().invoke(explain, args, env=variables)
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_a_full_name_and_an_unreadable_log(emulator: EmulatorServer, env: dict[str, str]) -> None:
    deploy(emulator, "catalog", {"public-route": "true"})
    run_sweep(emulator)
    emulator.emulator.faults.configure({"rules": [{"path": "entries:list", "status": 403, "message": "denied"}]})
    name = f"projects/{P}/locations/{R}/services/catalog"
    result = CliRunner().invoke(explain, [name, "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output  # the log is information, not a link of the chain
    assert "could not read the decision log" in json.loads(result.stdout)["decisions"]["error"]


# ------------------------------------------------------------------------------------------------ pure checks


def facts(labels: dict[str, str] | None = None, **fields: Any) -> ServiceFacts:
    return ServiceFacts(ServiceKey(P, R, "svc"), fields.pop("ingress", ILB), labels or {}, **fields)


CONFIG = Config.from_env(
    {"RUNWAY_PROJECT": P, "RUNWAY_URL_MAP": "lb", "RUNWAY_HOSTS": HOSTS, "RUNWAY_EXEMPT": f"{P}/*/legacy-*"}
)
BACKEND = backend_service_name("runway", P, "svc")
NEG = neg_name("runway", P, R, "svc")
MARKER = '{"managedBy":"runway","owner":"runway","service":"runway-demo/svc"}'
BASE = "https://www.googleapis.com/compute/v1/projects/runway-demo"


def live_map(paths: list[str] | None = None, holder: str | None = None, held: list[str] | None = None) -> dict:
    rules = [{"paths": paths or ["/svc", "/svc/*"], "service": f"{BASE}/global/backendServices/{BACKEND}"}]
    if holder:
        rules.append({"paths": held or [], "service": f"{BASE}/global/backendServices/{holder}"})
    return {
        "name": "lb",
        "defaultService": f"{BASE}/global/backendBuckets/default",
        "hostRules": [{"hosts": ["*"], "pathMatcher": "runway-default"}],
        "pathMatchers": [{"name": "runway-default", "defaultService": "x", "pathRules": rules}],
    }


def observation(**changes: Any) -> Observation:
    base = Observation(
        config=CONFIG,
        ref=ServiceRef(P, "svc"),
        copies=(facts({"public-route": "true"}),),
        invoker={R: True},
        backend={
            "name": BACKEND,
            "description": MARKER,
            "backends": [{"group": f"{BASE}/regions/{R}/networkEndpointGroups/{NEG}"}],
        },
        negs={R: {"name": NEG, "description": MARKER, "cloudRun": {"service": "svc"}}},
        url_map=live_map(),
        lb_project=P,
    )
    return replace(base, **changes)


@dataclass(frozen=True)
class Case:
    changes: Callable[[], dict[str, Any]]
    first: str | None  # the first failing check
    words: str = ""  # in its summary


CASES = {
    "published": Case(lambda: {}, None),
    "off word": Case(lambda: {"copies": (facts({"public-route": "off"}),)}, "label", "on purpose"),
    "other installation": Case(
        lambda: {"copies": (facts({"public-route": "true", "runway-owner": "blue"}),)}, "label", "'blue'"
    ),
    "bad slug": Case(lambda: {"copies": (facts({"public-route": "No!"}),)}, "label", "not a valid route"),
    "internal only": Case(
        lambda: {"copies": (facts({"public-route": "true"}, ingress="INGRESS_TRAFFIC_INTERNAL_ONLY"),)},
        "ingress",
        "internal",
    ),
    "switched off": Case(
        lambda: {"copies": (facts({"public-route": "true"}, ingress="INGRESS_TRAFFIC_NONE"),)}, "ingress", "none"
    ),
    "invoker unreadable": Case(lambda: {"invoker": {R: "403 denied"}}, "invoker", "could not be read"),
    "invoker iam disabled": Case(
        lambda: {"invoker": {}, "copies": (facts({"public-route": "true"}, invoker_public=True),)}, None
    ),
    "no NEG": Case(lambda: {"negs": {R: None}}, f"neg:{R}", "no serverless NEG"),
    "foreign NEG": Case(lambda: {"negs": {R: {"name": NEG, "description": "hand-made"}}}, f"neg:{R}", "not this"),
    "no backend": Case(lambda: {"backend": None}, "backend", "no backend service"),
    "no Cloud Armor": Case(
        lambda: {"config": replace(CONFIG, security_policy="edge")}, "backend", "RUNWAY_SECURITY_POLICY=edge"
    ),
    "not routed yet": Case(lambda: {"url_map": live_map(paths=["/old"])}, "rule:*", "another route"),
    "shadowed by a prefix": Case(
        lambda: {
            "url_map": live_map(paths=["/elsewhere"], holder="other-backend", held=["/svc/*"]),
            "holder_names": {f"projects/{P}/global/backendServices/other-backend": f"{P}/other"},
        },
        "rule:*",
        "another route",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_pure_checks(name: str) -> None:
    case = CASES[name]
    result = evaluate(observation(**case.changes()))
    first = result.first_failure
    assert (first.name if first else None) == case.first, [(c.name, c.status, c.summary) for c in result.checks]
    if first is not None:
        assert (case.words in first.summary and first.fix is not None) or first.kind in ("rule", "routing")
    assert result.exit_code == (0 if case.first is None else 1)


def test_a_shadowing_prefix_names_its_holder() -> None:
    obs = observation(
        url_map=live_map(paths=["/elsewhere"], holder="other-backend", held=["/svc/*"]),
        holder_names={f"projects/{P}/global/backendServices/other-backend": f"{P}/other"},
    )
    routing = next(c for c in evaluate(obs).checks if c.name == "routing")
    assert routing.status == "fail" and routing.summary == f"/svc/* on 'default' already served by {P}/other"
    assert routing.evidence == (f"/svc/* is held by {P}/other",)


def test_a_more_specific_rule_inside_a_published_prefix_is_reported() -> None:
    obs = observation(url_map=live_map(holder="admin-backend", held=["/svc/admin"]))
    routing = next(c for c in evaluate(obs).checks if c.name == "routing")
    assert routing.status == "pass"
    assert routing.evidence == (
        f"/svc/admin (held by projects/{P}/global/backendServices/admin-backend) is more specific and takes those "
        "requests",
    )


def test_every_region_of_a_service_is_checked() -> None:
    eu = "europe-west1"
    copies = (facts({"public-route": "true"}), replace(facts({"public-route": "true"}), key=ServiceKey(P, eu, "svc")))
    eu_neg = neg_name("runway", P, eu, "svc")
    obs = observation(
        copies=copies,
        invoker={R: True, eu: False},
        negs={R: observation().negs[R], eu: {"name": eu_neg, "description": MARKER, "cloudRun": {"service": "svc"}}},
    )
    result = evaluate(obs)
    checks = {c.name: c for c in result.checks}
    assert result.regions == (R, eu)
    assert checks["invoker"].evidence == (
        f"{R}: allUsers holds roles/run.invoker",
        f"{eu}: allUsers does not hold roles/run.invoker, IAP is off",
    )
    assert checks[f"neg:{eu}"].status == "pass"
    assert checks["backend"].status == "fail" and checks["backend"].summary.endswith(f"does not use NEG {eu_neg}")
    assert result.first_failure is checks["invoker"] and "--region=europe-west1" in (checks["invoker"].fix or "")
