"""Decoding audit-log CloudEvents: the two example events, their variants, and generated garbage."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cloudevents.http import CloudEvent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared import methods
from shared.event_replay import event_from_http
from shared.events import MAX_DATA_BYTES, Ignored, Invalid, ServiceEvent, decode
from shared.model import ServiceKey

EVENTS = Path(__file__).parents[1] / "testdata" / "events"
KEY = ServiceKey("example-proj", "us-central1", "hello")


def example(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text())


V1 = example("v1-replace-service")
V2 = example("v2-create-service")


def build(base: dict[str, Any], mutate: Callable[[dict[str, Any], dict[str, Any]], None] | None = None) -> Any:
    """A CloudEvent from an example, after `mutate(headers, body)` edits deep copies of both."""
    headers, body = copy.deepcopy(base["headers"]), copy.deepcopy(base["body"])
    if mutate:
        mutate(headers, body)
    return event_from_http(headers, body)


def with_data(base: dict[str, Any], data: Any) -> CloudEvent:
    """The example's attributes around arbitrary data (what from_http would never produce, e.g. a set)."""
    attributes = {k[3:]: v for k, v in base["headers"].items() if k.startswith("ce-")}
    return CloudEvent(attributes, data)


def set_method(method: str) -> Callable[[dict[str, Any], dict[str, Any]], None]:
    def mutate(headers: dict[str, Any], body: dict[str, Any]) -> None:
        headers["ce-methodname"] = method
        body["protoPayload"]["methodName"] = method

    return mutate


def set_name(name: str) -> Callable[[dict[str, Any], dict[str, Any]], None]:
    def mutate(headers: dict[str, Any], body: dict[str, Any]) -> None:
        headers["ce-resourcename"] = name
        body["protoPayload"]["resourceName"] = name

    return mutate


def chain(*mutators: Callable[[dict[str, Any], dict[str, Any]], None]) -> Callable[..., None]:
    def mutate(headers: dict[str, Any], body: dict[str, Any]) -> None:
        for mutator in mutators:
            mutator(headers, body)

    return mutate


def drop_v1_regions(*keep: str) -> Callable[[dict[str, Any], dict[str, Any]], None]:
    """Remove the v1 region sources except those named in `keep`."""

    def mutate(headers: dict[str, Any], body: dict[str, Any]) -> None:
        proto = body["protoPayload"]
        if "labels" not in keep:
            del body["resource"]["labels"]["location"]
        if "locations" not in keep:
            del proto["resourceLocation"]
        if "request.region" not in keep:
            del proto["request"]["region"]
        if "metadata" not in keep:
            del proto["request"]["service"]["metadata"]["labels"]["cloud.googleapis.com/location"]

    return mutate


def edit(fn: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any], dict[str, Any]], None]:
    def mutate(headers: dict[str, Any], body: dict[str, Any]) -> None:
        fn(body)

    return mutate


def edit_headers(fn: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any], dict[str, Any]], None]:
    def mutate(headers: dict[str, Any], body: dict[str, Any]) -> None:
        fn(headers)

    return mutate


# --- handled events ------------------------------------------------------------------------------------

