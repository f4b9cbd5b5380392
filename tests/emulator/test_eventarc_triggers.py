"""Eventarc v1 triggers and operations, driven by googleapiclient over HTTP."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import googleapiclient
import pytest
from google.auth.credentials import AnonymousCredentials
from googleapiclient.discovery import Resource, build
from googleapiclient.errors import HttpError

from emulator import EmulatorServer

PROJECT = "arc-proj"
AUDIT = "google.cloud.audit.log.v1.written"
REPLACE = "google.cloud.run.v1.Services.ReplaceService"
DISCOVERY = pathlib.Path(googleapiclient.__file__).parent / "discovery_cache/documents/eventarc.v1.json"


def audit_trigger(uri: str = "http://127.0.0.1:9/", method: str = REPLACE, **extra: Any) -> dict[str, Any]:
    return {
        "eventFilters": [
            {"attribute": "type", "value": AUDIT},
            {"attribute": "serviceName", "value": "run.googleapis.com"},
            {"attribute": "methodName", "value": method},
        ],
        "destination": {"httpEndpoint": {"uri": uri}},
        **extra,
    }


@pytest.fixture
def eventarc(emulator: EmulatorServer) -> Resource:
    return build(
        "eventarc",
        "v1",
        credentials=AnonymousCredentials(),
        static_discovery=True,
        client_options={"api_endpoint": emulator.url},
    )


def _triggers(eventarc: Resource) -> Any:
    return eventarc.projects().locations().triggers()


def _create(eventarc: Resource, trigger_id: str, body: dict[str, Any], location: str = "global") -> dict[str, Any]:
    parent = f"projects/{PROJECT}/locations/{location}"
    return _triggers(eventarc).create(parent=parent, triggerId=trigger_id, body=body).execute()


def _error(call: Any) -> tuple[int, str, str]:
    with pytest.raises(HttpError) as caught:
        call.execute()
    body = json.loads(caught.value.content)["error"]
    return caught.value.status_code, body["status"], body["message"]


def test_create_returns_a_done_operation_with_the_trigger(eventarc: Resource) -> None:
    body = audit_trigger(serviceAccount="runway@arc-proj.iam.gserviceaccount.com", labels={"app": "runway"})
    operation = _create(eventarc, "enforce-replace", body)
    assert operation["done"] is True
    assert operation["name"].startswith(f"projects/{PROJECT}/locations/global/operations/operation-")
    assert operation["metadata"]["@type"] == "type.googleapis.com/google.cloud.eventarc.v1.OperationMetadata"
    assert operation["metadata"]["verb"] == "create"
    trigger = dict(operation["response"])
    assert trigger.pop("@type") == "type.googleapis.com/google.cloud.eventarc.v1.Trigger"
    name = f"projects/{PROJECT}/locations/global/triggers/enforce-replace"
    assert trigger["name"] == name == operation["metadata"]["target"]
    assert trigger["eventFilters"] == body["eventFilters"]
    assert trigger["destination"] == body["destination"]
    assert trigger["serviceAccount"] == body["serviceAccount"]
    assert trigger["labels"] == {"app": "runway"}
    assert trigger["transport"]["pubsub"]["topic"].startswith(f"projects/{PROJECT}/topics/eventarc-global-")
    assert trigger["uid"] and trigger["etag"] and trigger["createTime"] == trigger["updateTime"]
    assert _triggers(eventarc).get(name=name).execute() == trigger
    operations = eventarc.projects().locations().operations()
    assert operations.get(name=operation["name"]).execute() == operation


def test_trigger_fields_exist_in_the_discovery_schema(eventarc: Resource) -> None:
    schemas = json.loads(DISCOVERY.read_text())["schemas"]

    def check(value: Any, schema_name: str) -> None:
        properties = schemas[schema_name]["properties"]
        assert set(value) <= set(properties), f"{schema_name}: {set(value) - set(properties)}"
        for key, item in value.items():
            ref = properties[key].get("$ref") or properties[key].get("items", {}).get("$ref")
            if ref and ref in schemas and "properties" in schemas[ref]:
                for element in item if isinstance(item, list) else [item]:
                    check(element, ref)

    body = audit_trigger(serviceAccount="sa@arc-proj.iam.gserviceaccount.com", labels={"a": "b"})
    operation = _create(eventarc, "schema-check", body)
    check({k: v for k, v in operation.items() if k not in ("response",)}, "GoogleLongrunningOperation")
    check({k: v for k, v in operation["metadata"].items() if k != "@type"}, "OperationMetadata")
    check({k: v for k, v in operation["response"].items() if k != "@type"}, "Trigger")


def test_duplicate_is_409_and_missing_is_404(eventarc: Resource) -> None:
    _create(eventarc, "dup", audit_trigger())
    status = _error(
        _triggers(eventarc).create(parent=f"projects/{PROJECT}/locations/global", triggerId="dup", body=audit_trigger())
    )
    assert status == (
        409,
        "ALREADY_EXISTS",
        f"Resource 'projects/{PROJECT}/locations/global/triggers/dup' already exists",
    )
    missing = f"projects/{PROJECT}/locations/global/triggers/nope"
    assert _error(_triggers(eventarc).get(name=missing)) == (404, "NOT_FOUND", f"Resource '{missing}' was not found")
    assert _error(_triggers(eventarc).delete(name=missing)) == (404, "NOT_FOUND", f"Resource '{missing}' was not found")
    assert _triggers(eventarc).delete(name=missing, allowMissing=True).execute()["done"] is True


def test_list_pages_and_delete(eventarc: Resource) -> None:
    for index in range(5):
        _create(eventarc, f"t-{index}", audit_trigger())
    _create(eventarc, "regional", audit_trigger(), location="us-central1")
    names: list[str] = []
    request = _triggers(eventarc).list(parent=f"projects/{PROJECT}/locations/global", pageSize=2)
    pages = 0
    while request is not None:
        response = request.execute()
        names += [t["name"].rsplit("/", 1)[1] for t in response.get("triggers", [])]
        assert response.get("nextPageToken", "x") != ""
        request = _triggers(eventarc).list_next(request, response)
        pages += 1
    assert names == ["t-0", "t-1", "t-2", "t-3", "t-4"] and pages == 3
    everywhere = _triggers(eventarc).list(parent=f"projects/{PROJECT}/locations/-").execute()
    assert len(everywhere["triggers"]) == 6
    newest = _triggers(eventarc).list(parent=f"projects/{PROJECT}/locations/global", orderBy="name desc").execute()
    assert newest["triggers"][0]["name"].endswith("/t-4")

    name = f"projects/{PROJECT}/locations/global/triggers/t-0"
    stale = _error(_triggers(eventarc).delete(name=name, etag="not-the-etag"))
    assert stale == (
        409,
        "ABORTED",
        f"The etag 'not-the-etag' of trigger '{name}' does not match its current etag",
    )
    etag = _triggers(eventarc).get(name=name).execute()["etag"]
    operation = _triggers(eventarc).delete(name=name, etag=etag).execute()
    assert operation["done"] is True and operation["metadata"]["verb"] == "delete"
    assert operation["response"]["name"] == name
    assert _error(_triggers(eventarc).get(name=name)) == (404, "NOT_FOUND", f"Resource '{name}' was not found")


def test_validate_only_stores_nothing(eventarc: Resource) -> None:
    parent = f"projects/{PROJECT}/locations/global"
    operation = (
        _triggers(eventarc).create(parent=parent, triggerId="dry", validateOnly=True, body=audit_trigger()).execute()
    )
    assert operation["response"]["name"].endswith("/triggers/dry")
    assert _triggers(eventarc).list(parent=parent).execute() == {}


def _filters(*pairs: tuple[str, str] | tuple[str, str, str]) -> list[dict[str, str]]:
    return [dict(zip(("attribute", "value", "operator"), pair, strict=False)) for pair in pairs]


TYPE = ("type", AUDIT)
SERVICE = ("serviceName", "run.googleapis.com")
METHOD = ("methodName", REPLACE)


@pytest.mark.parametrize(
    ("trigger_id", "body", "message"),
    [
        pytest.param(
            "t", {"destination": {"httpEndpoint": {"uri": "http://x/"}}}, "at least one event filter", id="no-filters"
        ),
        pytest.param(
            "t", audit_trigger() | {"eventFilters": _filters(SERVICE, METHOD)}, "'type' attribute", id="no-type"
        ),
        pytest.param(
            "t",
            audit_trigger() | {"eventFilters": _filters(TYPE, SERVICE)},
            "must filter on 'methodName'",
            id="audit-without-method",
        ),
        pytest.param(
            "t",
            audit_trigger() | {"eventFilters": _filters(TYPE, METHOD)},
            "must filter on 'serviceName'",
            id="audit-without-service",
        ),
        pytest.param(
            "t",
            audit_trigger() | {"eventFilters": _filters(TYPE, SERVICE, METHOD, ("subject", "x"))},
            "'subject' is not supported",
            id="audit-unknown-attribute",
        ),
        pytest.param(
            "t",
            audit_trigger() | {"eventFilters": _filters(TYPE, SERVICE, METHOD, METHOD)},
            "appears more than once",
            id="repeated-attribute",
        ),
        pytest.param(
            "t",
            audit_trigger() | {"eventFilters": _filters(TYPE, SERVICE, ("methodName", "*", "match-path-pattern"))},
            "only resourceName takes a path pattern",
            id="pattern-on-method",
        ),
        pytest.param(
            "t",
            audit_trigger() | {"eventFilters": _filters(TYPE, SERVICE, METHOD, ("resourceName", "x", "path_pattern"))},
            "Invalid operator 'path_pattern'",
            id="gcf-v1-operator",
        ),
        pytest.param(
            "t",
            audit_trigger()
            | {"eventFilters": _filters(TYPE, SERVICE, METHOD, ("resourceName", "/a/b**", "match-path-pattern"))},
            "Invalid path pattern",
            id="bad-path-pattern",
        ),
        pytest.param(
            "t",
            audit_trigger() | {"eventFilters": _filters(TYPE, SERVICE, ("methodName", ""))},
            "value is required",
            id="empty-value",
        ),
        pytest.param(
            "t", {"eventFilters": audit_trigger()["eventFilters"]}, "destination is required", id="no-destination"
        ),
        pytest.param("t", audit_trigger("ftp://x/"), "is not an http(s) URI", id="bad-uri"),
        pytest.param(
            "t",
            audit_trigger() | {"destination": {"cloudRun": {"service": "s"}}},
            "service and region",
            id="cloud-run-without-region",
        ),
        pytest.param(
            "t", audit_trigger(retryPolicy={"maxAttempts": 5}), "the only valid value is 1", id="retry-policy"
        ),
        pytest.param("Bad_Id", audit_trigger(), "Invalid triggerId 'Bad_Id'", id="trigger-id"),
    ],
)
def test_invalid_trigger_is_refused(eventarc: Resource, trigger_id: str, body: dict[str, Any], message: str) -> None:
    code, status, text = _error(
        _triggers(eventarc).create(parent=f"projects/{PROJECT}/locations/global", triggerId=trigger_id, body=body)
    )
    assert (code, status) == (400, "INVALID_ARGUMENT")
    assert message in text
    assert _triggers(eventarc).list(parent=f"projects/{PROJECT}/locations/global").execute() == {}


def test_other_destinations_and_event_types_are_stored(eventarc: Resource) -> None:
    run = audit_trigger() | {"destination": {"cloudRun": {"service": "fn", "region": "us-central1", "path": "/e"}}}
    assert _create(eventarc, "to-run", run)["response"]["destination"] == run["destination"]
    function = audit_trigger() | {
        "destination": {"cloudFunction": f"projects/{PROJECT}/locations/us-central1/functions/f"}
    }
    assert _create(eventarc, "to-function", function)["done"] is True
    pubsub = {
        "eventFilters": _filters(("type", "google.cloud.pubsub.topic.v1.messagePublished")),
        "destination": {"httpEndpoint": {"uri": "http://127.0.0.1:9/"}},
    }
    assert _create(eventarc, "pubsub", pubsub)["done"] is True
