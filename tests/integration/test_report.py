"""The log-based report: decisions written as runway writes them, read back through the Logging API.

Decisions are produced by the real `DecisionLog` (with a fixed clock), turned into LogEntries by the devstack
log agent's `entry_from_line`, written to the emulator with the real google-cloud-logging client, and read back
by `python main.py report` through click's CliRunner. The pure `summarize` is tested on the same lines.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner, Result
from google.cloud.logging import Resource

from cli.report import report
from cli.report_format import format_csv, format_markdown, format_table
from cli.report_read import decision_filter, fetch_decisions, parse_when
from cli.report_summary import bucket_seconds, stats, summarize
from devstack.log_agent import entry_from_line
from emulator import EmulatorServer
from shared.clients import logging_client
from shared.config import VARIABLES
from shared.decision_log import ACTION_NAMES, DecisionLog

PROJECT = "demo-proj"
REGION = "us-central1"
ENFORCE, SYNC = "enforce_ingress", "sync_routes"
ALICE, BOB, CAROL, DAVE = (f"{n}@example.com" for n in ("alice", "bob", "carol", "dave"))
ILB = "internal-and-cloud-load-balancing"
SINCE = datetime(2026, 3, 1, tzinfo=UTC)
UNTIL = SINCE + timedelta(days=1)
T = datetime(2026, 3, 1, 10, tzinfo=UTC)
WINDOW = ["--since", "2026-03-01T00:00:00Z", "--until", "2026-03-02T00:00:00Z"]
INVALID_REASON = "public-route '<script>alert(1)</script>' is not a URL path"
API_REASON = "run.services.get projects/demo-proj/locations/us-central1/services/golf: 503 unavailable"


def svc(name: str) -> str:
    return f"projects/{PROJECT}/locations/{REGION}/services/{name}"


def short(name: str) -> str:
    return f"{PROJECT}/{REGION}/{name}"


@dataclass(frozen=True)
class Spec:
    """One decision to log: when, by which function, about which service, for which event."""

    at: datetime
    function: str
    action: str
    service: str | None
    principal: str | None
    event_id: str | None
    fields: dict[str, Any] = field(default_factory=dict)
    dry_run: bool = False


def remediated(
    at: datetime,
    service: str,
    principal: str,
    event_id: str,
    before: str = "all",
    seconds: float | None = None,
    dry_run: bool = False,
) -> Spec:
    fields: dict[str, Any] = {"before": before, "after": ILB, "why": "open to all traffic"}
    if seconds is not None:
        fields["seconds_to_remediate"] = seconds
    return Spec(at, ENFORCE, "ingress_remediated", svc(service), principal, event_id, fields, dry_run)


def minutes(n: int) -> datetime:
    return T + timedelta(minutes=n)


# The known sequence: every number the report derives from it is asserted below.
KNOWN = [
    remediated(minutes(5), "alpha", ALICE, "ev-1", seconds=2.0),
    remediated(minutes(6), "alpha", ALICE, "ev-1", seconds=9.5),  # Eventarc redelivered ev-1: counted once
    remediated(minutes(70), "bravo", ALICE, "ev-2", seconds=4.0),
    Spec(
        minutes(120),
        SYNC,
        "route_registered",
        svc("bravo"),
        ALICE,
        "ev-3",
        {
            "host": "default",
            "hosts": ["*"],
            "paths": ["/bravo/*"],
            "regions": [REGION],
            "backend": "rw-be-bravo",
            "changes": ["create backend_service rw-be-bravo", "update url_map edge"],
        },
    ),
    Spec(
        minutes(150),
        SYNC,
        "route_registered",
        svc("delta"),
        BOB,
        "ev-4",
        {
            "host": "api",
            "hosts": ["api.example.com"],
            "paths": ["/d", "/d/*"],
            "regions": [REGION],
            "backend": "rw-be-delta",
        },
    ),
    remediated(minutes(180), "charlie", BOB, "ev-5", before="internal", seconds=10.0),
    Spec(
        minutes(240),
        SYNC,
        "route_removed",
        svc("delta"),
        BOB,
        "ev-6",
        {"host": "api", "paths": ["/d", "/d/*"], "changes": ["delete backend_service rw-be-delta"]},
    ),
    Spec(
        minutes(300),
        SYNC,
        "route_conflict",
        svc("echo"),
        CAROL,
        "ev-7",
        {"host": "default", "paths": ["/bravo/*"], "holder": short("bravo")},
    ),
    Spec(minutes(315), SYNC, "route_invalid", svc("foxtrot"), CAROL, "ev-8", {"reason": INVALID_REASON}),
    Spec(
        minutes(360),
        ENFORCE,
        "ingress_exempt",
        svc("legacy"),
        DAVE,
        "ev-9",
        {"before": "all", "after": "all", "why": "open to all traffic, but exempt by RUNWAY_EXEMPT"},
    ),
    Spec(
        minutes(420),
        ENFORCE,
        "api_error",
        svc("golf"),
        ALICE,
        "ev-10",
        {"reason": API_REASON, "retryable": True, "code": 503, "api_method": "run.services.get"},
    ),
    remediated(minutes(480), "hotel", BOB, "ev-11", dry_run=True),
    Spec(
        minutes(540),
        ENFORCE,
        "ingress_compliant",
        svc("alpha"),
        ALICE,
        "ev-12",
        {"before": ILB, "after": ILB, "why": "not open to all traffic"},
    ),
]
BEFORE_WINDOW = remediated(SINCE - timedelta(hours=4), "old", ALICE, "ev-0", seconds=1.0)
# (hour of 2026-03-01, group counts) of the chart's non-empty hourly buckets.
BUSY_HOURS = {
    10: {"remediated": 1},
    11: {"remediated": 1},
    12: {"routes": 2},
    13: {"remediated": 1},
    14: {"routes": 1},
    15: {"conflicts": 2},
    17: {"errors": 1},
}


def lines(specs: Iterable[Spec]) -> list[str]:
    """The stdout lines runway's functions print for these decisions."""
    out = io.StringIO()
    for spec in specs:
        log = DecisionLog(
            function=spec.function,
            event_id=spec.event_id,
            principal=spec.principal,
            method="google.cloud.run.v2.Services.UpdateService",
            dry_run=spec.dry_run,
            stream=out,
            clock=lambda at=spec.at: at,
        )
        log.decide(spec.action, message=f"{spec.action} {spec.service}", service=spec.service, **spec.fields)
    return out.getvalue().splitlines()


