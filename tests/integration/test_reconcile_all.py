"""reconcile_all's HTTP contract, served by functions-framework as Cloud Run would."""

from __future__ import annotations

import contextlib
import io
import json

import functions_framework
import pytest


def post(monkeypatch: pytest.MonkeyPatch, method: str = "POST", **env: str) -> tuple[int, dict, list[dict]]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    client = functions_framework.create_app("reconcile_all", "main.py").test_client()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        reply = client.open("/", method=method)
    return reply.status_code, reply.get_json(), [json.loads(line) for line in out.getvalue().splitlines()]


def test_only_post_starts_a_sweep(monkeypatch: pytest.MonkeyPatch) -> None:
    status, body, lines = post(monkeypatch, method="GET")
    assert (status, body, lines) == (405, {"error": "POST to run the sweep"}, [])


def test_bad_configuration_is_a_500_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    status, body, [line] = post(monkeypatch, RUNWAY_HOSTS="{bad")
    assert status == 500 and body["variables"] == ["RUNWAY_HOSTS"]
    assert (line["action"], line["severity"], line["retryable"], line["variables"]) == (
        "api_error",
        "ERROR",
        True,
        ["RUNWAY_HOSTS"],
    )
    assert line["message"].startswith("runway is misconfigured: invalid runway configuration: RUNWAY_HOSTS:")
