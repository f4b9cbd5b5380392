"""The emulator against Google's own description of the APIs: the discovery documents bundled with
google-api-python-client.

Two checks, per API:
- every route the Flask app serves is a method of the discovery document, with that HTTP verb;
- every field of every JSON answer to a realistic sequence of real-client calls is in the schema of that method's
  response (recursively; `@type`-tagged `Any` values are checked against the schema their type names), with the
  JSON type and enum value the schema allows.

The sequences run through a recording proxy in front of the emulator, so what is checked is exactly what the
client libraries received. Error bodies are out of scope (google.rpc.Status / Compute error envelopes).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import googleapiclient.discovery_cache
import pytest
import requests
from flask import Flask
from google.auth.credentials import AnonymousCredentials
from google.cloud import compute_v1, run_v2
from google.cloud.audit import audit_log_pb2  # registers google.cloud.audit.AuditLog, the audit entries' payload
from google.protobuf import json_format, message, symbol_database
from googleapiclient import discovery
from werkzeug.routing import Map
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from emulator import Emulator, EmulatorServer
from emulator.app import CONTROL_PREFIX, create_app
from shared import clients

PROJECT = "runway-demo"
REGION = "us-central1"
IMAGE = "us-docker.pkg.dev/cloudrun/container/hello"
COMPUTE = "https://www.googleapis.com/compute/v1/"

DOCUMENTS = Path(googleapiclient.discovery_cache.__file__).parent / "documents"
# Blueprint name -> the discovery documents its routes must come from.
API_DOCUMENTS: dict[str, tuple[str, ...]] = {
    "run": ("run.v1", "run.v2"),
    "compute": ("compute.v1",),
    "logging": ("logging.v2",),
    "eventarc": ("eventarc.v1",),
    "resourcemanager": ("cloudresourcemanager.v1", "cloudresourcemanager.v2", "cloudresourcemanager.v3"),
    # iam.googleapis.com, and the IAM methods of Cloud Run services, whose policies the IAM API keeps.
    "iam": ("iam.v1", "run.v1", "run.v2"),
    "serviceusage": ("serviceusage.v1",),
    "pubsub": ("pubsub.v1",),
}
# Proto packages whose messages a document describes, to check `Any` values by their `@type`.
DOCUMENT_PACKAGES: dict[str, str] = {
    "run.v1": "google.cloud.run.v1",
    "run.v2": "google.cloud.run.v2",
    "eventarc.v1": "google.cloud.eventarc.v1",
    "logging.v2": "google.logging.v2",
    "cloudresourcemanager.v3": "google.cloud.resourcemanager.v3",
    "serviceusage.v1": "google.api.serviceusage.v1",
}


# ---------------------------------------------------------------------------------------------- discovery documents


@cache
def document(name: str) -> dict[str, Any]:
    return json.loads((DOCUMENTS / f"{name}.json").read_text())


def _segment_regex(segment: str) -> str:
    """A discovery path segment (`{operationsId}:wait`, `urlMaps`) as a regex over one URL segment."""
    parts = re.split(r"(\{\+?[^}]+\})", segment)
    return "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts if p)


@dataclass(frozen=True)
class Segment:
    """One segment of a path template: a literal, a pattern over one URL segment, or a multi-segment variable."""

    regex: str
    literal: str | None  # the text, when the segment has no variable
    multi: bool = False  # `{+name}` alone, or Flask's `path` converter: one or more whole segments


@dataclass(frozen=True)
class DiscoveryMethod:
    document: str
    id: str
    http_method: str
    template: str  # "/" + servicePath + flatPath (or path)
    response: str | None  # the $ref of the response schema

    @property
    def segments(self) -> tuple[Segment, ...]:
        out = []
        for seg in self.template.strip("/").split("/"):
            if re.fullmatch(r"\{\+[^}]+\}", seg):
                out.append(Segment(".+", None, multi=True))
            elif "{" in seg:
                out.append(Segment(_segment_regex(seg), None))
            else:
                out.append(Segment(re.escape(seg), seg))
        return tuple(out)

    def matches_path(self, path: str) -> bool:
        return re.fullmatch(_template_regex(self.template), path) is not None

    def specificity(self) -> int:
        """Literal characters in the template: of two templates matching one path, the more literal one wins."""
        return len(re.sub(r"\{[^}]*\}", "", self.template))


@cache
def _template_regex(template: str) -> str:
    parts = re.split(r"(\{\+?[^}]+\})", template)
    return "".join((".+" if p.startswith("{+") else "[^/]+") if p.startswith("{") else re.escape(p) for p in parts if p)


@cache
def methods(name: str) -> tuple[DiscoveryMethod, ...]:
    doc = document(name)
    found: list[DiscoveryMethod] = []

    def walk(resources: dict[str, Any]) -> None:
        for resource in resources.values():
            for method in resource.get("methods", {}).values():
                path = method.get("flatPath") or method["path"]
                found.append(
                    DiscoveryMethod(
                        document=name,
                        id=method["id"],
                        http_method=method["httpMethod"],
                        template="/" + doc["servicePath"] + path,
                        response=(method.get("response") or {}).get("$ref"),
                    )
                )
            walk(resource.get("resources", {}))

    walk(doc.get("resources", {}))
    return tuple(found)


def find_method(documents: tuple[str, ...], http_method: str, path: str) -> DiscoveryMethod | None:
    """The discovery method a concrete request is a call of (the most literal template wins)."""
    candidates = [
        m for name in documents for m in methods(name) if m.http_method == http_method and m.matches_path(path)
    ]
    return max(candidates, key=DiscoveryMethod.specificity, default=None)


# ---------------------------------------------------------------------------------------------- the served routes


@dataclass(frozen=True)
class Route:
    api: str  # the blueprint that serves it
    http_method: str
    rule: str  # Flask rule text, `<converter:name>` variables
    segments: tuple[Segment, ...]


def _route_segments(rule: str, url_map: Map) -> tuple[Segment, ...]:
    out = []
    for seg in rule.strip("/").split("/"):
        variables = list(re.finditer(r"<(?:(\w+):)?(\w+)>", seg))
        if not variables:
            out.append(Segment(re.escape(seg), seg))
            continue
        if len(variables) == 1 and variables[0].group(1) == "path":
            out.append(Segment(".+", None, multi=True))
            continue
        regex, pos = "", 0
        for var in variables:
            converter = url_map.converters[var.group(1) or "default"]
            regex += re.escape(seg[pos : var.start()]) + f"(?:{converter.regex})"
            pos = var.end()
        out.append(Segment(regex + re.escape(seg[pos:]), None))
    return tuple(out)


def _compatible(route: Segment, disc: Segment) -> bool:
    if route.literal is not None:
        return re.fullmatch(disc.regex, route.literal) is not None
    if disc.literal is not None:
        return re.fullmatch(route.regex, disc.literal) is not None
    # Both are variables over one segment: each accepts some non-empty text the other does (no converter here
    # restricts its segment beyond a prefix such as Eventarc's `operation-`, which discovery ids allow).
    return True


def unify(route: tuple[Segment, ...], disc: tuple[Segment, ...]) -> bool:
    """Whether some concrete path matches both the Flask rule and the discovery template."""
    if not route or not disc:
        return not route and not disc
    if route[0].multi:
        return any(unify(route[1:], disc[n:]) for n in range(1, len(disc) + 1))
    if disc[0].multi:
        return any(unify(route[n:], disc[1:]) for n in range(1, len(route) + 1))
    return _compatible(route[0], disc[0]) and unify(route[1:], disc[1:])


@contextmanager
def _app() -> Iterator[Flask]:
    """The emulator's Flask app, unserved (no port), for routing questions."""
    emu = Emulator()
    try:
        yield create_app(emu)
    finally:
        emu.close()