HANDLED_CASES = [
    pytest.param(V1, None, KEY, methods.V1_REPLACE, "v1", "update", id="v1-replace-example"),
    pytest.param(V2, None, KEY, methods.V2_CREATE, "v2", "create", id="v2-create-example"),
    pytest.param(V1, set_method(methods.V1_CREATE), KEY, methods.V1_CREATE, "v1", "create", id="v1-create"),
    pytest.param(
        V1,
        chain(set_method(methods.V1_DELETE), edit(lambda b: b["protoPayload"].update(request={"name": "x"}))),
        KEY,
        methods.V1_DELETE,
        "v1",
        "delete",
        id="v1-delete-region-from-resource-labels",
    ),
    pytest.param(V2, set_method(methods.V2_UPDATE), KEY, methods.V2_UPDATE, "v2", "update", id="v2-update"),
    pytest.param(V2, set_method(methods.V2_DELETE), KEY, methods.V2_DELETE, "v2", "delete", id="v2-delete"),
    pytest.param(
        V1,
        chain(set_name("projects/example-proj/locations/europe-west1/services/hello"), drop_v1_regions()),
        ServiceKey("example-proj", "europe-west1", "hello"),
        methods.V1_REPLACE,
        "v1",
        "update",
        id="v1-console-projects-name",
    ),
    pytest.param(
        V1,
        drop_v1_regions("locations", "request.region", "metadata"),
        KEY,
        methods.V1_REPLACE,
        "v1",
        "update",
        id="v1-region-from-current-locations",
    ),
    pytest.param(
        V1,
        drop_v1_regions("request.region", "metadata"),
        KEY,
        methods.V1_REPLACE,
        "v1",
        "update",
        id="v1-region-from-request-region",
    ),
    pytest.param(
        V1,
        drop_v1_regions("metadata"),
        KEY,
        methods.V1_REPLACE,
        "v1",
        "update",
        id="v1-region-from-location-label",
    ),
    pytest.param(
        V1,
        edit(lambda b: b["resource"]["labels"].update(location="")),
        KEY,
        methods.V1_REPLACE,
        "v1",
        "update",
        id="v1-empty-resource-location-skipped",
    ),
    pytest.param(
        V1,
        set_name("namespaces/123456789012/services/hello"),
        KEY,
        methods.V1_REPLACE,
        "v1",
        "update",
        id="v1-project-number-resolved-to-id",
    ),
    pytest.param(
        V1,
        chain(set_name("namespaces/123456789012/services/hello"), edit(lambda b: b["resource"]["labels"].clear())),
        ServiceKey("123456789012", "us-central1", "hello"),
        methods.V1_REPLACE,
        "v1",
        "update",
        id="v1-project-number-kept",
    ),
    pytest.param(
        V2,
        set_name("projects/123456789012/locations/us-central1/services/hello"),
        KEY,
        methods.V2_CREATE,
        "v2",
        "create",
        id="v2-project-number-resolved-to-id",
    ),
    pytest.param(
        V1,
        edit_headers(lambda h: h.pop("ce-methodname")),
        KEY,
        methods.V1_REPLACE,
        "v1",
        "update",
        id="method-from-payload-only",
    ),
    pytest.param(
        V2,
        edit(lambda b: b["protoPayload"].pop("methodName")),
        KEY,
        methods.V2_CREATE,
        "v2",
        "create",
        id="method-from-attribute-only",
    ),
    pytest.param(
        V2,
        chain(
            edit(lambda b: b["protoPayload"].pop("resourceName")),
            edit(lambda b: b["protoPayload"].pop("serviceName")),
        ),
        KEY,
        methods.V2_CREATE,
        "v2",
        "create",
        id="names-from-attributes-only",
    ),
    pytest.param(
        V2,
        edit(lambda b: b["protoPayload"]["status"].update(code=0)),
        KEY,
        methods.V2_CREATE,
        "v2",
        "create",
        id="status-code-zero-is-success",
    ),
]


@pytest.mark.parametrize(("base", "mutate", "key", "method", "version", "verb"), HANDLED_CASES)
def test_handled(base, mutate, key, method, version, verb) -> None:
    decoded = decode(build(base, mutate))
    assert isinstance(decoded, ServiceEvent), decoded
    assert (decoded.key, decoded.method, decoded.api_version, decoded.verb) == (key, method, version, verb)
    assert decoded.event_id == base["headers"]["ce-id"]


def test_examples_carry_principal_and_time() -> None:
    v1 = decode(build(V1))
    v2 = decode(build(V2))
    assert isinstance(v1, ServiceEvent) and isinstance(v2, ServiceEvent)
    assert v1.principal == "dev@example.com"
    assert v2.principal == "deployer@example-proj.iam.gserviceaccount.com"
    assert v1.event_time == datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    assert v2.event_time == datetime(2026, 1, 2, 3, 4, 5, 100000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        pytest.param(None, datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC), id="timestamp"),
        pytest.param(
            edit(lambda b: b.pop("timestamp")), datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC), id="recordedtime"
        ),
        pytest.param(
            chain(edit(lambda b: b.pop("timestamp")), edit_headers(lambda h: h.pop("ce-recordedtime"))),
            datetime(2026, 1, 2, 3, 4, 5, 812345, tzinfo=UTC),
            id="time-attribute",
        ),
        pytest.param(
            chain(edit(lambda b: b.update(timestamp="yesterday")), edit_headers(lambda h: h.pop("ce-recordedtime"))),
            datetime(2026, 1, 2, 3, 4, 5, 812345, tzinfo=UTC),
            id="unparsable-timestamp-falls-back",
        ),
    ],
)
def test_event_time(mutate, expected) -> None:
    decoded = decode(build(V1, mutate))
    assert isinstance(decoded, ServiceEvent)
    assert decoded.event_time == expected


