"""Helpers for the organization-scale tests (sinks, Pub/Sub, Pub/Sub triggers): real clients over HTTP and a seeded
resource hierarchy.

    organizations/123456789012
    ├── folders/1001 "platform"
    │   └── folders/1002 "web"
    │       └── web-prod          (two folders down)
    ├── folders/2001 "data"
    │   └── data-prod             (a sibling folder's project)
    └── hub-proj                  (holds the topic the organization's entries go to)
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from google.auth.credentials import AnonymousCredentials
from google.cloud import run_v2
from googleapiclient.discovery import build

from emulator import EmulatorServer
from shared import clients

ORG = "organizations/123456789012"
PLATFORM, WEB, DATA = "folders/1001", "folders/1002", "folders/2001"
WEB_PROD, DATA_PROD, HUB = "web-prod", "data-prod", "hub-proj"
REGION = "us-central1"
TOPIC = f"projects/{HUB}/topics/org-audit"
READER = f"projects/{HUB}/subscriptions/org-audit-reader"
ORG_WRITER = "serviceAccount:service-org-123456789012@gcp-sa-logging.iam.gserviceaccount.com"
ACTIVITY = 'log_id("cloudaudit.googleapis.com/activity")'


@dataclass(frozen=True)
class Received:
    attributes: dict[str, str]
    entry: dict[str, Any]
    message_id: str


def api(emulator: EmulatorServer, name: str, version: str) -> Any:
    return build(
        name,
        version,
        credentials=AnonymousCredentials(),
        static_discovery=True,
        client_options={"api_endpoint": emulator.url},
        cache_discovery=False,
    )


def seed(emulator: EmulatorServer) -> None:
    rm = emulator.emulator.resource_manager
    org = rm.add_org(ORG.split("/")[1], "example.com")
    platform = rm.add_folder(org.name, "platform", folder_id=PLATFORM.split("/")[1])
    web = rm.add_folder(platform.name, "web", folder_id=WEB.split("/")[1])
    data = rm.add_folder(org.name, "data", folder_id=DATA.split("/")[1])
    rm.add_project(WEB_PROD, parent=web.name)
    rm.add_project(DATA_PROD, parent=data.name)
    rm.add_project(HUB, parent=org.name)


def topic_with_reader(ps: Any, topic: str = TOPIC, reader: str = READER) -> None:
    ps.projects().topics().create(name=topic, body={}).execute()
    ps.projects().subscriptions().create(name=reader, body={"topic": topic}).execute()


def read(ps: Any, reader: str = READER) -> list[Received]:
    """Everything the pull subscription holds, acknowledged; each message's data parsed as the LogEntry it is."""
    found: list[Received] = []
    while True:
        pulled = ps.projects().subscriptions().pull(subscription=reader, body={"maxMessages": 100}).execute()
        messages = pulled.get("receivedMessages", [])
        if not messages:
            return found
        for item in messages:
            message = item["message"]
            entry = json.loads(base64.b64decode(message["data"]))
            found.append(Received(message.get("attributes", {}), entry, message["messageId"]))
        ack_ids = [item["ackId"] for item in messages]
        ps.projects().subscriptions().acknowledge(subscription=reader, body={"ackIds": ack_ids}).execute()


def create_service(emulator: EmulatorServer, project: str, service: str = "hello") -> str:
    """A Cloud Run v2 create with google-cloud-run: two Admin Activity entries in `project` (first and last)."""
    client = clients.run_services(emulator.url)
    client.create_service(
        parent=f"projects/{project}/locations/{REGION}",
        service_id=service,
        service=run_v2.Service(template=run_v2.RevisionTemplate(containers=[run_v2.Container(image="hello")])),
    ).result()
    return f"projects/{project}/locations/{REGION}/services/{service}"


def delete_service(emulator: EmulatorServer, name: str) -> None:
    clients.run_services(emulator.url).delete_service(name=name).result()