@cache
def served_routes() -> tuple[Route, ...]:
    """Every rule of the app's route tables, but the catch-alls that only refuse (`Route.served=False`)."""
    with _app() as app:
        url_map = app.url_map
        routes: list[Route] = []
        for rule in url_map.iter_rules():
            if rule.rule.startswith(CONTROL_PREFIX + "/"):
                continue
            api, _, endpoint = rule.endpoint.rpartition(".")
            if endpoint.startswith("unserved_"):
                continue
            for verb in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                routes.append(Route(api or "(no blueprint)", verb, rule.rule, _route_segments(rule.rule, url_map)))
        return tuple(routes)


def test_every_route_belongs_to_an_emulated_api() -> None:
    strays = sorted({f"{r.http_method} {r.rule}" for r in served_routes() if r.api not in API_DOCUMENTS})
    assert not strays, f"routes outside {CONTROL_PREFIX}/ and the API blueprints: {strays}"


def unmatched(routes: list[Route], documents: tuple[str, ...]) -> list[str]:
    """The routes no discovery method of `documents` has, with that verb."""
    return [
        f"{r.http_method} {r.rule}"
        for r in routes
        if not any(
            m.http_method == r.http_method and unify(r.segments, m.segments)
            for name in documents
            for m in methods(name)
        )
    ]


@pytest.mark.parametrize("api", sorted(API_DOCUMENTS))
def test_served_routes_exist_in_discovery(api: str) -> None:
    routes = [r for r in served_routes() if r.api == api]
    assert routes, f"no routes served for {api}"
    missing = unmatched(routes, API_DOCUMENTS[api])
    assert not missing, f"{api}: served routes with no method in {API_DOCUMENTS[api]}:\n" + "\n".join(missing)


def test_route_check_reports_what_discovery_lacks() -> None:
    """The matcher itself: a wrong verb, a wrong literal or an extra segment is not covered by a variable."""
    with _app() as app:

        def route(verb: str, rule: str) -> Route:
            return Route("run", verb, rule, _route_segments(rule, app.url_map))

        candidates = [
            route("PUT", "/v2/projects/<project>/locations/<location>/services/<service>"),  # v2 updates are PATCH
            route("GET", "/v2/projects/<project>/locations/<location>/service/<service>"),
            route("GET", "/v2/projects/<project>/locations/<location>/services/<service>/revisions/<r>/x"),
            route("GET", "/static/<path:filename>"),
            route("POST", "/v2/projects/<project>/locations/<location>/operations/<op_id>"),  # `:wait` unifies
            route("GET", "/apis/serving.knative.dev/v1/namespaces/<namespace>/services/<name>"),
        ]
    assert unmatched(candidates, API_DOCUMENTS["run"]) == [
        "PUT /v2/projects/<project>/locations/<location>/services/<service>",
        "GET /v2/projects/<project>/locations/<location>/service/<service>",
        "GET /v2/projects/<project>/locations/<location>/services/<service>/revisions/<r>/x",
        "GET /static/<path:filename>",
    ]


