"""`python main.py report --format json --since 1h` after the demo's story: its numbers match what happened."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cli.demo_actor import Story
from cli.demo_story import play
from cli.main import cli
from devstack.stack import LocalStack


def test_report_after_the_demo_counts_what_the_story_did(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    story = Story(stack)
    play(story)
    assert story.problems == []
    stack.settle()

    monkeypatch.setenv("RUNWAY_API_ENDPOINT", stack.url)
    monkeypatch.setenv("RUNWAY_PROJECT", stack.project)
    result = CliRunner().invoke(cli, ["report", "--format", "json", "--since", "1h"], catch_exceptions=False)
    assert result.exit_code == 1  # the conflict is a finding
    report = json.loads(result.output)
    counts = report["counts"]

    # Five services were deployed open to all (hello, catalog, storefront, reports, intruder), by five people.
    assert counts["ingress_remediated"] == 5
    assert {p["principal"]: p["count"] for p in report["remediations"]["by_principal"]} == {
        "alice@example.com": 1,
        "bob@example.com": 1,
        "carol@example.com": 1,
        "erin@example.com": 1,
        "mallory@example.com": 1,
    }
    assert report["remediations"]["time_to_remediate"]["count"] == 5
    # catalog and storefront registered; catalog moved by gcloud; storefront unlabeled. reports was registered
    # too, but its registration is logged as route_unreachable (the load balancer would get 403) until its owner
    # allowed allUsers: the report lists it among the routes, marked unreachable.
    assert (counts["route_registered"], counts["route_updated"], counts["route_removed"]) == (2, 1, 1)
    assert counts["route_unreachable"] == 1
    assert {(r["action"], r["service"].rsplit("/", 1)[1], r["unreachable"]) for r in report["routes"]} == {
        ("route_registered", "catalog", False),
        ("route_registered", "storefront", False),
        ("route_registered", "reports", True),
        ("route_updated", "catalog", False),
        ("route_removed", "storefront", False),
    }
    # intruder was refused in favour of catalog: one finding, logged once for its state (repeats are not
    # re-logged), still open; reports' finding was resolved by the SetIamPolicy event's recheck.
    assert counts["route_conflict"] == report["findings"]["conflicts"] == 1
    assert {(c["service"].rsplit("/", 1)[1], c["holder"]) for c in report["conflicts"]} == {
        ("intruder", "runway-demo/catalog")
    }
    findings = report["route_findings"]
    assert [(f["service"].rsplit("/", 1)[1], f["kind"]) for f in findings["open"]] == [("intruder", "conflict")]
    assert [(f["service"].rsplit("/", 1)[1], f["kind"], f["resolved_by"]) for f in findings["resolved"]] == [
        ("reports", "unreachable", "route_unchanged")
    ]
    # The sweep's snapshot: catalog and reports published; hello, storefront (unlabeled) and intruder private.
    posture = report["posture"]
    assert (posture["function"], posture["services"], posture["failures"]) == ("reconcile_all", 5, 0)
    assert posture["projects"] == [{"project": "runway-demo", "private": 3, "published": 2, "exempt": 0, "open": 0}]
    assert counts["api_error"] == counts["event_invalid"] == counts["route_invalid"] == 0
    assert report["totals"]["dry_run"] == 0
