"""Services labeled `public-route=true` all at once, through the whole local stack: 50, then N, then N unlabeled.

`python -m bench.routes_burst [--services 200] [--operation-delay 0.2] [--json]`

Starts one `LocalStack` (emulator, the three functions as functions-framework processes, the Eventarc triggers,
the shared load balancer) and warms the functions with one service first. Then, each phase on a freshly reset
stack with the same warm functions:

1. 50 labeled services created at once;
2. N labeled services created at once (`--services`, default 200);
3. the N services unlabeled at once.

For each phase it measures how long until the URL map holds (or no longer holds) every route and the system is
quiet, and counts from the emulator's call log and Eventarc's deliveries: URL-map writes and refused 412s per
route, API calls per route (all functions, and sync_routes alone), `api_error` decisions, dropped events. Then
it checks the issue's bounds (bench/README.md) and prints each as met or not; the exit status is 1 when one is
not. Figures, never assertions in tests: the machine's load moves times, so compare ratios within one run.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import requests

from bench.emulator_calls import BENCH_PRINCIPAL, PRINCIPAL_HEADER, api_calls, get, mark
from devstack.stack import EVENT_FUNCTIONS, LocalStack

URL_MAP = "runway-lb"
BOUNDS = {
    "url_map_writes_per_route": 0.25,
    "refused_412_per_route": 0.5,
    "api_calls_per_route": 20.0,
    "time_ratio": 5.0,
}


# --- reading the emulator without counting ourselves -----------------------------------------------------------


def functions_calls(stack: LocalStack, since: int) -> dict[str, list[dict[str, Any]]]:
    """The calls each function made (each runs as its own service account), log shipping excluded."""
    by_identity = {stack.identity(name): name for name in stack.functions}
    calls: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
    for call in api_calls(stack.url, since):
        function = by_identity.get(call["principal"])
        if function is not None and not call["path"].startswith("/v2/entries"):
            calls[function].append(call)
    return calls


def route_paths(url: str, project: str) -> int:
    url_map = get(url, f"/compute/v1/projects/{project}/global/urlMaps/{URL_MAP}")
    return sum(len(r.get("paths", [])) for m in url_map.get("pathMatchers", []) for r in m.get("pathRules", []))


def runway_objects(url: str, project: str, regions: tuple[str, ...]) -> int:
    backends = get(url, f"/compute/v1/projects/{project}/global/backendServices").get("items", [])
    negs = [
        n
        for region in regions
        for n in get(url, f"/compute/v1/projects/{project}/regions/{region}/networkEndpointGroups").get("items", [])
    ]
    return sum(1 for o in backends + negs if '"managedBy":"runway"' in str(o.get("description", "")))


def decisions(url: str, project: str) -> collections.Counter[str]:
    flt = 'jsonPayload.component="runway" AND timestamp>="2000-01-01T00:00:00Z"'
    actions: collections.Counter[str] = collections.Counter()
    token = None
    while True:
        body: dict[str, Any] = {"resourceNames": [f"projects/{project}"], "filter": flt, "pageSize": 1000}
        if token:
            body["pageToken"] = token
        reply = requests.post(
            f"{url}/v2/entries:list", json=body, headers={PRINCIPAL_HEADER: BENCH_PRINCIPAL}, timeout=60
        )
        reply.raise_for_status()
        data = reply.json()
        actions.update(
            f"{e['jsonPayload'].get('function')}:{e['jsonPayload'].get('action')}" for e in data.get("entries", [])
        )
        token = data.get("nextPageToken")
        if not token:
            return actions


def deliveries(stack: LocalStack) -> dict[str, dict[str, int]]:
    result: dict[str, dict[str, int]] = {}
    for name in EVENT_FUNCTIONS:
        part = "/triggers/" + name.replace("_", "-") + "-"
        attempts = [d for d in stack.server.emulator.eventarc.deliveries() if part in d["trigger"]]
        outcomes = collections.Counter(d["outcome"] for d in attempts)
        result[name] = {
            "attempts": len(attempts),
            **{o: outcomes.get(o, 0) for o in ("delivered", "retrying", "dropped")},
        }
    return result


# --- the phases -----------------------------------------------------------------------------------------------


def at_once(count: int, action: Callable[[int], None]) -> float:
    """Run `action(i)` for every i in its own thread, all released at the same moment; returns that moment."""
    start = threading.Barrier(count + 1)

    def run(i: int) -> None:
        start.wait()
        action(i)

    with concurrent.futures.ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(run, i) for i in range(count)]
        start.wait()
        released = time.perf_counter()
        for future in futures:
            future.result()  # a write that failed fails the benchmark
    return released


def settle(stack: LocalStack, deadline: float) -> float:
    """Until no delivery is pending and none appears in a short quiet spell; returns when it first was."""
    while True:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            raise TimeoutError("event deliveries never drained")
        stack.drain(timeout=remaining)
        drained = time.perf_counter()
        time.sleep(0.3)  # a write made while answering an event enqueues its own event before the answer returns
        if stack.server.emulator.eventarc.drain(timeout=0):
            return drained


def phase(
    stack: LocalStack, name: str, count: int, action: Callable[[int], None], done: Callable[[], bool], timeout: float
) -> dict[str, Any]:
    since = mark(stack.url)
    before = decisions(stack.url, stack.project)
    released = at_once(count, action)
    deadline = released + timeout
    while not done():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{name}: not converged after {timeout} s")
        time.sleep(0.05)
    converged = time.perf_counter() - released
    settled = settle(stack, deadline) - released
    calls = functions_calls(stack, since)
    every = [c for fn_calls in calls.values() for c in fn_calls]
    map_writes = [c for c in every if c["method"] in ("PUT", "PATCH") and f"/urlMaps/{URL_MAP}" in c["path"]]
    delivered = deliveries(stack)
    actions = decisions(stack.url, stack.project) - before  # this phase's decisions only
    return {
        "phase": name,
        "routes": count,
        "converged_s": converged,
        "settled_s": settled,
        "route_paths": route_paths(stack.url, stack.project),
        "runway_objects": runway_objects(stack.url, stack.project, stack.regions),
        "url_map_writes": sum(1 for c in map_writes if c["status"] < 400),
        "refused_412": sum(1 for c in every if c["status"] == 412),
        "api_calls": {fn: len(fn_calls) for fn, fn_calls in sorted(calls.items())},
        "api_errors": sum(n for a, n in actions.items() if a.endswith(":api_error")),
        "dropped": sum(d["dropped"] for d in delivered.values()),
        "deliveries": delivered,
        "decisions": dict(sorted(actions.items())),
    }


def run_client(stack: LocalStack) -> Any:
    from google.cloud import run_v2

    from shared import clients

    return run_v2.ServicesClient(**clients.client_kwargs(stack.url, BENCH_PRINCIPAL))


def create_labeled(stack: LocalStack, client: Any, prefix: str) -> Callable[[int], None]:
    from google.cloud import run_v2

    parent = f"projects/{stack.project}/locations/{stack.region}"

    def create(i: int) -> None:
        service = run_v2.Service(
            labels={"public-route": "true"},
            invoker_iam_disabled=True,  # a public service: its route is reachable
            template=run_v2.RevisionTemplate(containers=[run_v2.Container(image="hello")]),
        )
        client.create_service(parent=parent, service_id=f"{prefix}-{i:03d}", service=service)

    return create


def unlabel(stack: LocalStack, client: Any, prefix: str) -> Callable[[int], None]:
    from google.cloud import run_v2
    from google.protobuf import field_mask_pb2

    def update(i: int) -> None:
        name = f"projects/{stack.project}/locations/{stack.region}/services/{prefix}-{i:03d}"
        current = client.get_service(name=name)
        labels = {k: v for k, v in current.labels.items() if k != "public-route"}
        service = run_v2.Service(name=name, labels=labels)
        client.update_service(service=service, update_mask=field_mask_pb2.FieldMask(paths=["labels"]))

    return update


def measure(services: int, operation_delay: float, timeout: float) -> dict[str, Any]:
    stack = LocalStack(regions=("us-central1",))
    stack.start()
    try:
        client = run_client(stack)
        url, project = stack.url, stack.project
        requests.post(
            f"{url}/_emulator/faults", json={"operationDelay": operation_delay}, timeout=10
        ).raise_for_status()
        phase(
            stack, "warm-up", 1, create_labeled(stack, client, "warm"), lambda: route_paths(url, project) == 2, timeout
        )
        results = []
        for count in (50, services):
            stack.reset()
            requests.post(
                f"{url}/_emulator/faults", json={"operationDelay": operation_delay}, timeout=10
            ).raise_for_status()
            prefix = f"burst{count}"
            results.append(
                phase(
                    stack,
                    f"label {count}",
                    count,
                    create_labeled(stack, client, prefix),
                    lambda n=count: route_paths(url, project) == 2 * n,
                    timeout,
                )
            )
        results.append(
            phase(
                stack,
                f"unlabel {services}",
                services,
                unlabel(stack, client, f"burst{services}"),
                lambda: route_paths(url, project) == 0 and runway_objects(url, project, stack.regions) == 0,
                timeout,
            )
        )
    finally:
        stack.stop()
    return {"services": services, "operation_delay_s": operation_delay, "cpus": os.cpu_count(), "phases": results}


# --- output ---------------------------------------------------------------------------------------------------


def checks(result: dict[str, Any]) -> list[tuple[str, bool, str]]:
    small, big, gone = result["phases"]
    found = []
    for p in (big, gone):
        n = p["routes"]
        calls = sum(p["api_calls"].values())
        published_ok = p["route_paths"] == (2 * n if p is big else 0) and (p is big or p["runway_objects"] == 0)
        found += [
            (
                f"{p['phase']}: every route {'published' if p is big else 'and object removed'}",
                published_ok,
                f"{p['route_paths']} paths, {p['runway_objects']} runway objects",
            ),
            (f"{p['phase']}: no api_error", p["api_errors"] == 0, str(p["api_errors"])),
            (f"{p['phase']}: no event dropped", p["dropped"] == 0, str(p["dropped"])),
            (
                f"{p['phase']}: URL-map writes per route <= {BOUNDS['url_map_writes_per_route']}",
                p["url_map_writes"] / n <= BOUNDS["url_map_writes_per_route"],
                f"{p['url_map_writes'] / n:.3f}",
            ),
            (
                f"{p['phase']}: refused 412s per route <= {BOUNDS['refused_412_per_route']}",
                p["refused_412"] / n <= BOUNDS["refused_412_per_route"],
                f"{p['refused_412'] / n:.3f}",
            ),
            (
                f"{p['phase']}: API calls per route <= {BOUNDS['api_calls_per_route']:.0f}",
                calls / n <= BOUNDS["api_calls_per_route"],
                f"{calls / n:.2f}",
            ),
        ]
    ratio = big["converged_s"] / small["converged_s"] if small["converged_s"] else float("inf")
    found.append(
        (f"time({big['routes']}) / time(50) <= {BOUNDS['time_ratio']}", ratio <= BOUNDS["time_ratio"], f"{ratio:.2f}")
    )
    return found


def print_table(result: dict[str, Any]) -> None:
    print(
        f"routes burst: operationDelay {result['operation_delay_s']} s, {result['cpus']} CPUs, warm functions, "
        "one instance of each function (devstack)"
    )
    print(
        f"{'phase':<14}{'converged':>11}{'settled':>10}{'paths':>7}{'map writes':>12}{'412s':>6}"
        f"{'calls/route':>13}{'sync/route':>12}{'api_error':>11}{'dropped':>9}"
    )
    for p in result["phases"]:
        n = p["routes"]
        calls = sum(p["api_calls"].values())
        print(
            f"{p['phase']:<14}{p['converged_s']:>10.2f}s{p['settled_s']:>9.2f}s{p['route_paths']:>7}"
            f"{p['url_map_writes']:>12}{p['refused_412']:>6}{calls / n:>13.2f}"
            f"{p['api_calls'].get('sync_routes', 0) / n:>12.2f}{p['api_errors']:>11}{p['dropped']:>9}"
        )
    print()
    for p in result["phases"]:
        print(f"{p['phase']}: calls by function {p['api_calls']}; decisions {p['decisions']}")
    print()
    for label, ok, value in checks(result):
        print(f"  [{'met' if ok else 'NOT MET'}] {label}: {value}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.routes_burst", description=__doc__.split("\n\n")[0])
    parser.add_argument("--services", type=int, default=200, help="services in the big burst (default 200)")
    parser.add_argument("--operation-delay", type=float, default=0.2, help="seconds each operation runs (0.2)")
    parser.add_argument("--timeout", type=float, default=600.0, help="give up on a phase after this many seconds")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args()
    if args.services < 1:
        parser.error("--services must be at least 1")
    result = measure(args.services, args.operation_delay, args.timeout)
    if args.json:
        print(json.dumps({**result, "checks": checks(result)}, indent=2))
    else:
        print_table(result)
    sys.exit(0 if all(ok for _, ok, _ in checks(result)) else 1)


if __name__ == "__main__":
    main()