def test_missing_principal_is_none() -> None:
    decoded = decode(build(V1, edit(lambda b: b["protoPayload"].pop("authenticationInfo"))))
    assert isinstance(decoded, ServiceEvent)
    assert decoded.principal is None


def test_bytes_body_holding_json_is_decoded() -> None:
    decoded = decode(with_data(V2, json.dumps(V2["body"]).encode()))
    assert isinstance(decoded, ServiceEvent)
    assert decoded.key == KEY


# --- ignored -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "mutate", "reason_part", "key"),
    [
        pytest.param(
            V1,
            edit(lambda b: b["protoPayload"].update(status={"code": 10, "message": "Conflict for resource 'hello'"})),
            "the write failed (status.code 10",
            KEY,
            id="failed-write-code-10",
        ),
        pytest.param(
            V2,
            edit(lambda b: b["protoPayload"].update(status={"code": 3})),
            "status.code 3",
            KEY,
            id="failed-write-code-3",
        ),
        pytest.param(
            V1,
            set_method("google.cloud.run.v1.Revisions.DeleteRevision"),
            "DeleteRevision' is not one runway handles",
            None,
            id="v1-delete-revision",
        ),
        pytest.param(
            V2,
            set_method("google.cloud.run.v2.Revisions.DeleteRevision"),
            "is not one runway handles",
            None,
            id="v2-delete-revision",
        ),
        pytest.param(
            V2,
            set_method("google.cloud.run.v2.Jobs.CreateJob"),
            "CreateJob",
            None,
            id="job-method",
        ),
    ],
)
def test_ignored(base, mutate, reason_part, key) -> None:
    decoded = decode(build(base, mutate))
    assert isinstance(decoded, Ignored), decoded
    assert reason_part in decoded.reason
    assert decoded.key == key
    assert decoded.event_id == base["headers"]["ce-id"]
    assert decoded.principal == base["body"]["protoPayload"]["authenticationInfo"]["principalEmail"]


# --- invalid -------------------------------------------------------------------------------------------

