"""Failures that production reports in the operation, not the answer (docs/google-apis.md §3.4, §3.5)."""

from __future__ import annotations

import pytest
import requests
from google.api_core import exceptions
from google.cloud import compute_v1

from emulator import EmulatorServer
from shared import clients

from .test_compute_support import error_message

P = "op-proj"


def fault(emulator: EmulatorServer, **rule: object) -> None:
    requests.post(
        f"{emulator.url}/_emulator/faults", json={"rules": [{**rule, "asynchronous": True}]}, timeout=5
    ).raise_for_status()


@pytest.mark.parametrize("delay", [0.0, 1.0], ids=["done-at-once", "running-then-failed"])
def test_failed_operation_raises_from_result_and_changes_nothing(emulator: EmulatorServer, delay: float) -> None:
    requests.post(f"{emulator.url}/_emulator/faults", json={"operationDelay": delay}, timeout=5).raise_for_status()
    fault(emulator, method="POST", path="/securityPolicies$", status=503, count=1, message="Backend is busy.")
    policies = clients.compute(emulator.url).security_policies
    operation = policies.insert(project=P, security_policy_resource=compute_v1.SecurityPolicy(name="edge"))
    assert operation.done() is (delay == 0.0)  # with a delay the failure only shows once the operation ends
    with pytest.raises(exceptions.ServiceUnavailable, match="SERVICE UNAVAILABLE"):
        operation.result(timeout=30)
    assert operation.error_code == 503
    assert [e.code for e in operation.exception().errors] == ["BACKEND_ERROR"]
    with pytest.raises(exceptions.NotFound) as err:
        policies.get(project=P, security_policy="edge")
    assert error_message(err.value) == f"The resource 'projects/{P}/global/securityPolicies/edge' was not found"
    # The next write goes through: the rule had a count of one.
    policies.insert(project=P, security_policy_resource=compute_v1.SecurityPolicy(name="edge")).result(timeout=30)
    assert policies.get(project=P, security_policy="edge").name == "edge"


def test_failed_operation_body_carries_both_http_error_fields(emulator: EmulatorServer) -> None:
    fault(
        emulator,
        method="POST",
        path="/securityPolicies$",
        status=400,
        count=1,
        message="The security policy is in use.",
    )
    reply = requests.post(
        f"{emulator.url}/compute/v1/projects/{P}/global/securityPolicies", json={"name": "x"}, timeout=5
    )
    assert reply.status_code == 200
    op = reply.json()
    assert op["status"] == "DONE" and op["targetLink"].endswith(f"/projects/{P}/global/securityPolicies/x")
    assert (op["httpErrorStatusCode"], op["httpErrorMessage"]) == (400, "BAD REQUEST")
    assert op["error"] == {"errors": [{"code": "INVALID", "message": "The security policy is in use."}]}
