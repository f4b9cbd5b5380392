"""Cold start of one ingress event in a fresh process, next to a do-nothing CloudEvent function.

`python -m bench.cold_start [--runs 5] [--json]`

Each run spawns a fresh interpreter that imports functions-framework, creates the app for the target
(`functions_framework.create_app`, which loads the source file) and hands one binary CloudEvent to it through
Flask's test client, as the platform's first request after a cold start would. The parent times spawn → the
child's "done" line; the child reports its own phases and its peak RSS (VmHWM). After that, and outside the
timed part, the child handles a second event of the same kind: what a warm instance pays, for comparison.
See bench/README.md for how to read the output.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "runway-demo"
REGION = "us-central1"
BENCH_PRINCIPAL = "runway-bench@example.com"
CHILD_TIMEOUT_S = 120.0  # a child stuck on an unreachable emulator must not hang the benchmark

Event = tuple[dict[str, str], str]  # a binary CloudEvent: headers, body

# What runs in the child. Kept as source text for `python -c` rather than a module of this package, so the
# child imports nothing but what it measures (importing bench.cold_start would add argparse, requests...).
CHILD = r"""
import time
t0 = time.perf_counter()
import json, sys
spec = json.loads(sys.stdin.read())
t1 = time.perf_counter()
import functions_framework
t2 = time.perf_counter()
app = functions_framework.create_app(spec["target"], spec["source"])
t3 = time.perf_counter()
modules_before = list(sys.modules)
client = app.test_client()
first, second = spec["events"]
response = client.post("/", data=first["body"].encode(), headers=first["headers"])
t4 = time.perf_counter()
# Peak RSS from VmHWM, not getrusage: subprocess spawns with vfork, and Linux carries the parent's ru_maxrss
# across exec, so every child would report this benchmark's own (emulator-sized) peak instead of its own.
import re
with open("/proc/self/status") as proc:
    hwm_kb = int(re.search(r"VmHWM:\s+(\d+) kB", proc.read()).group(1))
before = set(modules_before)
report = {
    "bench": "done",
    "status": response.status_code,
    "import_ff_s": t2 - t1,
    "create_app_s": t3 - t2,
    "request_s": t4 - t3,
    "in_child_s": t4 - t0,
    "modules": len(sys.modules),
    "modules_in_request": sum(1 for name in sys.modules if name not in before),
    "hwm_kb": hwm_kb,
    "compute_v1_imported": "google.cloud.compute_v1" in sys.modules,
}
print(json.dumps(report), flush=True)
# Untimed by the parent: the same kind of event again, now that imports and clients are in place.
t5 = time.perf_counter()
warm = client.post("/", data=second["body"].encode(), headers=second["headers"])
t6 = time.perf_counter()
print(json.dumps({"bench": "warm", "status": warm.status_code, "warm_request_s": t6 - t5}), flush=True)
"""


@dataclass(frozen=True)
class Target:
    label: str
    function: str
    source: Path


RUNWAY = Target("runway enforce_ingress", "enforce_ingress", ROOT / "main.py")
HELLO = Target("hello (cloud_event)", "hello", ROOT / "bench" / "hello_main.py")


@dataclass
class Run:
    """One fresh process: the parent's wall time plus what the child reported about itself."""

    wall_s: float
    import_ff_s: float
    create_app_s: float
    request_s: float
    warm_request_s: float
    in_child_s: float
    peak_rss_mb: float
    modules: int
    modules_in_request: int
    statuses: tuple[int, int]
    compute_v1_imported: bool
    decisions: tuple[str, ...]


@dataclass
class Summary:
    target: str
    runs: list[Run] = field(default_factory=list)

    def median(self, name: str) -> float:
        return statistics.median(getattr(run, name) for run in self.runs)

    def minimum(self, name: str) -> float:
        return min(getattr(run, name) for run in self.runs)


# --- the event ----------------------------------------------------------------------------------------------


def create_open_service(url: str, name: str) -> None:
    """A service open to all traffic, created with google-cloud-run as a developer would."""
    from google.cloud import run_v2

    from shared import clients

    service = run_v2.Service(
        ingress=run_v2.IngressTraffic.INGRESS_TRAFFIC_ALL,
        template=run_v2.RevisionTemplate(
            containers=[run_v2.Container(image="us-docker.pkg.dev/cloudrun/container/hello")]
        ),
    )
    clients.run_services(url).create_service(
        parent=f"projects/{PROJECT}/locations/{REGION}",
        service_id=name,
        service=service,
        metadata=[("x-emulator-principal", BENCH_PRINCIPAL)],
    ).result(timeout=30)