INVALID_BUILT = [
    pytest.param(
        V1,
        edit_headers(lambda h: h.update({"ce-type": "google.cloud.storage.object.v1.finalized"})),
        "event type 'google.cloud.storage.object.v1.finalized' is not google.cloud.audit.log.v1.written or "
        "google.cloud.pubsub.topic.v1.messagePublished",
        id="wrong-type",
    ),
    pytest.param(
        V1,
        chain(
            edit(lambda b: b["protoPayload"].update(serviceName="compute.googleapis.com")),
            edit_headers(lambda h: h.update({"ce-servicename": "compute.googleapis.com"})),
        ),
        "serviceName 'compute.googleapis.com' is not run.googleapis.com",
        id="wrong-service-name",
    ),
    pytest.param(
        V1,
        edit_headers(lambda h: h.update({"ce-servicename": "compute.googleapis.com"})),
        "protoPayload.serviceName 'run.googleapis.com' disagrees with attribute servicename 'compute.googleapis.com'",
        id="service-name-attribute-disagrees",
    ),
    pytest.param(V1, edit(lambda b: b.pop("protoPayload")), "data has no protoPayload object", id="missing-proto"),
    pytest.param(
        V1, edit(lambda b: b.update(protoPayload="text")), "data has no protoPayload object", id="proto-not-object"
    ),
    pytest.param(
        V1,
        edit_headers(lambda h: h.update({"ce-methodname": methods.V1_CREATE})),
        "protoPayload.methodName 'google.cloud.run.v1.Services.ReplaceService' disagrees with attribute methodname",
        id="method-attribute-disagrees",
    ),
    pytest.param(
        V1,
        chain(edit(lambda b: b["protoPayload"].pop("methodName")), edit_headers(lambda h: h.pop("ce-methodname"))),
        "no methodName in protoPayload or attributes",
        id="no-method",
    ),
    pytest.param(
        V1,
        edit(lambda b: b["protoPayload"].update(methodName=7)),
        "protoPayload.methodName is not a string: 7",
        id="method-not-string",
    ),
    pytest.param(
        V1,
        edit_headers(lambda h: h.update({"ce-resourcename": "namespaces/example-proj/services/other"})),
        "protoPayload.resourceName 'namespaces/example-proj/services/hello' disagrees with attribute resourcename",
        id="resource-attribute-disagrees",
    ),
    pytest.param(
        V1,
        chain(edit(lambda b: b["protoPayload"].pop("resourceName")), edit_headers(lambda h: h.pop("ce-resourcename"))),
        "no resourceName in protoPayload or attributes",
        id="no-resource-name",
    ),
    pytest.param(
        V1,
        set_name("namespaces/example-proj/services/Hello"),
        "service id 'Hello' in resourceName 'namespaces/example-proj/services/Hello' is not valid",
        id="uppercase-service",
    ),
    pytest.param(
        V1,
        set_name("namespaces/Example-Proj/services/hello"),
        "project 'Example-Proj' in resourceName",
        id="uppercase-project",
    ),
    pytest.param(
        V1,
        set_name("namespaces/example-proj/services/" + "a" * 50),
        "service id 'aaaaaaaa",
        id="service-too-long",
    ),
    pytest.param(
        V1,
        set_name("namespaces/example-proj/services/"),
        "service id '' in resourceName 'namespaces/example-proj/services/' is not valid",
        id="empty-service",
    ),
    pytest.param(
        V1,
        set_name("namespaces/example-proj/services/../../etc/passwd"),
        "resourceName 'namespaces/example-proj/services/../../etc/passwd' is not a Cloud Run v1 service name",
        id="path-traversal",
    ),
    pytest.param(
        V1,
        set_name("namespaces/../services/hello"),
        "project '..' in resourceName",
        id="dotdot-project",
    ),
    pytest.param(
        V2,
        set_name("namespaces/example-proj/services/hello"),
        "is not a Cloud Run v2 service name (projects/P/locations/R/services/S)",
        id="v2-with-namespace-name",
    ),
    pytest.param(
        V2,
        set_name("projects/example-proj/locations/US-CENTRAL1/services/hello"),
        "region 'US-CENTRAL1' in resourceName",
        id="bad-region-in-name",
    ),
    pytest.param(
        V2,
        set_name("projects/example-proj/locations/us-central1/services/hello/revisions/r1"),
        "is not a Cloud Run v2 service name",
        id="revision-name",
    ),
    pytest.param(
        V1,
        drop_v1_regions(),
        "no region for a namespaces/ name",
        id="v1-no-region",
    ),
    pytest.param(
        V1,
        edit(lambda b: b["resource"]["labels"].update(location="global/../x")),
        "resource.labels.location 'global/../x' is not a region",
        id="v1-bad-region-label",
    ),
    pytest.param(
        V1,
        chain(drop_v1_regions("request.region"), edit(lambda b: b["protoPayload"]["request"].update(region=5))),
        "protoPayload.request.region 5 is not a region",
        id="v1-region-not-string",
    ),
    pytest.param(
        V1,
        edit(lambda b: b["protoPayload"].update(padding="x" * MAX_DATA_BYTES)),
        f"over the {MAX_DATA_BYTES}-byte limit",
        id="huge-body",
    ),
]


@pytest.mark.parametrize(("base", "mutate", "reason_part"), INVALID_BUILT)
def test_invalid(base, mutate, reason_part) -> None:
    decoded = decode(build(base, mutate))
    assert isinstance(decoded, Invalid), decoded
    assert reason_part in decoded.reason
    assert decoded.event_id == base["headers"]["ce-id"]


@pytest.mark.parametrize(
    ("data", "reason_part"),
    [
        pytest.param(None, "event has no data", id="none"),
        pytest.param(b"not json at all", "data is not JSON", id="bytes-not-json"),
        pytest.param("{truncated", "data is not JSON", id="str-not-json"),
        pytest.param(b"\xff\xfe\x00", "data is not JSON", id="bytes-not-utf8"),
        pytest.param([1, 2, 3], "data is a JSON list, not an object", id="list"),
        pytest.param(b"[1, 2, 3]", "data is a JSON list, not an object", id="bytes-list"),
        pytest.param('"a string"', "data is a JSON str, not an object", id="json-string"),
        pytest.param(42, "data is a JSON int, not an object", id="int"),
        pytest.param({}, "data has no protoPayload object", id="empty-object"),
        pytest.param(b"x" * (MAX_DATA_BYTES + 1), "over the", id="huge-bytes"),
        pytest.param({"protoPayload": {"k": {1, 2}}}, "no region", id="unserializable-value-tolerated"),
    ],
)
def test_invalid_data(data, reason_part) -> None:
    decoded = decode(with_data(V1, data))
    assert isinstance(decoded, Invalid), decoded
    assert reason_part in decoded.reason