def as_read(specs: Iterable[Spec]) -> list[dict[str, Any]]:
    """What `fetch_decisions` returns for these decisions, without the round trip: payload + timestamp + severity."""
    decisions = []
    for line in lines(specs):
        entry = entry_from_line(line, stream="stdout")
        decisions.append({**entry["jsonPayload"], "timestamp": entry["timestamp"], "severity": entry["severity"]})
    return decisions


def resource(function: str) -> Resource:
    name = function.replace("_", "-")
    return Resource(
        type="cloud_run_revision",
        labels={
            "project_id": PROJECT,
            "location": REGION,
            "service_name": name,
            "revision_name": f"{name}-00001-abc",
            "configuration_name": name,
        },
    )


def write(emulator: EmulatorServer, specs: Iterable[Spec], *, noise: bool = False) -> None:
    """Write the decisions as Cloud Run's agent would (devstack.log_agent), with the real Logging client."""
    logger = logging_client(PROJECT, emulator.url).logger("run.googleapis.com/stdout", resource=resource(ENFORCE))
    with logger.batch() as batch:
        for line in lines(specs):
            entry = entry_from_line(line, stream="stdout")
            batch.log_struct(
                entry["jsonPayload"],
                severity=entry["severity"],
                labels=entry["labels"],
                timestamp=datetime.fromisoformat(entry["timestamp"]),
                resource=resource(entry["jsonPayload"]["function"]),
            )
        if noise:
            # Other output of the same functions, in the window: not decisions, never counted.
            batch.log_text("Listening on port 8080", timestamp=minutes(1), resource=resource(ENFORCE))
            batch.log_struct(
                {"message": "not runway", "action": "ingress_remediated", "component": "other"},
                severity="NOTICE",
                timestamp=minutes(2),
                resource=resource(ENFORCE),
            )


