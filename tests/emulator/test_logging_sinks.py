"""Log sinks on projects, folders and organizations: CRUD through google-cloud-logging and googleapiclient, writer
identities, and the export of matching entries (audit entries of Cloud Run writes included) to Pub/Sub topics, as
the sink's writer identity, read back through a pull subscription."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from google.api_core import exceptions
from google.cloud.logging_v2.sink import Sink
from googleapiclient.errors import HttpError

from emulator import EmulatorServer
from emulator.run.rules import project_number
from shared import clients
from shared.methods import V2_CREATE, V2_DELETE

from .orgtree import (
    ACTIVITY,
    DATA,
    DATA_PROD,
    HUB,
    ORG,
    ORG_WRITER,
    TOPIC,
    WEB,
    WEB_PROD,
    api,
    create_service,
    delete_service,
    read,
    seed,
    topic_with_reader,
)

DESTINATION = f"pubsub.googleapis.com/{TOPIC}"


@pytest.fixture
def ps(emulator: EmulatorServer) -> Iterator[Any]:
    seed(emulator)
    client = api(emulator, "pubsub", "v1")
    topic_with_reader(client)
    yield client
    client.close()


@pytest.fixture
def logging_v2(emulator: EmulatorServer) -> Iterator[Any]:
    client = api(emulator, "logging", "v2")
    yield client
    client.close()


def create_sink(logging_v2: Any, parent: str, name: str, filter_: str = ACTIVITY, **fields: Any) -> dict[str, Any]:
    resource = getattr(logging_v2, parent.split("/")[0])().sinks()
    body = {"name": name, "destination": DESTINATION, "filter": filter_, **fields}
    return dict(resource.create(parent=parent, body=body).execute())


def error_of(call: Any) -> tuple[int, str]:
    with pytest.raises(HttpError) as caught:
        call.execute()
    return caught.value.resp.status, json.loads(caught.value.content)["error"]["status"]


# ---------------------------------------------------------------------------------------------- CRUD


def test_project_sink_crud_with_google_cloud_logging(emulator: EmulatorServer) -> None:
    client = clients.logging_client(WEB_PROD, emulator.url)
    sink = client.sink("errors", filter_="severity>=ERROR", destination=DESTINATION)
    assert not sink.exists()
    sink.create()
    assert sink.writer_identity == "serviceAccount:cloud-logs@system.gserviceaccount.com"
    unique = client.sink("unique", filter_="severity>=ERROR", destination=DESTINATION)
    unique.create(unique_writer_identity=True)
    agent = f"serviceAccount:service-{project_number(WEB_PROD)}@gcp-sa-logging.iam.gserviceaccount.com"
    assert unique.writer_identity == agent
    with pytest.raises(exceptions.Conflict):
        client.sink("errors", filter_="", destination=DESTINATION).create()

    fetched = client.sink("errors")
    fetched.reload()
    assert (fetched.filter_, fetched.destination) == ("severity>=ERROR", DESTINATION)
    assert [s.name for s in client.list_sinks()] == ["errors", "unique"]
    sink.filter_ = "severity>=WARNING"
    sink.update(unique_writer_identity=True)  # false → true: the project's service agent from now on
    assert sink.writer_identity == agent
    sink.reload()
    assert sink.filter_ == "severity>=WARNING"
    sink.delete()
    assert not sink.exists()
    with pytest.raises(exceptions.NotFound):
        sink.delete()


def test_folder_sink_with_google_cloud_logging(emulator: EmulatorServer, ps: Any) -> None:
    client = clients.logging_client(HUB, emulator.url)
    sink = Sink("data-audit", parent=DATA, filter_=ACTIVITY, destination=DESTINATION, client=client)
    sink.create()  # uniqueWriterIdentity=false: a folder's sinks write as the folder's service agent regardless
    assert sink.writer_identity == "serviceAccount:service-folder-2001@gcp-sa-logging.iam.gserviceaccount.com"
    assert [s.name for s in client.list_sinks(parent=DATA)] == ["data-audit"]
    assert list(client.list_sinks(parent=WEB)) == []


def test_folder_and_organization_sinks_have_their_service_agents(ps: Any, logging_v2: Any) -> None:
    folder = create_sink(logging_v2, WEB, "web-audit", includeChildren=True, description="web")
    assert folder["writerIdentity"] == "serviceAccount:service-folder-1002@gcp-sa-logging.iam.gserviceaccount.com"
    assert folder["includeChildren"] is True and folder["createTime"] == folder["updateTime"]
    org = create_sink(logging_v2, ORG, "org-audit")
    assert org["writerIdentity"] == ORG_WRITER and "includeChildren" not in org
    assert set(org) == {"name", "destination", "filter", "writerIdentity", "createTime", "updateTime"}
    sinks = logging_v2.organizations().sinks()
    assert sinks.get(sinkName=f"{ORG}/sinks/org-audit").execute() == org
    assert sinks.list(parent=ORG).execute() == {"sinks": [org]}
    patched = sinks.patch(
        sinkName=f"{ORG}/sinks/org-audit", updateMask="includeChildren,disabled", body={"includeChildren": True}
    ).execute()
    assert patched["includeChildren"] is True and patched["filter"] == ACTIVITY and "disabled" not in patched
    # No mask: the backwards-compatible one (destination, filter, includeChildren), so includeChildren is cleared.
    updated = sinks.update(sinkName=f"{ORG}/sinks/org-audit", body={"destination": DESTINATION}).execute()
    assert "includeChildren" not in updated and "filter" not in updated
    assert logging_v2.folders().sinks().delete(sinkName=f"{WEB}/sinks/web-audit").execute() == {}
    assert error_of(logging_v2.folders().sinks().get(sinkName=f"{WEB}/sinks/web-audit")) == (404, "NOT_FOUND")


def test_a_sink_into_a_log_bucket_of_its_own_project_has_no_writer_identity(logging_v2: Any) -> None:
    sink = (
        logging_v2.projects()
        .sinks()
        .create(
            parent=f"projects/{WEB_PROD}",
            body={
                "name": "to-bucket",
                "destination": f"logging.googleapis.com/projects/{WEB_PROD}/locations/global/buckets/b",
            },
        )
        .execute()
    )
    assert "writerIdentity" not in sink


@pytest.mark.parametrize(
    ("parent", "body", "status"),
    [
        (ORG, {"name": "bad", "destination": "https://example.com/hook"}, 400),
        (ORG, {"name": "bad", "destination": DESTINATION, "filter": 'severity >= "'}, 400),
        (ORG, {"name": "-bad", "destination": DESTINATION}, 400),
        (ORG, {"name": "bad"}, 400),
        (ORG, {"name": "bad", "destination": DESTINATION, "exclusions": [{"name": "x"}]}, 400),
        ("folders/999", {"name": "bad", "destination": DESTINATION}, 404),
    ],
)
def test_sink_create_refuses_what_logging_refuses(
    ps: Any, logging_v2: Any, parent: str, body: dict[str, Any], status: int
) -> None:
    resource = getattr(logging_v2, parent.split("/")[0])().sinks()
    assert error_of(resource.create(parent=parent, body=body))[0] == status


# ---------------------------------------------------------------------------------------------- export


def test_org_sink_with_include_children_exports_a_cloud_run_write_two_folders_down(
    emulator: EmulatorServer, ps: Any, logging_v2: Any
) -> None:
    create_sink(
        logging_v2,
        ORG,
        "org-audit",
        f'{ACTIVITY} AND protoPayload.serviceName="run.googleapis.com"',
        includeChildren=True,
    )
    create_service(emulator, WEB_PROD)
    received = read(ps)
    assert [r.entry["protoPayload"]["methodName"] for r in received] == [V2_CREATE, V2_CREATE]
    assert {r.entry["logName"] for r in received} == {f"projects/{WEB_PROD}/logs/cloudaudit.googleapis.com%2Factivity"}
    # The data is the LogEntry as entries:list returns it; the attribute is its timestamp.
    listed = logging_v2.entries().list(body={"resourceNames": [f"projects/{WEB_PROD}"], "filter": ACTIVITY}).execute()
    assert sorted((r.entry for r in received), key=lambda e: e["insertId"]) == sorted(
        listed["entries"], key=lambda e: e["insertId"]
    )
    assert all(r.attributes == {"logging.googleapis.com/timestamp": r.entry["timestamp"]} for r in received)
    exports = emulator.emulator.snapshot()["logging"]["sinkExports"]
    assert (exports["published"], exports["refused"]) == (2, 0)


def test_org_sink_without_include_children_sees_only_the_organizations_own_entries(
    emulator: EmulatorServer, ps: Any, logging_v2: Any
) -> None:
    create_sink(logging_v2, ORG, "org-only", "")
    create_service(emulator, WEB_PROD)
    client = clients.logging_client(HUB, emulator.url)
    client.logger("org-log").log_text("at the top")  # a project's entry: not the organization's own
    logging_v2.entries().write(
        body={"entries": [{"logName": f"{ORG}/logs/org-log", "resource": {"type": "global"}, "textPayload": "own"}]}
    ).execute()
    assert [r.entry["textPayload"] for r in read(ps)] == ["own"]


def test_folder_sink_does_not_receive_a_sibling_folders_entries(
    emulator: EmulatorServer, ps: Any, logging_v2: Any
) -> None:
    create_sink(logging_v2, DATA, "data-audit", includeChildren=True)
    create_service(emulator, WEB_PROD)
    assert read(ps) == []
    create_service(emulator, DATA_PROD)
    assert {r.entry["logName"].split("/")[1] for r in read(ps)} == {DATA_PROD}


def test_a_filter_on_method_name_selects(emulator: EmulatorServer, ps: Any, logging_v2: Any) -> None:
    create_sink(
        logging_v2,
        ORG,
        "deletes",
        f'{ACTIVITY} AND protoPayload.methodName="{V2_DELETE}" AND operation.last=true',
        includeChildren=True,
    )
    name = create_service(emulator, WEB_PROD)
    delete_service(emulator, name)
    (received,) = read(ps)
    assert received.entry["protoPayload"]["methodName"] == V2_DELETE
    assert received.entry["protoPayload"]["resourceName"] == name and received.entry["operation"]["last"] is True


def test_project_sink_exports_only_its_own_project(emulator: EmulatorServer, ps: Any) -> None:
    client = clients.logging_client(WEB_PROD, emulator.url)
    client.sink("own", filter_='logName:"app"', destination=DESTINATION).create(unique_writer_identity=True)
    client.logger("app").log_struct({"n": 1}, severity="ERROR")
    clients.logging_client(DATA_PROD, emulator.url).logger("app").log_struct({"n": 2})
    (received,) = read(ps)
    assert received.entry["jsonPayload"] == {"n": 1} and received.entry["severity"] == "ERROR"


def test_an_entry_is_not_exported_when_the_writer_may_not_publish(
    emulator: EmulatorServer, ps: Any, logging_v2: Any
) -> None:
    sink = create_sink(logging_v2, ORG, "org-audit", includeChildren=True)
    other = {"role": "roles/pubsub.publisher", "members": ["serviceAccount:someone@hub-proj.iam.gserviceaccount.com"]}
    topics = ps.projects().topics()
    policy = topics.setIamPolicy(resource=TOPIC, body={"policy": {"bindings": [other]}}).execute()
    create_service(emulator, WEB_PROD)
    assert read(ps) == []
    exports = emulator.emulator.snapshot()["logging"]["sinkExports"]
    assert (exports["published"], exports["refused"]) == (0, 2)
    assert {r["status"] for r in exports["records"]} == {"PERMISSION_DENIED"}
    assert all(sink["writerIdentity"] in r["reason"] for r in exports["records"])

    # What the platform does for an aggregated sink: grant its writer identity roles/pubsub.publisher on the topic.
    grant = {"role": "roles/pubsub.publisher", "members": [sink["writerIdentity"]]}
    topics.setIamPolicy(resource=TOPIC, body={"policy": {"bindings": [other, grant], "etag": policy["etag"]}}).execute()
    create_service(emulator, WEB_PROD, "again")
    assert len(read(ps)) == 2


def test_exports_to_a_missing_topic_are_refused(emulator: EmulatorServer, ps: Any, logging_v2: Any) -> None:
    create_sink(
        logging_v2,
        ORG,
        "nowhere",
        destination=f"pubsub.googleapis.com/projects/{HUB}/topics/gone",
        includeChildren=True,
    )
    create_service(emulator, WEB_PROD)
    exports = emulator.emulator.snapshot()["logging"]["sinkExports"]
    assert exports["refused"] == 2 and {r["status"] for r in exports["records"]} == {"NOT_FOUND"}


def test_exclusions_and_disabled_are_honoured(emulator: EmulatorServer, ps: Any, logging_v2: Any) -> None:
    exclusions = [
        {"name": "no-web", "filter": f'logName:"projects/{WEB_PROD}/"'},
        {"name": "off", "filter": "severity>=DEFAULT", "disabled": True},  # disabled: excludes nothing
    ]
    create_sink(logging_v2, ORG, "most", includeChildren=True, exclusions=exclusions)
    create_sink(logging_v2, ORG, "paused", includeChildren=True, disabled=True)
    create_service(emulator, WEB_PROD)
    create_service(emulator, DATA_PROD)
    received = read(ps)
    assert len(received) == 2 and {r.entry["logName"].split("/")[1] for r in received} == {DATA_PROD}
    assert {r["sink"] for r in emulator.emulator.snapshot()["logging"]["sinkExports"]["records"]} == {
        f"{ORG}/sinks/most"
    }


def test_other_destinations_are_stored_not_delivered(emulator: EmulatorServer, ps: Any, logging_v2: Any) -> None:
    create_sink(logging_v2, ORG, "to-gcs", destination="storage.googleapis.com/audit-bucket", includeChildren=True)
    create_service(emulator, WEB_PROD)
    exports = emulator.emulator.snapshot()["logging"]["sinkExports"]
    assert (exports["notDelivered"], exports["published"]) == (2, 0)
    assert exports["records"][0]["reason"] == "only Pub/Sub destinations are emulated"


def test_sink_folder_lookup_uses_the_live_hierarchy(emulator: EmulatorServer, ps: Any, logging_v2: Any) -> None:
    """A project moved under the folder after the sink was made is covered from then on."""
    create_sink(logging_v2, WEB, "web-audit", includeChildren=True)
    emulator.emulator.resource_manager.add_project(DATA_PROD, parent=WEB)
    create_service(emulator, DATA_PROD)
    assert len(read(ps)) == 2