def test_invalid_keeps_context() -> None:
    decoded = decode(build(V1, set_name("namespaces/example-proj/services/Bad")))
    assert decoded == Invalid(
        decoded.reason, event_id=V1["headers"]["ce-id"], method=methods.V1_REPLACE, principal="dev@example.com"
    )


@pytest.mark.parametrize(
    "thing", [None, 42, "text", object(), {"type": methods.EVENT_TYPE}], ids=["none", "int", "str", "object", "dict"]
)
def test_not_a_cloud_event(thing) -> None:
    decoded = decode(thing)
    assert isinstance(decoded, Invalid)


def test_long_bad_values_are_truncated_in_reasons() -> None:
    decoded = decode(build(V1, set_name("namespaces/example-proj/services/" + "X" * 5000)))
    assert isinstance(decoded, Invalid)
    assert len(decoded.reason) < 300
    assert "…" in decoded.reason


def test_event_from_http_accepts_raw_body() -> None:
    event = event_from_http(V2["headers"], json.dumps(V2["body"]).encode())
    assert event["type"] == methods.EVENT_TYPE
    assert event.data == V2["body"]


# --- generated garbage ---------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
# Values that look almost right: the handled methods, v1/v2 name shapes with random parts, regions.
name_parts = st.text(alphabet="abcXYZ019-_./%", max_size=12)
nearly_names = st.one_of(
    st.builds(lambda p, s: f"namespaces/{p}/services/{s}", name_parts, name_parts),
    st.builds(lambda p, r, s: f"projects/{p}/locations/{r}/services/{s}", name_parts, name_parts, name_parts),
    st.text(max_size=40),
)
nearly_methods = st.sampled_from([*methods.HANDLED, "google.cloud.run.v1.Services.SetIamPolicy", "", "x"])
GARBAGE = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@GARBAGE
@given(data=st.one_of(json_values, st.binary(max_size=200), st.text(max_size=200)))
def test_random_data_is_never_handled(data: Any) -> None:
    decoded = decode(with_data(V1, data))
    assert isinstance(decoded, Invalid | Ignored)


@GARBAGE
@given(
    method=nearly_methods,
    name=nearly_names,
    region=st.one_of(json_values, name_parts),
    status=json_values,
    principal=json_values,
)
def test_nearly_valid_payloads_never_raise(method: str, name: str, region: Any, status: Any, principal: Any) -> None:
    body = copy.deepcopy(V1["body"])
    proto = body["protoPayload"]
    proto.update(methodName=method, resourceName=name, status=status, authenticationInfo={"principalEmail": principal})
    body["resource"]["labels"]["location"] = region
    decoded = decode(with_data({"headers": {"ce-type": methods.EVENT_TYPE, "ce-id": "1", "ce-source": "s"}}, body))
    assert isinstance(decoded, ServiceEvent | Ignored | Invalid)
    if isinstance(decoded, ServiceEvent):
        # Anything accepted is a real Cloud Run name: it round-trips through the v2 parser's rules.
        assert decoded.key.name.count("/") == 5
        assert decoded.method in methods.HANDLED
        assert decoded.principal is None or decoded.principal == principal


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(obj, dict):
        for key, value in obj.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(obj, list):
        for index, value in enumerate(obj):
            found += _paths(value, (*prefix, index))
    return found


V1_PATHS = _paths(V1["body"])


@GARBAGE
@given(path=st.sampled_from(V1_PATHS), value=json_values, delete=st.booleans())
def test_any_mutation_of_a_real_event_never_raises(path: tuple[Any, ...], value: Any, delete: bool) -> None:
    body = copy.deepcopy(V1["body"])
    parent = body
    for step in path[:-1]:
        parent = parent[step]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    decoded = decode(with_data(V1, body))
    assert isinstance(decoded, ServiceEvent | Ignored | Invalid)


