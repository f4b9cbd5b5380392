"""The real gcloud (Google Cloud SDK 528) against the emulator's Resource Manager: the project, folder and organization
commands, and `gcloud run services replace`, which looks the project of the YAML's namespace up in Resource Manager
(`GET /v1/projects/P`) before it writes."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from google.cloud import run_v2

from devstack.gcloud import gcloud_process_env
from emulator import EmulatorServer
from emulator.run.rules import project_number
from shared import clients

PROJECT = "runway-demo"
REGION = "us-central1"
IMAGE = "us-docker.pkg.dev/cloudrun/container/hello"
ORG = "123456789012"

pytestmark = [
    pytest.mark.gcloud,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("gcloud") is None, reason="the Google Cloud SDK (gcloud) is not installed"),
]

Gcloud = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def gcloud(emulator: EmulatorServer, tmp_path: Path) -> Gcloud:
    env = gcloud_process_env(
        emulator.url, tmp_path / "gcloud-config", project=PROJECT, region=REGION, principal="dana@example.com"
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(["gcloud", *args], env=env, capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 0, f"gcloud {' '.join(args)} failed:\n{result.stderr}"
        return result

    return run


def calls_since(emulator: EmulatorServer, seq: int) -> list[tuple[str, str]]:
    answer = requests.get(f"{emulator.url}/_emulator/requests", params={"since": seq}, timeout=5).json()
    return [(c["method"], c["path"]) for c in answer["requests"]]


def last_seq(emulator: EmulatorServer) -> int:
    found = requests.get(f"{emulator.url}/_emulator/requests", timeout=5).json()["requests"]
    return found[-1]["seq"] if found else 0


def test_run_services_replace_an_exported_yaml(emulator: EmulatorServer, gcloud: Gcloud, tmp_path: Path) -> None:
    v2 = run_v2.ServicesClient(**clients.client_kwargs(emulator.url))
    parent = f"projects/{PROJECT}/locations/{REGION}"
    service = run_v2.Service(template=run_v2.RevisionTemplate(containers=[run_v2.Container(image=IMAGE)]))
    v2.create_service(parent=parent, service=service, service_id="hello").result(timeout=10)

    exported = gcloud("run", "services", "describe", "hello", "--region", REGION, "--format", "export").stdout
    # The namespace is the project number, which replace checks against Resource Manager's answer.
    assert f"  namespace: '{project_number(PROJECT)}'\n" in exported
    assert "\n  labels:\n" in exported  # metadata.labels (cloud.googleapis.com/location)
    path = tmp_path / "hello.yaml"
    path.write_text(exported.replace("\n  labels:\n", "\n  labels:\n    public-route: 'true'\n", 1))

    mark = last_seq(emulator)
    gcloud("run", "services", "replace", str(path), "--region", REGION)

    assert ("GET", f"/v1/projects/{PROJECT}") in calls_since(emulator, mark)
    assert v2.get_service(name=f"{parent}/services/hello").labels["public-route"] == "true"
    v2.transport.close()


def test_projects_describe_list_and_ancestors(emulator: EmulatorServer, gcloud: Gcloud) -> None:
    rm = emulator.emulator.resource_manager
    org = rm.add_org(ORG, "example.com")
    team = rm.add_folder(org.name, "team", folder_id="4242")
    rm.add_project(PROJECT, parent=team.name)
    rm.add_project("shared-lb", parent=org.name)

    described = json.loads(gcloud("projects", "describe", PROJECT, "--format=json").stdout)
    assert described["projectNumber"] == project_number(PROJECT)
    assert described["parent"] == {"type": "folder", "id": "4242"}

    listed = json.loads(gcloud("projects", "list", f"--filter=parent.id={ORG}", "--format=json").stdout)
    assert [p["projectId"] for p in listed] == ["shared-lb"]

    ancestors = json.loads(gcloud("projects", "get-ancestors", PROJECT, "--format=json").stdout)
    assert ancestors == [
        {"id": PROJECT, "type": "project"},
        {"id": "4242", "type": "folder"},
        {"id": ORG, "type": "organization"},
    ]

    folders = json.loads(gcloud("resource-manager", "folders", "list", f"--organization={ORG}", "--format=json").stdout)
    assert [f["name"] for f in folders] == ["folders/4242"]
    orgs = json.loads(gcloud("organizations", "list", "--format=json").stdout)
    assert [o["name"] for o in orgs] == [f"organizations/{ORG}"]
