"""The route status on the service, read the way a developer reads it: `gcloud run services describe`.

Each status write is runway's own write: its audit event comes back to both functions, and must end there (no
read of the service, no further write, no second finding), which these tests count in the emulator's call log.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack.stack import LocalStack
from tests.e2e.support import (
    REGION,
    api_calls,
    create_service,
    decisions,
    mark,
    update_labels,
    wait_for_decisions,
)
from tests.emulator.gcloud_support import MARKS, Gcloud

pytestmark = MARKS
STATUS_LABEL = "runway-route"
STATUS_ANNOTATION = "runway.dev/route-status"


@pytest.fixture
def gcloud(stack: LocalStack, tmp_path: Path) -> Iterator[Gcloud]:
    yield Gcloud(stack.url, tmp_path / "gcloud")


def describe(gcloud: Gcloud, name: str) -> tuple[str | None, dict[str, Any]]:
    """The status label and the decoded status annotation, as `gcloud run services describe` shows them."""
    service = gcloud.json("run", "services", "describe", name, f"--region={REGION}")
    metadata = service["metadata"]
    raw = metadata.get("annotations", {}).get(STATUS_ANNOTATION)
    return metadata.get("labels", {}).get(STATUS_LABEL), json.loads(raw) if raw else {}


def writes_after_status(stack: LocalStack, name: str, since: int) -> tuple[int, list[str]]:
    """How many status writes sync_routes made on `name` since `since` (a write refused with 409, because
    enforce_ingress's own write changed the etag, is re-read and retried: not counted), and every API write
    attempted after the last one (log shipping aside)."""
    calls = [c for c in api_calls(stack, since) if not c["path"].startswith("/v2/entries")]
    sync = stack.identity("sync_routes")
    status = [
        c
        for c in calls
        if c["write"] and c["status"] < 400 and c["principal"] == sync and c["path"].endswith(f"/services/{name}")
    ]
    if not status:
        return 0, []
    last = status[-1]["seq"]
    return len(status), [f"{c['method']} {c['path']}" for c in calls if c["write"] and c["seq"] > last]


def test_published_service_says_where_and_its_status_write_ends_there(stack: LocalStack, gcloud: Gcloud) -> None:
    since = mark(stack)
    create_service(stack, "status-shop", labels={"public-route": "true"})
    wait_for_decisions(stack, action="route_registered")
    stack.settle()

    label, status = describe(gcloud, "status-shop")
    assert label == "published"
    assert status["state"] == "published"
    assert status["urls"] == ["https://*/status-shop", "https://*/status-shop/*"]
    assert status["regions"] == [REGION] and status["backend"].startswith("runway-status-shop-")
    count, after = writes_after_status(stack, "status-shop", since)
    assert count == 1 and after == []
    assert [d["action"] for d in decisions(stack, service=_path(stack, "status-shop"), function="sync_routes")].count(
        "route_registered"
    ) == 1

    since = mark(stack)
    gcloud("run", "services", "update", "status-shop", f"--region={REGION}", "--remove-labels=public-route")
    wait_for_decisions(stack, action="route_removed")
    stack.settle()
    assert describe(gcloud, "status-shop") == (None, {})
    count, after = writes_after_status(stack, "status-shop", since)
    assert count == 1 and after == []


def test_conflict_names_the_holder_once(stack: LocalStack, gcloud: Gcloud) -> None:
    create_service(stack, "holder", labels={"public-route": "shared"})
    wait_for_decisions(stack, action="route_registered")
    since = mark(stack)
    create_service(stack, "late", labels={"public-route": "shared"}, principal="mallory@example.com")
    wait_for_decisions(stack, action="route_conflict")
    stack.settle()

    label, status = describe(gcloud, "late")
    assert label == "conflict"
    assert status["holder"] == f"{stack.project}/holder"
    assert status["urls"] == []
    count, after = writes_after_status(stack, "late", since)
    assert count == 1 and after == [], _story(stack, "late", since)
    # Its create, enforce_ingress's ingress fix and the status write all reached sync_routes: one finding.
    conflicts = decisions(stack, action="route_conflict", service=_path(stack, "late"))
    assert len(conflicts) == 1 and conflicts[0]["severity"] == "WARNING"


def test_invalid_label_says_why_and_removing_it_clears_the_status(stack: LocalStack, gcloud: Gcloud) -> None:
    create_service(stack, "typo", labels={"public-route": "true"}, annotations={"runway.dev/paths": "/a/../admin"})
    wait_for_decisions(stack, action="route_invalid")
    stack.settle()

    label, status = describe(gcloud, "typo")
    assert label == "invalid"
    assert "path '/a/../admin' has a '.' or '..' segment" in status["reason"], status
    assert len(decisions(stack, action="route_invalid", service=_path(stack, "typo"))) == 1

    update_labels(stack, "typo", {})
    wait_for_decisions(stack, action="route_unchanged", service=_path(stack, "typo"))
    stack.settle()
    assert describe(gcloud, "typo") == (None, {})


def test_route_nobody_may_invoke_is_unreachable_with_the_fix(stack: LocalStack, gcloud: Gcloud) -> None:
    since = mark(stack)
    create_service(stack, "private-api", labels={"public-route": "true"}, public=False)
    wait_for_decisions(stack, action="route_unreachable")
    stack.settle()

    label, status = describe(gcloud, "private-api")
    assert label == "unreachable"
    assert "gcloud run services add-iam-policy-binding private-api" in status["reason"]
    assert status["urls"] == ["https://*/private-api", "https://*/private-api/*"]
    count, after = writes_after_status(stack, "private-api", since)
    assert count == 1 and after == []
    assert len(decisions(stack, action="route_unreachable", service=_path(stack, "private-api"))) == 1


def _path(stack: LocalStack, name: str) -> str:
    return f"projects/{stack.project}/locations/{REGION}/services/{name}"


def _story(stack: LocalStack, name: str, since: int) -> str:
    """What happened to `name` since `since`, for a failure's message: the calls naming it and its decisions."""
    calls = [
        f"{c['seq']} {c['method']} {c['path']} {c['status']} {c['principal']}"
        for c in api_calls(stack, since)
        if c["path"].endswith(f"/services/{name}") or f"/services/{name}:" in c["path"]
    ]
    told = [
        f"{d['function']} {d['action']} {d.get('reason') or d.get('message', '')}"
        for d in decisions(stack)
        if str(d.get("service", "")).endswith(f"/services/{name}")
    ]
    return "\n".join(calls + told)
