"""A converged sweep of an organization: what one `reconcile_all` costs when there is nothing to do.

`python -m bench.org_sweep [--shapes 10x50,20x50,20x150] [--labeled 5] [--json]`

Against an in-process emulator (no function processes), for each shape PxS it seeds an organization with two
folders, P service projects alternating between them and runway's own project (the load balancer's) under the
organization; S Cloud Run services per project with ingress already internal, `--labeled` of them per project
labeled `public-route=true`, and a Cloud Armor policy of the configured name in each project (what infra's org
mode creates). Then it runs the sweep with `RUNWAY_SCOPE=organizations/N` twice: the first publishes every
labeled service (its NEG and backend service in the service's project, the path rule on the one URL map); the
second finds nothing to do, and that one is measured: its API calls by method, its writes, its wall time.

What it shows: a converged sweep's calls grow with projects (a backend-service list, a NEG list per region, a
services list per region in each) and with pages (Cloud Run lists 100 services a page by default), not with
services. It prints the calls per project and the ratios between shapes measured in the same run, and exits 1
when a converged sweep wrote anything, or when the calls of the shape with three times the services per project
are not within the extra pages of the smaller one (the claim it measures, not a timing).
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import io
import json
import math
import os
import sys
import time
from typing import Any

import requests

from bench.emulator_calls import api_calls, mark

ORG = "424242424242"
FOLDERS = ("7001", "7002")
HUB = "runway-hub"
REGION = "us-central1"
URL_MAP = "runway-lb"
POLICY = "runway-edge"
RUN_PAGE = 100  # the emulator's default page of Cloud Run v2 services.list, which the sweep does not change


def seed(server: Any, projects: int, services: int, labeled: int) -> list[str]:
    """The organization, its folders and projects, a Cloud Armor policy in each, the load balancer, the services."""
    from google.cloud import compute_v1, run_v2

    from devstack.bootstrap import create_load_balancer
    from shared import clients

    url = server.url
    requests.post(f"{url}/_emulator/reset", timeout=30).raise_for_status()
    rm = server.emulator.resource_manager
    org = rm.add_org(ORG, "example.com")
    folders = [rm.add_folder(org.name, f"team-{i}", folder_id=fid) for i, fid in enumerate(FOLDERS)]
    rm.add_project(HUB, org.name)
    names = [f"team-{i:02d}" for i in range(projects)]
    for i, name in enumerate(names):
        rm.add_project(name, folders[i % len(folders)].name)
    create_load_balancer(url, HUB, URL_MAP, POLICY)
    compute = clients.compute(url)
    run = clients.run_services(url)

    def policy(project: str) -> None:
        compute.security_policies.insert(
            project=project, security_policy_resource=compute_v1.SecurityPolicy(name=POLICY)
        ).result()

    def create(job: tuple[str, int]) -> None:
        project, i = job
        service = run_v2.Service(
            labels={"public-route": "true"} if i < labeled else {},
            ingress=run_v2.IngressTraffic.INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER,
            template=run_v2.RevisionTemplate(containers=[run_v2.Container(image="hello")]),
        )
        # Named after their project: the default path is the service's name, and two projects' `svc-000` would
        # claim the same path (the second refused as a conflict).
        name = f"{project}-svc-{i:03d}"
        created = run.create_service(
            parent=f"projects/{project}/locations/{REGION}", service_id=name, service=service
        ).result(timeout=120)
        if i < labeled:  # reachable through the load balancer, so published rather than unreachable
            run.set_iam_policy(
                request={
                    "resource": created.name,
                    "policy": {"bindings": [{"role": "roles/run.invoker", "members": ["allUsers"]}]},
                }
            )

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(policy, names))
        list(pool.map(create, [(p, i) for p in names for i in range(services)]))
    return names


def sweep_once(url: str) -> tuple[Any, float, list[dict[str, Any]]]:
    from shared import clients
    from shared.config import Config
    from shared.decision_log import DecisionLog
    from shared.flow_sweep import sweep

    config = Config.from_env(
        {
            "RUNWAY_API_ENDPOINT": url,
            "RUNWAY_PROJECT": HUB,
            "RUNWAY_SCOPE": f"organizations/{ORG}",
            "RUNWAY_URL_MAP": URL_MAP,
            "RUNWAY_REGIONS": REGION,
            "RUNWAY_SECURITY_POLICY": POLICY,
            "RUNWAY_URL_MAP_MAX_BYTES": "1048576",
        }
    )
    since = mark(url)
    started = time.perf_counter()
    result = sweep(
        config=config,
        log=DecisionLog(function="bench", stream=io.StringIO()),
        run=clients.run_services(url),
        compute=clients.compute(url),
    )
    elapsed = time.perf_counter() - started
    # The decision log's own shipping is not the sweep's work.
    calls = [c for c in api_calls(url, since) if not c["path"].startswith("/v2/entries")]
    return result, elapsed, calls


def _method(call: dict[str, Any]) -> str:
    """`GET compute …/backendServices`: the call's verb and what it names, ids and names left out."""
    parts = call["path"].strip("/").split("/")
    kinds = [p for p in parts if p.isalpha() and p not in ("compute", "projects", "locations", "global")]
    return f"{call['method']} {'/'.join(kinds[-2:]) if kinds else parts[-1]}"