@pytest.mark.parametrize(
    ("base", "method"),
    [(V1, "google.cloud.run.v1.Services.SetIamPolicy"), (V2, "google.cloud.run.v2.Services.SetIamPolicy")],
    ids=["v1", "v2"],
)
def test_set_iam_policy_is_an_iam_event_about_the_service(base: dict, method: str) -> None:
    decoded = decode(build(base, set_method(method)))
    assert isinstance(decoded, ServiceEvent), decoded
    assert (decoded.verb, decoded.key) == ("iam", KEY)


@pytest.mark.parametrize(
    ("operation", "first", "last"),
    [
        ({"id": "op-1", "first": True}, True, False),
        ({"id": "op-1", "last": True}, False, True),
        ({"id": "op-1", "first": True, "last": True}, True, True),
        ({"id": "op-1"}, True, True),
    ],
    ids=["first", "last", "both", "neither-marker"],
)
def test_operation_markers_say_which_handler_acts(operation: dict, first: bool, last: bool) -> None:
    decoded = decode(build(V2, edit(lambda b: b.update(operation=operation))))
    assert isinstance(decoded, ServiceEvent), decoded
    assert (decoded.acted_on_by("first"), decoded.acted_on_by("last")) == (first, last)


def test_an_entry_without_operation_is_acted_on_by_every_handler() -> None:
    decoded = decode(build(V1, edit(lambda b: b.pop("operation", None))))
    assert isinstance(decoded, ServiceEvent), decoded
    assert decoded.operation is None
    assert decoded.acted_on_by("first") and decoded.acted_on_by("last")


# --- the same entries through an aggregated log sink's Pub/Sub topic --------------------------------------------


def via_pubsub(base: dict[str, Any], data: Any = None, message: dict[str, Any] | None = None) -> Any:
    """The example's LogEntry as an Eventarc Pub/Sub trigger delivers it (docs/google-apis.md §9.5)."""
    entry = base["body"]
    encoded = base64.b64encode(json.dumps(entry).encode()).decode() if data is None else data
    body = {
        "message": message
        if message is not None
        else {"data": encoded, "messageId": "17", "message_id": "17", "publishTime": "2026-01-02T03:04:06Z"},
        "subscription": "projects/runway-prod/subscriptions/eventarc-sync-routes",
    }
    headers = {
        "Content-Type": "application/json",
        "ce-specversion": "1.0",
        "ce-type": "google.cloud.pubsub.topic.v1.messagePublished",
        "ce-source": "//pubsub.googleapis.com/projects/runway-prod/topics/runway-audit",
        "ce-id": "17",
    }
    return event_from_http(headers, body)


@pytest.mark.parametrize("base", [V1, V2], ids=["v1", "v2"])
def test_a_sink_delivered_entry_decodes_like_the_direct_one(base: dict[str, Any]) -> None:
    direct, relayed = decode(build(base)), decode(via_pubsub(base))
    assert isinstance(direct, ServiceEvent) and isinstance(relayed, ServiceEvent), (direct, relayed)
    assert (relayed.key, relayed.method, relayed.verb, relayed.principal, relayed.event_time) == (
        direct.key,
        direct.method,
        direct.verb,
        direct.principal,
        direct.event_time,
    )
    assert relayed.event_id == "17"


@pytest.mark.parametrize(
    ("data", "message", "reason"),
    [
        pytest.param("!!!", None, "Pub/Sub message data is not base64", id="not-base64"),
        pytest.param(base64.b64encode(b"not json").decode(), None, "data is not JSON", id="not-json"),
        pytest.param(base64.b64encode(b"[1]").decode(), None, "data is a JSON list, not an object", id="not-object"),
        pytest.param(None, {"messageId": "17"}, "Pub/Sub message has no data", id="no-data"),
        pytest.param(
            base64.b64encode(b" " * (MAX_DATA_BYTES + 1)).decode(), None, "over the 262144-byte limit", id="too-big"
        ),
    ],
)
def test_a_broken_pubsub_message_is_invalid(data: str | None, message: dict[str, Any] | None, reason: str) -> None:
    decoded = decode(via_pubsub(V2, data, message))
    assert isinstance(decoded, Invalid), decoded
    assert reason in decoded.reason
