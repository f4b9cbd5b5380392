"""The `/_emulator/` test controls check their input: a bad value is a 400 naming it, never a 500 or a silent no-op."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from emulator import EmulatorServer, Settings, UrlMapLimits


def assert_bad_param(reply: requests.Response, field: str, message: str) -> None:
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert (error["code"], error["status"], error["message"]) == (400, "INVALID_ARGUMENT", message)
    [detail] = error["details"]
    assert detail["@type"] == "type.googleapis.com/google.rpc.BadRequest"
    assert [v["field"] for v in detail["fieldViolations"]] == [field]


RULE_KEYS = "method, path, status, rate, count, latencyMs, message, asynchronous, reason"
KNOB_KEYS = "rules, operationDelay, duplicateDeliveries, latencyMs, seed"


FAULT_CASES = [
    ({"seed": "abc"}, "seed", "seed: expected an integer, got 'abc'"),
    ({"seed": 1.5}, "seed", "seed: expected an integer, got 1.5"),
    ({"seed": True}, "seed", "seed: expected an integer, got True"),
    ({"operationDelay": 1e308}, "operationDelay", "operationDelay: must be between 0 and 600, got 1e+308"),
    ({"operationDelay": -1}, "operationDelay", "operationDelay: must be between 0 and 600, got -1"),
    ({"operationDelay": "soon"}, "operationDelay", "operationDelay: expected a number, got 'soon'"),
    ({"operationDelay": float("nan")}, "operationDelay", "operationDelay: expected a number, got nan"),
    ({"operationDelay": [1]}, "operationDelay", "operationDelay: expected a number, got [1]"),
    ({"duplicateDeliveries": 11}, "duplicateDeliveries", "duplicateDeliveries: must be between 0 and 10, got 11"),
    ({"duplicateDeliveries": "2x"}, "duplicateDeliveries", "duplicateDeliveries: expected an integer, got '2x'"),
    ({"latencyMs": 60_001}, "latencyMs", "latencyMs: must be between 0 and 60000, got 60001"),
    ({"operationdelay": 1}, "operationdelay", f"operationdelay: unknown field; known: {KNOB_KEYS}"),
    ({"rules": "x"}, "rules", "rules: expected a list of fault rules, got 'x'"),
    ({"rules": {}}, "rules", "rules: expected a list of fault rules, got {}"),
    ({"rules": ["x"]}, "rules[0]", "rules[0]: expected a JSON object, got 'x'"),
    ({"rules": [{"rate": "x"}]}, "rules[0].rate", "rules[0].rate: expected a number, got 'x'"),
    ({"rules": [{"rate": 1.5}]}, "rules[0].rate", "rules[0].rate: must be between 0 and 1, got 1.5"),
    ({"rules": [{"status": "abc"}]}, "rules[0].status", "rules[0].status: expected an integer, got 'abc'"),
    ({"rules": [{"status": 200}]}, "rules[0].status", "rules[0].status: must be between 400 and 599, got 200"),
    ({"rules": [{"count": -1}]}, "rules[0].count", "rules[0].count: must be between 0 and 1000000000, got -1"),
    ({"rules": [{"count": "many"}]}, "rules[0].count", "rules[0].count: expected an integer, got 'many'"),
    (
        {"rules": [{"latencyMs": 100_000}]},
        "rules[0].latencyMs",
        "rules[0].latencyMs: must be between 0 and 60000, got 100000",
    ),
    (
        {"rules": [{"asynchronous": "yes"}]},
        "rules[0].asynchronous",
        "rules[0].asynchronous: expected true or false, got 'yes'",
    ),
    ({"rules": [{"method": 5}]}, "rules[0].method", "rules[0].method: expected a string, got 5"),
    (
        {"rules": [{"method": "FETCH"}]},
        "rules[0].method",
        "rules[0].method: expected an HTTP method or '*', got 'FETCH'",
    ),
    ({"rules": [{"path": 5}]}, "rules[0].path", "rules[0].path: expected a string, got 5"),
    ({"rules": [{"message": 5}]}, "rules[0].message", "rules[0].message: expected a string, got 5"),
    ({"rules": [{"reason": []}]}, "rules[0].reason", "rules[0].reason: expected a string, got []"),
    ({"rules": [{}, {"staus": 503}]}, "rules[1].staus", f"rules[1].staus: unknown field; known: {RULE_KEYS}"),
]


@pytest.mark.parametrize(("body", "field", "message"), FAULT_CASES, ids=[message for *_, message in FAULT_CASES])
def test_bad_fault_configuration_is_a_400_naming_it(
    emulator: EmulatorServer, body: dict[str, Any], field: str, message: str
) -> None:
    # json.dumps, not requests' json=: the NaN case must reach the emulator as JSON's non-standard `NaN`.
    reply = requests.post(
        f"{emulator.url}/_emulator/faults",
        data=json.dumps(body),
        headers={"Content-Type": "application/json"},
        timeout=5,
    )
    assert_bad_param(reply, field, message)


def test_bad_regular_expression_is_a_400_naming_the_rule(emulator: EmulatorServer) -> None:
    reply = requests.post(f"{emulator.url}/_emulator/faults", json={"rules": [{"path": "("}]}, timeout=5)
    assert reply.status_code == 400
    assert reply.json()["error"]["message"].startswith("rules[0].path: not a regular expression: ")


def test_a_refused_configuration_changes_nothing(emulator: EmulatorServer) -> None:
    body = {"operationDelay": 5, "rules": [{"status": 503}, {"status": 200}], "seed": 1}
    assert requests.post(f"{emulator.url}/_emulator/faults", json=body, timeout=5).status_code == 400
    faults = requests.get(f"{emulator.url}/_emulator/faults", timeout=5).json()
    assert (faults["rules"], faults["operationDelay"]) == ([], 0.0)


def test_values_at_the_bounds_and_numeric_strings_are_accepted(emulator: EmulatorServer) -> None:
    body = {
        "operationDelay": 600,
        "duplicateDeliveries": 10,
        "latencyMs": 0,
        "seed": "7",
        "rules": [{"path": "^/nothing-matches$", "rate": 0, "count": "3", "latencyMs": 60_000, "status": 599}],
    }
    reply = requests.post(f"{emulator.url}/_emulator/faults", json=body, timeout=5)
    assert reply.status_code == 200, reply.text
    faults = reply.json()
    assert (faults["operationDelay"], faults["duplicateDeliveries"]) == (600, 10)
    assert [(r["rate"], r["remaining"], r["latencyMs"], r["status"]) for r in faults["rules"]] == [(0, 3, 60_000, 599)]


@pytest.mark.parametrize(
    ("method", "path", "params", "field", "message"),
    [
        ("GET", "/requests", {"since": "abc"}, "since", "since: expected an integer, got 'abc'"),
        ("GET", "/requests", {"since": "-1"}, "since", "since: must be between 0 and 9223372036854775807, got '-1'"),
        ("POST", "/deliveries:drain", {"timeout": "abc"}, "timeout", "timeout: expected a number, got 'abc'"),
        ("POST", "/deliveries:drain", {"timeout": "nan"}, "timeout", "timeout: expected a number, got 'nan'"),
        (
            "POST",
            "/deliveries:drain",
            {"timeout": "1e308"},
            "timeout",
            "timeout: must be between 0 and 600, got '1e308'",
        ),
        ("GET", "/requests", {"sinec": "3"}, "sinec", "sinec: unknown query parameter; known: since"),
        ("GET", "/health", {"verbose": "1"}, "verbose", "verbose: unknown query parameter; known: none"),
        ("POST", "/reset", {"all": "true"}, "all", "all: unknown query parameter; known: none"),
    ],
)
def test_bad_query_parameter_is_a_400_naming_it(
    emulator: EmulatorServer, method: str, path: str, params: dict[str, str], field: str, message: str
) -> None:
    reply = requests.request(method, f"{emulator.url}/_emulator{path}", params=params, timeout=5)
    assert_bad_param(reply, field, message)


def test_good_query_parameters_still_work(emulator: EmulatorServer) -> None:
    requests.get(f"{emulator.url}/v2/nothing", timeout=5)
    [call] = requests.get(f"{emulator.url}/_emulator/requests", params={"since": "0"}, timeout=5).json()["requests"]
    after = requests.get(f"{emulator.url}/_emulator/requests", params={"since": call["seq"]}, timeout=5).json()
    assert after == {"requests": []}
    drained = requests.post(f"{emulator.url}/_emulator/deliveries:drain", params={"timeout": "0"}, timeout=5)
    assert drained.json() == {"drained": True}


def test_a_body_that_is_not_an_object_is_a_400(emulator: EmulatorServer) -> None:
    reply = requests.post(f"{emulator.url}/_emulator/faults", json=[{"status": 503}], timeout=5)
    assert reply.status_code == 400
    assert reply.json()["error"]["message"] == "Invalid JSON payload received. Expected an object."


# ---------------------------------------------------------------------------------------------- /_emulator/settings

DEFAULT_LIMITS = {
    "hostRulesAndPathMatchers": 1000,
    "pathRulesPerPathMatcher": 1000,
    "hostsPerHostRule": 1000,
    "predicatesPerPathMatcher": 1000,
    "backendsPerUrlMap": 2500,
    "testsPerUrlMap": 100,
    "bytes": 65536,
}
LIMIT_KEYS = ", ".join(DEFAULT_LIMITS)


def with_limits(limits: dict[str, int], delay: float = 0.0) -> dict[str, Any]:
    """The whole settings answer: the URL-map limits and the audit delivery delay."""
    return {"urlMapLimits": limits, "auditDeliveryDelay": delay}


def settings(emulator: EmulatorServer, method: str = "GET", body: Any = None) -> requests.Response:
    return requests.request(method, f"{emulator.url}/_emulator/settings", json=body, timeout=5)


def test_settings_start_at_googles_url_map_limits(emulator: EmulatorServer) -> None:
    assert settings(emulator).json() == with_limits(DEFAULT_LIMITS)


def test_a_partial_body_changes_only_its_keys_and_reset_restores(emulator: EmulatorServer) -> None:
    reply = settings(emulator, "POST", {"urlMapLimits": {"testsPerUrlMap": 2, "bytes": "1048576"}})
    changed = {**DEFAULT_LIMITS, "testsPerUrlMap": 2, "bytes": 1_048_576}
    assert reply.json() == with_limits(changed)
    assert settings(emulator, "POST", {"urlMapLimits": {"hostsPerHostRule": 5}}).json() == with_limits(
        {**changed, "hostsPerHostRule": 5}
    )
    requests.post(f"{emulator.url}/_emulator/reset", timeout=5).raise_for_status()
    assert settings(emulator).json() == with_limits(DEFAULT_LIMITS)

    settings(emulator, "POST", {"urlMapLimits": {"testsPerUrlMap": 2}})
    assert settings(emulator, "DELETE").json() == with_limits(DEFAULT_LIMITS)


SETTINGS_CASES = [
    ({"urlMapLimits": {"bytes": "big"}}, "urlMapLimits.bytes", "urlMapLimits.bytes: expected an integer, got 'big'"),
    (
        {"urlMapLimits": {"testsPerUrlMap": -1}},
        "urlMapLimits.testsPerUrlMap",
        "urlMapLimits.testsPerUrlMap: must be between 0 and 100000000, got -1",
    ),
    (
        {"urlMapLimits": {"hostsPerHostRule": 1e308}},
        "urlMapLimits.hostsPerHostRule",
        "urlMapLimits.hostsPerHostRule: must be between 0 and 100000000, got 1e+308",
    ),
    (
        {"urlMapLimits": {"hosts": 3}},
        "urlMapLimits.hosts",
        f"urlMapLimits.hosts: unknown field; known: {LIMIT_KEYS}",
    ),
    ({"urlMapLimits": 5}, "urlMapLimits", "urlMapLimits: expected a JSON object, got 5"),
    ({"limits": {}}, "limits", "limits: unknown field; known: urlMapLimits, auditDeliveryDelay"),
    ({"auditDeliveryDelay": -1}, "auditDeliveryDelay", "auditDeliveryDelay: must be between 0 and 600, got -1"),
    ({"auditDeliveryDelay": 601}, "auditDeliveryDelay", "auditDeliveryDelay: must be between 0 and 600, got 601"),
    ({"auditDeliveryDelay": "soon"}, "auditDeliveryDelay", "auditDeliveryDelay: expected a number, got 'soon'"),
    ({"auditDeliveryDelay": True}, "auditDeliveryDelay", "auditDeliveryDelay: expected a number, got True"),
]


@pytest.mark.parametrize(("body", "field", "message"), SETTINGS_CASES, ids=[m for *_, m in SETTINGS_CASES])
def test_bad_settings_are_a_400_naming_them(emulator: EmulatorServer, body: Any, field: str, message: str) -> None:
    assert_bad_param(settings(emulator, "POST", body), field, message)


def test_a_refused_settings_body_changes_nothing(emulator: EmulatorServer) -> None:
    reply = settings(emulator, "POST", {"urlMapLimits": {"testsPerUrlMap": 2}, "auditDeliveryDelay": -1})
    assert reply.status_code == 400
    assert settings(emulator).json() == with_limits(DEFAULT_LIMITS)
    reply = settings(emulator, "POST", {"urlMapLimits": {"testsPerUrlMap": 2, "bytes": "x"}})
    assert reply.status_code == 400
    assert settings(emulator).json() == with_limits(DEFAULT_LIMITS)


@pytest.mark.parametrize(
    "limits",
    [{"testsPerUrlMap": 2, "bytes": 1_048_576}, UrlMapLimits(tests_per_url_map=2, bytes=1_048_576)],
    ids=["json-keys", "dataclass"],
)
def test_settings_in_python_take_the_same_limits(limits: Any) -> None:
    expected = {**DEFAULT_LIMITS, "testsPerUrlMap": 2, "bytes": 1_048_576}
    with EmulatorServer(settings=Settings(url_map_limits=limits)) as server:
        assert settings(server).json() == with_limits(expected)
        settings(server, "POST", {"urlMapLimits": {"testsPerUrlMap": 7}})
        server.emulator.reset()  # back to what the server was started with, not to Google's
        assert settings(server).json() == with_limits(expected)


def test_bad_settings_in_python_are_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"^urlMapLimits.bytes: expected an integer, got 'big'$"):
        Settings(url_map_limits={"bytes": "big"})
    with pytest.raises(ValueError, match=r"^urlMapLimits.hosts: unknown field"):
        Settings(url_map_limits={"hosts": 1})
    with pytest.raises(ValueError, match=r"^urlMapLimits.bytes: must be between 0 and 100000000, got -1$"):
        UrlMapLimits(bytes=-1)


def test_the_audit_delivery_delay_is_a_setting(emulator: EmulatorServer) -> None:
    assert settings(emulator, "POST", {"auditDeliveryDelay": "2.5"}).json() == with_limits(DEFAULT_LIMITS, 2.5)
    assert settings(emulator, "POST", {"urlMapLimits": {"bytes": 5}}).json()["auditDeliveryDelay"] == 2.5
    requests.post(f"{emulator.url}/_emulator/reset", timeout=5).raise_for_status()
    assert settings(emulator).json() == with_limits(DEFAULT_LIMITS)
    with EmulatorServer(settings=Settings(audit_delivery_delay=1.5)) as server:
        assert settings(server).json()["auditDeliveryDelay"] == 1.5
        settings(server, "POST", {"auditDeliveryDelay": 0})
        assert settings(server, "DELETE").json()["auditDeliveryDelay"] == 1.5
    with pytest.raises(ValueError, match=r"^auditDeliveryDelay: must be between 0 and 600, got 700$"):
        Settings(audit_delivery_delay=700)
