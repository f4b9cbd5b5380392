"""The report's route findings (open or resolved, with age) and posture (the latest sweep's snapshot).

Pure tests run `summarize` over decisions written by the real `DecisionLog` (as `test_report` does); one test
writes them to the emulator's Logging with the real client and reads the report back through the CLI.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner

from cli.report import report
from cli.report_format import format_markdown, format_table
from cli.report_html import format_html
from cli.report_summary import summarize
from emulator import EmulatorServer
from shared.config import VARIABLES
from tests.integration.test_report import (
    ALICE,
    BOB,
    PROJECT,
    SINCE,
    SYNC,
    UNTIL,
    WINDOW,
    Spec,
    as_read,
    minutes,
    short,
    svc,
    write,
)

SWEEP = "reconcile_all"
UNREACHABLE_REASON = (
    "allUsers does not hold roles/run.invoker (and IAP is off), so the load balancer's requests get 403"
)


def conflict(n: int, name: str, holder: str = "demo-proj/holder", event: str | None = None) -> Spec:
    fields = {"host": "default", "paths": [f"/{name}"], "holder": holder}
    return Spec(minutes(n), SYNC if event else SWEEP, "route_conflict", svc(name), ALICE, event, fields)


def unchanged(n: int, name: str, finding: str | None = None, service: str | None = None) -> Spec:
    fields = {"finding": finding} if finding else {}
    return Spec(minutes(n), SWEEP, "route_unchanged", service or svc(name), None, None, fields)


def registered(n: int, name: str) -> Spec:
    fields = {"host": "default", "paths": [f"/{name}"], "backend": f"runway-{name}"}
    return Spec(minutes(n), SWEEP, "route_registered", svc(name), None, None, fields)


def invalid(n: int, name: str, reason: str = "label public-host='nope' names no host alias") -> Spec:
    return Spec(minutes(n), SYNC, "route_invalid", svc(name), BOB, f"ev-{n}", {"reason": reason})


def unreachable(n: int, name: str) -> Spec:
    fields = {"paths": [f"/{name}"], "reason": UNREACHABLE_REASON, "published": "unchanged"}
    return Spec(minutes(n), SWEEP, "route_unreachable", svc(name), None, None, fields)


def summary_of(*specs: Spec) -> Any:
    return summarize(as_read(specs), since=SINCE, until=UNTIL, project=PROJECT)


# ------------------------------------------------------------------------------------------------ route findings


def test_a_conflict_repeated_then_published_is_resolved_with_its_age() -> None:
    found = summary_of(
        conflict(0, "shop", event="ev-1"), unchanged(30, "shop", "conflict"), registered(90, "shop")
    ).route_findings
    assert found.open == ()
    (finding,) = found.resolved
    assert (finding.kind, finding.service, finding.first_seen, finding.last_seen) == (
        "conflict",
        svc("shop"),
        minutes(0),
        minutes(30),
    )
    assert (finding.resolved, finding.resolved_by, finding.age_seconds, finding.reports) == (
        minutes(90),
        "route_registered",
        90 * 60,
        2,
    )
    assert (finding.holder, finding.paths, finding.principal) == ("demo-proj/holder", ("/shop",), ALICE)
    assert not finding.started_before_window


def test_an_open_finding_first_seen_as_a_repeat_started_before_the_window() -> None:
    found = summary_of(unchanged(0, "api", "unreachable"), unreachable(60, "api")).route_findings
    (finding,) = found.open
    assert finding.started_before_window and finding.reports == 2 and finding.is_open
    assert finding.reason == UNREACHABLE_REASON  # from the decision that carried it, not the repeat
    assert finding.age_seconds == int((UNTIL - minutes(0)).total_seconds())


def test_another_kind_of_finding_resolves_the_first_and_opens_its_own() -> None:
    found = summary_of(invalid(0, "web"), conflict(10, "web")).route_findings
    assert [(f.kind, f.resolved_by) for f in found.resolved] == [("invalid", "route_conflict")]
    assert [(f.kind, f.first_seen) for f in found.open] == [("conflict", minutes(10))]


def test_an_unchanged_decision_without_a_finding_resolves_it() -> None:
    found = summary_of(invalid(0, "web"), unchanged(5, "web")).route_findings
    assert found.open == () and [f.resolved_by for f in found.resolved] == ["route_unchanged"]


def test_a_route_is_one_per_project_and_name_whatever_the_region_it_is_logged_under() -> None:
    everywhere = f"projects/{PROJECT}/locations/-/services/multi"
    found = summary_of(conflict(0, "multi"), unchanged(20, "multi", "conflict", service=everywhere)).route_findings
    (finding,) = found.open
    assert finding.reports == 2 and finding.service == everywhere  # the latest name it was logged under


def test_dry_run_and_non_route_decisions_do_not_open_or_resolve_findings() -> None:
    dry = Spec(minutes(5), SWEEP, "route_registered", svc("web"), None, None, {"paths": ["/web"]}, dry_run=True)
    ingress = Spec(minutes(6), "enforce_ingress", "ingress_compliant", svc("web"), None, "e", {"before": "x"})
    dry_conflict = Spec(minutes(7), SWEEP, "route_conflict", svc("other"), None, None, {"holder": "x"}, dry_run=True)
    found = summary_of(invalid(0, "web"), dry, ingress, dry_conflict).route_findings
    assert [f.service for f in found.open] == [svc("web")] and found.resolved == ()


def test_open_findings_come_oldest_first_and_resolved_ones_by_resolution() -> None:
    found = summary_of(
        invalid(10, "b"),
        invalid(0, "a"),
        conflict(1, "c"),
        registered(50, "c"),
        conflict(2, "d"),
        registered(40, "d"),
    ).route_findings
    assert [f.service for f in found.open] == [svc("a"), svc("b")]
    assert [f.service for f in found.resolved] == [svc("d"), svc("c")]


def test_unreachable_routes_are_findings_of_the_exit_code() -> None:
    summary = summary_of(unreachable(0, "api"))
    assert (summary.findings.unreachable, summary.findings.total) == (1, 1)
    assert summary.timeline.buckets[10].conflicts == 1  # T is 10:00


# ------------------------------------------------------------------------------------------------ posture


def sweep_summary(n: int, *, bytes_used: int, dry_run: bool = False, services: int = 4) -> Spec:
    fields = {
        "posture": {
            "demo-proj": {"private": 2, "published": 1, "exempt": 0, "open": 1},
            "app-proj": {"private": 0, "published": 0, "exempt": 1, "open": 0},
        },
        "budgets": {
            "bytes": {
                "used": bytes_used,
                "limit": 65536,
                "fraction": round(bytes_used / 65536, 4),
                "where": "the URL map",
            },
            "path_rules_per_path_matcher": {
                "used": 3,
                "limit": 1000,
                "fraction": 0.003,
                "where": "pathMatchers[runway-default]",
            },
        },
        "services": services,
        "failures": 0,
    }
    return Spec(minutes(n), SWEEP, "sweep_summary", None, None, None, fields, dry_run)


def budget_warning(n: int, used: int, dry_run: bool = False) -> Spec:
    fields = {
        "budget": "bytes",
        "used": used,
        "limit": 65536,
        "fraction": round(used / 65536, 4),
        "where": "the URL map",
    }
    return Spec(minutes(n), SWEEP, "budget_warning", None, None, None, fields, dry_run)


def test_posture_is_the_latest_sweep_summary_with_its_budgets_and_warnings() -> None:
    posture = summary_of(
        sweep_summary(0, bytes_used=1000, services=3),
        budget_warning(59, 55000),
        budget_warning(119, 60000),
        sweep_summary(120, bytes_used=60000),
        budget_warning(130, 1, dry_run=True),
        sweep_summary(100, bytes_used=2, dry_run=True),
    ).posture
    assert posture is not None
    assert (posture.time, posture.function, posture.dry_run, posture.services, posture.failures) == (
        minutes(120),
        SWEEP,
        False,
        4,
        0,
    )
    assert [(p.project, p.private, p.published, p.exempt, p.open) for p in posture.projects] == [
        ("app-proj", 0, 0, 1, 0),
        ("demo-proj", 2, 1, 0, 1),
    ]
    assert [(b.budget, b.used, b.limit, b.fraction, b.over) for b in posture.budgets] == [
        ("bytes", 60000, 65536, 0.9155, True),
        ("path_rules_per_path_matcher", 3, 1000, 0.003, False),
    ]
    assert [(w.time, w.budget, w.used) for w in posture.warnings] == [(minutes(119), "bytes", 60000)]


def test_no_sweep_in_the_window_means_no_posture() -> None:
    summary = summary_of(invalid(0, "a"))
    assert summary.posture is None and summary.to_dict()["posture"] is None
    assert "no sweep_summary in this window" in format_table(summary)


def test_every_format_renders_findings_and_posture() -> None:
    summary = summary_of(
        conflict(0, "shop", event="ev-1"),
        registered(90, "shop"),
        unreachable(100, "api"),
        budget_warning(119, 60000),
        sweep_summary(120, bytes_used=60000),
    )
    table = [" ".join(line.split()) for line in format_table(summary).splitlines()]
    assert "1 open, 1 resolved; open ones oldest first" in table
    assert f"open unreachable {short('api')} 2026-03-01 11:40:00 12h 20m 1 {UNREACHABLE_REASON}"[:100] in " ".join(
        table
    )
    assert f"resolved 2026-03-01 11:30:00 (registered) conflict {short('shop')} 2026-03-01 10:00:00 1h 30m 1" in (
        " ".join(table)
    )
    assert "Posture (latest sweep, 2026-03-01 12:00:00)" in table
    assert "demo-proj 2 1 0 1" in table and "4 services swept" in table
    assert "bytes 60000 65536 91.5 % the URL map yes" in table
    assert "budget warnings: bytes 91.5 % at 2026-03-01 11:59:00" in table
    markdown = format_markdown(summary)
    assert "### Route findings" in markdown and "| project | private | published | exempt | open |" in markdown
    page = format_html(summary)
    assert "<h2>URL-map budgets</h2>" in page and "<td>91.5 %</td>" in page


# ------------------------------------------------------------------------------------------------ from Logging


@pytest.fixture
def env(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    yield {"RUNWAY_API_ENDPOINT": emulator.url, "RUNWAY_PROJECT": PROJECT}


def test_findings_and_posture_read_back_from_the_emulators_logging(
    env: dict[str, str], emulator: EmulatorServer
) -> None:
    write(
        emulator,
        [
            conflict(0, "shop", event="ev-1"),
            unchanged(30, "shop", "conflict"),
            registered(90, "shop"),
            invalid(100, "web"),
            unchanged(110, "web", "invalid"),
            budget_warning(119, 60000),
            sweep_summary(120, bytes_used=60000),
        ],
    )
    result = CliRunner().invoke(report, [*WINDOW, "--format", "json"], env=env, catch_exceptions=False)
    assert result.exit_code == 1, result.output  # the conflict and the invalid label are findings
    body = json.loads(result.stdout)
    assert list(body)[-3:] == ["route_findings", "posture", "by_project"]
    (resolved,) = body["route_findings"]["resolved"]
    assert (resolved["service"], resolved["kind"], resolved["resolved"], resolved["age_seconds"]) == (
        svc("shop"),
        "conflict",
        "2026-03-01T11:30:00Z",
        5400,
    )
    (still_open,) = body["route_findings"]["open"]
    assert (still_open["service"], still_open["kind"], still_open["reports"], still_open["first_seen"]) == (
        svc("web"),
        "invalid",
        2,
        "2026-03-01T11:40:00Z",
    )
    posture = body["posture"]
    assert posture["time"] == "2026-03-01T12:00:00Z" and posture["services"] == 4
    assert posture["projects"][1] == {"project": "demo-proj", "private": 2, "published": 1, "exempt": 0, "open": 1}
    assert posture["budgets"][0] == {
        "budget": "bytes",
        "used": 60000,
        "limit": 65536,
        "fraction": 0.9155,
        "where": "the URL map",
        "over": True,
    }
    assert [w["budget"] for w in posture["warnings"]] == ["bytes"]

    rows = list(csv.DictReader(io.StringIO(CliRunner().invoke(report, [*WINDOW, "--format", "csv"], env=env).stdout)))
    repeat = next(r for r in rows if r["action"] == "route_unchanged" and r["finding"])
    assert repeat["finding"] == "conflict"
    warning = next(r for r in rows if r["action"] == "budget_warning")
    assert (warning["budget"], warning["used"], warning["limit"], warning["fraction"]) == (
        "bytes",
        "60000",
        "65536",
        "0.9155",
    )
    summary_row = next(r for r in rows if r["action"] == "sweep_summary")
    assert json.loads(summary_row["posture"])["demo-proj"]["open"] == 1
