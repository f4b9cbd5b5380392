"""Logging v2 over HTTP with the real google-cloud-logging client (and raw requests for wire details)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from google.api_core import exceptions
from google.cloud.logging import ASCENDING, DESCENDING, Resource
from google.cloud.logging_v2.logger import Logger

from emulator import EmulatorServer
from shared.clients import logging_client

PROJECT = "log-proj"
GLOBAL = Resource(type="global", labels={"project_id": PROJECT})


def _logger(emulator: EmulatorServer, name: str = "runway") -> Logger:
    return logging_client(PROJECT, emulator.url).logger(name, resource=GLOBAL)


def _actions(entries: Any) -> list[str]:
    return [e.payload["action"] for e in entries if isinstance(e.payload, dict) and "action" in e.payload]


@pytest.fixture
def decisions(emulator: EmulatorServer) -> Logger:
    """Six decision entries a minute apart, oldest first, like runway's decision log."""
    logger = _logger(emulator)
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    rows = [
        ("ingress_remediated", "NOTICE", "s1", 1, {"runway_action": "ingress_remediated"}),
        ("ingress_compliant", "DEBUG", "s2", 2, {"runway_action": "ingress_compliant"}),
        ("route_registered", "NOTICE", "s1", 3, {"runway_action": "route_registered"}),
        ("route_conflict", "ERROR", "s3", 4, {"runway_action": "route_conflict", "team.example.com/owner": "web"}),
        ("ingress_exempt", "WARNING", "s4", 5, {"runway_action": "ingress_exempt"}),
        ("api_error", "ERROR", "s2", 6, {"runway_action": "api_error"}),
    ]
    for index, (action, severity, service, attempt, labels) in enumerate(rows):
        logger.log_struct(
            {"action": action, "service": service, "attempt": attempt, "dry_run": attempt % 2 == 0},
            severity=severity,
            labels=labels,
            timestamp=base + timedelta(minutes=index),
        )
    return logger


@pytest.mark.parametrize(
    ("filter_", "expected"),
    [
        pytest.param('jsonPayload.action="route_registered"', ["route_registered"], id="equality"),
        pytest.param("severity>=ERROR", ["route_conflict", "api_error"], id="severity-level"),
        pytest.param(
            # With AND binding tighter, ingress_compliant (s2, below WARNING) would match too.
            "severity>=WARNING AND jsonPayload.service=s4 OR jsonPayload.service=s2",
            ["ingress_exempt", "api_error"],
            id="or-binds-tighter-than-and",
        ),
        pytest.param(
            "(severity=NOTICE AND jsonPayload.service=s1) OR jsonPayload.service=s4",
            ["ingress_remediated", "route_registered", "ingress_exempt"],
            id="parentheses",
        ),
        pytest.param("jsonPayload.attempt>=5", ["ingress_exempt", "api_error"], id="json-number"),
        pytest.param("jsonPayload.dry_run=true", ["ingress_compliant", "route_conflict", "api_error"], id="json-bool"),
        pytest.param(
            'labels.runway_action:"ingress"',
            ["ingress_remediated", "ingress_compliant", "ingress_exempt"],
            id="label-has",
        ),
        pytest.param('labels."team.example.com/owner"=web', ["route_conflict"], id="quoted-label-key"),
        pytest.param(
            'jsonPayload.action=("api_error" OR "ingress_exempt")', ["ingress_exempt", "api_error"], id="fan-out"
        ),
        pytest.param(
            "NOT jsonPayload.service=s1 AND -severity=DEBUG",
            ["route_conflict", "ingress_exempt", "api_error"],
            id="negations",
        ),
    ],
)
def test_list_entries_filters(decisions: Logger, filter_: str, expected: list[str]) -> None:
    assert _actions(decisions.list_entries(filter_=filter_, order_by=ASCENDING)) == expected


def test_timestamp_range(decisions: Logger) -> None:
    first = next(iter(decisions.list_entries(filter_="jsonPayload.attempt=1")))
    start = (first.timestamp + timedelta(minutes=2)).isoformat()  # `+00:00` offset, not `Z`
    end = (first.timestamp + timedelta(minutes=4)).strftime("%Y-%m-%dT%H:%M:%SZ")
    got = decisions.list_entries(filter_=f'timestamp>="{start}" AND timestamp<"{end}"', order_by=ASCENDING)
    assert _actions(got) == ["route_registered", "route_conflict"]


def test_default_24h_window_excludes_old_entries(emulator: EmulatorServer) -> None:
    logger = _logger(emulator)
    logger.log_struct({"action": "old"}, timestamp=datetime.now(UTC) - timedelta(days=2))
    logger.log_struct({"action": "new"})
    # The client appends `timestamp>="<now-24h>"` to filters that do not mention timestamp.
    assert _actions(logger.list_entries(filter_="jsonPayload.action:*")) == ["new"]