@pytest.fixture
def env(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    yield {"RUNWAY_API_ENDPOINT": emulator.url, "RUNWAY_PROJECT": PROJECT}


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(report, list(args), env=env, catch_exceptions=False)


def collapsed(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines()]


# ------------------------------------------------------------------------------------------------ expected


def expected_buckets() -> list[dict[str, Any]]:
    return [
        {
            "start": f"2026-03-01T{hour:02d}:00:00Z",
            "remediated": 0,
            "routes": 0,
            "conflicts": 0,
            "errors": 0,
            **BUSY_HOURS.get(hour, {}),
        }
        for hour in range(24)
    ]


def expected_json() -> dict[str, Any]:
    counts = dict.fromkeys(ACTION_NAMES, 0)
    counts.update(
        ingress_remediated=3,
        ingress_compliant=1,
        ingress_exempt=1,
        route_registered=2,
        route_removed=1,
        route_conflict=1,
        route_invalid=1,
        api_error=1,
    )
    return {
        "version": 2,
        "project": PROJECT,
        "since": "2026-03-01T00:00:00Z",
        "until": "2026-03-02T00:00:00Z",
        "totals": {"entries": 13, "decisions": 12, "duplicates": 1, "real": 11, "dry_run": 1},
        "counts": counts,
        "findings": {"conflicts": 1, "invalid": 1, "unreachable": 0, "errors": 1, "dry_run": 0, "total": 3},
        "remediations": {
            "total": 3,
            "opened_to_all": 2,
            "time_to_remediate": {"count": 3, "median": 4.0, "p95": 10.0, "max": 10.0},
            "by_service": [
                {
                    "service": svc("alpha"),
                    "count": 1,
                    "opened_to_all": 1,
                    "principals": [ALICE],
                    "last": "2026-03-01T10:05:00Z",
                },
                {
                    "service": svc("bravo"),
                    "count": 1,
                    "opened_to_all": 1,
                    "principals": [ALICE],
                    "last": "2026-03-01T11:10:00Z",
                },
                {
                    "service": svc("charlie"),
                    "count": 1,
                    "opened_to_all": 0,
                    "principals": [BOB],
                    "last": "2026-03-01T13:00:00Z",
                },
            ],
            "by_principal": [
                {"principal": ALICE, "count": 2, "opened_to_all": 2, "services": [svc("alpha"), svc("bravo")]},
                {"principal": BOB, "count": 1, "opened_to_all": 0, "services": [svc("charlie")]},
            ],
        },
        "routes": [
            {
                "time": "2026-03-01T12:00:00Z",
                "action": "route_registered",
                "service": svc("bravo"),
                "host": "default",
                "hosts": ["*"],
                "paths": ["/bravo/*"],
                "regions": [REGION],
                "backend": "rw-be-bravo",
                "changes": ["create backend_service rw-be-bravo", "update url_map edge"],
                "principal": ALICE,
                "unreachable": False,
            },
            {
                "time": "2026-03-01T12:30:00Z",
                "action": "route_registered",
                "service": svc("delta"),
                "host": "api",
                "hosts": ["api.example.com"],
                "paths": ["/d", "/d/*"],
                "regions": [REGION],
                "backend": "rw-be-delta",
                "changes": [],
                "principal": BOB,
                "unreachable": False,
            },
            {
                "time": "2026-03-01T14:00:00Z",
                "action": "route_removed",
                "service": svc("delta"),
                "host": "api",
                "hosts": [],
                "paths": ["/d", "/d/*"],
                "regions": [],
                "backend": None,
                "changes": ["delete backend_service rw-be-delta"],
                "principal": BOB,
                "unreachable": False,
            },
        ],
        "conflicts": [
            {
                "time": "2026-03-01T15:00:00Z",
                "service": svc("echo"),
                "host": "default",
                "paths": ["/bravo/*"],
                "holder": short("bravo"),
                "principal": CAROL,
            }
        ],
        "invalid": [
            {"time": "2026-03-01T15:15:00Z", "service": svc("foxtrot"), "reason": INVALID_REASON, "principal": CAROL}
        ],
        "exempt_open": [
            {"service": svc("legacy"), "ingress": "all", "last_seen": "2026-03-01T16:00:00Z", "principal": DAVE}
        ],
        "errors": [
            {
                "action": "api_error",
                "reason": API_REASON,
                "count": 1,
                "services": [svc("golf")],
                "retryable": True,
                "first": "2026-03-01T17:00:00Z",
                "last": "2026-03-01T17:00:00Z",
            }
        ],
        "dry_run": {
            "total": 1,
            "counts": {**dict.fromkeys(ACTION_NAMES, 0), "ingress_remediated": 1},
            "changes": [
                {
                    "time": "2026-03-01T18:00:00Z",
                    "action": "ingress_remediated",
                    "service": svc("hotel"),
                    "detail": f"ingress all -> {ILB}",
                }
            ],
            "findings": [],
        },
        "timeline": {
            "bucket_seconds": 3600,
            "groups": ["remediated", "routes", "conflicts", "errors"],
            "buckets": expected_buckets(),
        },
        "route_findings": {
            "open": [
                {
                    "service": svc("echo"),
                    "kind": "conflict",
                    "first_seen": "2026-03-01T15:00:00Z",
                    "last_seen": "2026-03-01T15:00:00Z",
                    "resolved": None,
                    "resolved_by": None,
                    "age_seconds": 9 * 3600,  # to the end of the window
                    "reports": 1,
                    "started_before_window": False,
                    "principal": CAROL,
                    "holder": short("bravo"),
                    "reason": None,
                    "paths": ["/bravo/*"],
                },
                {
                    "service": svc("foxtrot"),
                    "kind": "invalid",
                    "first_seen": "2026-03-01T15:15:00Z",
                    "last_seen": "2026-03-01T15:15:00Z",
                    "resolved": None,
                    "resolved_by": None,
                    "age_seconds": 8 * 3600 + 45 * 60,
                    "reports": 1,
                    "started_before_window": False,
                    "principal": CAROL,
                    "holder": None,
                    "reason": INVALID_REASON,
                    "paths": [],
                },
            ],
            "resolved": [],
        },
        "posture": None,
        "by_project": [
            {
                "project": PROJECT,
                "ingress_remediated": 3,
                "route_registered": 2,
                "route_updated": 0,
                "route_removed": 1,
                "conflicts": 1,
                "invalid": 1,
                "unreachable": 0,
                "api_error": 1,
                "open_findings": 2,
            }
        ],
    }


# ------------------------------------------------------------------------------------------------ pure summary


def test_summary_of_the_known_sequence() -> None:
    summary = summarize(as_read([BEFORE_WINDOW, *KNOWN]), since=SINCE, until=UNTIL, project=PROJECT)
    assert summary.to_dict() == expected_json()
    assert list(summary.to_dict()) == list(expected_json())  # key order is part of the contract


def test_summary_does_not_depend_on_input_order() -> None:
    decisions = as_read([BEFORE_WINDOW, *KNOWN])
    forward = summarize(decisions, since=SINCE, until=UNTIL, project=PROJECT)
    backward = summarize(list(reversed(decisions)), since=SINCE, until=UNTIL, project=PROJECT)
    assert forward.to_dict() == backward.to_dict()
    assert [d["event_id"] for d in forward.decisions] == [d["event_id"] for d in backward.decisions]


@pytest.mark.parametrize(
    ("second", "counted"),
    [
        pytest.param(dict(), 1, id="same-event-function-action-service"),
        pytest.param(dict(event_id="ev-2"), 2, id="other-event"),
        pytest.param(dict(function=SYNC), 2, id="other-function"),
        pytest.param(dict(service=svc("other")), 2, id="other-service"),
        pytest.param(dict(action="ingress_compliant"), 2, id="other-action"),
    ],
)
def test_repeated_deliveries_count_once(second: dict[str, Any], counted: int) -> None:
    first = Spec(minutes(1), ENFORCE, "ingress_remediated", svc("a"), ALICE, "ev-1", {"before": "all", "after": ILB})
    again = Spec(**{**first.__dict__, "at": minutes(2), **second})
    summary = summarize(as_read([first, again]), since=SINCE, until=UNTIL)
    assert (summary.totals.decisions, summary.totals.duplicates) == (counted, 2 - counted)


def test_decisions_without_an_event_are_never_merged() -> None:
    sweep = [
        Spec(minutes(n), "reconcile_all", "ingress_remediated", svc("a"), None, None, {"before": "all", "after": ILB})
        for n in (1, 2)
    ]
    summary = summarize(as_read(sweep), since=SINCE, until=UNTIL)
    assert summary.remediations.total == 2
    assert summary.remediations.by_principal[0].principal == "(unknown)"


def test_the_window_includes_since_and_excludes_until() -> None:
    specs = [
        remediated(at, name, ALICE, name)
        for at, name in (
            (SINCE - timedelta(microseconds=1), "before"),
            (SINCE, "first"),
            (UNTIL - timedelta(seconds=1), "last"),
            (UNTIL, "after"),
        )
    ]
    summary = summarize(as_read(specs), since=SINCE, until=UNTIL)
    assert [s.service for s in summary.remediations.by_service] == [svc("first"), svc("last")]
    assert summary.timeline.buckets[0].remediated == 1 and summary.timeline.buckets[-1].remediated == 1


def test_exempt_services_open_to_all_follow_the_latest_ingress_decision() -> None:
    def exempt(at: datetime, name: str) -> Spec:
        return Spec(
            at, ENFORCE, "ingress_exempt", svc(name), DAVE, f"x-{name}-{at:%H%M}", {"before": "all", "after": "all"}
        )

    closed_later = Spec(
        minutes(30),
        ENFORCE,
        "ingress_compliant",
        svc("closed"),
        DAVE,
        "c-1",
        {"before": "internal", "after": "internal"},
    )
    summary = summarize(
        as_read(
            [
                exempt(minutes(1), "still-open"),
                exempt(minutes(2), "closed"),
                closed_later,
                exempt(minutes(40), "still-open"),
            ]
        ),
        since=SINCE,
        until=UNTIL,
    )
    assert [(e.service, e.last_seen) for e in summary.exempt_open] == [(svc("still-open"), minutes(40))]


def test_dry_run_decisions_stay_out_of_the_real_sections_but_their_findings_count() -> None:
    specs = [
        remediated(minutes(1), "a", ALICE, "ev-1", seconds=3.0, dry_run=True),
        Spec(
            minutes(2),
            SYNC,
            "route_registered",
            svc("b"),
            ALICE,
            "ev-2",
            {"host": "default", "paths": ["/b"]},
            dry_run=True,
        ),
        Spec(
            minutes(3),
            SYNC,
            "route_conflict",
            svc("c"),
            ALICE,
            "ev-3",
            {"paths": ["/b"], "holder": "x/y/b"},
            dry_run=True,
        ),
    ]
    summary = summarize(as_read(specs), since=SINCE, until=UNTIL)
    assert summary.remediations.total == 0 and summary.routes == () and summary.conflicts == ()
    assert sum(summary.counts.values()) == 0
    assert sum(b.total for b in summary.timeline.buckets) == 0
    assert [(i.action, i.detail) for i in summary.dry_run.changes] == [
        ("ingress_remediated", f"ingress all -> {ILB}"),
        ("route_registered", "host default /b"),
    ]
    assert [(i.action, i.detail) for i in summary.dry_run.findings] == [("route_conflict", "/b held by x/y/b")]
    assert (summary.findings.dry_run, summary.findings.total) == (1, 1)


def test_errors_group_by_action_and_reason_most_first() -> None:
    def error(n: int, action: str, reason: str, service: str | None, retryable: bool | None = None) -> Spec:
        fields: dict[str, Any] = {"reason": reason}
        if retryable is not None:
            fields["retryable"] = retryable
        return Spec(minutes(n), ENFORCE, action, svc(service) if service else None, None, f"e{n}", fields)

    summary = summarize(
        as_read(
            [
                error(1, "event_invalid", "no resourceName", None),
                error(2, "api_error", "503", "a", True),
                error(3, "api_error", "503", "b", False),
                error(4, "event_invalid", "no resourceName", None),
                error(5, "api_error", "403", "a", False),
                error(6, "event_invalid", "no resourceName", None),
            ]
        ),
        since=SINCE,
        until=UNTIL,
    )
    assert [(g.action, g.reason, g.count, g.services, g.retryable, g.first, g.last) for g in summary.errors] == [
        ("event_invalid", "no resourceName", 3, (), None, minutes(1), minutes(6)),
        ("api_error", "503", 2, (svc("a"), svc("b")), True, minutes(2), minutes(3)),
        ("api_error", "403", 1, (svc("a"),), False, minutes(5), minutes(5)),
    ]
    assert summary.findings.errors == 6


def test_an_action_this_version_does_not_know_is_counted_not_dropped() -> None:
    decision = {**as_read([remediated(minutes(1), "a", ALICE, "ev-1")])[0], "action": "ingress_frobbed"}
    summary = summarize([decision], since=SINCE, until=UNTIL)
    assert list(summary.counts)[-1] == "ingress_frobbed" and summary.counts["ingress_frobbed"] == 1


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param([], (0, None, None, None), id="empty"),
        pytest.param([7.0], (1, 7.0, 7.0, 7.0), id="one"),
        pytest.param([4.0, 2.0], (2, 3.0, 4.0, 4.0), id="two"),
        pytest.param([float(n) for n in range(1, 21)], (20, 10.5, 19.0, 20.0), id="1..20"),
        pytest.param([float(n) for n in range(100, 0, -1)], (100, 50.5, 95.0, 100.0), id="100..1"),
        pytest.param([0.1234567, 0.2], (2, 0.162, 0.2, 0.2), id="milliseconds"),
    ],
)
def test_time_to_remediate_stats(values: list[float], expected: tuple[Any, ...]) -> None:
    result = stats(values)
    assert (result.count, result.median, result.p95, result.max) == expected


