"""The real gcloud (Google Cloud SDK 528) against the emulator's IAM: project and Cloud Run service policies, custom
roles, and a command refused with the permission it lacks."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from devstack.gcloud import gcloud_process_env
from emulator import EmulatorServer

PROJECT = "runway-demo"
REGION = "us-central1"
USER = "dana@example.com"

pytestmark = [
    pytest.mark.gcloud,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("gcloud") is None, reason="the Google Cloud SDK (gcloud) is not installed"),
]

Gcloud = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def gcloud(emulator: EmulatorServer, tmp_path: Path) -> Gcloud:
    """`gcloud ARGS...` as dana; `ok=False` for a command expected to fail."""
    env = gcloud_process_env(emulator.url, tmp_path / "gcloud-config", project=PROJECT, region=REGION, principal=USER)

    def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(["gcloud", *args], env=env, capture_output=True, text=True, timeout=120, check=False)
        assert (result.returncode == 0) is ok, f"gcloud {' '.join(args)}:\n{result.stderr}"
        return result

    return run


@pytest.fixture
def service(emulator: EmulatorServer) -> str:
    requests.post(
        f"{emulator.url}/v2/projects/{PROJECT}/locations/{REGION}/services",
        params={"serviceId": "hello"},
        json={"template": {"containers": [{"image": "us-docker.pkg.dev/cloudrun/container/hello"}]}},
        timeout=5,
    ).raise_for_status()
    return "hello"


def test_project_and_service_policies(emulator: EmulatorServer, gcloud: Gcloud, service: str) -> None:
    gcloud("projects", "add-iam-policy-binding", PROJECT, f"--member=user:{USER}", "--role=roles/owner")
    policy = json.loads(gcloud("projects", "get-iam-policy", PROJECT, "--format=json").stdout)
    assert policy["bindings"] == [{"role": "roles/owner", "members": [f"user:{USER}"]}]
    assert emulator.emulator.iam.enforced(f"projects/{PROJECT}")

    gcloud("run", "services", "add-iam-policy-binding", service, "--member=allUsers", "--role=roles/run.invoker")
    described = json.loads(gcloud("run", "services", "get-iam-policy", service, "--format=json").stdout)
    assert described["bindings"] == [{"role": "roles/run.invoker", "members": ["allUsers"]}]


def test_a_refused_command_names_the_permission(gcloud: Gcloud, service: str) -> None:
    gcloud("projects", "add-iam-policy-binding", PROJECT, f"--member=user:{USER}", "--role=roles/owner")
    gcloud("run", "services", "describe", service)
    gcloud("projects", "remove-iam-policy-binding", PROJECT, f"--member=user:{USER}", "--role=roles/owner")
    refused = gcloud("run", "services", "describe", service, ok=False)
    assert (
        "PERMISSION_DENIED: Permission 'run.services.get' denied on resource "
        f"'namespaces/{PROJECT}/services/{service}' (or resource may not exist)."
    ) in refused.stderr


def test_custom_roles(gcloud: Gcloud) -> None:
    created = json.loads(
        gcloud(
            "iam", "roles", "create", "runway_sync", f"--project={PROJECT}",
            "--permissions=run.services.get,compute.urlMaps.update", "--format=json",
        ).stdout
    )  # fmt: skip
    assert created["name"] == f"projects/{PROJECT}/roles/runway_sync"
    gcloud("iam", "roles", "update", "runway_sync", f"--project={PROJECT}", "--add-permissions=run.services.list")
    described = json.loads(
        gcloud("iam", "roles", "describe", "runway_sync", f"--project={PROJECT}", "--format=json").stdout
    )
    assert described["includedPermissions"] == ["compute.urlMaps.update", "run.services.get", "run.services.list"]
    predefined = json.loads(gcloud("iam", "roles", "describe", "roles/run.invoker", "--format=json").stdout)
    assert "run.routes.invoke" in predefined["includedPermissions"]
