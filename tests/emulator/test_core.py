"""The emulator's own plumbing: health, absolute-form proxy requests, call log, faults, paging."""

from __future__ import annotations

import socket

import pytest
import requests

from emulator import EmulatorServer
from emulator.errors import ApiError
from emulator.paging import page


def test_health_lists_every_api(emulator: EmulatorServer) -> None:
    body = requests.get(f"{emulator.url}/_emulator/health", timeout=5).json()
    assert body == {
        "status": "ok",
        "apis": ["run", "compute", "logging", "eventarc", "resourcemanager", "iam", "serviceusage", "pubsub"],
    }


def test_absolute_form_request_is_routed_by_path(emulator: EmulatorServer) -> None:
    # gcloud, with the emulator as its HTTP proxy, sends absolute-form request lines (docs/google-apis.md §8).
    with socket.create_connection(("127.0.0.1", emulator.port), timeout=5) as conn:
        conn.sendall(
            b"GET http://us-central1-run.emulator.invalid/_emulator/health HTTP/1.1\r\n"
            b"Host: us-central1-run.emulator.invalid\r\nConnection: close\r\n\r\n"
        )
        reply = b""
        while chunk := conn.recv(4096):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 200")
    assert b'"status": "ok"' in reply


def test_unknown_route_answers_in_each_envelope(emulator: EmulatorServer) -> None:
    compute = requests.get(f"{emulator.url}/compute/v1/projects/p/nothing", timeout=5)
    assert compute.status_code == 404
    assert compute.json()["error"]["errors"][0]["reason"] == "notFound"
    rpc = requests.get(f"{emulator.url}/v2/nothing", timeout=5)
    assert rpc.status_code == 404
    assert rpc.json()["error"]["status"] == "NOT_FOUND"


def test_call_log_records_api_calls_not_controls(emulator: EmulatorServer) -> None:
    requests.get(f"{emulator.url}/v2/nothing", headers={"X-Emulator-Principal": "alice@example.com"}, timeout=5)
    calls = requests.get(f"{emulator.url}/_emulator/requests", timeout=5).json()["requests"]
    assert [(c["method"], c["path"], c["status"], c["principal"], c["write"]) for c in calls] == [
        ("GET", "/v2/nothing", 404, "alice@example.com", False)
    ]


def test_fault_with_count_fires_exactly_that_many_times(emulator: EmulatorServer) -> None:
    rule = {"method": "GET", "path": "^/v2/", "status": 503, "count": 2}
    assert requests.post(f"{emulator.url}/_emulator/faults", json={"rules": [rule]}, timeout=5).ok
    statuses = [requests.get(f"{emulator.url}/v2/nothing", timeout=5).status_code for _ in range(3)]
    assert statuses == [503, 503, 404]
    body = requests.get(f"{emulator.url}/_emulator/faults", timeout=5).json()
    assert body["rules"][0]["remaining"] == 0


def test_fault_status_uses_compute_envelope_on_compute_paths(emulator: EmulatorServer) -> None:
    rule = {"path": "^/compute/", "status": 503}
    requests.post(f"{emulator.url}/_emulator/faults", json={"rules": [rule]}, timeout=5)
    reply = requests.get(f"{emulator.url}/compute/v1/projects/p/global/urlMaps", timeout=5)
    assert reply.status_code == 503
    assert reply.json()["error"]["errors"][0]["reason"] == "backendError"
    requests.delete(f"{emulator.url}/_emulator/faults", timeout=5)
    assert requests.get(f"{emulator.url}/_emulator/faults", timeout=5).json()["rules"] == []


def test_bad_fault_rule_is_refused(emulator: EmulatorServer) -> None:
    reply = requests.post(f"{emulator.url}/_emulator/faults", json={"rules": [{"path": "("}]}, timeout=5)
    assert reply.status_code == 400
    assert "not a regular expression" in reply.json()["error"]["message"]


def test_paging_omits_token_on_last_page() -> None:
    items = list(range(5))
    first, token = page(items, 2, None, default=50, maximum=500)
    assert first == [0, 1]
    second, token = page(items, 2, token, default=50, maximum=500)
    third, last = page(items, 2, token, default=50, maximum=500)
    assert (second, third, last) == ([2, 3], [4], None)


def test_paging_rejects_garbage_token() -> None:
    with pytest.raises(ApiError, match="Invalid page token"):
        page([1], 1, "garbage!", default=50, maximum=500)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, "developer@example.com"),
        ({"X-Emulator-Principal": "alice@example.com"}, "alice@example.com"),
        ({"Authorization": "Bearer dana@example.com"}, "dana@example.com"),
        ({"Authorization": "Bearer ya29.opaque-token"}, "developer@example.com"),
        (
            {"Authorization": "Bearer dana@example.com", "X-Emulator-Principal": "alice@example.com"},
            "alice@example.com",
        ),
    ],
    ids=["default", "header", "email-token", "opaque-token", "header-wins"],
)
def test_caller_identity(emulator: EmulatorServer, headers: dict[str, str], expected: str) -> None:
    requests.get(f"{emulator.url}/v2/nothing", headers=headers, timeout=5)
    [call] = requests.get(f"{emulator.url}/_emulator/requests", timeout=5).json()["requests"]
    assert call["principal"] == expected
