"""A burst of services labeled `public-route=true` at the same moment, through the whole local stack.

`python -m bench.routes_burst [--services 50] [--operation-delay 0.2] [--json]`

Starts a `LocalStack` (emulator, the three functions as functions-framework processes, the Eventarc triggers,
the shared load balancer), creates N labeled services at once from a thread pool, and measures how long the
shared URL map takes to hold every route and the system to go quiet, and what it cost in API calls, counted
from the emulator's call log. Then it delivers one more create event for a service already routed, to show
what a converged event costs. See bench/README.md for how to read the output.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import json
import os
import threading
import time
from typing import Any

import requests

from devstack.stack import EVENT_FUNCTIONS, LocalStack

# The benchmark's own API calls carry this principal, so they can be told apart from the functions' in the
# call log (the functions send no principal header and are logged as the emulator's default one).
BENCH_PRINCIPAL = "runway-bench@example.com"
PRINCIPAL_HEADER = "X-Emulator-Principal"
URL_MAP = "runway-lb"  # what LocalStack.function_env configures
CATEGORIES = (
    "compute_reads",
    "compute_writes",
    "compute_writes_refused",
    "compute_op_polls",
    "run_reads",
    "run_writes",
)


# --- the emulator, read without counting ourselves ----------------------------------------------------------


def api_calls(url: str, since: int = 0) -> list[dict[str, Any]]:
    reply = requests.get(f"{url}/_emulator/requests", params={"since": since}, timeout=30)
    reply.raise_for_status()
    return list(reply.json()["requests"])


def mark(url: str) -> int:
    calls = api_calls(url)
    return int(calls[-1]["seq"]) if calls else 0


def functions_calls(url: str, since: int) -> list[dict[str, Any]]:
    """Calls the functions made: not ours, and not the log agents shipping their stdout to Logging."""
    return [
        c
        for c in api_calls(url, since)
        if c["principal"] != BENCH_PRINCIPAL and not c["path"].startswith("/v2/entries")
    ]


def route_paths(url: str, project: str) -> int:
    """How many paths the shared URL map routes (two per published service: /name and /name/*)."""
    reply = requests.get(
        f"{url}/compute/v1/projects/{project}/global/urlMaps/{URL_MAP}",
        headers={PRINCIPAL_HEADER: BENCH_PRINCIPAL},
        timeout=30,
    )
    reply.raise_for_status()
    return sum(
        len(rule.get("paths", [])) for m in reply.json().get("pathMatchers", []) for rule in m.get("pathRules", [])
    )


def category(call: dict[str, Any]) -> str:
    path = call["path"]
    if path.startswith("/compute/v1/"):
        if "/operations/" in path:  # GET operations/X or POST operations/X/wait: polling a write's operation
            return "compute_op_polls"
        return "compute_writes" if call["write"] else "compute_reads"
    if "/services" in path or "/operations/" in path:  # Cloud Run v2, v1 and its Knative surface
        return "run_writes" if call["write"] else "run_reads"
    return "other"


def count(calls: list[dict[str, Any]]) -> dict[str, int]:
    counts = collections.Counter(category(c) for c in calls)
    # Refused writes are counted among the writes too: each was a round trip. This says how many were lost.
    counts["compute_writes_refused"] = sum(1 for c in calls if category(c) == "compute_writes" and c["status"] >= 400)
    return {name: counts.get(name, 0) for name in (*CATEGORIES, "other")}


def deliveries_by_function(stack: LocalStack) -> dict[str, dict[str, int]]:
    """Push attempts per function: delivered (2xx), retrying (non-2xx or timeout, pushed again), dropped."""
    result: dict[str, dict[str, int]] = {}
    for name in EVENT_FUNCTIONS:
        trigger_part = "/triggers/" + name.replace("_", "-") + "-"
        attempts = [d for d in stack.server.emulator.eventarc.deliveries() if trigger_part in d["trigger"]]
        outcomes = collections.Counter(d["outcome"] for d in attempts)
        result[name] = {
            "attempts": len(attempts),
            **{o: outcomes.get(o, 0) for o in ("delivered", "retrying", "dropped")},
        }
    return result


def decisions(url: str, project: str, function: str) -> dict[str, int]:
    """runway's decision log for one function, counted by action (as Logging holds it)."""
    flt = f'jsonPayload.component="runway" AND jsonPayload.function="{function}" AND timestamp>="2000-01-01T00:00:00Z"'
    actions: collections.Counter[str] = collections.Counter()
    token = None
    while True:
        body: dict[str, Any] = {"resourceNames": [f"projects/{project}"], "filter": flt, "pageSize": 1000}
        if token:
            body["pageToken"] = token
        reply = requests.post(
            f"{url}/v2/entries:list", json=body, headers={PRINCIPAL_HEADER: BENCH_PRINCIPAL}, timeout=30
        )
        reply.raise_for_status()
        data = reply.json()
        actions.update(e.get("jsonPayload", {}).get("action", "?") for e in data.get("entries", []))
        token = data.get("nextPageToken")
        if not token:
            return dict(sorted(actions.items()))


def wait_for_decisions(url: str, project: str, function: str, attempts: int, timeout: float = 10.0) -> dict[str, int]:
    """The decisions once all have arrived: one per push attempt, shipped by the log agent in the background."""
    deadline = time.perf_counter() + timeout
    while sum((actions := decisions(url, project, function)).values()) < attempts and time.perf_counter() < deadline:
        time.sleep(0.1)
    return actions


def create_audit_entry(url: str, project: str, region: str, service: str) -> dict[str, Any]:
    flt = (
        'logName:"cloudaudit.googleapis.com%2Factivity" AND timestamp>="2000-01-01T00:00:00Z" AND '
        'protoPayload.methodName="google.cloud.run.v2.Services.CreateService"'
    )
    body = {"resourceNames": [f"projects/{project}"], "filter": flt, "pageSize": 1000}
    reply = requests.post(f"{url}/v2/entries:list", json=body, headers={PRINCIPAL_HEADER: BENCH_PRINCIPAL}, timeout=30)
    reply.raise_for_status()
    resource = f"projects/{project}/locations/{region}/services/{service}"
    for entry in reply.json().get("entries", []):
        if entry["protoPayload"].get("resourceName") == resource:
            return dict(entry)
    raise RuntimeError(f"no CreateService audit entry for {resource}")


# --- the burst ----------------------------------------------------------------------------------------------


def burst(stack: LocalStack, names: list[str]) -> tuple[float, list[concurrent.futures.Future[Any]]]:
    """Start creating every service at the same moment; returns when they were released, and the creates."""
    from google.cloud import run_v2

    from shared import clients

    # One client per thread, built before the start: a shared one would funnel 50 threads through one
    # connection pool, and building clients is not what is being timed.
    kwargs = clients.client_kwargs(stack.url)
    run_clients = [run_v2.ServicesClient(**kwargs) for _ in names]
    start = threading.Barrier(len(names) + 1)
    parent = f"projects/{stack.project}/locations/{stack.region}"

    def create(client: run_v2.ServicesClient, name: str) -> None:
        service = run_v2.Service(
            labels={"public-route": "true"},
            template=run_v2.RevisionTemplate(
                containers=[run_v2.Container(image="us-docker.pkg.dev/cloudrun/container/hello")]
            ),
        )
        start.wait()
        # Not waiting for the operation: the service and its audit entry exist when the create returns, and
        # polling would put the benchmark's own reads into the count.
        client.create_service(
            parent=parent, service_id=name, service=service, metadata=[(PRINCIPAL_HEADER.lower(), BENCH_PRINCIPAL)]
        )

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=len(names))
    futures = [pool.submit(create, client, name) for client, name in zip(run_clients, names, strict=True)]
    start.wait()
    released = time.perf_counter()
    pool.shutdown(wait=False)  # the creates run on; the caller watches the URL map meanwhile
    return released, futures


def settle(stack: LocalStack, deadline: float) -> float:
    """Wait until no delivery is pending and none appears in a short quiet spell; returns when it first was."""
    while True:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            raise TimeoutError("event deliveries never drained")
        stack.drain(timeout=remaining)
        drained_at = time.perf_counter()
        # A write made while answering an event enqueues another before that answer returns, so a drained
        # queue is quiet; the spell guards against anything arriving late (a retry's backoff is queued too).
        time.sleep(0.3)
        if stack.server.emulator.eventarc.drain(timeout=0):
            return drained_at


def measure(services: int, operation_delay: float, timeout: float) -> dict[str, Any]:
    names = [f"burst-{i:03d}" for i in range(services)]
    stack = LocalStack()
    started = time.perf_counter()
    stack.start()  # stops whatever it started if it fails
    stack_start_s = time.perf_counter() - started
    try:
        url, project = stack.url, stack.project
        requests.post(
            f"{url}/_emulator/faults", json={"operationDelay": operation_delay}, timeout=10
        ).raise_for_status()
        since = mark(url)

        released, creates = burst(stack, names)
        deadline = released + timeout
        want = 2 * services
        while (paths := route_paths(url, project)) < want:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"the URL map routes {paths} of {want} paths after {timeout} s")
            time.sleep(0.05)
        converged_s = time.perf_counter() - released
        for create in creates:
            create.result()  # a create that failed fails the benchmark
        settled_s = settle(stack, deadline) - released
        final_paths = route_paths(url, project)

        calls = functions_calls(url, since)
        delivered = deliveries_by_function(stack)
        sync_events = delivered["sync_routes"]["delivered"]
        counts = count(calls)
        url_map_writes = [
            c for c in calls if c["method"] in ("PUT", "PATCH") and f"/global/urlMaps/{URL_MAP}" in c["path"]
        ]
        url_map_ok = sum(1 for c in url_map_writes if c["status"] < 400)
        url_map_412 = sum(1 for c in url_map_writes if c["status"] == 412)
        all_412 = [c for c in calls if c["status"] == 412]
        statuses = collections.Counter(str(c["status"]) for c in calls if c["status"] >= 400)
        burst_decisions = {
            fn: wait_for_decisions(url, project, fn, delivered[fn]["attempts"]) for fn in EVENT_FUNCTIONS
        }

        extra = one_more_event(stack, names[0])
    finally:
        stack.stop()

    return {
        "services": services,
        "operation_delay_s": operation_delay,
        "cpus": os.cpu_count(),
        "stack_start_s": stack_start_s,
        "converged_s": converged_s,
        "settled_s": settled_s,
        "route_paths": final_paths,
        "deliveries": delivered,
        "sync_routes_events": sync_events,
        "calls": counts,
        "calls_per_sync_routes_event": {k: v / sync_events if sync_events else None for k, v in counts.items()},
        "calls_per_route": {k: v / services for k, v in counts.items()},
        "url_map_writes_ok": url_map_ok,
        "url_map_writes_412": url_map_412,
        "url_map_writes_per_route": url_map_ok / services,
        "url_map_412_per_route": url_map_412 / services,
        "total_412": len(all_412),
        "error_statuses": dict(sorted(statuses.items())),
        "decisions": burst_decisions,
        "converged_event": extra,
    }


def one_more_event(stack: LocalStack, service: str) -> dict[str, Any]:
    """Deliver a create event for an already routed service straight to sync_routes: the steady-state cost."""
    from emulator.eventarc.cloudevent import binary_request

    entry = create_audit_entry(stack.url, stack.project, stack.region, service)
    headers, body = binary_request(entry)
    since = mark(stack.url)
    started = time.perf_counter()
    status = requests.post(stack.functions["sync_routes"].url, data=body, headers=headers, timeout=120).status_code
    elapsed = time.perf_counter() - started
    counts = count(functions_calls(stack.url, since))
    return {
        "service": service,
        "status": status,
        "seconds": elapsed,
        "calls": counts,
        "reads": counts["compute_reads"] + counts["compute_op_polls"] + counts["run_reads"],
        "writes": counts["compute_writes"] + counts["run_writes"],
    }


# --- output -------------------------------------------------------------------------------------------------


def print_table(r: dict[str, Any]) -> None:
    n = r["services"]
    print(
        f"routes burst: {n} services labeled public-route=true created at once; "
        f"operationDelay {r['operation_delay_s']} s; {r['cpus']} CPUs (stack started in {r['stack_start_s']:.1f} s)"
    )
    rows = [
        (f"first create -> URL map routes all {2 * n} paths", f"{r['converged_s']:.2f} s"),
        ("first create -> settled (no delivery pending)", f"{r['settled_s']:.2f} s"),
        ("paths on the URL map when settled", str(r["route_paths"])),
    ]
    for label, value in rows:
        print(f"  {label:<48} {value:>9}")
    print()
    print("event deliveries     attempts  delivered  retried  dropped")
    for fn, d in r["deliveries"].items():
        print(f"  {fn:<18} {d['attempts']:8d} {d['delivered']:10d} {d['retrying']:8d} {d['dropped']:8d}")
    print()
    events = r["sync_routes_events"]
    labels = {
        "compute_reads": "Compute reads",
        "compute_writes": "Compute writes (no op polls)",
        "compute_writes_refused": "  of which refused (4xx)",
        "compute_op_polls": "Compute operation polls",
        "run_reads": "Run reads (both functions)",
        "run_writes": "Run writes (enforce_ingress)",
        "other": "other",
    }
    print(
        f"API calls by the functions        total   per event   per route   ({events} sync_routes events, {n} routes)"
    )
    for key, label in labels.items():
        total = r["calls"][key]
        if key == "other" and not total:
            continue
        per_event = r["calls_per_sync_routes_event"][key]
        per_event_text = f"{per_event:.2f}" if per_event is not None else "-"
        print(f"  {label:<30} {total:5d} {per_event_text:>11} {r['calls_per_route'][key]:11.2f}")
    print()
    print(
        f"URL-map writes per route registered   {r['url_map_writes_per_route']:6.2f}  "
        f"({r['url_map_writes_ok']} successful PUT/PATCH for {n} routes)"
    )
    print(
        f"failed URL-map writes (412) per route {r['url_map_412_per_route']:6.2f}  "
        f"({r['url_map_writes_412']} refused on a stale fingerprint)"
    )
    print(
        f"412s in total                         {r['total_412']:6d}  "
        f"(every error status the functions got: {r['error_statuses'] or 'none'})"
    )
    for fn, actions in r["decisions"].items():
        print(f"decisions of {fn:<16} " + ", ".join(f"{a} {c}" for a, c in actions.items()))
    print()
    e = r["converged_event"]
    c = e["calls"]
    print(
        f"one more event for converged {e['service']} (to sync_routes directly): answered {e['status']} in "
        f"{e['seconds'] * 1000:.0f} ms; {e['reads']} reads (Compute {c['compute_reads']}, Run {c['run_reads']}, "
        f"op polls {c['compute_op_polls']}), {e['writes']} writes"
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.routes_burst", description=__doc__.split("\n\n")[0])
    parser.add_argument("--services", type=int, default=50, help="services created at once (default 50)")
    parser.add_argument(
        "--operation-delay",
        type=float,
        default=0.2,
        help="seconds each emulated Run/Compute operation stays RUNNING (default 0.2)",
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="give up after this many seconds (default 300)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args()
    if args.services < 1:
        parser.error("--services must be at least 1")
    result = measure(args.services, args.operation_delay, args.timeout)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)


if __name__ == "__main__":
    main()
