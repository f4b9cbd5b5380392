"""enforce_ingress end to end: real events from the emulator's Eventarc, the function as a process."""

from __future__ import annotations

import pytest
from google.auth.credentials import AnonymousCredentials
from googleapiclient.discovery import build

from devstack.stack import LocalStack

from .support import (
    REGION,
    create_service,
    decisions,
    faults,
    get_service,
    mark,
    settle,
    wait_for_decisions,
    writes,
)

SERVICE_WRITES = r"^/v2/projects/[^/]+/locations/[^/]+/services/"


def test_service_created_open_to_all_is_remediated(stack: LocalStack) -> None:
    create_service(stack, "hello", principal="alice@example.com")
    settle(stack)

    assert get_service(stack, "hello").ingress.name == "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
    remediated = wait_for_decisions(stack, function="enforce_ingress", action="ingress_remediated")
    assert len(remediated) == 1
    entry = remediated[0]
    assert entry["principal"] == "alice@example.com"
    assert entry["service"] == f"projects/{stack.project}/locations/{REGION}/services/hello"
    assert (entry["before"], entry["after"]) == ("all", "internal-and-cloud-load-balancing")
    assert entry["method"] == "google.cloud.run.v2.Services.CreateService"
    assert entry["severity"] == "NOTICE"
    # From the audit entry's timestamp to the fix: one delivery and two API calls away, locally.
    assert isinstance(entry["seconds_to_remediate"], float) and 0 <= entry["seconds_to_remediate"] < 30
    # runway's own update is an event too (each function calls as its own service account, as infra/ gives it one):
    # acknowledged without a read, since it changed only what the function had just decided.
    own = [
        d
        for d in decisions(stack, function="enforce_ingress", action="event_ignored")
        if d["method"] == "google.cloud.run.v2.Services.UpdateService"
    ]
    assert own and all(d["principal"] == stack.identity("enforce_ingress") for d in own)
    assert all("own identity" in d["reason"] for d in own)


def test_exempt_and_stricter_services_are_untouched(stack: LocalStack) -> None:
    start = mark(stack)
    create_service(stack, "legacy-billing")  # matches RUNWAY_EXEMPT
    create_service(stack, "internal-api", ingress="INGRESS_TRAFFIC_INTERNAL_ONLY")
    create_service(stack, "switched-off", ingress="INGRESS_TRAFFIC_NONE")
    settle(stack)

    assert get_service(stack, "legacy-billing").ingress.name == "INGRESS_TRAFFIC_ALL"
    assert get_service(stack, "internal-api").ingress.name == "INGRESS_TRAFFIC_INTERNAL_ONLY"
    assert get_service(stack, "switched-off").ingress.name == "INGRESS_TRAFFIC_NONE"
    exempt = wait_for_decisions(stack, function="enforce_ingress", action="ingress_exempt")
    assert [e["service"].rsplit("/", 1)[1] for e in exempt] == ["legacy-billing"]
    assert exempt[0]["severity"] == "WARNING"
    compliant = wait_for_decisions(stack, 2, function="enforce_ingress", action="ingress_compliant")
    assert sorted(e["service"].rsplit("/", 1)[1] for e in compliant) == ["internal-api", "switched-off"]
    assert [w for w in writes(stack, SERVICE_WRITES, since=start) if w["method"] == "PATCH"] == []


def test_published_internal_only_service_is_opened_to_the_load_balancer(stack: LocalStack) -> None:
    create_service(stack, "shop", ingress="INGRESS_TRAFFIC_INTERNAL_ONLY", labels={"public-route": "true"})
    settle(stack)
    assert get_service(stack, "shop").ingress.name == "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
    [entry] = wait_for_decisions(stack, function="enforce_ingress", action="ingress_remediated")
    assert (entry["before"], entry["after"]) == ("internal", "internal-and-cloud-load-balancing")


def test_v1_replace_that_widens_ingress_is_reverted(stack: LocalStack) -> None:
    create_service(stack, "api")
    settle(stack)
    run_v1 = build(
        "run",
        "v1",
        credentials=AnonymousCredentials(),
        static_discovery=True,
        client_options={"api_endpoint": stack.url},
        cache_discovery=False,
    )
    name = f"namespaces/{stack.project}/services/api"
    current = run_v1.namespaces().services().get(name=name).execute()
    current["metadata"]["annotations"]["run.googleapis.com/ingress"] = "all"
    request = run_v1.namespaces().services().replaceService(name=name, body=current)
    request.headers["x-emulator-principal"] = "mallory@example.com"
    request.execute()
    settle(stack)

    assert get_service(stack, "api").ingress.name == "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
    reverted = wait_for_decisions(
        stack,
        function="enforce_ingress",
        action="ingress_remediated",
        method="google.cloud.run.v1.Services.ReplaceService",
    )
    assert len(reverted) == 1
    assert reverted[0]["principal"] == "mallory@example.com"
    assert reverted[0]["service"] == f"projects/{stack.project}/locations/{REGION}/services/api"