@pytest.mark.parametrize(
    ("window", "size"),
    [
        (timedelta(minutes=30), 300),
        (timedelta(hours=1), 300),
        (timedelta(hours=6), 900),
        (timedelta(hours=24), 3600),
        (timedelta(days=7), 43200),
        (timedelta(days=30), 172800),
        (timedelta(days=400), 604800 * 3),
    ],
)
def test_bucket_size_follows_the_window(window: timedelta, size: int) -> None:
    assert bucket_seconds(window) == size
    until = datetime(2026, 3, 1, 12, 34, 56, tzinfo=UTC)
    buckets = summarize([], since=until - window, until=until).timeline.buckets
    assert len(buckets) <= 26
    assert buckets[0].start <= until - window < buckets[0].start + timedelta(seconds=size)
    assert buckets[-1].start < until <= buckets[-1].start + timedelta(seconds=size)


NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", NOW - timedelta(minutes=30)),
        ("24h", NOW - timedelta(hours=24)),
        ("7d", NOW - timedelta(days=7)),
        ("90s", NOW - timedelta(seconds=90)),
        ("2w", NOW - timedelta(weeks=2)),
        (" 24H ", NOW - timedelta(hours=24)),
        ("2026-02-28T08:00:00Z", datetime(2026, 2, 28, 8, tzinfo=UTC)),
        ("2026-02-28t08:00:00z", datetime(2026, 2, 28, 8, tzinfo=UTC)),
        ("2026-02-28T10:00:00+02:00", datetime(2026, 2, 28, 8, tzinfo=UTC)),
        ("2026-02-28T08:00:00.250Z", datetime(2026, 2, 28, 8, 0, 0, 250000, tzinfo=UTC)),
    ],
)
def test_since_parses(text: str, expected: datetime) -> None:
    assert parse_when(text, NOW) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "neither a duration"),
        ("24", "neither a duration"),
        ("h", "neither a duration"),
        ("-5m", "neither a duration"),
        ("5y", "neither a duration"),
        ("yesterday", "neither a duration"),
        ("0h", "empty window"),
        ("2026-02-28T08:00:00", "no time zone"),
        ("2026-02-30T08:00:00Z", "neither a duration"),
    ],
)
def test_since_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_when(text, NOW)


