"""Organization mode for the local stack: what `infra/org.tf` makes, against the emulator.

An organization with folders and projects (`POST /_emulator/hierarchy`), the topic runway's entries go to (in
runway's own project), an aggregated log sink on the organization or a folder with `includeChildren` and the filter
infra renders (Cloud Run's Admin Activity entries of the handled methods), `roles/pubsub.publisher` on the topic for
the sink's writer identity, one Eventarc Pub/Sub trigger per event function instead of the per-project audit-log
triggers, and the Cloud Armor policy in each service project (infra's `service_projects`). Every piece through its
real API; `create_org` returns what it made.

    organizations/123456789012 "example.com"
    ├── runway-demo                 (runway's project: the load balancer, the topic, the functions)
    └── folders/2001 "teams"        (the default scope can also be this folder: Org(scope="2001"))
        ├── team-a
        └── team-b
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from shared import clients
from shared.methods import HANDLED_METHODS, PUBSUB_EVENT_TYPE, SERVICE_NAME

ACTIVITY = 'log_id("cloudaudit.googleapis.com/activity")'
TOPIC_ID = "runway-run-audit"  # infra: "${var.name_prefix}-run-audit"
SINK_ID = "runway-run-audit"


def sink_filter(methods: frozenset[str] = HANDLED_METHODS) -> str:
    """The aggregated sink's filter, as infra/org.tf renders it (`local.sink_filter`)."""
    quoted = " OR ".join(f'"{method}"' for method in sorted(methods))
    return f'{ACTIVITY} AND protoPayload.serviceName="{SERVICE_NAME}" AND protoPayload.methodName=({quoted})'


@dataclass(frozen=True)
class Folder:
    id: str
    name: str
    parent: str = ""  # a folder's id; "": the organization


@dataclass(frozen=True)
class Org:
    """The hierarchy to seed and the scope runway covers (RUNWAY_SCOPE). Ids are given, so the scope is known before
    anything exists (the functions' environment is)."""

    organization: str = "123456789012"
    display_name: str = "example.com"
    folders: tuple[Folder, ...] = (Folder("2001", "teams"),)
    projects: Mapping[str, str] = field(default_factory=lambda: {"team-a": "2001", "team-b": "2001"})  # id -> folder
    scope: str = ""  # a folder's id; "": the organization
    home: str = ""  # the folder runway's own project sits in; "": the organization

    @property
    def organization_name(self) -> str:
        return f"organizations/{self.organization}"

    @property
    def runway_scope(self) -> str:
        """RUNWAY_SCOPE: `organizations/N` or `folders/M`."""
        return f"folders/{self.scope}" if self.scope else self.organization_name

    def parent_of(self, folder: str) -> str:
        return f"folders/{folder}" if folder else self.organization_name


@dataclass(frozen=True)
class OrgSetup:
    """What `create_org` made."""

    organization: str  # organizations/N
    scope: str  # RUNWAY_SCOPE: the sink's parent
    projects: tuple[str, ...]  # the service projects
    topic: str  # projects/P/topics/T
    sink: Mapping[str, Any]  # as Logging answered its create
    writer_identity: str  # serviceAccount:…, publisher on the topic
    triggers: Mapping[str, Mapping[str, Any]]  # destination name -> the Pub/Sub trigger as Eventarc answered
    hierarchy: Mapping[str, Any]  # as the control answered


def _api(endpoint: str, name: str, version: str) -> Any:
    from google.auth.credentials import AnonymousCredentials
    from googleapiclient.discovery import build

    return build(
        name,
        version,
        credentials=AnonymousCredentials(),
        static_discovery=True,
        client_options={"api_endpoint": endpoint},
        cache_discovery=False,
    )


def seed_hierarchy(endpoint: str, project: str, org: Org) -> dict[str, Any]:
    """The organization, its folders and projects, and runway's own project in `org.home`."""
    body = {
        "organizations": [{"id": org.organization, "displayName": org.display_name}],
        "folders": [{"id": f.id, "parent": org.parent_of(f.parent), "displayName": f.name} for f in org.folders],
        "projects": [{"projectId": project, "parent": org.parent_of(org.home)}]
        + [{"projectId": p, "parent": org.parent_of(folder)} for p, folder in org.projects.items()],
    }
    reply = requests.post(f"{endpoint.rstrip('/')}/_emulator/hierarchy", json=body, timeout=30)
    reply.raise_for_status()
    answer: dict[str, Any] = reply.json()
    return answer


def create_org(
    endpoint: str,
    project: str,
    region: str,
    org: Org,
    destinations: Mapping[str, str],
    *,
    security_policy: str = "runway-edge",
) -> OrgSetup:
    """Seed `org` and make infra/org.tf's pieces: topic, sink at `org.runway_scope`, the writer's publisher grant, a
    Pub/Sub trigger per entry of `destinations` (name -> URL: the event functions), and the Cloud Armor policy in
    each service project."""
    hierarchy = seed_hierarchy(endpoint, project, org)
    topic = f"projects/{project}/topics/{TOPIC_ID}"
    pubsub = _api(endpoint, "pubsub", "v1")
    pubsub.projects().topics().create(name=topic, body={"labels": {"managed-by": "runway"}}).execute()

    sinks = _api(endpoint, "logging", "v2")
    sink_body = {
        "name": SINK_ID,
        "destination": f"pubsub.googleapis.com/{topic}",
        "filter": sink_filter(),
        "includeChildren": True,
        "description": "runway: Cloud Run Admin Activity entries of the scope's projects, to runway's Pub/Sub triggers",
    }
    parent = org.runway_scope
    collection = sinks.folders() if parent.startswith("folders/") else sinks.organizations()
    sink = collection.sinks().create(parent=parent, body=sink_body).execute()
    writer = str(sink["writerIdentity"])
    grant = {"policy": {"bindings": [{"role": "roles/pubsub.publisher", "members": [writer]}]}}
    pubsub.projects().topics().setIamPolicy(resource=topic, body=grant).execute()

    triggers = _api(endpoint, "eventarc", "v1").projects().locations().triggers()
    made = {}
    for name, uri in destinations.items():
        body = {
            "eventFilters": [{"attribute": "type", "value": PUBSUB_EVENT_TYPE}],
            "transport": {"pubsub": {"topic": topic}},
            "destination": {"httpEndpoint": {"uri": uri}},
            "serviceAccount": f"runway-trigger@{project}.iam.gserviceaccount.com",
        }
        trigger_id = f"{name.replace('_', '-').replace('@', '-')}-pubsub"
        operation = triggers.create(
            parent=f"projects/{project}/locations/{region}", triggerId=trigger_id, body=body
        ).execute()
        made[name] = {k: v for k, v in operation["response"].items() if k != "@type"}

    from google.cloud import compute_v1

    compute = clients.compute(endpoint)
    for service_project in org.projects:
        compute.security_policies.insert(
            project=service_project,
            security_policy_resource=compute_v1.SecurityPolicy(
                name=security_policy, description="Cloud Armor policy runway attaches to every backend it makes"
            ),
        ).result()
    return OrgSetup(
        organization=org.organization_name,
        scope=parent,
        projects=tuple(org.projects),
        topic=topic,
        sink=sink,
        writer_identity=writer,
        triggers=made,
        hierarchy=hierarchy,
    )
