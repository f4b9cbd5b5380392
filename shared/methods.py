"""The audit-log method names runway handles: the one source of truth (infra's triggers are tested against it).

gcloud and the console call the v1 (Knative) API, the client libraries and Terraform call v2, so both
sets are handled (docs/google-apis.md §2.1).
"""

from __future__ import annotations

SERVICE_NAME = "run.googleapis.com"
EVENT_TYPE = "google.cloud.audit.log.v1.written"
# An organization's or folder's audit entries arrive through a log sink's Pub/Sub topic (docs/google-apis.md §9.5).
PUBSUB_EVENT_TYPE = "google.cloud.pubsub.topic.v1.messagePublished"

V1_CREATE = "google.cloud.run.v1.Services.CreateService"
V1_REPLACE = "google.cloud.run.v1.Services.ReplaceService"
V1_DELETE = "google.cloud.run.v1.Services.DeleteService"
V2_CREATE = "google.cloud.run.v2.Services.CreateService"
V2_UPDATE = "google.cloud.run.v2.Services.UpdateService"
V2_DELETE = "google.cloud.run.v2.Services.DeleteService"
# Who may invoke a service changes its route status (reachable or not), not its ingress.
V1_SET_IAM = "google.cloud.run.v1.Services.SetIamPolicy"
V2_SET_IAM = "google.cloud.run.v2.Services.SetIamPolicy"

# method name -> (API version, verb)
HANDLED: dict[str, tuple[str, str]] = {
    V1_CREATE: ("v1", "create"),
    V1_REPLACE: ("v1", "update"),
    V1_DELETE: ("v1", "delete"),
    V2_CREATE: ("v2", "create"),
    V2_UPDATE: ("v2", "update"),
    V2_DELETE: ("v2", "delete"),
    V1_SET_IAM: ("v1", "iam"),
    V2_SET_IAM: ("v2", "iam"),
}

HANDLED_METHODS: frozenset[str] = frozenset(HANDLED)
# What each event function is triggered by (infra/ makes one trigger per method and function).
INGRESS_METHODS: frozenset[str] = frozenset({V1_CREATE, V1_REPLACE, V2_CREATE, V2_UPDATE})
ROUTE_METHODS: frozenset[str] = HANDLED_METHODS

# The triggers of each event function (infra/ and the local stack make one per method).
METHODS_BY_FUNCTION: dict[str, frozenset[str]] = {"enforce_ingress": INGRESS_METHODS, "sync_routes": ROUTE_METHODS}