def test_the_filter_always_names_timestamp() -> None:
    # Without it google-cloud-logging appends `timestamp>=` 24 hours back and a 7-day report loses 6 days.
    assert decision_filter(SINCE) == 'jsonPayload.component="runway" AND timestamp>="2026-03-01T00:00:00Z"'
    assert decision_filter(SINCE, UNTIL).endswith(' AND timestamp<"2026-03-02T00:00:00Z"')


# ------------------------------------------------------------------------------------------------ end to end


def test_json_report_from_the_emulator(env: dict[str, str], emulator: EmulatorServer) -> None:
    write(emulator, [BEFORE_WINDOW, *KNOWN], noise=True)
    result = run(env, *WINDOW, "--format", "json")
    assert result.exit_code == 1, result.output  # findings: a conflict, an invalid label, an API error
    assert json.loads(result.stdout) == expected_json()


def test_fetch_pages_through_every_decision_oldest_first(emulator: EmulatorServer) -> None:
    specs = [remediated(minutes(n), f"s{n}", ALICE, f"ev-{n}") for n in range(12, 0, -1)]
    write(emulator, specs)
    decisions = fetch_decisions(logging_client(PROJECT, emulator.url), PROJECT, SINCE, UNTIL, page_size=5)
    assert [d["event_id"] for d in decisions] == [f"ev-{n}" for n in range(1, 13)]
    first = decisions[0]
    assert first["timestamp"] == minutes(1) and first["severity"] == "NOTICE"
    assert first["service"] == svc("s1") and first["component"] == "runway" and "time" not in first
    pages = [c for c in emulator.emulator.calls.since(0) if c.get("path", "").endswith("entries:list")]
    assert len(pages) == 3


