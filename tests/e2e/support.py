"""Reading results back the way a user would: through the APIs, never from the test's own bookkeeping."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from google.cloud import run_v2

from devstack.stack import LocalStack
from shared import clients

T = TypeVar("T")
PROJECT = "runway-demo"
REGION = "us-central1"


def wait_until(probe: Callable[[], T], timeout: float = 20.0, interval: float = 0.1) -> T:
    """Poll until `probe` returns something truthy (the log agent ships function output asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def decisions(stack: LocalStack, **match: str) -> list[dict[str, Any]]:
    """runway's decision log as Cloud Logging holds it, oldest first, read with google-cloud-logging."""
    from google.cloud.logging import ASCENDING

    client = clients.logging_client(stack.project, stack.url)
    terms = ['jsonPayload.component="runway"', 'timestamp>="2000-01-01T00:00:00Z"']
    terms += [f'jsonPayload.{key}="{value}"' for key, value in match.items()]
    entries = client.list_entries(
        resource_names=[f"projects/{stack.project}"], filter_=" AND ".join(terms), order_by=ASCENDING, page_size=200
    )
    return [{**entry.payload, "severity": entry.severity} for entry in entries]


def wait_for_decisions(stack: LocalStack, count: int = 1, timeout: float = 20.0, **match: str) -> list[dict[str, Any]]:
    wait_until(lambda: len(decisions(stack, **match)) >= count, timeout)
    return decisions(stack, **match)


def api_calls(stack: LocalStack, since: int = 0) -> list[dict[str, Any]]:
    return requests.get(f"{stack.url}/_emulator/requests", params={"since": since}, timeout=10).json()["requests"]


def writes(stack: LocalStack, path: str = ".*", since: int = 0) -> list[dict[str, Any]]:
    pattern = re.compile(path)
    return [c for c in api_calls(stack, since) if c["write"] and pattern.search(c["path"]) and c["status"] < 400]


def mark(stack: LocalStack) -> int:
    calls = api_calls(stack)
    return calls[-1]["seq"] if calls else 0


def faults(stack: LocalStack, body: dict[str, Any]) -> None:
    requests.post(f"{stack.url}/_emulator/faults", json=body, timeout=10).raise_for_status()


def run_client(stack: LocalStack) -> run_v2.ServicesClient:
    return clients.run_services(stack.url)


def create_service(
    stack: LocalStack,
    name: str,
    *,
    ingress: str = "INGRESS_TRAFFIC_ALL",
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    region: str = REGION,
    principal: str = "alice@example.com",
    public: bool = True,
    project: str | None = None,
) -> run_v2.Service:
    """Deploy a service with google-cloud-run (the v2 API), as a developer or Terraform would. `public`: anyone
    may invoke it (`invokerIamDisabled`, gcloud's `--no-invoker-iam-check`), so a route to it is reachable."""
    service = run_v2.Service(
        ingress=getattr(run_v2.IngressTraffic, ingress),
        labels=labels or {},
        annotations=annotations or {},
        invoker_iam_disabled=public,
        template=run_v2.RevisionTemplate(
            containers=[run_v2.Container(image="us-docker.pkg.dev/cloudrun/container/hello")]
        ),
    )
    operation = run_client(stack).create_service(
        parent=f"projects/{project or stack.project}/locations/{region}",
        service_id=name,
        service=service,
        metadata=[("x-emulator-principal", principal)],
    )
    return operation.result(timeout=30)


def get_service(stack: LocalStack, name: str, region: str = REGION, project: str | None = None) -> run_v2.Service:
    return run_client(stack).get_service(name=f"projects/{project or stack.project}/locations/{region}/services/{name}")


def settle(stack: LocalStack) -> None:
    stack.settle()


def url_map(stack: LocalStack) -> dict[str, Any]:
    from shared.api_compute import get_url_map

    return get_url_map(clients.compute(stack.url), stack.project, "runway-lb")


def routing_table(stack: LocalStack) -> dict[tuple[str, str], str]:
    """(host, path) → backend service name, for every path rule on the shared URL map."""
    umap = url_map(stack)
    hosts_of = {rule["pathMatcher"]: rule["hosts"] for rule in umap.get("hostRules", [])}
    table = {}
    for matcher in umap.get("pathMatchers", []):
        for rule in matcher.get("pathRules", []):
            for host in hosts_of.get(matcher["name"], []):
                for path in rule["paths"]:
                    table[(host, path)] = rule["service"].rsplit("/", 1)[1]
    return table


def runway_objects(stack: LocalStack) -> dict[str, list[str]]:
    """Names of every backend service and serverless NEG carrying runway's marker."""
    from shared.api_compute import list_backend_services, list_negs, owned

    compute = clients.compute(stack.url)
    return {
        "backend_services": sorted(b["name"] for b in owned(list_backend_services(compute, stack.project), "runway")),
        "negs": sorted(
            f"{n['region'].rsplit('/', 1)[1]}/{n['name']}"
            for n in owned(list_negs(compute, stack.project, stack.regions), "runway")
        ),
    }


def update_labels(
    stack: LocalStack, name: str, labels: dict[str, str], region: str = REGION, principal: str = "alice@example.com"
) -> run_v2.Service:
    from google.protobuf import field_mask_pb2

    service = run_v2.Service(name=f"projects/{stack.project}/locations/{region}/services/{name}", labels=labels)
    operation = run_client(stack).update_service(
        service=service,
        update_mask=field_mask_pb2.FieldMask(paths=["labels"]),
        metadata=[("x-emulator-principal", principal)],
    )
    return operation.result(timeout=30)


def delete_service(stack: LocalStack, name: str, region: str = REGION, project: str | None = None) -> None:
    run_client(stack).delete_service(
        name=f"projects/{project or stack.project}/locations/{region}/services/{name}"
    ).result(timeout=30)


def audit_entries(stack: LocalStack, method: str | None = None) -> list[dict[str, Any]]:
    """Admin Activity audit entries of Cloud Run writes, as the emulator's Logging holds them (REST JSON)."""
    flt = 'logName:"cloudaudit.googleapis.com%2Factivity" AND timestamp>="2000-01-01T00:00:00Z"'
    if method:
        flt += f' AND protoPayload.methodName="{method}"'
    entries: list[dict[str, Any]] = []
    token = None
    while True:
        body = {
            "resourceNames": [f"projects/{stack.project}"],
            "filter": flt,
            "orderBy": "timestamp asc",
            "pageSize": 1000,
        }
        if token:
            body["pageToken"] = token
        reply = requests.post(f"{stack.url}/v2/entries:list", json=body, timeout=30).json()
        entries.extend(reply.get("entries", []))
        token = reply.get("nextPageToken")
        if not token:
            return entries


def redeliver(stack: LocalStack, function: str, entry: dict[str, Any]) -> int:
    """Deliver one audit entry to a function again, exactly as Eventarc would (at-least-once delivery)."""
    from emulator.eventarc.cloudevent import binary_request

    headers, body = binary_request(entry)
    return requests.post(stack.functions[function].url, data=body, headers=headers, timeout=120).status_code
