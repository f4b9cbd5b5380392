"""`python main.py report --format json --since 1h` after the demo's story: its numbers match what happened."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cli.demo import Story, play
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

    # Four services were deployed open to all (hello, catalog, storefront, intruder), by four people.
    assert counts["ingress_remediated"] == 4
    assert {p["principal"]: p["count"] for p in report["remediations"]["by_principal"]} == {
        "alice@example.com": 1,
        "bob@example.com": 1,
        "carol@example.com": 1,
        "mallory@example.com": 1,
    }
    assert report["remediations"]["time_to_remediate"]["count"] == 4
    # catalog and storefront registered; catalog moved by gcloud; storefront unlabeled.
    assert (counts["route_registered"], counts["route_updated"], counts["route_removed"]) == (2, 1, 1)
    assert {(r["action"], r["service"].rsplit("/", 1)[1]) for r in report["routes"]} == {
        ("route_registered", "catalog"),
        ("route_registered", "storefront"),
        ("route_updated", "catalog"),
        ("route_removed", "storefront"),
    }
    # intruder was refused on every look at it (its create, enforce_ingress's fix of its ingress, the sweep),
    # always in favour of catalog.
    assert counts["route_conflict"] == report["findings"]["conflicts"] == 3
    assert {(c["service"].rsplit("/", 1)[1], c["holder"]) for c in report["conflicts"]} == {
        ("intruder", "runway-demo/catalog")
    }
    assert counts["api_error"] == counts["event_invalid"] == counts["route_invalid"] == 0
    assert report["totals"]["dry_run"] == 0
