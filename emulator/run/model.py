"""The Cloud Run store: services in one canonical (v2) form, their operations, and the rules of a write.

v2 and v1 are views over this store. A service's user-settable fields are kept as a v2 JSON object (`spec`,
unknown fields included); what only v1 can express (system annotations such as
`run.googleapis.com/cpu-throttling`, unmapped RevisionSpec fields) is kept aside in `v1_extra`, so a gcloud
round trip loses nothing and v2 never shows it.
"""

from __future__ import annotations

import copy
import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..clock import monotonic, now
from ..errors import ApiError, invalid, not_found
from . import rules
from .record import DEFAULT_INGRESS, UNSPECIFIED_INGRESS, Operation, Revision, ServiceRecord

# v2 Service fields the server owns. Clients send them back (the python client re-sends uid, generation,
# etag... of an object it read, docs/google-apis.md §1.4), so they are dropped on input, never rejected.
OUTPUT_ONLY = frozenset(
    {
        "name",
        "uid",
        "generation",
        "createTime",
        "updateTime",
        "deleteTime",
        "expireTime",
        "creator",
        "lastModifier",
        "observedGeneration",
        "terminalCondition",
        "conditions",
        "latestReadyRevision",
        "latestCreatedRevision",
        "trafficStatuses",
        "uri",
        "urls",
        "satisfiesPzs",
        "reconciling",
        "etag",
    }
)

LATEST = "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST"
REVISION = "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION"


def settable(body: dict[str, Any]) -> dict[str, Any]:
    """A v2 Service body without the output-only fields."""
    return {k: copy.deepcopy(v) for k, v in body.items() if k not in OUTPUT_ONLY}


def with_defaults(spec: dict[str, Any], project: str) -> dict[str, Any]:
    """The defaults production fills in on create (and shows under validateOnly)."""
    spec = copy.deepcopy(spec)
    spec.setdefault("ingress", DEFAULT_INGRESS)
    if spec["ingress"] == UNSPECIFIED_INGRESS:
        spec["ingress"] = DEFAULT_INGRESS
    spec.setdefault("launchStage", "GA")
    if not spec.get("traffic"):
        spec["traffic"] = [{"type": LATEST, "percent": 100}]
    template = spec.setdefault("template", {})
    if isinstance(template, dict):
        template.setdefault("maxInstanceRequestConcurrency", 80)
        template.setdefault("timeout", "300s")
        template.setdefault("serviceAccount", f"{rules.project_number(project)}-compute@developer.gserviceaccount.com")
        for container in template.get("containers") or []:
            if isinstance(container, dict):
                container.setdefault("resources", {}).setdefault("limits", {"cpu": "1000m", "memory": "512Mi"})
                container.setdefault("ports", [{"name": "http1", "containerPort": 8080}])
    return spec


def validate_spec(spec: dict[str, Any], where: str = "service") -> None:
    """The v2 rules on user-settable fields; 400 INVALID_ARGUMENT naming the field."""
    rules.check_labels(spec.get("labels"), f"{where}.labels")
    rules.check_annotations(spec.get("annotations"), f"{where}.annotations")
    description = spec.get("description")
    if description is not None and (not isinstance(description, str) or len(description) > rules.MAX_DESCRIPTION_CHARS):
        raise invalid(f"Invalid value at '{where}.description': at most {rules.MAX_DESCRIPTION_CHARS} characters.")
    template = spec.get("template")
    if template is not None and not isinstance(template, dict):
        raise invalid(f"Invalid value at '{where}.template': must be an object.")
    if template:
        rules.check_labels(template.get("labels"), f"{where}.template.labels")
        rules.check_annotations(template.get("annotations"), f"{where}.template.annotations")
    traffic = spec.get("traffic")
    if traffic:
        if not isinstance(traffic, list) or not all(isinstance(t, dict) for t in traffic):
            raise invalid(f"Invalid value at '{where}.traffic': must be a list of traffic targets.")
        total = sum(int(t.get("percent") or 0) for t in traffic)
        if total != 100:
            raise invalid(f"Invalid value at '{where}.traffic': traffic percentages must add up to 100, got {total}.")