def create_event(url: str, name: str) -> Event:
    """Create a service and return the binary CloudEvent (headers, body) Eventarc makes of its audit entry."""
    from emulator.eventarc.cloudevent import binary_request

    create_open_service(url, name)
    resource = f"projects/{PROJECT}/locations/{REGION}/services/{name}"
    body = {
        "resourceNames": [f"projects/{PROJECT}"],
        "filter": 'logName:"cloudaudit.googleapis.com%2Factivity" AND timestamp>="2000-01-01T00:00:00Z" AND '
        'protoPayload.methodName="google.cloud.run.v2.Services.CreateService"',
        "orderBy": "timestamp desc",
        "pageSize": 1000,
    }
    reply = requests.post(f"{url}/v2/entries:list", json=body, timeout=30)
    reply.raise_for_status()
    entries = [e for e in reply.json().get("entries", []) if e["protoPayload"].get("resourceName") == resource]
    if not entries:
        raise RuntimeError(f"no CreateService audit entry for {resource}")
    headers, data = binary_request(entries[0])
    return headers, data.decode()


def service_ingress(url: str, name: str) -> str:
    from shared import clients

    service = clients.run_services(url).get_service(name=f"projects/{PROJECT}/locations/{REGION}/services/{name}")
    return service.ingress.name


# --- one fresh process --------------------------------------------------------------------------------------


def child_env(url: str) -> dict[str, str]:
    # Only the endpoint: enforce_ingress needs no other RUNWAY_* variable, and a developer's own settings
    # must not leak into the measurement.
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNWAY_")}
    env.update({"RUNWAY_API_ENDPOINT": url, "GOOGLE_CLOUD_PROJECT": PROJECT, "K_SERVICE": "bench"})
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # cached bytecode is what a deployed function runs with
    return env


def run_once(target: Target, env: dict[str, str], first: Event, second: Event) -> Run:
    """Spawn one child; it handles `first` (timed) and then `second` (warm, reported separately)."""
    spec = json.dumps(
        {
            "target": target.function,
            "source": str(target.source),
            "events": [{"headers": headers, "body": body} for headers, body in (first, second)],
        }
    )
    # stderr to a file: a pipe nobody reads before the "done" line could fill up and stall the child.
    with tempfile.TemporaryFile("w+") as stderr:
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD],
            cwd=ROOT,
            env=env,
            text=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
        assert child.stdin is not None and child.stdout is not None
        watchdog = threading.Timer(CHILD_TIMEOUT_S, child.kill)
        watchdog.start()
        child.stdin.write(spec)
        child.stdin.close()
        report: dict[str, Any] = {}
        warm: dict[str, Any] = {}
        decisions: list[str] = []
        wall = 0.0
        for line in child.stdout:
            # Timed at the "done" line, not at exit: interpreter teardown is not part of handling the event.
            seen_at = time.perf_counter()
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if not isinstance(record, dict):
                continue
            if record.get("bench") == "done":
                report = record
                wall = seen_at - started
            elif record.get("bench") == "warm":
                warm = record
            elif record.get("component") == "runway":
                decisions.append(str(record.get("action")))
            elif record.get("bench") == "hello":
                decisions.append("hello")
        child.wait()
        watchdog.cancel()
        if not report or not warm:
            stderr.seek(0)
            raise RuntimeError(f"{target.label}: child exited {child.returncode} without a report:\n{stderr.read()}")
    return Run(
        wall_s=wall,
        import_ff_s=report["import_ff_s"],
        create_app_s=report["create_app_s"],
        request_s=report["request_s"],
        warm_request_s=warm["warm_request_s"],
        in_child_s=report["in_child_s"],
        peak_rss_mb=report["hwm_kb"] / 1024,
        modules=report["modules"],
        modules_in_request=report["modules_in_request"],
        statuses=(report["status"], warm["status"]),
        compute_v1_imported=report["compute_v1_imported"],
        decisions=tuple(decisions),
    )


# --- the benchmark ------------------------------------------------------------------------------------------


def measure(runs: int, warmup: bool = True) -> dict[str, Any]:
    from emulator import EmulatorServer, Settings

    server = EmulatorServer(settings=Settings(default_project=PROJECT, default_region=REGION)).start()
    try:
        env = child_env(server.url)
        # The hello gets real events too (of a service nobody remediates), so both parse the same CloudEvent.
        hello_event = create_event(server.url, "cold-hello")
        summaries = {target: Summary(target.label) for target in (RUNWAY, HELLO)}
        # One unrecorded round first: it writes the .pyc files and warms the page cache, which a deployed
        # function's image already has. Targets alternate so drift in the machine's load hits both alike.
        for index in range(-1 if warmup else 0, runs):
            for target in (RUNWAY, HELLO):
                if target is RUNWAY:
                    # Fresh open services per run, so every event really reads, decides and updates.
                    run_name = f"cold-{index + 1}" if index >= 0 else "cold-warmup"
                    services = [f"{run_name}-a", f"{run_name}-b"]
                    first, second = (create_event(server.url, name) for name in services)
                else:
                    services, first, second = [], hello_event, hello_event
                run = run_once(target, env, first, second)
                check(target, run, server.url, services)
                if index >= 0:
                    summaries[target].runs.append(run)
    finally:
        server.stop()
    return report(summaries, runs)


