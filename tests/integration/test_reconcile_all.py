"""reconcile_all's HTTP contract, served by functions-framework as Cloud Run would."""

from __future__ import annotations

import contextlib
import io
import json

import functions_framework
import pytest
import requests

from emulator import EmulatorServer

from .sweep_support import US, P, armor, deploy, faults, lb

__all__ = ["lb"]  # the fixture


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


def sweep_env(emulator: EmulatorServer, **env: str) -> dict[str, str]:
    values = {
        "RUNWAY_API_ENDPOINT": emulator.url,
        "RUNWAY_PROJECT": P,
        "RUNWAY_URL_MAP": "runway-lb",
        "RUNWAY_REGIONS": US,
        "RUNWAY_SECURITY_POLICY": "runway-edge",
    }
    return {**values, **env}


def test_a_project_that_cannot_be_observed_is_a_500_listing_it(
    lb: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    armor(lb, "team-a")
    deploy(lb, "shop", {"public-route": "shop"}, project="team-a")
    denied = {"policies": {"projects/team-c": {"bindings": []}}}  # the sweep may read nothing of team-c
    requests.post(f"{lb.url}/_emulator/iam", json=denied, timeout=5).raise_for_status()

    status, body, lines = post(monkeypatch, **sweep_env(lb, RUNWAY_SCOPE=f"{P},team-a,team-c"))
    assert status == 500
    [failure] = body["failures"]
    assert (failure["service"], failure["project"], failure["retryable"]) == ("projects/team-c", "team-c", False)
    assert body["projects"] == [P, "team-a"]
    actions = [line["action"] for line in lines]
    assert {"route_registered", "sweep_summary"} <= set(actions) and actions.count("api_error") == 1


def test_a_map_that_stays_stale_is_a_retryable_api_error_and_a_500(
    lb: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    deploy(lb, "stuck", {"public-route": "true"})
    faults(lb, {"method": "PATCH", "path": "/global/urlMaps/runway-lb$", "status": 400, "reason": "resourceNotReady"})
    status, body, lines = post(monkeypatch, **sweep_env(lb))
    assert (status, body["retryable"]) == (500, True)
    assert body["error"].startswith("the URL map still names something not ready or gone after observing again")
    [error] = [line for line in lines if line["action"] == "api_error"]
    assert (error["severity"], error["retryable"], error["reason"]) == ("ERROR", True, body["error"])
