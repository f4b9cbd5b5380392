"""Translation between the stored (v2) service and the v1 Knative object gcloud reads and writes.

What maps both ways: ingress (`run.googleapis.com/ingress` ↔ `ingress`, docs/google-apis.md §1.2), labels, user
annotations, client name/version, launch stage, traffic, and the revision template basics (revision name,
containers, volumes, concurrency, timeout, service account, min/max scale, execution environment). Other system
labels and annotations and unmapped RevisionSpec fields are kept v1-only (`ServiceRecord.v1_extra`).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from ..clock import rfc3339
from ..errors import invalid
from . import rules
from .enums import enum_name
from .model import LATEST, REVISION
from .record import DEFAULT_INGRESS, UNSPECIFIED_INGRESS, ServiceRecord

API_VERSION = "serving.knative.dev/v1"
KIND = "Service"

INGRESS_ANNOTATION = "run.googleapis.com/ingress"
INGRESS_STATUS_ANNOTATION = "run.googleapis.com/ingress-status"
OPERATION_ANNOTATION = "run.googleapis.com/operation-id"
INGRESS_TO_V2 = {
    "all": "INGRESS_TRAFFIC_ALL",
    "internal": "INGRESS_TRAFFIC_INTERNAL_ONLY",
    "internal-and-cloud-load-balancing": "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER",
    "none": "INGRESS_TRAFFIC_NONE",
}
INGRESS_TO_V1 = {v: k for k, v in INGRESS_TO_V2.items()}

# Service annotations that are v2 fields.
_FIELD_ANNOTATIONS = {
    "run.googleapis.com/client-name": "client",
    "run.googleapis.com/client-version": "clientVersion",
}
LAUNCH_STAGE_ANNOTATION = "run.googleapis.com/launch-stage"
# Annotations the server writes; a client sending them back does not set them.
_OUTPUT_ANNOTATIONS = frozenset(
    {
        INGRESS_STATUS_ANNOTATION,
        OPERATION_ANNOTATION,
        "serving.knative.dev/creator",
        "serving.knative.dev/lastModifier",
        "run.googleapis.com/urls",
        "run.googleapis.com/satisfiesPzs",
    }
)
MIN_SCALE = "autoscaling.knative.dev/minScale"
MAX_SCALE = "autoscaling.knative.dev/maxScale"
EXECUTION_ENVIRONMENT = "run.googleapis.com/execution-environment"
_EXECUTION_ENVIRONMENTS = {"gen1": "EXECUTION_ENVIRONMENT_GEN1", "gen2": "EXECUTION_ENVIRONMENT_GEN2"}

# v2 fields a v1 write expresses (and so replaces); every other stored field survives a v1 replace.
V1_SERVICE_FIELDS = frozenset(
    {"labels", "annotations", "ingress", "client", "clientVersion", "launchStage", "template", "traffic"}
)
V1_TEMPLATE_FIELDS = frozenset(
    {
        "revision",
        "labels",
        "annotations",
        "scaling",
        "executionEnvironment",
        "maxInstanceRequestConcurrency",
        "timeout",
        "serviceAccount",
        "containers",
        "volumes",
    }
)


def _split_system(values: dict[str, Any], *, labels: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    """(user entries, v1-only entries). Prefixed label keys are Knative's, never Resource Manager labels: gcloud
    puts `client.knative.dev/nonce` in the template labels."""
    system = {k: v for k, v in values.items() if rules.reserved_namespace(k) or (labels and "/" in k)}
    return {k: v for k, v in values.items() if k not in system}, system


def _map(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid(f"Invalid value at '{where}': expected an object.")
    return dict(value)


def location_label(body: dict[str, Any]) -> str | None:
    labels = (body.get("metadata") or {}).get("labels") or {}
    value = labels.get(rules.LOCATION_LABEL) if isinstance(labels, dict) else None
    return value if isinstance(value, str) and value else None


def from_v1(body: dict[str, Any], current: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The stored spec and v1-only extras a v1 Service body asks for (a full replacement of what v1 expresses)."""
    if body.get("apiVersion") not in (None, API_VERSION) or body.get("kind") not in (None, KIND):
        raise invalid(f"Expected apiVersion '{API_VERSION}' and kind '{KIND}'.")
    meta = _map(body.get("metadata"), "metadata")
    extra: dict[str, Any] = {}
    spec = {k: copy.deepcopy(v) for k, v in (current or {}).items() if k not in V1_SERVICE_FIELDS}

    labels = _map(meta.get("labels"), "metadata.labels")
    labels.pop(rules.LOCATION_LABEL, None)  # the region, shown in v1 views; not a user label
    labels, extra["labels"] = _split_system(labels, labels=True)
    if labels:
        spec["labels"] = rules.check_labels(labels, "metadata.labels", reject_reserved=False)

    annotations = _map(meta.get("annotations"), "metadata.annotations")
    ingress = annotations.pop(INGRESS_ANNOTATION, None)
    if ingress is None:
        spec["ingress"] = DEFAULT_INGRESS
    elif ingress in INGRESS_TO_V2:
        spec["ingress"] = INGRESS_TO_V2[ingress]
    else:
        raise invalid(
            f"Invalid value at 'metadata.annotations[{INGRESS_ANNOTATION}]': '{ingress}'. Expected one of: "
            f"{', '.join(INGRESS_TO_V2)}."
        )
    for key, field in _FIELD_ANNOTATIONS.items():
        if annotations.get(key):
            spec[field] = annotations.pop(key)
    stage = annotations.pop(LAUNCH_STAGE_ANNOTATION, None)
    if stage:
        spec["launchStage"] = enum_name("LaunchStage", stage, f"metadata.annotations[{LAUNCH_STAGE_ANNOTATION}]")
    for key in _OUTPUT_ANNOTATIONS:
        annotations.pop(key, None)
    annotations, extra["annotations"] = _split_system(annotations)
    if annotations:
        spec["annotations"] = rules.check_annotations(annotations, "metadata.annotations", reject_reserved=False)

    v1_spec = _map(body.get("spec"), "spec")
    template, template_extra = _template_from_v1(
        _map(v1_spec.get("template"), "spec.template"), (current or {}).get("template") or {}
    )
    spec["template"] = template
    extra.update(template_extra)
    traffic = v1_spec.get("traffic")
    if traffic:
        spec["traffic"] = [_traffic_from_v1(t, i) for i, t in enumerate(traffic)]
    return spec, {k: v for k, v in extra.items() if v}


