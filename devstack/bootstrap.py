"""Create, against the emulator, what `infra/` creates in production: the Eventarc triggers that feed the
functions, and the shared load balancer's Terraform-owned parts (Cloud Armor policy, default backend, URL map).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared import clients
from shared.methods import EVENT_TYPE, METHODS_BY_FUNCTION, SERVICE_NAME


@dataclass(frozen=True)
class LoadBalancer:
    project: str
    url_map: str
    default_backend: str
    security_policy: str


def _eventarc(endpoint: str) -> Any:
    from google.auth.credentials import AnonymousCredentials
    from googleapiclient.discovery import build

    return build(
        "eventarc",
        "v1",
        credentials=AnonymousCredentials(),
        static_discovery=True,
        client_options={"api_endpoint": endpoint},
        cache_discovery=False,
    )


def trigger_id(function: str, method: str, installation: str | None = None) -> str:
    """`enforce-ingress-v1-replaceservice`: one trigger per function and audit-log method, as infra makes (with
    the installation's owner id after the function's name for a second installation in the same project)."""
    version = method.split(".")[3]
    verb = method.rsplit(".", 1)[1].lower()
    owner = f"-{installation}" if installation else ""
    return f"{function.replace('_', '-')}{owner}-{version}-{verb}"


def create_triggers(
    endpoint: str, project: str, function: str, uri: str, *, installation: str | None = None
) -> list[str]:
    """One global audit-log trigger per method name the function handles, delivering to `uri`."""
    triggers = _eventarc(endpoint).projects().locations().triggers()
    parent = f"projects/{project}/locations/global"
    names = []
    for method in sorted(METHODS_BY_FUNCTION[function]):
        tid = trigger_id(function, method, installation)
        body = {
            "eventFilters": [
                {"attribute": "type", "value": EVENT_TYPE},
                {"attribute": "serviceName", "value": SERVICE_NAME},
                {"attribute": "methodName", "value": method},
            ],
            "destination": {"httpEndpoint": {"uri": uri}},
            "serviceAccount": f"runway-trigger@{project}.iam.gserviceaccount.com",
        }
        triggers.create(parent=parent, triggerId=tid, body=body).execute()
        names.append(f"{parent}/triggers/{tid}")
    return names


def create_load_balancer(
    endpoint: str, project: str, url_map: str = "runway-lb", security_policy: str = "runway-edge"
) -> LoadBalancer:
    """The Terraform-owned half of the shared ALB: a Cloud Armor policy, a default backend and the URL map."""
    from google.cloud import compute_v1

    compute = clients.compute(endpoint)
    buckets = clients.compute_client(compute_v1.BackendBucketsClient, endpoint)
    default_backend = "runway-default-404"
    compute.security_policies.insert(
        project=project,
        security_policy_resource=compute_v1.SecurityPolicy(
            name=security_policy,
            description="Cloud Armor policy runway attaches to every backend it makes",
        ),
    ).result()
    buckets.insert(
        project=project,
        backend_bucket_resource=compute_v1.BackendBucket(
            name=default_backend,
            bucket_name=f"{project}-lb-default",
            description="answers what no route matches",
        ),
    ).result()
    compute.url_maps.insert(
        project=project,
        url_map_resource=compute_v1.UrlMap(
            name=url_map,
            default_service=f"projects/{project}/global/backendBuckets/{default_backend}",
            description="shared ALB; host rules and path matchers are runway's (infra ignores changes to them)",
        ),
    ).result()
    return LoadBalancer(project, url_map, default_backend, security_policy)