def test_compute_serves_only_its_table() -> None:
    """What makes leaving the catch-all rules out of the discovery check honest: they refuse every other collection
    and verb, and a served method of one collection is not served on another."""
    with _app() as app:
        client = app.test_client()
        base = f"/compute/v1/projects/{PROJECT}"
        assert client.get(f"{base}/global/forwardingRules").status_code == 404
        assert client.get(f"{base}/regions/{REGION}/backendServices").status_code == 404
        assert client.post(f"{base}/global/securityPolicies/p/addRule", json={}).status_code == 501
        assert client.patch(f"{base}/regions/{REGION}/networkEndpointGroups/n", json={}).status_code == 501


# ---------------------------------------------------------------------------------------------- response schemas


def _type_schema(doc_name: str, type_url: str) -> dict[str, Any] | None:
    """The schema an `Any` value's `@type` names, when this document describes that message."""
    full = type_url.rsplit("/", 1)[-1]
    package, _, short = full.rpartition(".")
    schemas = document(doc_name)["schemas"]
    if package == DOCUMENT_PACKAGES.get(doc_name):
        for candidate in ("".join(p[:1].upper() + p[1:] for p in full.split(".")), short):
            if candidate in schemas:
                return dict(schemas[candidate])
    return None


def _proto_message(type_url: str) -> type[message.Message] | None:
    """The installed protobuf class of an `Any` no discovery document describes (AuditLog, Empty)."""
    try:
        found: type[message.Message] = symbol_database.Default().GetSymbol(type_url.rsplit("/", 1)[-1])
    except KeyError:
        return None
    return found


assert _proto_message(f"type.googleapis.com/{audit_log_pb2.AuditLog.DESCRIPTOR.full_name}") is not None


def check_value(doc_name: str, value: Any, schema: dict[str, Any], where: str, problems: list[str]) -> None:
    """Append to `problems` every field of `value` the schema lacks, and every wrong JSON type or enum value."""
    schemas = document(doc_name)["schemas"]
    while "$ref" in schema:
        schema = schemas[schema["$ref"]]
    kind = schema.get("type")
    if kind == "any":
        return
    if kind == "object" or "properties" in schema:
        if not isinstance(value, dict):
            problems.append(f"{where}: expected an object, got {type(value).__name__}")
            return
        properties: dict[str, Any] = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        if not properties and isinstance(value.get("@type"), str):
            typed = _type_schema(doc_name, value["@type"])
            content = {k: v for k, v in value.items() if k != "@type"}
            if typed is not None:  # an Any of a message this document describes: check it as that message
                check_value(doc_name, content, typed, where, problems)
                return
            proto = _proto_message(value["@type"])
            if proto is None:  # nothing to check it against: a type we cannot vouch for is a finding, not a pass
                problems.append(f"{where}: @type {value['@type']} is neither in the discovery document nor installed")
                return
            try:  # a protobuf message installed here: its strict JSON parser is the check
                json_format.ParseDict(content, proto())
            except json_format.ParseError as exc:
                problems.append(f"{where}: {exc}".splitlines()[0])
            return
        for key, item in value.items():
            if key in properties:
                check_value(doc_name, item, properties[key], f"{where}.{key}", problems)
            elif extra is not None:
                check_value(doc_name, item, extra, f"{where}[{key!r}]", problems)
            elif properties:
                problems.append(f"{where}.{key}: not in the schema")
        return
    if kind == "array":
        if not isinstance(value, list):
            problems.append(f"{where}: expected an array, got {type(value).__name__}")
            return
        for index, item in enumerate(value):
            check_value(doc_name, item, schema.get("items", {}), f"{where}[{index}]", problems)
        return
    expected: tuple[type, ...] = {
        "string": (str,),
        "boolean": (bool,),
        "integer": (int,),
        "number": (int, float),
    }.get(str(kind), (object,))
    if (isinstance(value, bool) and bool not in expected) or not isinstance(value, expected):
        problems.append(f"{where}: expected {kind} ({schema.get('format', '')}), got {value!r}")
        return
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{where}: {value!r} is not one of the enum values")


def test_schema_check_reports_unknown_fields_types_and_enums() -> None:
    """The checker itself: a conforming answer passes, and each kind of deviation is named by its path."""
    service = {
        "name": "projects/p/locations/r/services/s",
        "generation": "2",
        "labels": {"team": "web"},
        "terminalCondition": {"type": "Ready", "state": "CONDITION_SUCCEEDED"},
        "template": {"containers": [{"image": "i", "env": [{"name": "A", "value": "b"}]}]},
    }
    clean: list[str] = []
    check_value("run.v2", service, {"$ref": "GoogleCloudRunV2Service"}, "Service", clean)
    assert clean == []

    bad = {
        **service,
        "generation": 2,
        "terminalCondition": {"type": "Ready", "state": "READY"},
        "template": {"containers": [{"image": "i", "foo": 1}]},
        "bar": True,
    }
    operation = {
        "name": "o",
        "done": True,
        "response": {"@type": "type.googleapis.com/google.cloud.run.v2.Service", **bad},
    }
    problems: list[str] = []
    check_value("run.v2", operation, {"$ref": "GoogleLongrunningOperation"}, "Operation", problems)
    assert problems == [
        "Operation.response.generation: expected string (int64), got 2",
        "Operation.response.terminalCondition.state: 'READY' is not one of the enum values",
        "Operation.response.template.containers[0].foo: not in the schema",
        "Operation.response.bar: not in the schema",
    ]

    entry = {
        "logName": "projects/p/logs/x",
        "protoPayload": {"@type": "type.googleapis.com/google.cloud.audit.AuditLog", "methodName": "m", "bogus": 1},
    }
    problems = []
    check_value("logging.v2", entry, {"$ref": "LogEntry"}, "LogEntry", problems)
    assert len(problems) == 1 and problems[0].startswith("LogEntry.protoPayload: Message type ")
    assert '"google.cloud.audit.AuditLog" has no field named "bogus"' in problems[0]