def test_order_and_paging(decisions: Logger) -> None:
    newest_first = _actions(decisions.list_entries(order_by=DESCENDING, page_size=2))
    assert newest_first == [
        "api_error",
        "ingress_exempt",
        "route_conflict",
        "route_registered",
        "ingress_compliant",
        "ingress_remediated",
    ]
    assert _actions(decisions.list_entries(order_by=ASCENDING, page_size=4)) == newest_first[::-1]


def test_pages_end_without_an_empty_token(emulator: EmulatorServer, decisions: Logger) -> None:
    body: dict[str, Any] = {"resourceNames": [f"projects/{PROJECT}"], "filter": "jsonPayload.action:*", "pageSize": 4}
    first = requests.post(f"{emulator.url}/v2/entries:list", json=body, timeout=5).json()
    assert len(first["entries"]) == 4 and first["nextPageToken"]
    last = requests.post(
        f"{emulator.url}/v2/entries:list", json={**body, "pageToken": first["nextPageToken"]}, timeout=5
    ).json()
    assert len(last["entries"]) == 2
    assert "nextPageToken" not in last  # "" would loop the client forever (docs/google-apis.md §5.2)
    nothing = requests.post(f"{emulator.url}/v2/entries:list", json={**body, "filter": "unicorn"}, timeout=5)
    assert nothing.json() == {}


def test_entries_are_per_project(emulator: EmulatorServer, decisions: Logger) -> None:
    other = logging_client("other-proj", emulator.url)
    assert _actions(other.list_entries(filter_="jsonPayload.action:*")) == []


def test_server_fills_timestamps_and_insert_id(emulator: EmulatorServer) -> None:
    logger = _logger(emulator, "filled")
    logger.log_text("hello text", severity="INFO")
    entry = next(iter(logger.list_entries()))
    assert entry.payload == "hello text"
    assert entry.insert_id and entry.timestamp and entry.received_timestamp
    assert entry.severity == "INFO"
    assert entry.log_name == f"projects/{PROJECT}/logs/filled"


def test_bad_filter_is_400_with_position(emulator: EmulatorServer) -> None:
    client = logging_client(PROJECT, emulator.url)
    with pytest.raises(exceptions.BadRequest) as caught:
        list(client.list_entries(filter_="jsonPayload.x>= AND severity=ERROR"))
    assert "Unparseable filter: expected a value, found the keyword AND at line 1, column 17" in str(caught.value)


def _write(emulator: EmulatorServer, body: dict[str, Any]) -> requests.Response:
    return requests.post(f"{emulator.url}/v2/entries:write", params={"prettyPrint": "false"}, json=body, timeout=5)


def _stored(emulator: EmulatorServer) -> list[dict[str, Any]]:
    return emulator.emulator.snapshot()["logging"]["entries"]


def test_write_inherits_request_defaults(emulator: EmulatorServer) -> None:
    response = _write(
        emulator,
        {
            "logName": f"projects/{PROJECT}/logs/defaults",
            "resource": {"type": "global", "labels": {"project_id": PROJECT}},
            "labels": {"a": "request", "b": "request"},
            "entries": [
                {"jsonPayload": {"n": 1}, "labels": {"b": "entry"}, "severity": 500},
                {
                    "textPayload": "two",
                    "logName": f"projects/{PROJECT}/logs/own",
                    "timestamp": "2026-01-02T05:04:05+02:00",
                    "insertId": "mine",
                },
            ],
        },
    )
    assert response.status_code == 200 and response.json() == {}
    first, second = _stored(emulator)
    assert first["logName"] == f"projects/{PROJECT}/logs/defaults"
    assert first["labels"] == {"a": "request", "b": "entry"}
    assert first["severity"] == "ERROR"  # numbers are accepted and stored as names
    assert first["resource"] == {"type": "global", "labels": {"project_id": PROJECT}}
    assert second["logName"] == f"projects/{PROJECT}/logs/own"
    assert second["timestamp"] == "2026-01-02T03:04:05Z"  # normalized to UTC
    assert second["insertId"] == "mine"
    assert len(second["receiveTimestamp"].split(".")[1]) == 10  # nine digits and the Z


