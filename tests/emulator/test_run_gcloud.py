"""The real Google Cloud SDK CLI against the emulator's Cloud Run v1 API, sent through the emulator as its HTTP
proxy (gcp-facts.md §8)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from emulator import EmulatorServer
from emulator.audit import AdminActivity

PROJECT = "runway-demo"
V2_SERVICE = f"/v2/projects/{PROJECT}/locations/us-central1/services/hello"

pytestmark = [
    pytest.mark.gcloud,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("gcloud") is None, reason="the Google Cloud SDK is not installed"),
]


def gcloud(emulator: EmulatorServer, config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    token = config / "token"
    token.write_text("emulator-token")
    env = {
        **os.environ,
        "CLOUDSDK_CONFIG": str(config),  # never the user's own configuration
        "CLOUDSDK_PROXY_TYPE": "http",
        "CLOUDSDK_PROXY_ADDRESS": "127.0.0.1",
        "CLOUDSDK_PROXY_PORT": str(emulator.port),
        "CLOUDSDK_API_ENDPOINT_OVERRIDES_RUN": "http://run.emulator.invalid/",
        "CLOUDSDK_AUTH_ACCESS_TOKEN_FILE": str(token),
        "CLOUDSDK_CORE_PROJECT": PROJECT,
        "CLOUDSDK_CORE_DISABLE_PROMPTS": "1",
        "CLOUDSDK_CORE_DISABLE_USAGE_REPORTING": "1",
        "CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK": "1",
    }
    return subprocess.run(["gcloud", *args], env=env, capture_output=True, text=True, timeout=120, check=False)


def test_gcloud_services_update_labels_and_ingress(
    emulator: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    activities: list[AdminActivity] = []
    monkeypatch.setattr(emulator.emulator, "record_admin_activity", activities.append)
    body = {
        "labels": {"team": "web"},
        "template": {"containers": [{"image": "us-docker.pkg.dev/cloudrun/container/hello"}]},
    }
    requests.post(
        f"{emulator.url}/v2/projects/{PROJECT}/locations/us-central1/services",
        params={"serviceId": "hello"},
        json=body,
        timeout=5,
    ).raise_for_status()
    requests.post(f"{emulator.url}/_emulator/faults", json={"operationDelay": 0.3}, timeout=5).raise_for_status()

    update = gcloud(
        emulator,
        tmp_path,
        "run",
        "services",
        "update",
        "hello",
        "--region",
        "us-central1",
        "--update-labels",
        "public-route=true",
        "--ingress",
        "internal-and-cloud-load-balancing",
    )
    assert update.returncode == 0, update.stderr

    service = requests.get(f"{emulator.url}{V2_SERVICE}", timeout=5).json()
    assert service["labels"] == {"team": "web", "public-route": "true"}
    assert service["ingress"] == "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
    assert service["client"] == "gcloud"
    assert [(a.method_name, a.resource_name) for a in activities[1:]] == [
        ("google.cloud.run.v1.Services.ReplaceService", f"namespaces/{PROJECT}/services/hello")
    ]
    assert "gcloud" in activities[1].user_agent

    describe = gcloud(
        emulator,
        tmp_path,
        "run",
        "services",
        "describe",
        "hello",
        "--region",
        "us-central1",
        "--format=value(metadata.labels.public-route,status.url)",
    )
    assert describe.returncode == 0, describe.stderr
    assert describe.stdout.split() == ["true", service["uri"]]
