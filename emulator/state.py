"""The whole emulator: the shared runtime and every API, with the reset and snapshot of the test controls."""

from __future__ import annotations

from typing import Any, Protocol

from .audit import AdminActivity
from .compute.api import ComputeApi
from .eventarc.api import EventarcApi
from .iam.api import IamApi
from .iam.needs import RunService
from .logging.api import LoggingApi
from .pubsub.api import PubSubApi
from .resourcemanager.api import ResourceManagerApi
from .resourcemanager.hierarchy import Hierarchy
from .run.api import RunApi
from .runtime import Runtime
from .serviceusage.api import ServiceUsageApi
from .settings import Settings, UrlMapLimits


class Api(Protocol):
    """One emulated Google API: state and the test-control hooks (its routes are in its `routes.TABLE`)."""

    name: str

    def reset(self) -> None: ...

    def snapshot(self) -> dict[str, Any]: ...


class Emulator(Runtime):
    """Holds every emulated API over one runtime (settings, lock, faults, call log)."""

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__(settings)
        # Looked up on every write, not bound once: tests replace `record_admin_activity` to capture what is recorded.
        self.run = RunApi(self, lambda activity: self.record_admin_activity(activity))
        self.compute = ComputeApi(self)
        self.logging = LoggingApi(self)
        self.eventarc = EventarcApi(self)
        hierarchy = Hierarchy()
        self.iam = IamApi(self, hierarchy, self._run_service, lambda activity: self.record_admin_activity(activity))
        self.resource_manager = ResourceManagerApi(self, hierarchy, self.iam)
        self.serviceusage = ServiceUsageApi(self)
        self.pubsub = PubSubApi(self)
        self.eventarc.transport.pubsub = self.pubsub
        self.logging.sinks.connect(self.resource_manager, self.pubsub)
        self.apis: list[Api] = [
            self.run,
            self.compute,
            self.logging,
            self.eventarc,
            self.resource_manager,
            self.iam,
            self.serviceusage,
            self.pubsub,
        ]

    def _run_service(self, project: str, region: str | None, name: str) -> RunService | None:
        """What IAM needs of a Cloud Run service (region None: in any region, the default one first)."""
        with self.lock:
            store = self.run.store
            project_id = store.project_ids.get(project, project) if project.isdigit() else project
            if region:
                record = store.services.get((project_id, region, name))
            else:
                record = store.find(project_id, name, self.settings.default_region)
            if record is None:
                return None
            account = (record.spec.get("template") or {}).get("serviceAccount")
            return RunService(uid=record.uid, region=record.region, service_account=account)

    def record_admin_activity(self, activity: AdminActivity) -> None:
        """Write the Admin Activity audit entry of a Cloud Run write and deliver it to matching triggers."""
        entry = self.logging.append_audit_entry(activity)
        self.eventarc.deliver_audit_entry(entry)

    def reset(self) -> None:
        self.scheduler.reset()  # first: nothing scheduled may write after the APIs are emptied
        self.eventarc.drain(timeout=0)
        with self.lock:
            for api in self.apis:
                api.reset()
            self.calls.clear()
            self.faults.clear()
            self.restore_settings()

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {api.name: api.snapshot() for api in self.apis}

    def close(self) -> None:
        self.scheduler.close()
        self.eventarc.close()
        self.pubsub.close()


__all__ = ["Api", "Emulator", "Settings", "UrlMapLimits"]