@pytest.mark.parametrize("flag", ["dry_run", "dryRun"])
def test_dry_run_writes_nothing(emulator: EmulatorServer, flag: str) -> None:
    body = {"logName": f"projects/{PROJECT}/logs/dry", "resource": {"type": "global"}, "entries": [{}], flag: True}
    assert _write(emulator, body).json() == {}
    assert _stored(emulator) == []


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        pytest.param({"logName": "projects/p/log/x"}, 'invalid logName "projects/p/log/x"', id="log-name-shape"),
        pytest.param({"logName": "projects/p/logs/a b"}, 'invalid log id "a b"', id="log-id-charset"),
        pytest.param({"severity": "LOUD"}, "Invalid value at 'entries[0].severity'", id="severity-name"),
        pytest.param({"severity": "notice"}, "Invalid value at 'entries[0].severity'", id="severity-case"),
        pytest.param({"severity": 450}, "Invalid value at 'entries[0].severity'", id="severity-number"),
        pytest.param({"timestamp": "yesterday"}, "Illegal timestamp format", id="timestamp"),
        pytest.param({"textPayload": "a", "jsonPayload": {}}, "only one of textPayload", id="two-payloads"),
        pytest.param({"resource": {}}, "resource is required", id="no-resource"),
        pytest.param({"bogus": 1}, 'Unknown name "bogus"', id="unknown-field"),
        pytest.param({"labels": {"n": 1}}, "labels must be a map of strings", id="label-not-string"),
    ],
)
def test_invalid_entry_is_400(emulator: EmulatorServer, entry: dict[str, Any], message: str) -> None:
    base = {"logName": f"projects/{PROJECT}/logs/bad", "resource": {"type": "global"}}
    response = _write(emulator, {"entries": [{**base, **entry}]})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    assert message in error["message"]
    assert _stored(emulator) == []


def test_partial_success_keeps_valid_entries(emulator: EmulatorServer) -> None:
    body = {
        "logName": f"projects/{PROJECT}/logs/partial",
        "resource": {"type": "global"},
        "entries": [{"textPayload": "good"}, {"textPayload": "bad", "severity": "LOUD"}],
    }
    strict = _write(emulator, body)
    assert strict.status_code == 400 and _stored(emulator) == []
    partial = _write(emulator, {**body, "partialSuccess": True})
    assert partial.status_code == 400
    detail = partial.json()["error"]["details"][0]
    assert detail["@type"] == "type.googleapis.com/google.logging.v2.WriteLogEntriesPartialErrors"
    assert list(detail["logEntryErrors"]) == ["1"] and detail["logEntryErrors"]["1"]["code"] == 3
    assert [e["textPayload"] for e in _stored(emulator)] == ["good"]


def test_repeated_insert_id_and_timestamp_is_stored_once(emulator: EmulatorServer) -> None:
    entry = {"textPayload": "once", "insertId": "same", "timestamp": "2026-01-02T03:04:05Z"}
    body = {"logName": f"projects/{PROJECT}/logs/dedup", "resource": {"type": "global"}, "entries": [entry]}
    assert _write(emulator, body).ok and _write(emulator, body).ok
    assert len(_stored(emulator)) == 1


def test_logs_list_and_delete(emulator: EmulatorServer) -> None:
    _logger(emulator, "alpha").log_text("a")
    _logger(emulator, "beta/gamma").log_text("b")
    names = requests.get(f"{emulator.url}/v2/projects/{PROJECT}/logs", timeout=5).json()["logNames"]
    assert names == [f"projects/{PROJECT}/logs/alpha", f"projects/{PROJECT}/logs/beta%2Fgamma"]
    # The client filters on its unencoded name (`logName=projects/P/logs/beta/gamma`): the same log.
    assert [e.payload for e in _logger(emulator, "beta/gamma").list_entries()] == ["b"]
    _logger(emulator, "beta/gamma").delete()
    names = requests.get(f"{emulator.url}/v2/projects/{PROJECT}/logs", timeout=5).json()["logNames"]
    assert names == [f"projects/{PROJECT}/logs/alpha"]
    with pytest.raises(exceptions.NotFound) as caught:
        _logger(emulator, "beta/gamma").delete()
    assert caught.value.message.endswith(f": Log projects/{PROJECT}/logs/beta%2Fgamma does not exist")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param({}, "resourceNames is required", id="no-resource-names"),
        pytest.param({"resourceNames": ["p"]}, 'Invalid resource name "p"', id="bad-resource-name"),
        pytest.param({"resourceNames": ["projects/p"], "orderBy": "severity"}, "Invalid orderBy", id="order-by"),
        pytest.param({"resourceNames": ["projects/p"], "filter": "x=" * 10_001}, "longer than 20000", id="long"),
    ],
)
def test_invalid_list_is_400(emulator: EmulatorServer, body: dict[str, Any], message: str) -> None:
    response = requests.post(f"{emulator.url}/v2/entries:list", json=body, timeout=5)
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]