def test_a_week_long_window_is_not_cut_to_the_last_day(env: dict[str, str], emulator: EmulatorServer) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    write(
        emulator,
        [
            remediated(now - timedelta(days=3), "older", ALICE, "ev-1"),
            remediated(now - timedelta(hours=2), "newer", ALICE, "ev-2"),
        ],
    )
    week = json.loads(run(env, "--since", "7d", "--format", "json").stdout)
    day = json.loads(run(env, "--format", "json").stdout)  # the default window: 24h
    assert week["counts"]["ingress_remediated"] == 2
    assert day["counts"]["ingress_remediated"] == 1


def test_table_report(env: dict[str, str], emulator: EmulatorServer) -> None:
    write(emulator, [BEFORE_WINDOW, *KNOWN])
    result = run(env, *WINDOW)
    assert result.exit_code == 1
    text = collapsed(result.stdout)
    assert text[0] == "runway report for demo-proj, 2026-03-01T00:00:00Z to 2026-03-02T00:00:00Z"
    assert text[1] == (
        "12 decisions (1 repeated delivery counted once): 11 real, 1 dry-run; "
        "3 findings (1 conflict, 1 invalid route, 0 unreachable, 1 error, 0 in dry run)"
    )
    for row in [
        "ingress_remediated 3",
        "3 remediations (2 found the service open to all); time to remediate (3 timed): median 4s, p95 10s, max 10s",
        f"{short('alpha')} 1 1 {ALICE} 2026-03-01 10:05:00",
        f"{short('charlie')} 1 0 {BOB} 2026-03-01 13:00:00",
        f"{ALICE} 2 2 2",
        f"2026-03-01 12:30:00 registered {short('delta')} api /d /d/* rw-be-delta",
        f"2026-03-01 14:00:00 removed {short('delta')} api /d /d/* -",
        f"2026-03-01 15:00:00 {short('echo')} /bravo/* {short('bravo')}",
        f"2026-03-01 15:15:00 {short('foxtrot')} {INVALID_REASON}",
        f"{short('legacy')} all 2026-03-01 16:00:00",
        f"api_error 1 {API_REASON} 1",
        f"2026-03-01 18:00:00 ingress_remediated {short('hotel')} ingress all -> {ILB}",
        "2026-03-01 12:00:00 0 2 0 0",
    ]:
        assert row in text, row
    assert not any(short("old") in line for line in text)  # before --since
    assert "Activity per 1h" in text


