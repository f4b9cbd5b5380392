"""The CLI over several projects (`RUNWAY_SCOPE`), against the emulator: `reconcile --scope` counts its plan per
project with the total, `routes` shows and filters the services' projects, `report --service-project` rolls the
decision log up per service project and keeps the chosen ones."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from google.cloud import run_v2

from cli.main import cli
from devstack.bootstrap import create_load_balancer
from emulator import EmulatorServer
from shared import clients
from shared.config import VARIABLES
from tests.integration.test_report import ALICE, ENFORCE, SYNC, WINDOW, Spec, minutes, remediated, write

LB = "runway-demo"  # runway's own project: the URL map, and services of its own
SHOP = "shop-proj"
R = "us-central1"


@pytest.fixture
def env(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    values = {
        "RUNWAY_API_ENDPOINT": emulator.url,
        "RUNWAY_PROJECT": LB,
        "RUNWAY_URL_MAP": "runway-lb",
        "RUNWAY_REGIONS": R,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    create_load_balancer(emulator.url, LB)
    yield


def deploy(emulator: EmulatorServer, project: str, name: str, labels: dict[str, str] | None = None) -> None:
    service = run_v2.Service(
        ingress=run_v2.IngressTraffic.INGRESS_TRAFFIC_ALL,
        labels=labels or {},
        invoker_iam_disabled=True,  # anyone may invoke it: its route is reachable
        template=run_v2.RevisionTemplate(containers=[run_v2.Container(image="hello")]),
    )
    clients.run_services(emulator.url).create_service(
        parent=f"projects/{project}/locations/{R}", service_id=name, service=service
    ).result()


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def words(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines()]


def seed(emulator: EmulatorServer) -> None:
    deploy(emulator, LB, "home", {"public-route": "true"})
    deploy(emulator, SHOP, "cart", {"public-route": "true"})
    deploy(emulator, SHOP, "legacy")


def test_reconcile_over_two_projects_prints_each_and_the_total(emulator: EmulatorServer, env: None) -> None:
    seed(emulator)
    code, out = invoke("reconcile", "--dry-run", "--scope", f"{LB},{SHOP}")
    assert code == 1, out  # drift in a dry run
    text = words(out)
    at = text.index("By project:")
    # project, services, ingress to fix, create, update, delete, findings, failures: each service's NEG and
    # backend service (with the Cloud Armor attachment when configured) in its own project, the URL map in LB's.
    assert text[at + 1 : at + 5] == [
        "PROJECT SERVICES INGRESS CREATE UPDATE DELETE FINDINGS FAILURES",
        f"{LB} 1 1 2 1 0 0 0",
        f"{SHOP} 2 2 2 0 0 0 0",
        "total (2 projects) 3 3 4 1 0 0 0",
    ]
    assert text[-1] == "Plan: 3 ingress to fix, 4 to create, 1 to update, 0 to destroy."

    code, out = invoke("reconcile", "--dry-run", "--scope", f"{LB},{SHOP}", "--format", "json")
    body = json.loads(out)
    assert {"services", "changes", "ingress", "posture", "budgets"} <= set(body)  # the keys there were
    assert body["by_project"] == [
        {
            "project": LB,
            "services": 1,
            "ingress_changes": 1,
            "create": 2,
            "update": 1,
            "delete": 0,
            "findings": 0,
            "failures": 0,
        },
        {
            "project": SHOP,
            "services": 2,
            "ingress_changes": 2,
            "create": 2,
            "update": 0,
            "delete": 0,
            "findings": 0,
            "failures": 0,
        },
    ]


def test_without_a_scope_the_sweep_stays_in_its_project_and_prints_as_before(
    emulator: EmulatorServer, env: None
) -> None:
    seed(emulator)
    code, out = invoke("reconcile", "--dry-run")
    assert code == 1, out
    assert "By project:" not in out and SHOP not in out
    assert words(out)[0] == "1 service swept."
    code, out = invoke("reconcile", "--dry-run", "--format", "json")
    assert [row["project"] for row in json.loads(out)["by_project"]] == [LB]


def test_a_bad_scope_is_a_usage_error_naming_the_option(env: None) -> None:
    code, out = invoke("reconcile", "--dry-run", "--scope", f"{LB},Not_A_Project")
    assert code == 2
    assert "--scope" in out and "'Not_A_Project' is not a project id" in out


def test_routes_show_the_services_projects_and_filter_by_them(emulator: EmulatorServer, env: None) -> None:
    seed(emulator)
    code, out = invoke("reconcile", "--scope", f"{LB},{SHOP}")
    assert code == 0, out
    code, out = invoke("routes")
    assert code == 0, out
    text = words(out)
    assert text[0] == "HOST PATH PROJECT SERVICE REGIONS BACKEND"
    assert any(line.startswith(f"* /cart {SHOP} {SHOP}/cart {R} ") for line in text), out
    assert text[text.index("Routes per project:") + 1 :] == [
        f"{LB}: 2 routes to 1 service",
        f"{SHOP}: 2 routes to 1 service",
    ]
    code, out = invoke("routes", "--service-project", SHOP, "--format", "json")
    body = json.loads(out)
    assert [(r["path"], r["project"]) for r in body["routes"]] == [("/cart", SHOP), ("/cart/*", SHOP)]
    assert body["by_project"] == [{"project": SHOP, "routes": 2, "services": 1}]
    code, out = invoke("routes", "--service-project", "Bad_Project")
    assert code == 2 and "--service-project" in out


def svc(project: str, name: str) -> str:
    return f"projects/{project}/locations/{R}/services/{name}"


def test_report_rolls_up_per_service_project_and_filters_by_them(emulator: EmulatorServer, env: None) -> None:
    # The decision log is runway's (demo-proj in test_report's writer); each decision names its service's project.
    write(
        emulator,
        [
            remediated(minutes(1), "a", ALICE, "ev-1"),  # demo-proj/a
            Spec(
                minutes(2),
                ENFORCE,
                "ingress_remediated",
                svc(SHOP, "cart"),
                ALICE,
                "ev-2",
                {"before": "all", "after": "x"},
            ),
            Spec(minutes(3), SYNC, "route_registered", svc(SHOP, "cart"), ALICE, "ev-3", {"paths": ["/cart"]}),
            Spec(minutes(4), SYNC, "route_conflict", svc(SHOP, "pay"), ALICE, "ev-4", {"holder": f"{SHOP}/cart"}),
            Spec(minutes(5), ENFORCE, "event_invalid", None, None, "ev-5", {"reason": "not an audit entry"}),
        ],
    )
    env = {"RUNWAY_PROJECT": "demo-proj"}
    result = CliRunner().invoke(cli, ["report", *WINDOW, "--format", "json"], env=env, catch_exceptions=False)
    rows = {row["project"]: row for row in json.loads(result.stdout)["by_project"]}
    assert set(rows) == {"demo-proj", SHOP}
    assert (rows["demo-proj"]["ingress_remediated"], rows["demo-proj"]["conflicts"]) == (1, 0)
    assert [rows[SHOP][k] for k in ("ingress_remediated", "route_registered", "conflicts", "open_findings")] == [
        1,
        1,
        1,
        1,
    ]

    args = ["report", *WINDOW, "--service-project", SHOP]
    result = CliRunner().invoke(cli, [*args, "--format", "json"], env=env, catch_exceptions=False)
    body = json.loads(result.stdout)
    assert [row["project"] for row in body["by_project"]] == [SHOP]
    assert body["counts"]["ingress_remediated"] == 1 and body["counts"]["event_invalid"] == 1  # no service: kept
    result = CliRunner().invoke(cli, args, env=env, catch_exceptions=False)
    text = words(result.stdout)
    at = text.index("Projects")
    assert text[at + 3 : at + 5] == [f"{SHOP} 1 1 0 0 1 0 0 0 1", "total (1 project) 1 1 0 0 1 0 0 0 1"]
