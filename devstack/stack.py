"""The whole local system in one object: emulator, functions, triggers and the shared load balancer."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from emulator import EmulatorServer, Settings

from .bootstrap import LoadBalancer, create_load_balancer, create_triggers
from .functions import FunctionProcess
from .gcloud import gcloud_env
from .log_agent import LogAgent
from .org import Org, OrgSetup, create_org

EVENT_FUNCTIONS = ("enforce_ingress", "sync_routes")
# Requests one instance serves at once, as infra/ deploys them (infra/README.md, Sizing): one instance of each here.
CONCURRENCY = {"enforce_ingress": "20", "sync_routes": "80", "reconcile_all": "1"}
STOP_GRACE = 10.0  # seconds the functions get to finish what they are doing before they are killed
HTTP_FUNCTIONS = ("reconcile_all",)


class LocalStack:
    """Start with `with LocalStack(...) as stack:`; everything started is stopped on exit."""

    def __init__(
        self,
        *,
        project: str = "runway-demo",
        region: str = "us-central1",
        regions: tuple[str, ...] = ("us-central1", "europe-west1"),
        env: Mapping[str, str] | None = None,
        functions: tuple[str, ...] = EVENT_FUNCTIONS + HTTP_FUNCTIONS,
        emulator_port: int = 0,
        echo: IO[str] | None = None,
        installations: Mapping[str, Mapping[str, str]] | None = None,
        org: Org | None = None,
    ) -> None:
        self.project = project
        self.region = region
        self.regions = regions
        self.server = EmulatorServer(
            port=emulator_port, settings=Settings(default_project=project, default_region=region)
        )
        self._extra_env = dict(env or {})
        self._function_names = functions
        # More runway installations on the same project and load balancer: owner id -> extra environment. Each
        # runs its own sync_routes (as `sync_routes@<owner>`), fed by its own triggers.
        self._installations = dict(installations or {})
        self._echo = echo
        self.functions: dict[str, FunctionProcess] = {}
        self._agents: list[LogAgent] = []
        self.load_balancer: LoadBalancer | None = None
        # Organization mode (devstack/org.py, infra/org.tf): the projects under an organization, the events of all
        # of them through a sink, a topic and Pub/Sub triggers, and RUNWAY_SCOPE the organization or the folder.
        self.org = org
        self.org_setup: OrgSetup | None = None

    @property
    def url(self) -> str:
        return self.server.url

    def function_env(self) -> dict[str, str]:
        """The configuration each function runs with, as infra sets it (docs/design.md §5)."""
        env = {
            "RUNWAY_API_ENDPOINT": self.url,
            "RUNWAY_URL_MAP": "runway-lb",
            "RUNWAY_PROJECT": self.project,
            "RUNWAY_SECURITY_POLICY": "runway-edge",
            "RUNWAY_REGIONS": ",".join(self.regions),
            "RUNWAY_HOSTS": '{"default": ["*"], "shop": ["shop.example.com", "www.shop.example.com"]}',
        }
        if self.org is not None:
            env["RUNWAY_SCOPE"] = self.org.runway_scope
        env.update(self._extra_env)
        return env

    def identity(self, function: str) -> str:
        """The service account a function runs as (infra/ makes one per function): its calls carry it, so the
        emulator's IAM checks them and its call log and audit entries name it."""
        return f"{function.replace('_', '-').replace('@', '-')}@{self.project}.iam.gserviceaccount.com"

    def start(self) -> LocalStack:
        self.server.start()
        try:
            env = self.function_env()
            for name in self._function_names:
                agent = LogAgent(self.url, self.project, self.region, name.replace("_", "-"))
                agent.echo = self._echo
                self._agents.append(agent)
                identity = {"RUNWAY_API_PRINCIPAL": self.identity(name), "THREADS": CONCURRENCY[name]}
                self.functions[name] = FunctionProcess(name, {**env, **identity}, agent)
            for owner, extra in self._installations.items():
                name = f"sync_routes@{owner}"
                agent = LogAgent(self.url, self.project, self.region, f"sync-routes-{owner}")
                self._agents.append(agent)
                own = {"RUNWAY_OWNER_ID": owner, "RUNWAY_API_PRINCIPAL": self.identity(name), "THREADS": "80", **extra}
                self.functions[name] = FunctionProcess("sync_routes", {**env, **own}, agent)
            for fn in self.functions.values():
                fn.start()
            self.bootstrap()
        except BaseException:
            self.stop()
            raise
        return self

    def bootstrap(self) -> None:
        """Triggers and load balancer (organization mode: the hierarchy, the topic, the sink and the Pub/Sub
        triggers instead of the audit-log triggers); also what `reset` re-creates."""
        self.load_balancer = create_load_balancer(self.url, self.project)
        if self.org is not None:
            destinations = {n: fn.url for n, fn in self.functions.items() if n.partition("@")[0] in EVENT_FUNCTIONS}
            self.org_setup = create_org(self.url, self.project, self.region, self.org, destinations)
            return
        for name, fn in self.functions.items():
            function, _, owner = name.partition("@")
            if function in EVENT_FUNCTIONS:
                create_triggers(self.url, self.project, function, fn.url, installation=owner or None)

    def reset(self) -> None:
        """Back to a freshly bootstrapped stack: no services, no routes, empty logs."""
        self.server.emulator.reset()
        self.bootstrap()

    def drain(self, timeout: float = 30.0) -> None:
        """Wait until every event the emulator owes a trigger has been delivered and answered."""
        if not self.server.emulator.eventarc.drain(timeout=timeout):
            raise TimeoutError(f"event deliveries still pending after {timeout} s")

    def settle(self, timeout: float = 60.0, quiet: float = 0.3) -> None:
        """Every event delivered and answered, including those that runway's own writes caused, and every line
        the functions wrote meanwhile shipped to Logging (so a test may assert that a decision is absent)."""
        for _ in range(10):
            self.drain(timeout)
            time.sleep(quiet)  # a write made while answering may still be turning into an event
            if self.server.emulator.eventarc.drain(timeout=0):
                break
        else:
            raise TimeoutError("events kept coming: the system did not settle")
        deadline = time.monotonic() + timeout
        while any(agent.quiet_for() < quiet for agent in self._agents):
            if time.monotonic() > deadline:
                raise TimeoutError("the functions kept writing: their logs did not settle")
            time.sleep(0.05)

    def gcloud_env(self, config_dir: Path, principal: str = "gcloud-user@example.com") -> dict[str, str]:
        """What a user exports to point the real gcloud CLI at this stack's emulator."""
        return gcloud_env(self.url, config_dir, project=self.project, region=self.region, principal=principal)

    def stop(self) -> None:
        # No new event deliveries; then every function at once, finishing what it is doing against a still running
        # emulator (stopping the emulator first would leave them waiting on it); then the emulator.
        self.server.emulator.eventarc.close()
        for fn in self.functions.values():
            fn.terminate()
        deadline = time.monotonic() + STOP_GRACE  # one grace period for all of them, not one each
        for fn in self.functions.values():
            fn.stop(grace=max(0.0, deadline - time.monotonic()))
        self.functions.clear()
        self._agents.clear()
        self.server.stop()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