def test_markdown_report(env: dict[str, str], emulator: EmulatorServer) -> None:
    write(emulator, [BEFORE_WINDOW, *KNOWN])
    result = run(env, *WINDOW, "--format", "markdown")
    assert result.exit_code == 1
    text = result.stdout.splitlines()
    assert text[0] == "## runway report for demo-proj, 2026-03-01T00:00:00Z to 2026-03-02T00:00:00Z"
    assert "### Route conflicts" in text
    assert "| time | service | paths | holder |" in text
    assert f"| 2026-03-01 15:00:00 | {short('echo')} | /bravo/\\* | {short('bravo')} |" in text
    assert "| route\\_registered | 2 |" in text
    invalid = f"| 2026-03-01 15:15:00 | {short('foxtrot')} | public-route '\\<script>alert(1)\\</script>' is not"
    assert any(line.startswith(invalid) for line in text)
    errors = text.index("### Errors")
    assert text[errors + 2] == "| action | count | reason | services |"


def test_csv_report_has_a_row_per_decision(env: dict[str, str], emulator: EmulatorServer) -> None:
    write(emulator, [BEFORE_WINDOW, *KNOWN])
    result = run(env, *WINDOW, "--format", "csv")
    assert result.exit_code == 1
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 12  # 13 in the window, one repeated delivery
    assert [r["event_id"] for r in rows] == [f"ev-{n}" for n in range(1, 13)]
    alpha = rows[0]
    assert {
        k: alpha[k]
        for k in (
            "timestamp",
            "severity",
            "action",
            "dry_run",
            "function",
            "service",
            "principal",
            "before",
            "after",
            "seconds_to_remediate",
        )
    } == {
        "timestamp": "2026-03-01T10:05:00Z",
        "severity": "NOTICE",
        "action": "ingress_remediated",
        "dry_run": "false",
        "function": ENFORCE,
        "service": svc("alpha"),
        "principal": ALICE,
        "before": "all",
        "after": ILB,
        "seconds_to_remediate": "2",
    }
    delta = rows[3]
    assert (delta["paths"], delta["regions"], delta["host"]) == ("/d /d/*", REGION, "api")
    golf = rows[9]
    assert (golf["action"], golf["code"], golf["retryable"], golf["reason"]) == ("api_error", "503", "true", API_REASON)
    assert rows[10]["dry_run"] == "true"


def test_html_report_is_one_self_contained_page(env: dict[str, str], emulator: EmulatorServer, tmp_path: Any) -> None:
    write(emulator, [BEFORE_WINDOW, *KNOWN])
    target = tmp_path / "report.html"
    result = run(env, *WINDOW, "--format", "html", "--output", str(target))
    assert result.exit_code == 1 and result.stdout == ""
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.count("<html") == 1 and page.rstrip().endswith("</html>")
    assert page.count("<svg") == 1 and page.count("<style>") == 1
    assert page.count('<g class="bar">') == len(BUSY_HOURS)
    bar_rects = re.findall(r'<g class="bar">.*?</g>', page, flags=re.S)
    assert [g.count("<rect") for g in bar_rects] == [len(counts) for counts in BUSY_HOURS.values()]
    lowered = page.lower()
    for forbidden in ("<script", "http://", "https://", "url(", "@import", "<link", "<img", "src="):
        assert forbidden not in lowered, forbidden
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # the invalid label's reason, escaped
    assert f"<td>{short('echo')}</td>" in page


def test_html_to_stdout_for_an_empty_window(env: dict[str, str]) -> None:
    result = run(env, *WINDOW, "--format", "html")
    assert result.exit_code == 0
    assert "<svg" in result.stdout and '<g class="bar">' not in result.stdout
    assert "no changes or findings in this window" in result.stdout