@dataclass
class RunStore:
    """All Cloud Run state. Not thread-safe by itself: callers hold the emulator lock."""

    services: dict[tuple[str, str, str], ServiceRecord] = field(default_factory=dict)
    operations: dict[str, Operation] = field(default_factory=dict)
    project_ids: dict[str, str] = field(default_factory=dict)  # fake project number -> project id
    last_version: int = 0

    def clear(self) -> None:
        self.services.clear()
        self.operations.clear()
        self.project_ids.clear()

    def project_id(self, project: str) -> str:
        """Paths may name a project by id or number; the store keys by id. Unknown numbers stay as given."""
        if project.isdigit():
            return self.project_ids.get(project, project)
        self.project_ids.setdefault(rules.project_number(project), project)
        return project

    # -- reads --------------------------------------------------------------------------------------------

    def get(self, project: str, region: str, service_id: str) -> ServiceRecord:
        record = self.services.get((project, region, service_id))
        if record is None:
            raise not_found(
                f"Resource '{service_id}' of kind 'SERVICE' in region '{region}' in project '{project}' does not exist."
            )
        return record

    def find(self, project: str, service_id: str, prefer_region: str) -> ServiceRecord | None:
        """A service by name in any region (v1 calls on the global endpoint name no region)."""
        preferred = self.services.get((project, prefer_region, service_id))
        if preferred is not None:
            return preferred
        matches = [r for r in self.services.values() if r.project == project and r.service_id == service_id]
        return min(matches, key=lambda r: r.region) if matches else None

    def list(self, project: str, region: str | None) -> list[ServiceRecord]:
        found = [r for r in self.services.values() if r.project == project and region in (None, r.region)]
        return sorted(found, key=lambda r: (r.region, r.service_id))

    def list_all(self) -> list[ServiceRecord]:
        return sorted(self.services.values(), key=lambda r: r.key)

    def get_operation(self, project: str, region: str, op_id: str) -> Operation:
        name = f"projects/{project}/locations/{region}/operations/{op_id}"
        op = self.operations.get(name)
        if op is None:
            raise not_found(f"Operation '{name}' not found.")
        return op

    # -- writes -------------------------------------------------------------------------------------------

    def _next_version(self, at: datetime) -> int:
        micros = int(at.timestamp() * 1_000_000)
        self.last_version = max(micros, self.last_version + 1)
        return self.last_version

    def _peek_version(self, at: datetime) -> int:
        return max(int(at.timestamp() * 1_000_000), self.last_version + 1)

    def _new_revision(self, record: ServiceRecord) -> None:
        record.revision_count += 1
        requested = (record.spec.get("template") or {}).get("revision")
        if requested:
            record.latest_created_revision = requested
        else:
            # Production suffixes are three random characters; derived here so a reset replays identically.
            suffix = hashlib.sha256(f"{record.uid}/{record.revision_count}".encode()).hexdigest()
            letters = "".join(chr(ord("a") + int(c, 16) % 26) for c in suffix[:3])
            record.latest_created_revision = f"{record.service_id}-{record.revision_count:05d}-{letters}"
        template = copy.deepcopy(record.spec.get("template") or {})
        extra = copy.deepcopy(_template_extra(record.v1_extra))
        record.revisions.append(
            Revision(record.latest_created_revision, template, extra, record.update_time, record.last_modifier)
        )

    @staticmethod
    def _operation(record: ServiceRecord, kind: str, at: datetime, delay: float | None = None) -> Operation:
        """The write's operation: done when its rollout is (or, for a delete, `delay` from now)."""
        name = f"projects/{record.project}/locations/{record.region}/operations/{uuid.uuid4()}"
        record.operation = name
        if delay is None:
            rollout = record.current_rollout
            done_at, done_time = rollout.done_at, rollout.done_time
        else:
            done_at, done_time = monotonic() + delay, at + timedelta(seconds=delay)
        return Operation(name, record.project, record.region, kind, copy.deepcopy(record), done_at, at, done_time)

    def preview_create(
        self, project: str, region: str, service_id: str, spec: dict[str, Any], v1_extra: dict[str, Any], principal: str
    ) -> tuple[ServiceRecord, Operation]:
        """What a create would store, without storing it (validateOnly, dry runs)."""
        return self._build(project, region, service_id, spec, v1_extra, principal, delay=0.0, store=False)

    def create(
        self,
        project: str,
        region: str,
        service_id: str,
        spec: dict[str, Any],
        v1_extra: dict[str, Any],
        principal: str,
        delay: float,
    ) -> tuple[ServiceRecord, Operation]:
        return self._build(project, region, service_id, spec, v1_extra, principal, delay=delay, store=True)

    def _build(
        self,
        project: str,
        region: str,
        service_id: str,
        spec: dict[str, Any],
        v1_extra: dict[str, Any],
        principal: str,
        *,
        delay: float,
        store: bool,
    ) -> tuple[ServiceRecord, Operation]:
        if (project, region, service_id) in self.services:
            raise ApiError(409, f"Resource '{service_id}' already exists.", status="ALREADY_EXISTS")
        at = now()
        record = ServiceRecord(
            project=project,
            region=region,
            service_id=service_id,
            spec=with_defaults(spec, project),
            v1_extra=copy.deepcopy(v1_extra),
            uid=str(uuid.uuid4()),
            generation=1,
            # A preview must not consume a version: the next real write would skip one.
            version=self._next_version(at) if store else self._peek_version(at),
            create_time=at,
            update_time=at,
            creator=principal,
            last_modifier=principal,
            revision_count=0,
            latest_created_revision="",
        )
        self._new_revision(record)
        record.start_rollout(delay, at, at + timedelta(seconds=delay))
        op = self._operation(record, "create", at)
        if store:
            self.services[record.key] = record
            self.operations[op.name] = op
        return record, op

    def preview_update(
        self,
        record: ServiceRecord,
        spec: dict[str, Any],
        v1_extra: dict[str, Any],
        principal: str,
        *,
        force_new_revision: bool = False,
    ) -> ServiceRecord:
        """The record an update would leave, without storing it."""
        preview = copy.deepcopy(record)
        self._apply_update(preview, spec, v1_extra, principal, 0.0, now(), force_new_revision, store=False)
        return preview

    def update(
        self,
        record: ServiceRecord,
        spec: dict[str, Any],
        v1_extra: dict[str, Any],
        principal: str,
        delay: float,
        *,
        force_new_revision: bool = False,
    ) -> Operation:
        at = now()
        self._apply_update(record, spec, v1_extra, principal, delay, at, force_new_revision, store=True)
        op = self._operation(record, "update", at)
        self.operations[op.name] = op
        return op

    def _apply_update(
        self,
        record: ServiceRecord,
        spec: dict[str, Any],
        v1_extra: dict[str, Any],
        principal: str,
        delay: float,
        at: datetime,
        force_new_revision: bool,
        *,
        store: bool,
    ) -> None:
        spec = with_defaults(spec, record.project)
        template_changed = (spec.get("template"), _template_extra(v1_extra)) != (
            record.spec.get("template"),
            _template_extra(record.v1_extra),
        )
        record.spec = spec
        record.v1_extra = copy.deepcopy(v1_extra)
        record.generation += 1
        record.version = self._next_version(at) if store else self._peek_version(at)
        record.update_time = at
        record.last_modifier = principal
        if template_changed or force_new_revision:
            self._new_revision(record)
        # Every write rolls out, a metadata-only one too: a new generation to observe (README, differences).
        record.start_rollout(delay, at, at + timedelta(seconds=delay))

    def delete(self, record: ServiceRecord, delay: float) -> Operation:
        at = now()
        del self.services[record.key]
        record.delete_time = at
        op = self._operation(record, "delete", at, delay)
        self.operations[op.name] = op
        return op

    def preview_operation(self, preview: ServiceRecord) -> Operation:
        """The (unstored) operation of a previewed update."""
        return self._operation(preview, "update", preview.update_time)

    def preview_delete(self, record: ServiceRecord) -> Operation:
        preview = copy.deepcopy(record)
        preview.delete_time = now()
        return self._operation(preview, "delete", preview.delete_time, 0.0)


def _template_extra(v1_extra: dict[str, Any]) -> Any:
    return {k: v for k, v in v1_extra.items() if k.startswith("template")}
