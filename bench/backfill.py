"""The sweep as a backfill: services that existed before runway, published by one `reconcile_all`.

`python -m bench.backfill [--services 500] [--labeled 100] [--operation-delay 1] [--concurrency 8]`

Against an in-process emulator (no function processes), it creates `--services` Cloud Run services with ingress
already internal, `--labeled` of them labeled `public-route=true`, then with every Compute and Run operation
taking `--operation-delay` seconds it runs the same sweep twice on the same starting state:

- one change at a time (`concurrency=1`: each service's NEG, backend service and Cloud Armor policy one after
  the other, then the one URL-map write), which is how the first release applied a plan;
- services in parallel (`--concurrency`, what `reconcile_all` uses).

It prints both wall times, their ratio, the writes each made, and whether the parallel sweep took at most a quarter
of the serial one (issue 9's bound); the exit status is 1 when it did not. Both sweeps must publish every labeled
service, or the benchmark fails instead of reporting a sweep that did no work.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import io
import json
import os
import sys
import time
from typing import Any

import requests

from bench.emulator_calls import api_calls, mark

PROJECT = "runway-demo"
REGION = "us-central1"
URL_MAP = "runway-lb"


def setup(url: str, services: int, labeled: int) -> None:
    from google.cloud import run_v2

    from devstack.bootstrap import create_load_balancer
    from shared import clients

    requests.post(f"{url}/_emulator/reset", timeout=30).raise_for_status()
    # Room for every route: this measures speed, not Google's URL-map size limit.
    requests.post(f"{url}/_emulator/settings", json={"urlMapLimits": {"bytes": 1048576}}, timeout=30).raise_for_status()
    create_load_balancer(url, PROJECT)
    client = clients.run_services(url)

    def create(i: int) -> None:
        service = run_v2.Service(
            labels={"public-route": "true"} if i < labeled else {},
            ingress=run_v2.IngressTraffic.INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER,
            # Reachable through the load balancer, so published rather than `route_unreachable`.
            invoker_iam_disabled=i < labeled,
            template=run_v2.RevisionTemplate(containers=[run_v2.Container(image="hello")]),
        )
        client.create_service(
            parent=f"projects/{PROJECT}/locations/{REGION}", service_id=f"svc-{i:04d}", service=service
        ).result(timeout=60)

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(create, range(services)))


def sweep_once(url: str, concurrency: int, operation_delay: float, labeled: int) -> dict[str, Any]:
    from shared import clients
    from shared.config import Config
    from shared.decision_log import DecisionLog
    from shared.flow_sweep import sweep

    requests.post(f"{url}/_emulator/faults", json={"operationDelay": operation_delay}, timeout=30).raise_for_status()
    since = mark(url)
    config = Config.from_env(
        {
            "RUNWAY_API_ENDPOINT": url,
            "RUNWAY_PROJECT": PROJECT,
            "RUNWAY_URL_MAP": URL_MAP,
            "RUNWAY_REGIONS": REGION,
            "RUNWAY_SECURITY_POLICY": "runway-edge",
            "RUNWAY_URL_MAP_MAX_BYTES": "1048576",
        }
    )
    started = time.perf_counter()
    result = sweep(
        config=config,
        log=DecisionLog(function="bench", stream=io.StringIO()),
        run=clients.run_services(url),
        compute=clients.compute(url),
        concurrency=concurrency,
    )
    elapsed = time.perf_counter() - started
    calls = [c for c in api_calls(url, since) if not c["path"].startswith("/v2/entries")]
    published = result.counts().get("route_registered", 0)
    if published != labeled or result.failures:
        raise RuntimeError(f"the sweep published {published} of {labeled} services; failures: {result.failures}")
    return {
        "concurrency": concurrency,
        "seconds": elapsed,
        "published": published,
        "writes": sum(1 for c in calls if c["write"] and c["status"] < 400),
        "calls": len(calls),
    }


def measure(services: int, labeled: int, operation_delay: float, concurrency: int) -> dict[str, Any]:
    from emulator import EmulatorServer

    runs = []
    with EmulatorServer() as server:
        for workers in (1, concurrency):
            setup(server.url, services, labeled)
            runs.append(sweep_once(server.url, workers, operation_delay, labeled))
    serial, parallel = runs
    return {
        "services": services,
        "labeled": labeled,
        "operation_delay_s": operation_delay,
        "cpus": os.cpu_count(),
        "serial": serial,
        "parallel": parallel,
        "ratio": parallel["seconds"] / serial["seconds"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.backfill", description=__doc__.split("\n\n")[0])
    parser.add_argument("--services", type=int, default=500)
    parser.add_argument("--labeled", type=int, default=100, help="how many of them to publish (default 100)")
    parser.add_argument("--operation-delay", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, default=8, help="the sweep's (default 8, as reconcile_all)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not 0 < args.labeled <= args.services:
        parser.error("--labeled must be between 1 and --services")
    result = measure(args.services, args.labeled, args.operation_delay, args.concurrency)
    met = result["ratio"] <= 0.25
    if args.json:
        print(json.dumps({**result, "met": met}, indent=2))
    else:
        print(
            f"backfill: {result['services']} services, {result['labeled']} to publish, operationDelay "
            f"{result['operation_delay_s']} s, {result['cpus']} CPUs"
        )
        for run in (result["serial"], result["parallel"]):
            label = "one change at a time" if run["concurrency"] == 1 else f"{run['concurrency']} services at a time"
            print(
                f"  {label:<24} {run['seconds']:8.1f} s  {run['writes']:5d} writes  {run['calls']:6d} calls  "
                f"{run['published']} published"
            )
        print(f"  parallel / serial = {result['ratio']:.3f}  [{'met' if met else 'NOT MET'}: <= 0.25]")
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