def test_no_findings_exit_zero(env: dict[str, str], emulator: EmulatorServer) -> None:
    write(
        emulator,
        [
            remediated(minutes(1), "a", ALICE, "ev-1", seconds=1.5),
            Spec(minutes(2), SYNC, "route_registered", svc("a"), ALICE, "ev-2", {"host": "default", "paths": ["/a"]}),
        ],
    )
    result = run(env, *WINDOW)
    assert result.exit_code == 0, result.output
    assert "2 decisions: 2 real, 0 dry-run; 0 findings" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "yesterday"], "--since"),
        (["--since", "2026-03-01T00:00:00"], "no time zone"),
        (["--until", "soon"], "--until"),
        (["--since", "2026-03-02T00:00:00Z", "--until", "2026-03-01T00:00:00Z"], "is not before"),
        (["--format", "pdf"], "--format"),
    ],
)
def test_bad_options_are_usage_errors(env: dict[str, str], args: list[str], message: str) -> None:
    result = CliRunner().invoke(report, args, env=env)
    assert result.exit_code == 2
    assert message in result.output


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"RUNWAY_PROJECT": None}, "RUNWAY_PROJECT"),
        ({"RUNWAY_PROJECT": "Not_A_Project"}, "RUNWAY_PROJECT"),
        ({"RUNWAY_API_ENDPOINT": "ftp://127.0.0.1:1"}, "RUNWAY_API_ENDPOINT"),
    ],
)
def test_configuration_errors_name_the_variable(
    env: dict[str, str], variables: dict[str, str | None], named: str
) -> None:
    result = CliRunner().invoke(report, [], env={**env, **variables})
    assert result.exit_code == 2
    assert named in result.output


def test_project_option_overrides_the_variable(env: dict[str, str], emulator: EmulatorServer) -> None:
    write(emulator, [remediated(minutes(1), "a", ALICE, "ev-1")])
    result = run({**env, "RUNWAY_PROJECT": "other-proj"}, *WINDOW, "--project", PROJECT, "--format", "json")
    assert json.loads(result.stdout)["counts"]["ingress_remediated"] == 1
    result = run({**env, "RUNWAY_PROJECT": None}, *WINDOW, "--project", "other-proj", "--format", "json")
    assert json.loads(result.stdout)["totals"]["decisions"] == 0


def test_an_unreadable_log_exits_3(env: dict[str, str], emulator: EmulatorServer) -> None:
    emulator.emulator.faults.configure(
        {"rules": [{"path": "entries:list", "status": 403, "message": "Permission denied on logging.entries.list"}]}
    )
    result = CliRunner().invoke(report, WINDOW, env=env)
    assert result.exit_code == 3
    assert "could not read the decision log of demo-proj" in result.output
    assert "Permission denied" in result.output


def test_summaries_render_without_the_emulator() -> None:
    summary = summarize(as_read(KNOWN), since=SINCE, until=UNTIL, project=PROJECT)
    assert format_table(summary).count("\n\n") == 14  # a blank line before each of the fourteen sections
    assert format_markdown(summary).count("\n### ") == 14
    assert format_csv(summary).count("\n") == 13


@pytest.mark.slow
@pytest.mark.skipif(
    not (shutil.which("chromium") or shutil.which("chromium-browser")),
    reason="Chromium is not installed (Debian package `chromium`); docs/html-report.md has the check",
)
def test_html_report_renders_its_chart_in_headless_chromium(
    env: dict[str, str], emulator: EmulatorServer, tmp_path: Any
) -> None:
    write(emulator, [BEFORE_WINDOW, *KNOWN])
    page = tmp_path / "report.html"
    assert run(env, *WINDOW, "--format", "html", "--output", str(page)).exit_code == 1
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dom = subprocess.run(
        [browser, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    # What the browser built from the page, not the page's text: the chart is an SVG with one bar per busy hour.
    assert dom.count("<svg") == 1 and dom.count('<g class="bar">') == len(BUSY_HOURS)
    shot = tmp_path / "report.png"
    subprocess.run(
        [browser, *flags, "--window-size=1200,1600", f"--screenshot={shot}", page.as_uri()],
        capture_output=True,
        timeout=60,
        check=True,
    )
    png = shot.read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 20_000  # a blank page compresses to far less


def test_a_decision_logged_a_moment_ago_is_in_the_default_window(env: dict[str, str], emulator: EmulatorServer) -> None:
    # The window's end defaults to now; a decision from this very second must not fall after it.
    just_now = datetime.now(UTC)
    write(emulator, [remediated(just_now, "fresh", ALICE, "ev-now", seconds=1.0)])
    result = run(env, "--since", "1h", "--format", "json")
    assert json.loads(result.stdout)["counts"]["ingress_remediated"] == 1
