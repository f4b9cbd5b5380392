"""The Admin Activity audit entry of a Cloud Run write, shaped like the captures (docs/google-apis.md §2.4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from google.cloud.logging import DESCENDING

from emulator import EmulatorServer
from emulator.audit import AdminActivity
from shared.clients import logging_client

PROJECT = "example-proj"


def replace_service(**overrides: Any) -> AdminActivity:
    fields: dict[str, Any] = {
        "project": PROJECT,
        "region": "us-central1",
        "service": "hello",
        "method_name": "google.cloud.run.v1.Services.ReplaceService",
        "resource_name": f"namespaces/{PROJECT}/services/hello",
        "permission": "run.services.update",
        "principal": "dev@example.com",
        "request": {"@type": "type.googleapis.com/google.cloud.run.v1.ReplaceServiceRequest", "region": "us-central1"},
        "response": {"@type": "type.googleapis.com/google.cloud.run.v1.Service", "kind": "Service"},
        "caller_ip": "203.0.113.7",
        "user_agent": "google-cloud-sdk gcloud/530.0.0 command/gcloud.run.services.update",
    }
    fields.update(overrides)
    return AdminActivity(**fields)


def _parse(text: str) -> datetime:
    head, _, fraction = text.rstrip("Z").partition(".")
    return datetime.fromisoformat(head).replace(tzinfo=UTC) + timedelta(microseconds=int(fraction[:6].ljust(6, "0")))


def test_audit_entry_has_the_captured_shape(emulator: EmulatorServer) -> None:
    before = datetime.now(UTC)
    entry = emulator.emulator.logging.append_audit_entry(replace_service())
    after = datetime.now(UTC)
    assert list(entry) == [
        "protoPayload",
        "insertId",
        "resource",
        "timestamp",
        "severity",
        "logName",
        "receiveTimestamp",
    ]
    payload = entry["protoPayload"]
    metadata = payload.pop("requestMetadata")
    assert payload == {
        "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
        "status": {},
        "authenticationInfo": {"principalEmail": "dev@example.com"},
        "serviceName": "run.googleapis.com",
        "methodName": "google.cloud.run.v1.Services.ReplaceService",
        "authorizationInfo": [
            {
                "resource": f"namespaces/{PROJECT}/services/hello",
                "permission": "run.services.update",
                "granted": True,
                "resourceAttributes": {},
            }
        ],
        "resourceName": f"namespaces/{PROJECT}/services/hello",
        "request": {"@type": "type.googleapis.com/google.cloud.run.v1.ReplaceServiceRequest", "region": "us-central1"},
        "response": {"@type": "type.googleapis.com/google.cloud.run.v1.Service", "kind": "Service"},
        "resourceLocation": {"currentLocations": ["us-central1"]},
    }
    assert metadata["callerIp"] == "203.0.113.7"
    assert metadata["callerSuppliedUserAgent"] == (
        "google-cloud-sdk gcloud/530.0.0 command/gcloud.run.services.update,gzip(gfe)"
    )
    assert metadata["requestAttributes"]["auth"] == {} and metadata["destinationAttributes"] == {}
    assert entry["resource"] == {
        "type": "cloud_run_revision",
        "labels": {
            "project_id": PROJECT,
            "location": "us-central1",
            "service_name": "hello",
            "revision_name": "",
            "configuration_name": "",
        },
    }
    assert entry["logName"] == f"projects/{PROJECT}/logs/cloudaudit.googleapis.com%2Factivity"
    assert entry["severity"] == "NOTICE"
    assert len(entry["insertId"]) == 12 and entry["insertId"].isalnum() and entry["insertId"].islower()
    timestamp, received = _parse(entry["timestamp"]), _parse(entry["receiveTimestamp"])
    assert len(entry["timestamp"].split(".")[1]) == 7  # six digits and the Z
    assert len(entry["receiveTimestamp"].split(".")[1]) == 10  # nine digits and the Z
    # Dated when written (no time given), never before; received no earlier; the request made then.
    assert before <= timestamp <= received <= after + timedelta(microseconds=1)
    assert _parse(metadata["requestAttributes"]["time"]) == timestamp


def test_failed_write_is_error_and_operation_is_kept(emulator: EmulatorServer) -> None:
    operation = {"id": "projects/p/locations/us-central1/operations/1", "producer": "run.googleapis.com", "first": True}
    entry = emulator.emulator.logging.append_audit_entry(
        replace_service(status={"code": 10, "message": "Conflict for resource 'hello'"}, operation=operation)
    )
    assert entry["severity"] == "ERROR"
    assert entry["protoPayload"]["status"] == {"code": 10, "message": "Conflict for resource 'hello'"}
    assert entry["operation"] == operation
    assert list(entry)[-2:] == ["operation", "receiveTimestamp"]


def test_audit_entries_are_queryable(emulator: EmulatorServer) -> None:
    emu = emulator.emulator
    emu.record_admin_activity(replace_service())
    emu.record_admin_activity(
        replace_service(
            method_name="google.cloud.run.v2.Services.CreateService",
            resource_name=f"projects/{PROJECT}/locations/europe-west1/services/other",
            region="europe-west1",
            service="other",
            permission="run.services.create",
        )
    )
    client = logging_client(PROJECT, emulator.url)
    found = list(
        client.list_entries(
            filter_='logName:"cloudaudit.googleapis.com%2Factivity" AND '
            'protoPayload.methodName="google.cloud.run.v1.Services.ReplaceService"',
            order_by=DESCENDING,
        )
    )
    assert [e.payload["resourceName"] for e in found] == [f"namespaces/{PROJECT}/services/hello"]
    assert found[0].resource.type == "cloud_run_revision"
    regional = client.list_entries(filter_='resource.labels.location="europe-west1" AND severity=NOTICE')
    assert [e.payload["methodName"] for e in regional] == ["google.cloud.run.v2.Services.CreateService"]
    by_log_id = client.list_entries(filter_='log_id("cloudaudit.googleapis.com/activity")')
    assert len(list(by_log_id)) == 2


def test_a_v2_write_logs_a_first_and_a_last_entry(emulator: EmulatorServer) -> None:
    """Cloud Run's long-running methods "usually generate two audit log entries" (docs/google-apis.md §2.2)."""
    from google.cloud import run_v2

    from shared.clients import run_services

    run = run_services(emulator.url)
    service = run_v2.Service(template=run_v2.RevisionTemplate(containers=[run_v2.Container(image="hello")]))
    op = run.create_service(parent=f"projects/{PROJECT}/locations/us-central1", service=service, service_id="two")
    op.result(timeout=5)
    client = logging_client(PROJECT, emulator.url)
    entries = list(client.list_entries(filter_=f'operation.id="{op.operation.name}"'))
    assert [e.operation for e in entries] == [
        {"id": op.operation.name, "producer": "run.googleapis.com", "first": True},
        {"id": op.operation.name, "producer": "run.googleapis.com", "last": True},
    ]  # in time order: the first is dated when the write was accepted, the last when it completed
    [last] = client.list_entries(filter_="operation.last=true")
    assert last.insert_id == entries[1].insert_id
    assert last.payload["response"]["name"] == f"projects/{PROJECT}/locations/us-central1/services/two"
    assert last.payload["methodName"] == "google.cloud.run.v2.Services.CreateService"
