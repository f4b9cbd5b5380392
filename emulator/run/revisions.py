"""The v1 (Knative) view of revisions: read-only, what `gcloud run revisions list` and `gcloud run services
update` read (the base revision of an update is found by name or by the `client.knative.dev/nonce` label)."""

from __future__ import annotations

from typing import Any

from ..clock import rfc3339
from . import rules
from .knative import API_VERSION, template_to_v1
from .record import ServiceRecord

CREATOR_ANNOTATION = "serving.knative.dev/creator"  # gcloud's DEPLOYED BY column


def revision_to_v1(record: ServiceRecord, index: int, at: float | None = None) -> dict[str, Any]:
    """One revision of a service. Ready once a completed rollout has served it; `Active` while traffic goes to it
    (gcloud's ACTIVE column)."""
    revision = record.revisions[index]
    number = rules.project_number(record.project)
    v1_template = template_to_v1(revision.template, revision.extra)
    labels = {
        **v1_template["metadata"].get("labels", {}),
        rules.LOCATION_LABEL: record.region,
        "serving.knative.dev/service": record.service_id,
        "serving.knative.dev/configuration": record.service_id,
    }
    latest = index == len(record.revisions) - 1
    ready = not latest or record.latest_ready_revision(at) == revision.name
    since = rfc3339(record.since(at) if latest and ready else revision.created)
    conditions = [{"type": "Ready", "status": "True" if ready else "Unknown", "lastTransitionTime": since}]
    if revision.name in record.serving_revisions(at):
        conditions.append({"type": "Active", "status": "True", "lastTransitionTime": since})
    annotations = {**v1_template["metadata"].get("annotations", {}), CREATOR_ANNOTATION: revision.creator}
    return {
        "apiVersion": API_VERSION,
        "kind": "Revision",
        "metadata": {
            "name": revision.name,
            "namespace": number,
            "selfLink": f"/apis/{API_VERSION}/namespaces/{number}/revisions/{revision.name}",
            "generation": 1,
            "creationTimestamp": rfc3339(revision.created),
            "labels": labels,
            "annotations": annotations,
        },
        "spec": v1_template["spec"],
        "status": {"observedGeneration": 1, "conditions": conditions},
    }