def _template_from_v1(template: dict[str, Any], current: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    meta = _map(template.get("metadata"), "spec.template.metadata")
    rev_spec = _map(template.get("spec"), "spec.template.spec")
    out = {k: copy.deepcopy(v) for k, v in current.items() if k not in V1_TEMPLATE_FIELDS}
    extra: dict[str, Any] = {}
    if meta.get("name"):
        out["revision"] = meta["name"]
    labels, extra["template_labels"] = _split_system(
        _map(meta.get("labels"), "spec.template.metadata.labels"), labels=True
    )
    if labels:
        out["labels"] = rules.check_labels(labels, "spec.template.metadata.labels", reject_reserved=False)
    annotations = _map(meta.get("annotations"), "spec.template.metadata.annotations")
    scaling = {
        k: v for k, v in (current.get("scaling") or {}).items() if k not in ("minInstanceCount", "maxInstanceCount")
    }
    for key, field in ((MIN_SCALE, "minInstanceCount"), (MAX_SCALE, "maxInstanceCount")):
        if key in annotations:
            scaling[field] = _int(annotations.pop(key), f"spec.template.metadata.annotations[{key}]")
    if scaling:
        out["scaling"] = scaling
    environment = annotations.pop(EXECUTION_ENVIRONMENT, None)
    if environment:
        if environment not in _EXECUTION_ENVIRONMENTS:
            raise invalid(
                f"Invalid value at 'spec.template.metadata.annotations[{EXECUTION_ENVIRONMENT}]': "
                f"'{environment}'. Expected gen1 or gen2."
            )
        out["executionEnvironment"] = _EXECUTION_ENVIRONMENTS[environment]
    annotations, extra["template_annotations"] = _split_system(annotations)
    if annotations:
        out["annotations"] = rules.check_annotations(
            annotations, "spec.template.metadata.annotations", reject_reserved=False
        )
    if "containerConcurrency" in rev_spec:
        out["maxInstanceRequestConcurrency"] = _int(
            rev_spec.pop("containerConcurrency"), "spec.template.spec.containerConcurrency"
        )
    if "timeoutSeconds" in rev_spec:
        out["timeout"] = f"{_int(rev_spec.pop('timeoutSeconds'), 'spec.template.spec.timeoutSeconds')}s"
    if rev_spec.get("serviceAccountName"):
        out["serviceAccount"] = rev_spec.pop("serviceAccountName")
    for key in ("containers", "volumes"):
        if rev_spec.get(key):
            out[key] = copy.deepcopy(rev_spec.pop(key))
    extra["template_spec"] = {k: v for k, v in rev_spec.items() if k != "serviceAccountName"}
    return out, extra


def _traffic_from_v1(target: Any, index: int) -> dict[str, Any]:
    if not isinstance(target, dict):
        raise invalid(f"Invalid value at 'spec.traffic[{index}]': expected an object.")
    out: dict[str, Any] = {"type": LATEST if target.get("latestRevision") else REVISION}
    if target.get("revisionName"):
        out["revision"] = target["revisionName"]
    for key in ("percent", "tag"):
        if target.get(key) is not None:
            out[key] = target[key]
    return out


def _int(value: Any, where: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise invalid(f"Invalid value at '{where}': '{value}' is not an integer.") from exc


def _seconds(duration: Any) -> int | None:
    if isinstance(duration, str) and duration.endswith("s"):
        try:
            return int(float(duration[:-1]))
        except ValueError:
            return None
    return None


def self_link(number: str, service_id: str) -> str:
    return f"/apis/{API_VERSION}/namespaces/{number}/services/{service_id}"


def to_v1(record: ServiceRecord, at: float | None = None, *, with_status: bool = True) -> dict[str, Any]:
    """The v1 Knative object of a stored service."""
    spec, extra = record.spec, record.v1_extra
    number = rules.project_number(record.project)
    labels = {rules.LOCATION_LABEL: record.region, **extra.get("labels", {}), **spec.get("labels", {})}
    annotations: dict[str, Any] = {**spec.get("annotations", {}), **extra.get("annotations", {})}
    for key, field in _FIELD_ANNOTATIONS.items():
        if spec.get(field):
            annotations[key] = spec[field]
    if spec.get("launchStage") not in (None, "GA", "LAUNCH_STAGE_UNSPECIFIED"):
        annotations[LAUNCH_STAGE_ANNOTATION] = spec["launchStage"]
    annotations["serving.knative.dev/creator"] = record.creator
    annotations["serving.knative.dev/lastModifier"] = record.last_modifier
    annotations[INGRESS_ANNOTATION] = INGRESS_TO_V1.get(spec.get("ingress", DEFAULT_INGRESS), "all")
    observed = record.serving_ingress(at)
    if observed != UNSPECIFIED_INGRESS:  # set by the server once a revision serves
        annotations[INGRESS_STATUS_ANNOTATION] = INGRESS_TO_V1.get(observed, "all")
    if record.operation:
        annotations[OPERATION_ANNOTATION] = record.operation.rsplit("/", 1)[-1]
    urls = rules.service_urls(record.project, record.region, record.service_id)
    annotations["run.googleapis.com/urls"] = json.dumps(urls)
    out: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {
            "name": record.service_id,
            "namespace": number,
            "selfLink": self_link(number, record.service_id),
            "uid": record.uid,
            "resourceVersion": rules.version_token(record.version),
            "generation": record.generation,
            "creationTimestamp": rfc3339(record.create_time),
            "labels": labels,
            "annotations": annotations,
        },
        "spec": {
            "template": template_to_v1(spec.get("template") or {}, extra),
            "traffic": [traffic_to_v1(t) for t in spec.get("traffic") or []],
        },
        "status": _status(record, at) if with_status else {},
    }
    if record.delete_time is not None:
        out["metadata"]["deletionTimestamp"] = rfc3339(record.delete_time)
    return out


def template_to_v1(template: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if template.get("revision"):
        meta["name"] = template["revision"]
    labels = {**extra.get("template_labels", {}), **template.get("labels", {})}
    if labels:
        meta["labels"] = labels
    annotations: dict[str, Any] = {}
    scaling = template.get("scaling") or {}
    for key, field in ((MIN_SCALE, "minInstanceCount"), (MAX_SCALE, "maxInstanceCount")):
        if scaling.get(field) is not None:
            annotations[key] = str(scaling[field])
    environment = {v: k for k, v in _EXECUTION_ENVIRONMENTS.items()}.get(template.get("executionEnvironment", ""))
    if environment:
        annotations[EXECUTION_ENVIRONMENT] = environment
    annotations.update(extra.get("template_annotations", {}))
    annotations.update(template.get("annotations", {}))
    if annotations:
        meta["annotations"] = annotations
    rev_spec: dict[str, Any] = {}
    if template.get("maxInstanceRequestConcurrency") is not None:
        rev_spec["containerConcurrency"] = template["maxInstanceRequestConcurrency"]
    seconds = _seconds(template.get("timeout"))
    if seconds is not None:
        rev_spec["timeoutSeconds"] = seconds
    if template.get("serviceAccount"):
        rev_spec["serviceAccountName"] = template["serviceAccount"]
    for key in ("containers", "volumes"):
        if template.get(key):
            rev_spec[key] = copy.deepcopy(template[key])
    rev_spec.update(copy.deepcopy(extra.get("template_spec", {})))
    return {"metadata": meta, "spec": rev_spec}


def traffic_to_v1(target: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if target.get("revision"):
        out["revisionName"] = target["revision"]
    if target.get("percent") is not None:
        out["percent"] = target["percent"]
    if target.get("type", LATEST if not target.get("revision") else REVISION) == LATEST:
        out["latestRevision"] = True
    if target.get("tag"):
        out["tag"] = target["tag"]
    return out


def _status(record: ServiceRecord, at: float | None) -> dict[str, Any]:
    since = rfc3339(record.since(at))
    state = "True" if record.ready(at) else "Unknown"
    uri = rules.service_uri(record.project, record.region, record.service_id)
    latest_ready = record.latest_ready_revision(at)
    status: dict[str, Any] = {}
    if record.observed_generation(at):  # follows the rollouts: gcloud waits for it to equal metadata.generation
        status["observedGeneration"] = record.observed_generation(at)
    status["conditions"] = [
        {"type": kind, "status": state, "lastTransitionTime": since}
        for kind in ("Ready", "ConfigurationsReady", "RoutesReady")
    ]
    if latest_ready:
        status["latestReadyRevisionName"] = latest_ready
    status["latestCreatedRevisionName"] = record.latest_created_revision
    traffic = []
    for target in record.spec.get("traffic") or []:
        entry = traffic_to_v1(target)
        if entry.get("latestRevision") and latest_ready:
            entry["revisionName"] = latest_ready
        if target.get("tag"):
            entry["url"] = f"https://{target['tag']}---{uri.removeprefix('https://')}"
        traffic.append(entry)
    status["traffic"] = traffic
    status["url"] = uri
    status["address"] = {"url": uri}
    return status
