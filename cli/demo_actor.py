"""The demo's actor: acts as developers do (the v2 API, gcloud) and reads outcomes back from the emulated APIs."""

from __future__ import annotations

import shutil
import subprocess
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
        from shared.config import Config

        self.stack = stack
        self.config = Config.from_env(stack.function_env())
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
        self,
        name: str,
        *,
        labels: dict[str, str] | None = None,
        ingress: str = "INGRESS_TRAFFIC_ALL",
        principal: str,
        public: bool = False,
        project: str = PROJECT,
    ) -> None:
        """Deploy with the v2 API; `public`: anyone may invoke it (gcloud's `--no-invoker-iam-check`)."""
        from google.cloud import run_v2

        service = run_v2.Service(
            ingress=getattr(run_v2.IngressTraffic, ingress),
            labels=labels or {},
            invoker_iam_disabled=public,
            template=run_v2.RevisionTemplate(containers=[run_v2.Container(image="hello")]),
        )
        self.run.create_service(
            parent=f"projects/{project}/locations/{REGION}",
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

    def allow_all_users(self, name: str, principal: str) -> None:
        """What the owner of a service does to let the load balancer's unauthenticated requests in."""
        from google.iam.v1 import iam_policy_pb2, policy_pb2  # type: ignore[import-untyped]

        policy = policy_pb2.Policy(bindings=[policy_pb2.Binding(role="roles/run.invoker", members=["allUsers"])])
        self.run.set_iam_policy(
            request=iam_policy_pb2.SetIamPolicyRequest(resource=self.service_name(name), policy=policy),
            metadata=[("x-emulator-principal", principal)],
        )
        self.stack.settle()

    def status(self, name: str, project: str = PROJECT) -> tuple[str | None, dict[str, Any]]:
        """The route status runway wrote on the service: its label and its annotation (JSON)."""
        import json

        service = self.run.get_service(name=self.service_name(name, project))
        raw = service.annotations.get("runway.dev/route-status")
        return service.labels.get("runway-route"), json.loads(raw) if raw else {}

    def explain(self, name: str) -> Any:
        from cli.explain_checks import explain
        from cli.explain_read import observe
        from shared.model import ServiceRef

        return explain(observe(self.config, ServiceRef(PROJECT, name), (REGION,), now=datetime.now(UTC)))

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

    def service_name(self, name: str, project: str = PROJECT) -> str:
        return f"projects/{project}/locations/{REGION}/services/{name}"

    def ingress(self, name: str, project: str = PROJECT) -> str:
        return self.run.get_service(name=self.service_name(name, project)).ingress.name

    def decisions(self, function: str, service: str, project: str = PROJECT) -> list[dict[str, Any]]:
        from cli.report_read import fetch_decisions

        for _ in range(50):  # the log agent ships function output asynchronously
            found = [
                d
                for d in fetch_decisions(self.logging, PROJECT, self.started)
                if d.get("function") == function and d.get("service") == self.service_name(service, project)
            ]
            if found:
                return found
            time.sleep(0.1)
        return []

    def routes(self) -> list[Any]:
        from cli.routes_view import read_routes

        return read_routes(self.compute, PROJECT, "runway-lb")[0]

    def routes_of(self, service: str, project: str = PROJECT) -> list[tuple[str, str]]:
        return sorted((r.host, r.path) for r in self.routes() if r.service == f"{project}/{service}")

    def owned_objects(self, project: str = PROJECT) -> tuple[list[str], list[str]]:
        from shared.api_compute import list_backend_services, list_negs, owned

        backends = sorted(b["name"] for b in owned(list_backend_services(self.compute, project), "runway"))
        negs = sorted(n["name"] for n in owned(list_negs(self.compute, project, self.stack.regions), "runway"))
        return backends, negs
