"""The v2 view of stored services and operations (the canonical one; v1 is derived in `v1.py`)."""

from __future__ import annotations

import copy
from typing import Any

from ..clock import monotonic, rfc3339
from . import rules
from .knative import to_v1
from .model import LATEST, REVISION
from .record import UNSPECIFIED_INGRESS, Operation, ServiceRecord

SERVICE_TYPE = "type.googleapis.com/google.cloud.run.v2.Service"
V1_SERVICE_TYPE = "type.googleapis.com/google.cloud.run.v1.Service"


def render_service(record: ServiceRecord, at: float | None = None) -> dict[str, Any]:
    """The v2 Service as production prints it at `at` (now if None): enums as names, int64 as strings, output
    fields filled; `ingress` the observed one, omitted (proto3 JSON) while `INGRESS_TRAFFIC_UNSPECIFIED`."""
    ready = record.ready(at)
    spec = copy.deepcopy(record.spec)
    out: dict[str, Any] = {"name": record.name, "uid": record.uid, "generation": str(record.generation)}
    for key in ("labels", "annotations"):
        if spec.get(key):
            out[key] = spec.pop(key)
        spec.pop(key, None)
    out["createTime"] = rfc3339(record.create_time)
    out["updateTime"] = rfc3339(record.update_time)
    if record.delete_time is not None:
        out["deleteTime"] = rfc3339(record.delete_time)
    out["creator"] = record.creator
    out["lastModifier"] = record.last_modifier
    out.update(spec)
    ingress = record.serving_ingress(at)
    if ingress == UNSPECIFIED_INGRESS:
        out.pop("ingress", None)
    else:
        out["ingress"] = ingress
    observed_generation = record.observed_generation(at)
    if observed_generation:
        out["observedGeneration"] = str(observed_generation)
    if record.delete_time is None:
        out.update(_conditions(record, at))
    revisions = f"{record.name}/revisions/"
    latest_ready = record.latest_ready_revision(at)
    if latest_ready:
        out["latestReadyRevision"] = revisions + latest_ready
    out["latestCreatedRevision"] = revisions + record.latest_created_revision
    out["trafficStatuses"] = _traffic_statuses(record)
    out["uri"] = rules.service_uri(record.project, record.region, record.service_id)
    out["urls"] = rules.service_urls(record.project, record.region, record.service_id)
    if not ready:
        out["reconciling"] = True
    out["etag"] = rules.version_token(record.version)
    return out


def _conditions(record: ServiceRecord, at: float | None) -> dict[str, Any]:
    """`terminalCondition` Ready and the two subconditions: succeeded once the current rollout completed, pending
    before any has (a new service), reconciling while a later one runs."""
    if record.ready(at):
        state = "CONDITION_SUCCEEDED"
    else:
        state = "CONDITION_PENDING" if record.observed(at) is None else "CONDITION_RECONCILING"
    since = rfc3339(record.since(at))
    return {
        "terminalCondition": {"type": "Ready", "state": state, "lastTransitionTime": since},
        "conditions": [
            {"type": kind, "state": state, "lastTransitionTime": since}
            for kind in ("RoutesReady", "ConfigurationsReady")
        ],
    }


def _traffic_statuses(record: ServiceRecord) -> list[dict[str, Any]]:
    statuses = []
    for target in record.spec.get("traffic") or []:
        status: dict[str, Any] = {"type": target.get("type") or (REVISION if target.get("revision") else LATEST)}
        for key in ("revision", "percent", "tag"):
            if target.get(key):
                status[key] = target[key]
        if target.get("tag"):
            host = rules.service_uri(record.project, record.region, record.service_id).removeprefix("https://")
            status["uri"] = f"https://{target['tag']}---{host}"
        statuses.append(status)
    return statuses


def render_operation(op: Operation, *, force_done: bool = False, version: str = "v2") -> dict[str, Any]:
    """A google.longrunning.Operation. The python client registers Service as both metadata and response type
    for Create, Update and Delete (docs/google-apis.md §1.1), so both carry the service; `done` is omitted while false,
    as proto3 JSON does. Read through v1, the service is the v1 object: gcloud's `WaitService` decodes
    `operation.response` as a v1 Service (googlecloudsdk command_lib/run/serverless_operations.py)."""
    at = monotonic()
    done = force_done or op.done(at)
    # A finished operation shows the service as that write left it, reconciled.
    view_at = max(at, op.done_at) if done else at
    if version == "v1":
        service = {"@type": V1_SERVICE_TYPE, **to_v1(op.snapshot, view_at)}
    else:
        service = {"@type": SERVICE_TYPE, **render_service(op.snapshot, view_at)}
    out: dict[str, Any] = {"name": op.name, "metadata": copy.deepcopy(service)}
    if done:
        out["done"] = True
        out["response"] = service
    return out
