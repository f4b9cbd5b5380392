"""The CLI's roll-ups per project, as tables: a sweep's plan (`reconcile`), the routing table (`routes`) and the
decision log (`report`), each over several projects, with the `--service-project` filters."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cli import plan_rollup, plan_view, report_projects, routes_view
from cli.projects import service_project
from cli.report_projects import ProjectRollup
from shared.model import Action, Change, ServiceFacts, ServiceKey, ServiceRef
from shared.sweep_result import SweepResult

LB = "runway-host"
R = "us-central1"


def name(project: str, service: str, region: str = R) -> str:
    return f"projects/{project}/locations/{region}/services/{service}"


@pytest.mark.parametrize(
    ("value", "project"),
    [
        (name("shop-proj", "cart"), "shop-proj"),
        ("projects/shop-proj/locations/-/services/cart", "shop-proj"),
        ("shop-proj/cart", None),
        ("", None),
        (None, None),
        ("projects/", None),
    ],
)
def test_the_project_of_a_service_name(value: Any, project: str | None) -> None:
    assert service_project(value) == project


# ------------------------------------------------------------------------------------------------ reconcile


def facts(project: str, service: str, region: str = R) -> ServiceFacts:
    return ServiceFacts(ServiceKey(project, region, service), "INGRESS_TRAFFIC_ALL")


def change(op: str, kind: str, project: str, service: str | None = None) -> Change:
    services = (ServiceRef(project, service),) if service else ()
    return Change(op, kind, f"{kind}-{service or 'map'}", project, "why", services)  # type: ignore[arg-type]


def swept() -> SweepResult:
    """Three projects: the load balancer's (no services of its own), a shop with two services (one in two
    regions), a blog whose service conflicts and whose other service failed."""
    return SweepResult(
        services=[
            facts("shop-proj", "cart"),
            facts("shop-proj", "cart", "europe-west1"),
            facts("shop-proj", "pay"),
            facts("blog-proj", "posts"),
            facts("blog-proj", "broken"),
        ],
        decisions=[
            {"action": Action.INGRESS_REMEDIATED, "service": name("shop-proj", "cart"), "before": "all", "after": "x"},
            {"action": Action.INGRESS_REMEDIATED, "service": name("blog-proj", "posts"), "before": "all", "after": "x"},
            {"action": Action.INGRESS_COMPLIANT, "service": name("shop-proj", "pay")},
            {
                "action": Action.ROUTE_CONFLICT,
                "service": "projects/blog-proj/locations/-/services/posts",
                "holder": "h",
            },
            {"action": Action.API_ERROR, "service": name("blog-proj", "broken"), "reason": "503"},
            {"action": Action.BUDGET_WARNING, "budget": "bytes"},  # the URL map's: the load balancer's project
        ],
        changes=[
            change("update", "url_map", LB),
            change("create", "neg", "shop-proj", "cart"),
            change("create", "backend_service", "shop-proj", "cart"),
            change("update", "security_policy", "shop-proj", "cart"),
            change("delete", "backend_service", "blog-proj", "gone"),
        ],
        failures=[{"service": name("blog-proj", "broken"), "error": "503", "retryable": True}],
    )


def counts(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row["project"], *(row[c] for c in plan_rollup.COUNTS))


def test_a_sweep_rolls_up_per_project_and_the_url_map_counts_for_the_load_balancers() -> None:
    rows = plan_rollup.by_project(swept(), lb_project=LB, covered=("shop-proj", "idle-proj"))
    # project, services, ingress changes, create, update, delete, findings, failures
    assert [counts(r) for r in rows] == [
        ("blog-proj", 2, 1, 0, 0, 1, 2, 1),
        ("idle-proj", 0, 0, 0, 0, 0, 0, 0),
        ("runway-host", 0, 0, 0, 1, 0, 1, 0),
        ("shop-proj", 3, 1, 2, 1, 0, 0, 0),
    ]
    assert counts(plan_rollup.total(rows)) == ("total (4 projects)", 5, 2, 2, 2, 1, 3, 1)


def test_a_single_project_sweep_is_one_row() -> None:
    result = SweepResult(services=[facts(LB, "a")], changes=[change("update", "url_map", LB)])
    assert [counts(r) for r in plan_rollup.by_project(result, lb_project=LB, covered=(LB,))] == [
        (LB, 1, 0, 0, 1, 0, 0, 0)
    ]


def test_the_plan_shows_the_projects_table_only_over_several_projects() -> None:
    result = swept()
    rows = plan_rollup.by_project(result, lb_project=LB)
    text = [" ".join(line.split()) for line in plan_view.as_text(result, dry_run=True, by_project=rows).splitlines()]
    at = text.index("By project:")
    assert text[at + 1 : at + 6] == [
        "PROJECT SERVICES INGRESS CREATE UPDATE DELETE FINDINGS FAILURES",
        "blog-proj 2 1 0 0 1 2 1",
        "runway-host 0 0 0 1 0 1 0",
        "shop-proj 3 1 2 1 0 0 0",
        "total (3 projects) 5 2 2 2 1 3 1",
    ]
    assert text[-1] == "Plan: 2 ingress to fix, 2 to create, 2 to update, 1 to destroy."
    one = plan_rollup.by_project(result, lb_project=LB)[:1]
    assert "By project:" not in plan_view.as_text(result, dry_run=True, by_project=one)
    assert plan_view.as_text(result, dry_run=True, by_project=one) == plan_view.as_text(result, dry_run=True)


# ------------------------------------------------------------------------------------------------ routes


def route(project: str, service: str, path: str, host: str = "*") -> routes_view.Route:
    return routes_view.Route(host, path, f"{project}/{service}", (R,), f"be-{service}", "runway", project)


ROUTES = [
    route(LB, "home", "/"),
    route("shop-proj", "cart", "/cart"),
    route("shop-proj", "cart", "/cart/*"),
    route("shop-proj", "pay", "/pay", host="shop.example.com"),
    route("blog-proj", "posts", "/blog"),
]


def test_routes_count_per_project_and_filter_by_service_project() -> None:
    assert routes_view.by_project(ROUTES) == [
        {"project": "blog-proj", "routes": 1, "services": 1},
        {"project": LB, "routes": 1, "services": 1},
        {"project": "shop-proj", "routes": 3, "services": 2},
    ]
    assert [r.path for r in routes_view.only_projects(ROUTES, {"shop-proj", "blog-proj"})] == [
        "/cart",
        "/cart/*",
        "/pay",
        "/blog",
    ]
    assert routes_view.only_projects(ROUTES, ()) == ROUTES


def test_the_routes_table_gains_a_project_column_once_a_project_differs() -> None:
    table = [" ".join(line.split()) for line in routes_view.as_table(ROUTES, "default-404", lb_project=LB).splitlines()]
    assert table[0] == "HOST PATH PROJECT SERVICE REGIONS BACKEND"
    assert "* /cart shop-proj shop-proj/cart us-central1 be-cart" in table
    assert table[table.index("Routes per project:") + 1 :] == [
        "blog-proj: 1 route to 1 service",
        f"{LB}: 1 route to 1 service",
        "shop-proj: 3 routes to 2 services",
    ]
    own = routes_view.as_table(ROUTES[:1], "default-404", lb_project=LB).splitlines()
    assert own[0].split() == ["HOST", "PATH", "SERVICE", "REGIONS", "BACKEND"]


# ------------------------------------------------------------------------------------------------ report


def decision(action: str, project: str | None, service: str = "s", **fields: Any) -> dict[str, Any]:
    return {"action": action, "service": name(project, service) if project else None, **fields}


DECISIONS = [
    decision("ingress_remediated", "shop-proj", "cart"),
    decision("ingress_remediated", "shop-proj", "pay"),
    decision("ingress_compliant", "shop-proj", "cart"),
    decision("route_registered", "shop-proj", "cart"),
    decision("route_updated", "shop-proj", "cart"),
    decision("route_conflict", "blog-proj", "posts"),
    decision("route_invalid", "blog-proj", "drafts"),
    decision("route_removed", "blog-proj", "old"),
    decision("route_unreachable", LB, "home"),
    decision("api_error", LB, "home"),
    decision("ingress_compliant", "idle-proj", "quiet"),
    decision("event_invalid", None),
    decision("budget_warning", None),
]


def test_the_report_rolls_up_per_service_project_with_open_findings() -> None:
    open_findings = [name("blog-proj", "posts"), name("blog-proj", "drafts"), name(LB, "home"), "not-a-name"]
    rows = report_projects.by_project(DECISIONS, open_findings)
    # idle-proj's only decision counts nothing: no row (the posture lists every project swept).
    assert rows == (
        ProjectRollup("blog-proj", route_removed=1, conflicts=1, invalid=1, open_findings=2),
        ProjectRollup(LB, unreachable=1, api_error=1, open_findings=1),
        ProjectRollup("shop-proj", ingress_remediated=2, route_registered=1, route_updated=1),
    )
    assert report_projects.total(rows) == ProjectRollup(
        "total (3 projects)",
        ingress_remediated=2,
        route_registered=1,
        route_updated=1,
        route_removed=1,
        conflicts=1,
        invalid=1,
        unreachable=1,
        api_error=1,
        open_findings=3,
    )


def test_the_service_project_filter_keeps_decisions_naming_no_service_and_cuts_the_posture() -> None:
    summary = {
        "action": "sweep_summary",
        "service": None,
        "posture": {p: {"private": 1} for p in ("shop-proj", "blog-proj", LB)},
    }
    kept = report_projects.only_projects([*DECISIONS, summary], {"shop-proj", "blog-proj"})
    assert [(d["action"], service_project(d["service"])) for d in kept] == [
        ("ingress_remediated", "shop-proj"),
        ("ingress_remediated", "shop-proj"),
        ("ingress_compliant", "shop-proj"),
        ("route_registered", "shop-proj"),
        ("route_updated", "shop-proj"),
        ("route_conflict", "blog-proj"),
        ("route_invalid", "blog-proj"),
        ("route_removed", "blog-proj"),
        ("event_invalid", None),
        ("budget_warning", None),
        ("sweep_summary", None),
    ]
    assert kept[-1]["posture"] == {"shop-proj": {"private": 1}, "blog-proj": {"private": 1}}
    assert summary["posture"] != kept[-1]["posture"]  # the input is left as it was
    assert report_projects.only_projects(DECISIONS, ()) == DECISIONS


def test_the_projects_section_renders_rows_and_the_total() -> None:
    from cli.report_format import format_markdown, format_table
    from cli.report_html import format_html
    from cli.report_summary import summarize

    moment = datetime(2026, 3, 1, 10, tzinfo=UTC)
    stamped = [{**d, "timestamp": moment} for d in DECISIONS]
    report = summarize(stamped, since=moment, until=moment.replace(hour=11))
    table = [" ".join(line.split()) for line in format_table(report).splitlines()]
    at = table.index("Projects")
    assert table[at + 2] == (
        "project remediated registered updated removed conflicts invalid unreachable api_error open findings"
    )
    assert table[at + 3 : at + 7] == [
        "blog-proj 0 0 0 1 1 1 0 0 2",
        f"{LB} 0 0 0 0 0 0 1 1 1",
        "shop-proj 2 1 1 0 0 0 0 0 0",
        "total (3 projects) 2 1 1 1 1 1 1 1 3",
    ]
    assert "### Projects" in format_markdown(report) and "| total (3 projects) | 2 | 1 |" in format_markdown(report)
    page = format_html(report)
    assert "<h2>Projects</h2>" in page and "<td>total (3 projects)</td><td>2</td>" in page