@dataclass
class Exchange:
    method: str
    path: str
    status: int
    body: Any


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # the recorder's own list is the record


class Recorder:
    """A transparent HTTP proxy in front of the emulator that keeps every JSON answer the clients got."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()
        self._session = requests.Session()
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1", 0, self._app, threaded=True, request_handler=_QuietHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        # Hop-by-hop and framing headers are the proxy's own; the rest (User-Agent, Content-Type...) pass through.
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() not in ("host", "content-length", "accept-encoding", "connection", "transfer-encoding")
        }
        upstream = self._session.request(
            request.method,
            self.upstream + request.path,
            params=request.query_string.decode(),
            data=request.get_data(),
            headers=headers,
            timeout=120,
        )
        try:
            body: Any = upstream.json()
        except ValueError:
            body = None
        with self._lock:
            self.exchanges.append(Exchange(request.method, request.path, upstream.status_code, body))
        response = Response(
            upstream.content,
            status=upstream.status_code,
            content_type=upstream.headers.get("Content-Type", "application/json"),
        )
        return response(environ, start_response)

    def __enter__(self) -> Recorder:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._session.close()
        self._thread.join(timeout=5)


def conformance_problems(api: str, exchanges: list[Exchange]) -> list[str]:
    problems: list[str] = []
    for ex in exchanges:
        if ex.status >= 400:
            continue  # error envelopes are out of scope
        method = find_method(API_DOCUMENTS[api], ex.method, ex.path)
        if method is None:
            problems.append(f"{ex.method} {ex.path}: no discovery method")
            continue
        if method.response is None:
            continue
        if not isinstance(ex.body, dict):
            problems.append(f"{ex.method} {ex.path} ({method.id}): the answer is not a JSON object")
            continue
        found: list[str] = []
        check_value(method.document, ex.body, {"$ref": method.response}, method.response, found)
        problems.extend(f"{p}   [{ex.method} {ex.path}, {method.id}]" for p in found)
    return problems


def _set_operation_delay(emulator: EmulatorServer, seconds: float) -> None:
    # Operations that are still running when read show the in-progress shape (no `done`, `reconciling`...).
    requests.post(f"{emulator.url}/_emulator/faults", json={"operationDelay": seconds}, timeout=5).raise_for_status()


def _build(api: str, version: str, endpoint: str) -> Any:
    return discovery.build(
        api,
        version,
        credentials=AnonymousCredentials(),
        static_discovery=True,
        client_options={"api_endpoint": endpoint},
        cache_discovery=False,
    )


# ---------------------------------------------------------------------------------------------- per-API sequences


def drive_run(emulator: EmulatorServer, endpoint: str) -> None:
    _set_operation_delay(emulator, 0.2)
    v2 = run_v2.ServicesClient(**clients.client_kwargs(endpoint))
    parent = f"projects/{PROJECT}/locations/{REGION}"
    service = run_v2.Service(
        labels={"team": "web"},
        annotations={"runway.dev/owner": "web"},
        ingress=run_v2.IngressTraffic.INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER,
        template=run_v2.RevisionTemplate(
            containers=[run_v2.Container(image=IMAGE, env=[run_v2.EnvVar(name="MODE", value="test")])],
            scaling=run_v2.RevisionScaling(min_instance_count=0, max_instance_count=3),
        ),
        traffic=[
            run_v2.TrafficTarget(
                type_=run_v2.TrafficTargetAllocationType.TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST, percent=100, tag="cur"
            )
        ],
    )
    operation = v2.create_service(parent=parent, service=service, service_id="hello")
    v2.get_service(name=f"{parent}/services/hello")  # while it reconciles
    created = operation.result(timeout=10)
    created.labels["tier"] = "gold"
    v2.update_service(service=created).result(timeout=10)
    list(v2.list_services(parent=parent))
    ops = v2.list_operations({"name": parent})
    first = ops.operations[0].name
    v2.get_operation({"name": first})
    v2.wait_operation({"name": first, "timeout": {"seconds": 1}})

    v1 = _build("run", "v1", endpoint)
    services = v1.namespaces().services()
    body = {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {
            "name": "knative",
            "namespace": PROJECT,
            "labels": {"cloud.googleapis.com/location": REGION, "team": "api"},
            "annotations": {"run.googleapis.com/ingress": "all", "run.googleapis.com/client-name": "gcloud"},
        },
        "spec": {
            "template": {
                "metadata": {"annotations": {"autoscaling.knative.dev/maxScale": "5"}},
                "spec": {"containerConcurrency": 40, "timeoutSeconds": 60, "containers": [{"image": IMAGE}]},
            }
        },
    }
    created_v1 = services.create(parent=f"namespaces/{PROJECT}", body=body).execute()
    op_id = created_v1["metadata"]["annotations"]["run.googleapis.com/operation-id"]
    v1_ops = v1.projects().locations().operations()
    v1_ops.wait(name=f"{parent}/operations/{op_id}", body={"timeout": "5s"}).execute()
    v1_ops.get(name=f"{parent}/operations/{op_id}").execute()
    v1_ops.list(name=parent).execute()
    current = services.get(name=f"namespaces/{PROJECT}/services/knative").execute()
    current["metadata"]["labels"]["public-route"] = "true"
    services.replaceService(name=f"namespaces/{PROJECT}/services/knative", body=current).execute()
    services.list(parent=f"namespaces/{PROJECT}").execute()
    located = v1.projects().locations().services()
    located.list(parent=f"projects/{PROJECT}/locations/{REGION}").execute()
    located.get(name=f"{parent}/services/hello").execute()
    _read_v1_revisions_and_permissions(v1, parent)

    services.delete(name=f"namespaces/{PROJECT}/services/knative").execute()
    v2.delete_service(name=f"{parent}/services/hello").result(timeout=10)
    v2.transport.close()


def _read_v1_revisions_and_permissions(v1: Any, parent: str) -> None:
    revisions = v1.namespaces().revisions()
    listed = revisions.list(parent=f"namespaces/{PROJECT}").execute()
    revisions.get(name=f"namespaces/{PROJECT}/revisions/{listed['items'][0]['metadata']['name']}").execute()
    v1.projects().locations().services().testIamPermissions(
        resource=f"{parent}/services/hello", body={"permissions": ["run.services.setIamPolicy"]}
    ).execute()


def drive_compute(emulator: EmulatorServer, endpoint: str) -> None:
    c = clients.compute(endpoint)
    buckets = clients.compute_client(compute_v1.BackendBucketsClient, endpoint)
    _set_operation_delay(emulator, 0.2)  # a RUNNING regional operation, then waited for (no client polling)
    neg_op = c.negs.insert(
        project=PROJECT,
        region=REGION,
        network_endpoint_group_resource=compute_v1.NetworkEndpointGroup(
            name="neg-hello",
            network_endpoint_type="SERVERLESS",
            cloud_run=compute_v1.NetworkEndpointGroupCloudRun(service="hello"),
        ),
    )
    c.region_operations.get(project=PROJECT, region=REGION, operation=neg_op.name)
    c.region_operations.wait(project=PROJECT, region=REGION, operation=neg_op.name)
    _set_operation_delay(emulator, 0)
    c.security_policies.insert(
        project=PROJECT, security_policy_resource=compute_v1.SecurityPolicy(name="edge", description="edge policy")
    ).result(timeout=10)
    c.backend_services.insert(
        project=PROJECT,
        backend_service_resource=compute_v1.BackendService(
            name="bs-hello",
            load_balancing_scheme="EXTERNAL_MANAGED",
            protocol="HTTPS",
            backends=[
                compute_v1.Backend(
                    group=f"{COMPUTE}projects/{PROJECT}/regions/{REGION}/networkEndpointGroups/neg-hello"
                )
            ],
        ),
    ).result(timeout=10)
    c.backend_services.set_security_policy(
        project=PROJECT,
        backend_service="bs-hello",
        security_policy_reference_resource=compute_v1.SecurityPolicyReference(
            security_policy=f"{COMPUTE}projects/{PROJECT}/global/securityPolicies/edge"
        ),
    ).result(timeout=10)
    buckets.insert(
        project=PROJECT,
        backend_bucket_resource=compute_v1.BackendBucket(name="default-404", bucket_name=f"{PROJECT}-default"),
    ).result(timeout=10)
    backend_service = f"projects/{PROJECT}/global/backendServices/bs-hello"
    url_map = compute_v1.UrlMap(
        name="lb",
        default_service=f"projects/{PROJECT}/global/backendBuckets/default-404",
        host_rules=[compute_v1.HostRule(hosts=["shop.example.com"], path_matcher="shop")],
        path_matchers=[
            compute_v1.PathMatcher(
                name="shop",
                default_service=backend_service,
                path_rules=[compute_v1.PathRule(paths=["/api/*"], service=backend_service)],
            )
        ],
        tests=[compute_v1.UrlMapTest(host="shop.example.com", path="/api/x", service=backend_service)],
    )
    _set_operation_delay(emulator, 0.2)
    operation = c.url_maps.insert(project=PROJECT, url_map_resource=url_map)
    c.global_operations.get(project=PROJECT, operation=operation.name)  # still running
    c.global_operations.wait(project=PROJECT, operation=operation.name)
    _set_operation_delay(emulator, 0)
    c.url_maps.validate(
        project=PROJECT,
        url_map="lb",
        url_maps_validate_request_resource=compute_v1.UrlMapsValidateRequest(resource=url_map),
    )
    current = c.url_maps.get(project=PROJECT, url_map="lb")
    c.url_maps.patch(
        project=PROJECT,
        url_map="lb",
        url_map_resource=compute_v1.UrlMap(fingerprint=current.fingerprint, description="shared"),
    ).result(timeout=10)
    c.backend_services.get(project=PROJECT, backend_service="bs-hello")
    c.negs.get(project=PROJECT, region=REGION, network_endpoint_group="neg-hello")
    c.security_policies.get(project=PROJECT, security_policy="edge")
    buckets.get(project=PROJECT, backend_bucket="default-404")
    _list_compute(c, buckets, endpoint)
    global_op = c.url_maps.delete(project=PROJECT, url_map="lb")
    c.global_operations.wait(project=PROJECT, operation=global_op.name)
    c.global_operations.delete(project=PROJECT, operation=global_op.name)
    buckets.transport.close()


def _list_compute(c: clients.ComputeClients, buckets: compute_v1.BackendBucketsClient, endpoint: str) -> None:
    for pager in (
        c.url_maps.list(project=PROJECT),
        c.backend_services.list(project=PROJECT),
        c.negs.list(project=PROJECT, region=REGION),
        c.security_policies.list(project=PROJECT),
        buckets.list(project=PROJECT),
        c.global_operations.list(request={"project": PROJECT, "max_results": 2}),  # more than one page: nextPageToken
        c.region_operations.list(project=PROJECT, region=REGION),
    ):
        list(pager)
    # Aggregated lists (gcloud's `compute ... list` without a scope), one scope empty: its `warning`.
    negs = clients.compute_client(compute_v1.NetworkEndpointGroupsClient, endpoint)
    for aggregated in (
        c.url_maps.aggregated_list(project=PROJECT),
        c.backend_services.aggregated_list(project=PROJECT),
        negs.aggregated_list(project=PROJECT),
        c.security_policies.aggregated_list(project=PROJECT),
        buckets.aggregated_list(project=PROJECT),
        c.global_operations.aggregated_list(project=PROJECT),
    ):
        list(aggregated)
    negs.transport.close()


def drive_logging(emulator: EmulatorServer, endpoint: str) -> None:
    # An audit entry, written by a Cloud Run write made directly (only Logging goes through the recorder).
    requests.post(
        f"{emulator.url}/v2/projects/{PROJECT}/locations/{REGION}/services",
        params={"serviceId": "hello"},
        json={"labels": {"team": "web"}, "template": {"containers": [{"image": IMAGE}]}},
        timeout=5,
    ).raise_for_status()
    client = clients.logging_client(PROJECT, endpoint)
    logger = client.logger("conformance")
    logger.log_text("plain text", severity="WARNING", labels={"kind": "text"})
    logger.log_struct(
        {"message": "structured", "count": 3},
        severity="ERROR",
        http_request={"requestMethod": "GET", "requestUrl": "https://shop.example.com/api", "status": 503},
        trace=f"projects/{PROJECT}/traces/0123456789abcdef0123456789abcdef",
        span_id="0123456789abcdef",
        source_location={"file": "main.py", "line": 42, "function": "handler"},
        operation={"id": "op-1", "producer": "runway", "first": True},
    )
    list(client.list_entries(resource_names=[f"projects/{PROJECT}"], page_size=1, max_results=3))
    list(client.list_entries(filter_='protoPayload.methodName:"CreateService"', order_by="timestamp desc"))
    logs = _build("logging", "v2", endpoint).projects().logs()
    logs.list(parent=f"projects/{PROJECT}").execute()
    logger.delete()
    # Sinks: a project sink with google-cloud-logging, an aggregated organization sink with googleapiclient.
    destination = f"pubsub.googleapis.com/projects/{PROJECT}/topics/audit"
    sink = client.sink("errors", filter_="severity>=ERROR", destination=destination)
    sink.create(unique_writer_identity=True)
    sink.reload()
    sink.update()
    list(client.list_sinks())
    org = emulator.emulator.resource_manager.add_org("123456789012", "example.com").name
    org_sinks = _build("logging", "v2", endpoint).organizations().sinks()
    body = {"name": "org-audit", "destination": destination, "includeChildren": True, "filter": "severity>=ERROR"}
    body["exclusions"] = [{"name": "no-debug", "filter": "severity=DEBUG", "description": "noise"}]
    org_sinks.create(parent=org, body=body).execute()
    org_sinks.patch(sinkName=f"{org}/sinks/org-audit", updateMask="disabled", body={"disabled": True}).execute()
    org_sinks.get(sinkName=f"{org}/sinks/org-audit").execute()
    org_sinks.list(parent=org).execute()
    org_sinks.delete(sinkName=f"{org}/sinks/org-audit").execute()
    sink.delete()


def drive_eventarc(emulator: EmulatorServer, endpoint: str) -> None:
    eventarc = _build("eventarc", "v1", endpoint)
    triggers = eventarc.projects().locations().triggers()
    parent = f"projects/{PROJECT}/locations/global"
    filters = [
        {"attribute": "type", "value": "google.cloud.audit.log.v1.written"},
        {"attribute": "serviceName", "value": "run.googleapis.com"},
        {"attribute": "methodName", "value": "google.cloud.run.v1.Services.ReplaceService"},
    ]
    created = triggers.create(
        parent=parent,
        triggerId="on-replace",
        body={
            "eventFilters": filters,
            "destination": {"httpEndpoint": {"uri": "http://127.0.0.1:9/events"}},
            "serviceAccount": f"runway-trigger@{PROJECT}.iam.gserviceaccount.com",
            "labels": {"owner": "runway"},
            "retryPolicy": {"maxAttempts": 1},
        },
    ).execute()
    eventarc.projects().locations().operations().get(name=created["name"]).execute()
    triggers.create(
        parent=parent,
        triggerId="on-any-service",
        body={
            "eventFilters": [
                *filters[:2],
                {"attribute": "methodName", "value": "google.cloud.run.v2.Services.UpdateService"},
                {
                    "attribute": "resourceName",
                    "value": "/projects/*/locations/*/services/*",
                    "operator": "match-path-pattern",
                },
            ],
            "destination": {"cloudRun": {"service": "sync-routes", "region": REGION, "path": "/"}},
        },
    ).execute()
    triggers.get(name=f"{parent}/triggers/on-replace").execute()
    triggers.list(parent=parent, pageSize=1).execute()  # first page: nextPageToken
    triggers.list(parent=f"projects/{PROJECT}/locations/-").execute()
    deleted = triggers.delete(name=f"{parent}/triggers/on-replace").execute()
    eventarc.projects().locations().operations().get(name=deleted["name"]).execute()
    triggers.delete(name=f"{parent}/triggers/on-any-service").execute()
    emulator.emulator.pubsub.ensure_topic(f"projects/{PROJECT}/topics/org-audit")
    on_messages = triggers.create(
        parent=parent,
        triggerId="on-messages",
        body={
            "eventFilters": [{"attribute": "type", "value": "google.cloud.pubsub.topic.v1.messagePublished"}],
            "destination": {"httpEndpoint": {"uri": "http://127.0.0.1:9/events"}},
            "transport": {"pubsub": {"topic": f"projects/{PROJECT}/topics/org-audit"}},
        },
    ).execute()
    triggers.get(name=on_messages["response"]["name"]).execute()
    triggers.delete(name=on_messages["response"]["name"]).execute()


def drive_resource_manager(emulator: EmulatorServer, endpoint: str) -> None:
    v1, v2, v3 = (_build("cloudresourcemanager", version, endpoint) for version in ("v1", "v2", "v3"))
    org = emulator.emulator.resource_manager.add_org("123456789012", "example.com").name
    folder = v3.folders().create(body={"parent": org, "displayName": "platform"}).execute()
    folder_name = folder["response"]["name"]
    created = v3.projects().create(body={"projectId": "lb-host", "parent": folder_name, "labels": {"a": "b"}}).execute()
    v3.operations().get(name=created["name"]).execute()
    v3.projects().get(name="projects/lb-host").execute()
    v3.projects().list(parent=folder_name).execute()
    v3.projects().search(query=f"parent:{folder_name}").execute()
    v3.folders().get(name=folder_name).execute()
    v3.folders().list(parent=org).execute()
    v3.folders().search(query="displayName=plat*").execute()
    v3.organizations().get(name=org).execute()
    v3.organizations().search(query="domain:example.com").execute()
    v2.folders().get(name=folder_name).execute()
    v2.folders().list(parent=org).execute()
    v2.folders().search(body={"query": "displayName=platform"}).execute()
    v1.projects().get(projectId="lb-host").execute()
    v1.projects().getAncestry(projectId="lb-host", body={}).execute()
    v1.projects().list(filter="lifecycleState:ACTIVE").execute()
    v1.organizations().get(name=org).execute()
    v1.organizations().search(body={}).execute()
    owner = {"bindings": [{"role": "roles/owner", "members": ["user:developer@example.com"]}]}
    for version, resource in (
        (v3.projects(), "projects/lb-host"),
        (v3.folders(), folder_name),
        (v3.organizations(), org),
    ):
        version.setIamPolicy(resource=resource, body={"policy": owner}).execute()
        version.getIamPolicy(resource=resource, body={}).execute()
        version.testIamPermissions(resource=resource, body={"permissions": ["resourcemanager.projects.get"]}).execute()
    v2.folders().getIamPolicy(resource=folder_name, body={}).execute()
    v1.projects().getIamPolicy(resource="lb-host", body={}).execute()
    v1.organizations().getIamPolicy(resource=org, body={}).execute()


def drive_iam(emulator: EmulatorServer, endpoint: str) -> None:
    iam = _build("iam", "v1", endpoint)
    iam.roles().get(name="roles/run.invoker").execute()
    iam.roles().list(view="FULL", pageSize=3).execute()
    roles = iam.projects().roles()
    parent = f"projects/{PROJECT}"
    role = {"title": "sync", "description": "runway", "includedPermissions": ["run.services.get"], "stage": "GA"}
    created = roles.create(parent=parent, body={"roleId": "runway_sync", "role": role}).execute()
    roles.get(name=created["name"]).execute()
    roles.list(parent=parent, view="FULL").execute()
    roles.patch(name=created["name"], updateMask="title", body={"title": "Sync"}).execute()
    roles.delete(name=created["name"]).execute()
    roles.undelete(name=created["name"], body={}).execute()
    org = emulator.emulator.resource_manager.add_org("123456789012").name
    iam.organizations().roles().create(parent=org, body={"roleId": "org_role", "role": role}).execute()
    accounts = iam.projects().serviceAccounts()
    account = f"projects/-/serviceAccounts/runner@{PROJECT}.iam.gserviceaccount.com"
    policy = {"bindings": [{"role": "roles/iam.serviceAccountUser", "members": ["user:developer@example.com"]}]}
    accounts.setIamPolicy(resource=account, body={"policy": policy}).execute()
    accounts.getIamPolicy(resource=account).execute()
    accounts.testIamPermissions(resource=account, body={"permissions": ["iam.serviceAccounts.actAs"]}).execute()
    requests.post(
        f"{emulator.url}/v2/projects/{PROJECT}/locations/{REGION}/services",
        params={"serviceId": "hello"},
        json={"template": {"containers": [{"image": IMAGE}]}},
        timeout=5,
    ).raise_for_status()
    name = f"projects/{PROJECT}/locations/{REGION}/services/hello"
    for run in (_build("run", "v2", endpoint), _build("run", "v1", endpoint)):
        services = run.projects().locations().services()
        invoker = {"bindings": [{"role": "roles/run.invoker", "members": ["allUsers"]}]}
        services.setIamPolicy(resource=name, body={"policy": invoker}).execute()
        services.getIamPolicy(resource=name).execute()
        services.testIamPermissions(resource=name, body={"permissions": ["run.routes.invoke"]}).execute()


def drive_serviceusage(emulator: EmulatorServer, endpoint: str) -> None:
    usage = _build("serviceusage", "v1", endpoint)
    services = usage.services()
    for name in ("run.googleapis.com", "compute.googleapis.com", "logging.googleapis.com"):
        services.get(name=f"projects/{PROJECT}/services/{name}").execute()
    services.batchGet(
        parent=f"projects/{PROJECT}",
        names=[f"projects/{PROJECT}/services/{name}" for name in ("run.googleapis.com", "eventarc.googleapis.com")],
    ).execute()
    disabled = services.disable(name=f"projects/{PROJECT}/services/eventarc.googleapis.com", body={}).execute()
    services.get(name=f"projects/{PROJECT}/services/eventarc.googleapis.com").execute()
    services.enable(name=f"projects/{PROJECT}/services/eventarc.googleapis.com", body={}).execute()
    services.batchEnable(parent=f"projects/{PROJECT}", body={"serviceIds": ["run.googleapis.com"]}).execute()
    usage.operations().get(name=disabled["name"]).execute()


def drive_pubsub(emulator: EmulatorServer, endpoint: str) -> None:
    ps = _build("pubsub", "v1", endpoint)
    topics, subscriptions = ps.projects().topics(), ps.projects().subscriptions()
    topic = f"projects/{PROJECT}/topics/events"
    topics.create(name=topic, body={"labels": {"team": "web"}}).execute()
    topics.get(topic=topic).execute()
    topics.list(project=f"projects/{PROJECT}").execute()
    topics.getIamPolicy(resource=topic).execute()
    binding = {"role": "roles/pubsub.publisher", "members": ["serviceAccount:w@p.iam.gserviceaccount.com"]}
    topics.setIamPolicy(resource=topic, body={"policy": {"bindings": [binding]}}).execute()
    topics.getIamPolicy(resource=topic).execute()
    topics.testIamPermissions(resource=topic, body={"permissions": ["pubsub.topics.publish"]}).execute()
    reader = f"projects/{PROJECT}/subscriptions/reader"
    subscriptions.create(name=reader, body={"topic": topic, "ackDeadlineSeconds": 30}).execute()
    push = {"topic": topic, "pushConfig": {"pushEndpoint": "http://127.0.0.1:9/push"}}
    subscriptions.create(name=f"projects/{PROJECT}/subscriptions/pusher", body=push).execute()
    subscriptions.get(subscription=reader).execute()
    subscriptions.list(project=f"projects/{PROJECT}").execute()
    topics.subscriptions().list(topic=topic).execute()
    topics.publish(topic=topic, body={"messages": [{"data": "aGk=", "attributes": {"k": "v"}}]}).execute()
    pulled = subscriptions.pull(subscription=reader, body={"maxMessages": 5}).execute()
    ack_ids = [m["ackId"] for m in pulled["receivedMessages"]]
    subscriptions.modifyAckDeadline(subscription=reader, body={"ackIds": ack_ids, "ackDeadlineSeconds": 60}).execute()
    subscriptions.acknowledge(subscription=reader, body={"ackIds": ack_ids}).execute()
    subscriptions.pull(subscription=reader, body={"maxMessages": 5}).execute()
    subscriptions.delete(subscription=reader).execute()
    topics.delete(topic=topic).execute()


SEQUENCES: dict[str, Callable[[EmulatorServer, str], None]] = {
    "run": drive_run,
    "compute": drive_compute,
    "logging": drive_logging,
    "eventarc": drive_eventarc,
    "resourcemanager": drive_resource_manager,
    "iam": drive_iam,
    "serviceusage": drive_serviceusage,
    "pubsub": drive_pubsub,
}


@pytest.fixture
def recorder(emulator: EmulatorServer) -> Iterator[Recorder]:
    with Recorder(emulator.url) as rec:
        yield rec


@pytest.mark.parametrize("api", sorted(SEQUENCES))
def test_responses_match_discovery_schemas(api: str, emulator: EmulatorServer, recorder: Recorder) -> None:
    started = time.monotonic()
    SEQUENCES[api](emulator, recorder.url)
    ok = [ex for ex in recorder.exchanges if ex.status < 400]
    # The sequence must really have exercised the API, or an empty pass would prove nothing.
    assert len(ok) >= 8, [f"{ex.method} {ex.path} {ex.status}" for ex in recorder.exchanges]
    problems = conformance_problems(api, recorder.exchanges)
    assert not problems, f"{api}: answers outside the discovery schemas:\n" + "\n".join(problems)
    assert time.monotonic() - started < 30