def check(target: Target, run: Run, url: str, services: list[str]) -> None:
    """A run that did not do the work it is timed for must not be reported."""
    if run.statuses != (200, 200):
        raise RuntimeError(f"{target.label}: the function answered {run.statuses}")
    if target is HELLO:
        if run.decisions != ("hello", "hello"):
            raise RuntimeError(f"{target.label}: the function did not run twice: {run.decisions}")
        return
    if run.decisions != ("ingress_remediated", "ingress_remediated"):
        raise RuntimeError(f"{services}: expected two ingress_remediated decisions, got {run.decisions}")
    for service in services:
        after = service_ingress(url, service)
        if after != "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER":
            raise RuntimeError(f"{service} still has ingress {after} after the run")


def report(summaries: dict[Target, Summary], runs: int) -> dict[str, Any]:
    metrics = ("wall_s", "import_ff_s", "create_app_s", "request_s", "peak_rss_mb")
    targets: dict[str, Any] = {}
    for target, summary in summaries.items():
        targets[target.label] = {
            "median": {m: summary.median(m) for m in metrics},
            "min": {m: summary.minimum(m) for m in metrics},
            "interpreter_start_s": statistics.median(r.wall_s - r.in_child_s for r in summary.runs),
            "warm_request_s": summary.median("warm_request_s"),
            # Within each process: what the first event costs beyond a warm one (lazy imports, building the client).
            "cold_penalty_s": statistics.median(r.request_s - r.warm_request_s for r in summary.runs),
            "modules": summary.runs[-1].modules,
            "modules_in_request": summary.runs[-1].modules_in_request,
            "decisions": sorted({d for r in summary.runs for d in r.decisions}),
            "compute_v1_imported": any(r.compute_v1_imported for r in summary.runs),
            "runs": [asdict(r) for r in summary.runs],
        }
    runway, hello = targets[RUNWAY.label], targets[HELLO.label]
    ratios = {
        "wall_median": runway["median"]["wall_s"] / hello["median"]["wall_s"],
        "wall_min": runway["min"]["wall_s"] / hello["min"]["wall_s"],
        "create_app_median": runway["median"]["create_app_s"] / hello["median"]["create_app_s"],
        "first_request_median": runway["median"]["request_s"] / hello["median"]["request_s"],
        "peak_rss_median": runway["median"]["peak_rss_mb"] / hello["median"]["peak_rss_mb"],
        "warm_request_median": runway["warm_request_s"] / hello["warm_request_s"],
    }
    return {
        "runs": runs,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "targets": targets,
        "ratios": ratios,
    }


def print_table(result: dict[str, Any]) -> None:
    def ms(value: float) -> str:
        milliseconds = value * 1000
        return f"{milliseconds:.1f} ms" if milliseconds < 10 else f"{milliseconds:.0f} ms"

    rows: list[tuple[str, Any]] = [
        ("wall, spawn -> event handled (median)", lambda t: ms(t["median"]["wall_s"])),
        ("wall, spawn -> event handled (min)", lambda t: ms(t["min"]["wall_s"])),
        ("  interpreter start", lambda t: ms(t["interpreter_start_s"])),
        ("  import functions_framework", lambda t: ms(t["median"]["import_ff_s"])),
        ("  create_app (imports main)", lambda t: ms(t["median"]["create_app_s"])),
        ("  first request", lambda t: ms(t["median"]["request_s"])),
        ("    beyond a warm request (same process)", lambda t: ms(t["cold_penalty_s"])),
        ("warm request, same kind of event", lambda t: ms(t["warm_request_s"])),
        ("peak RSS, VmHWM (median)", lambda t: f"{t['median']['peak_rss_mb']:.1f} MB"),
        ("modules loaded (in first request)", lambda t: f"{t['modules']} ({t['modules_in_request']})"),
        ("decision", lambda t: ",".join(t["decisions"])),
        ("google.cloud.compute_v1 imported", lambda t: "yes" if t["compute_v1_imported"] else "no"),
    ]
    labels = list(result["targets"])
    width = max(len(name) for name, _ in rows)
    cell = max(len(label) for label in labels) + 2
    print(
        f"cold start of one event in a fresh process: {result['runs']} runs per target after a warm-up, "
        f"{result['cpus']} CPUs, Python {result['python']}; medians unless marked"
    )
    print(" " * width + "".join(f"{label:>{cell}}" for label in labels))
    for name, render in rows:
        print(f"{name:<{width}}" + "".join(f"{render(result['targets'][label]):>{cell}}" for label in labels))
    print()
    names = {
        "wall_median": "wall (median)",
        "wall_min": "wall (min)",
        "create_app_median": "create_app, imports main",
        "first_request_median": "first request",
        "peak_rss_median": "peak RSS",
        "warm_request_median": "warm request",
    }
    for key, name in names.items():
        print(f"ratio runway/hello, {name + ':':<26} {result['ratios'][key]:6.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cold_start", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per target (default 5)")
    parser.add_argument("--no-warmup", action="store_true", help="record the first round too (cold .pyc/page cache)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    result = measure(args.runs, warmup=not args.no_warmup)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)


if __name__ == "__main__":
    main()
