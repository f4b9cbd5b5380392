"""`make demo`: the whole system on the embedded emulator, as a story a platform engineer can follow.

Every result printed is read back from the emulated APIs (the service, the URL map, the decision log in
Logging), never echoed from what the script asked for.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

PROJECT = "runway-demo"
REGION = "us-central1"


class Story:
    def __init__(self, stack: Any) -> None:
        from shared import clients

        self.stack = stack
        self.run = clients.run_services(stack.url)
        self.compute = clients.compute(stack.url)
        self.logging = clients.logging_client(stack.project, stack.url)
        self.started = datetime.now(UTC) - timedelta(seconds=1)
        self.step_no = 0
        self.problems: list[str] = []

    # -- narration --------------------------------------------------------------------------------------------

    def step(self, title: str) -> None:
        self.step_no += 1
        click.secho(f"\n[{self.step_no}] {title}", bold=True)

    def show(self, text: str) -> None:
        click.echo(f"    {text}")

    def expect(self, ok: bool, what: str) -> None:
        """A check the story depends on: printed, and a failed one fails the demo (exit 1)."""
        click.secho(f"    {'ok' if ok else 'UNEXPECTED'}: {what}", fg="green" if ok else "red")
        if not ok:
            self.problems.append(what)

    # -- acting as users --------------------------------------------------------------------------------------

    def deploy(
        self, name: str, *, labels: dict[str, str] | None = None, ingress: str = "INGRESS_TRAFFIC_ALL", principal: str
    ) -> None:
        from google.cloud import run_v2

        service = run_v2.Service(
            ingress=getattr(run_v2.IngressTraffic, ingress),
            labels=labels or {},
            template=run_v2.RevisionTemplate(containers=[run_v2.Container(image="hello")]),
        )
        self.run.create_service(
            parent=f"projects/{PROJECT}/locations/{REGION}",
            service_id=name,
            service=service,
            metadata=[("x-emulator-principal", principal)],
        ).result(timeout=60)
        self.stack.settle()

    def set_labels(self, name: str, labels: dict[str, str], principal: str) -> None:
        from google.cloud import run_v2
        from google.protobuf import field_mask_pb2

        service = run_v2.Service(name=self.service_name(name), labels=labels)
        self.run.update_service(
            service=service,
            update_mask=field_mask_pb2.FieldMask(paths=["labels"]),
            metadata=[("x-emulator-principal", principal)],
        ).result(timeout=60)
        self.stack.settle()

    def gcloud_relabel(self, name: str, label: str) -> str:
        """The v1 API path, as most users change labels: with the real gcloud where it is installed."""
        gcloud = shutil.which("gcloud")
        if gcloud:
            from devstack.gcloud import gcloud_process_env

            config_dir = Path(tempfile.mkdtemp(prefix="runway-demo-gcloud-"))
            env = gcloud_process_env(
                self.stack.url, config_dir, project=PROJECT, region=REGION, principal="dana@example.com"
            )
            command = [
                gcloud,
                "run",
                "services",
                "update",
                name,
                "--region",
                REGION,
                "--update-labels",
                label,
                "--quiet",
            ]
            self.show("$ " + " ".join(["gcloud", *command[1:]]))
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180, check=False)
            shutil.rmtree(config_dir, ignore_errors=True)
            if done.returncode != 0:
                self.expect(False, f"gcloud exited {done.returncode}: {done.stderr.strip()[-300:]}")
            how = "gcloud (v1 ReplaceService)"
        else:
            from google.auth.credentials import AnonymousCredentials
            from googleapiclient.discovery import build  # type: ignore[import-untyped]

            self.show("gcloud is not installed: replacing the service through the v1 API directly")
            v1 = build(
                "run",
                "v1",
                credentials=AnonymousCredentials(),
                static_discovery=True,
                client_options={"api_endpoint": self.stack.url},
                cache_discovery=False,
            )
            path = f"namespaces/{PROJECT}/services/{name}"
            body = v1.namespaces().services().get(name=path).execute()
            key, value = label.split("=", 1)
            body["metadata"].setdefault("labels", {})[key] = value
            v1.namespaces().services().replaceService(name=path, body=body).execute()
            how = "the v1 API (ReplaceService)"
        self.stack.settle()
        return how

    # -- reading back -----------------------------------------------------------------------------------------

    def service_name(self, name: str) -> str:
        return f"projects/{PROJECT}/locations/{REGION}/services/{name}"

    def ingress(self, name: str) -> str:
        return self.run.get_service(name=self.service_name(name)).ingress.name

    def decisions(self, function: str, service: str) -> list[dict[str, Any]]:
        from cli.report_read import fetch_decisions

        for _ in range(50):  # the log agent ships function output asynchronously
            found = [
                d
                for d in fetch_decisions(self.logging, PROJECT, self.started)
                if d.get("function") == function and d.get("service") == self.service_name(service)
            ]
            if found:
                return found
            time.sleep(0.1)
        return []

    def routes(self) -> list[Any]:
        from cli.routes_view import read_routes

        return read_routes(self.compute, PROJECT, "runway-lb")[0]

    def routes_of(self, service: str) -> list[tuple[str, str]]:
        return sorted((r.host, r.path) for r in self.routes() if r.service == f"{PROJECT}/{service}")

    def owned_objects(self) -> tuple[list[str], list[str]]:
        from shared.api_compute import list_backend_services, list_negs, owned

        backends = sorted(b["name"] for b in owned(list_backend_services(self.compute, PROJECT), "runway"))
        negs = sorted(n["name"] for n in owned(list_negs(self.compute, PROJECT, self.stack.regions), "runway"))
        return backends, negs


def play(story: Story) -> None:
    s = story
    s.step("A developer deploys `hello` open to all traffic (ingress ALL), with the v2 API")
    s.deploy("hello", principal="alice@example.com")
    ingress = s.ingress("hello")
    s.show(f"hello's ingress now: {ingress}")
    s.expect(
        ingress == "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER",
        "enforce_ingress set it to internal-and-cloud-load-balancing",
    )
    for d in s.decisions("enforce_ingress", "hello")[:1]:
        s.show(
            f"decision log: {d['action']} {d.get('before')} -> {d.get('after')}, principal {d.get('principal')}, "
            f"{d.get('seconds_to_remediate')} s after the change"
        )

    s.step("`catalog` is deployed with the label public-route=true")
    s.deploy("catalog", labels={"public-route": "true"}, principal="bob@example.com")
    routes = s.routes_of("catalog")
    s.show(f"routes of catalog on the shared URL map: {routes}")
    s.expect(routes == [("*", "/catalog"), ("*", "/catalog/*")], "catalog is published at /catalog and /catalog/*")

    s.step("`storefront` asks for the `shop` host alias: public-route=store, public-host=shop")
    s.deploy("storefront", labels={"public-route": "store", "public-host": "shop"}, principal="carol@example.com")
    routes = s.routes_of("storefront")
    s.show(f"routes of storefront: {routes}")
    s.expect(
        {h for h, _ in routes} == {"shop.example.com", "www.shop.example.com"}
        and {p for _, p in routes} == {"/store", "/store/*"},
        "storefront is on the shop hosts at /store",
    )

    _play_changes(s)


def _play_changes(s: Story) -> None:
    """The second half of the story: a relabel, a conflict, an unlabel, then the sweep."""
    s.step("A developer renames catalog's route to `products` with gcloud")
    how = s.gcloud_relabel("catalog", "public-route=products")
    routes = s.routes_of("catalog")
    s.show(f"relabelled through {how}; routes of catalog now: {routes}")
    s.expect(routes == [("*", "/products"), ("*", "/products/*")], "the route moved to /products")
    updated = [d for d in s.decisions("sync_routes", "catalog") if d["action"] == "route_updated"]
    if updated:
        s.show(f"decision log: route_updated by {updated[-1].get('principal')} ({updated[-1].get('method')})")

    s.step("`intruder` claims the path /products that catalog holds")
    s.deploy("intruder", labels={"public-route": "products"}, principal="mallory@example.com")
    conflicts = [d for d in s.decisions("sync_routes", "intruder") if d["action"] == "route_conflict"]
    s.expect(bool(conflicts) and s.routes_of("intruder") == [], "intruder got no route")
    if conflicts:
        s.show(f"decision log: route_conflict, holder {conflicts[0].get('holder')}: {conflicts[0].get('message')}")
    s.expect(s.routes_of("catalog") == [("*", "/products"), ("*", "/products/*")], "catalog kept /products")

    s.step("storefront's public-route label is removed")
    before = s.owned_objects()
    s.set_labels("storefront", {}, principal="carol@example.com")
    after = s.owned_objects()
    s.show(
        f"runway-owned backend services: {len(before[0])} -> {len(after[0])}; NEGs: {len(before[1])} -> {len(after[1])}"
    )
    s.expect(
        s.routes_of("storefront") == [] and len(after[0]) == len(before[0]) - 1,
        "its routes, backend service and NEG are gone",
    )

    s.step("The scheduled sweep (reconcile_all) runs over every service and region")
    import requests

    reply = requests.post(s.stack.functions["reconcile_all"].url, json={}, timeout=120)
    body = reply.json()
    s.show(f"HTTP {reply.status_code}: {body['services']} services, changes: {body['changes'] or 'none'}")
    s.expect(reply.status_code == 200 and body["changes"] == [], "the sweep found nothing left to do")


def run_demo(*, keep_going: bool = False) -> int:
    from cli import routes_view
    from cli.report_format import format_table
    from cli.report_summary import summarize
    from devstack.stack import LocalStack

    click.secho(
        "runway demo: the emulator stands in for Google Cloud; the three functions run as "
        "functions-framework servers, fed by the emulator's Eventarc.",
        bold=True,
    )
    started = time.monotonic()
    with LocalStack(project=PROJECT, region=REGION) as stack:
        click.echo(
            f"Local stack up in {time.monotonic() - started:.1f} s at {stack.url}: triggers for "
            f"enforce_ingress and sync_routes, URL map runway-lb, Cloud Armor policy runway-edge."
        )
        story = Story(stack)
        play(story)

        click.secho("\nRouting table (python main.py routes), read from the URL map:", bold=True)
        rows, default = routes_view.read_routes(story.compute, PROJECT, "runway-lb")
        click.echo(routes_view.as_table(rows, default))

        click.secho("\nReport (python main.py report), read from the decision log in Logging:", bold=True)
        from cli.report_read import fetch_decisions

        until = datetime.now(UTC) + timedelta(seconds=1)
        time.sleep(0.5)  # the last decision lines are still being shipped by the log agent
        summary = summarize(
            fetch_decisions(story.logging, PROJECT, story.started, until),
            since=story.started,
            until=until,
            project=PROJECT,
        )
        click.echo(format_table(summary))
        if keep_going:
            click.echo(f"\nStack still up at {stack.url}; Ctrl-C to stop.")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
    if story.problems:
        click.secho(f"\nDemo finished with {len(story.problems)} unexpected result(s).", fg="red", bold=True)
        return 1
    click.secho(f"\nDemo finished in {time.monotonic() - started:.1f} s; everything stopped.", fg="green", bold=True)
    return 0


if __name__ == "__main__":
    sys.exit(run_demo())