def test_duplicate_deliveries_make_zero_extra_writes(stack: LocalStack) -> None:
    faults(stack, {"duplicateDeliveries": 2})  # every event arrives three times
    start = mark(stack)
    create_service(stack, "dup")
    settle(stack)

    patches = [w for w in writes(stack, SERVICE_WRITES, since=start) if w["method"] == "PATCH"]
    assert len(patches) == 1, patches
    assert get_service(stack, "dup").ingress.name == "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
    remediated = wait_for_decisions(stack, function="enforce_ingress", action="ingress_remediated")
    assert len(remediated) == 1
    # The two extra copies of the create's last entry find it compliant; every copy of runway's own update is
    # acknowledged as its own write. No write either way.
    compliant = wait_for_decisions(stack, 2, function="enforce_ingress", action="ingress_compliant")
    assert len(compliant) == 2


def test_transient_failure_answers_non_2xx_and_the_redelivery_succeeds(stack: LocalStack) -> None:
    faults(stack, {"rules": [{"method": "PATCH", "path": SERVICE_WRITES, "status": 503, "count": 1}]})
    create_service(stack, "flaky")
    settle(stack)

    assert get_service(stack, "flaky").ingress.name == "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
    [error] = wait_for_decisions(stack, function="enforce_ingress", action="api_error")
    assert error["retryable"] is True and error["code"] == 503 and error["severity"] == "ERROR"
    attempts = [
        a for a in stack.server.emulator.eventarc.deliveries() if "enforce-ingress-v2-createservice" in a["trigger"]
    ]
    # The create's first audit entry is acknowledged unacted (enforce_ingress acts on the last); the last one's
    # first push fails with the 503 (500), and its redelivery succeeds.
    statuses = [a["status"] for a in attempts]
    assert statuses.count(500) == 1 and statuses.index(500) < len(statuses) - 1, statuses
    assert statuses[statuses.index(500) + 1] in (200, 204), statuses
    assert len(wait_for_decisions(stack, function="enforce_ingress", action="ingress_remediated")) == 1


@pytest.mark.parametrize("dry_run", ["true"])
def test_dry_run_logs_and_writes_nothing(dry_run: str) -> None:
    with LocalStack(env={"RUNWAY_DRY_RUN": dry_run}, functions=("enforce_ingress",)) as stack:
        start = mark(stack)
        create_service(stack, "preview")
        settle(stack)
        assert get_service(stack, "preview").ingress.name == "INGRESS_TRAFFIC_ALL"
        [entry] = wait_for_decisions(stack, function="enforce_ingress", action="ingress_remediated")
        assert entry["dry_run"] is True and entry["message"].startswith("would set")
        assert [w for w in writes(stack, SERVICE_WRITES, since=start) if w["method"] == "PATCH"] == []
        assert decisions(stack, action="api_error") == []


def test_one_write_and_one_decision_while_the_emulator_shows_the_old_ingress(stack: LocalStack) -> None:
    """Rollouts take a second here: until one completes, v2 reports the previous ingress (or none) and the service is
    `reconciling`. enforce_ingress acts on the settled service (the last audit entry of a v2 write; a v1 write's only
    entry waits for its rollout), so opening a service, and runway's own fix of it, make one PATCH and one decision."""
    faults(stack, {"operationDelay": 1.0})
    start = mark(stack)
    create_service(stack, "slow")
    settle(stack)
    patches = [w for w in writes(stack, SERVICE_WRITES, since=start) if w["method"] == "PATCH"]
    assert len(patches) == 1, patches
    [fixed] = wait_for_decisions(stack, function="enforce_ingress", action="ingress_remediated")
    assert (fixed["before"], fixed["after"]) == ("all", "internal-and-cloud-load-balancing")
    ignored = [
        d for d in decisions(stack, function="enforce_ingress", action="event_ignored") if "audit entry" in d["reason"]
    ]
    assert len(ignored) == 1  # the create's first entry (runway's own update is ignored as its own write)
    assert get_service(stack, "slow").ingress.name == "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"

    # gcloud's v1 replace widens it again: its only audit entry arrives while its rollout still runs.
    run_v1 = build(
        "run",
        "v1",
        credentials=AnonymousCredentials(),
        static_discovery=True,
        client_options={"api_endpoint": stack.url},
        cache_discovery=False,
    )
    name = f"namespaces/{stack.project}/services/slow"
    current = run_v1.namespaces().services().get(name=name).execute()
    current["metadata"]["annotations"]["run.googleapis.com/ingress"] = "all"
    start = mark(stack)
    run_v1.namespaces().services().replaceService(name=name, body=current).execute()
    settle(stack)
    patches = [w for w in writes(stack, SERVICE_WRITES, since=start) if w["method"] == "PATCH"]
    assert len(patches) == 1, patches
    assert len(wait_for_decisions(stack, 2, function="enforce_ingress", action="ingress_remediated")) == 2
    assert get_service(stack, "slow").ingress.name == "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