def measure_shape(server: Any, projects: int, services: int, labeled: int) -> dict[str, Any]:
    names = seed(server, projects, services, labeled)
    first, first_s, _ = sweep_once(server.url)
    published = first.counts().get("route_registered", 0)
    if published != projects * labeled or first.failures:
        raise RuntimeError(f"the first sweep published {published} of {projects * labeled}: {first.failures}")
    converged, seconds, calls = sweep_once(server.url)
    return {
        "projects": projects,
        "services_per_project": services,
        "services": projects * services,
        "labeled": projects * labeled,
        "swept_projects": len(names) + 1,  # and runway's own, under the organization too
        "first_sweep_s": first_s,
        "converged_s": seconds,
        "calls": len(calls),
        "writes": sum(1 for c in calls if c["write"]),
        "changes": len(converged.changes) + len(converged.ingress_changes()),
        "failures": len(converged.failures),
        "pages_per_project": math.ceil(services / RUN_PAGE),
        "by_method": dict(collections.Counter(_method(c) for c in calls).most_common()),
    }


def checks(shapes: list[dict[str, Any]]) -> list[tuple[str, bool, str]]:
    found = [
        (
            f"{s['projects']}x{s['services_per_project']}: converged sweep writes nothing",
            s["writes"] == 0,
            str(s["writes"]),
        )
        for s in shapes
    ]
    by_projects: dict[int, list[dict[str, Any]]] = collections.defaultdict(list)
    for s in shapes:
        by_projects[s["projects"]].append(s)
    for group in by_projects.values():
        group.sort(key=lambda s: s["services_per_project"])
        small, big = group[0], group[-1]
        if small is big:
            continue
        extra_pages = (big["pages_per_project"] - small["pages_per_project"]) * big["projects"]
        grew = big["calls"] - small["calls"]
        found.append(
            (
                f"{big['projects']} projects: {small['services_per_project']} -> "
                f"{big['services_per_project']} services each adds only the extra pages ({extra_pages})",
                grew <= extra_pages,
                f"+{grew} calls",
            )
        )
    return found


def print_table(shapes: list[dict[str, Any]]) -> None:
    print(f"converged organization sweep: RUNWAY_SCOPE=organizations/{ORG}, {os.cpu_count()} CPUs, operationDelay 0")
    print(
        f"{'shape':<9}{'services':>9}{'published':>10}{'projects':>9}{'calls':>7}{'calls/project':>14}"
        f"{'calls/service':>14}{'writes':>7}{'converged':>11}{'first sweep':>13}"
    )
    for s in shapes:
        print(
            f"{s['projects']}x{s['services_per_project']:<6}{s['services']:>9}{s['labeled']:>10}{s['swept_projects']:>9}"
            f"{s['calls']:>7}{s['calls'] / s['swept_projects']:>14.2f}{s['calls'] / s['services']:>14.3f}"
            f"{s['writes']:>7}{s['converged_s']:>10.2f}s{s['first_sweep_s']:>12.2f}s"
        )
    print()
    for s in shapes:
        print(f"{s['projects']}x{s['services_per_project']} calls by method: {s['by_method']}")
    print()
    for label, ok, value in checks(shapes):
        print(f"  [{'met' if ok else 'NOT MET'}] {label}: {value}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.org_sweep", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--shapes", default="10x50,20x50,20x150", help="projects x services per project, comma-separated"
    )
    parser.add_argument("--labeled", type=int, default=5, help="services labeled per project (default 5)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    try:
        shapes = [tuple(int(n) for n in shape.split("x")) for shape in args.shapes.split(",")]
    except ValueError:
        parser.error("--shapes: expected PxS[,PxS...], e.g. 20x50")
    from emulator import EmulatorServer

    results = []
    with EmulatorServer() as server:
        for projects, services in shapes:
            results.append(measure_shape(server, projects, services, min(args.labeled, services)))
    if args.json:
        print(json.dumps({"shapes": results, "checks": checks(results)}, indent=2))
    else:
        print_table(results)
    sys.exit(0 if all(ok for _, ok, _ in checks(results)) else 1)


if __name__ == "__main__":
    main()
