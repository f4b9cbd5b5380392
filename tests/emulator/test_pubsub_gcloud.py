"""The real gcloud against the emulator's Pub/Sub and log sinks: an organization sink into a topic, the sink's writer
identity granted `roles/pubsub.publisher` on it, and a Cloud Run write read back with `gcloud pubsub subscriptions
pull` (docs/google-apis.md §9.5). gcloud reaches Pub/Sub through an endpoint override of its own
(`CLOUDSDK_API_ENDPOINT_OVERRIDES_PUBSUB`), added here to the environment devstack builds."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from devstack.gcloud import gcloud_process_env
from emulator import EmulatorServer
from shared.methods import V2_CREATE

from .orgtree import ACTIVITY, HUB, ORG, ORG_WRITER, WEB_PROD, create_service, seed

pytestmark = [
    pytest.mark.gcloud,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("gcloud") is None, reason="the Google Cloud SDK (gcloud) is not installed"),
]

Gcloud = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def gcloud(emulator: EmulatorServer, tmp_path: Path) -> Gcloud:
    env = gcloud_process_env(
        emulator.url, tmp_path / "gcloud-config", project=HUB, region="us-central1", principal="dana@example.com"
    )
    env["CLOUDSDK_API_ENDPOINT_OVERRIDES_PUBSUB"] = "http://pubsub.emulator.invalid/"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(["gcloud", *args], env=env, capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 0, f"gcloud {' '.join(args)} failed:\n{result.stderr}"
        return result

    return run


def test_org_sink_into_a_topic_with_gcloud(emulator: EmulatorServer, gcloud: Gcloud) -> None:
    seed(emulator)
    org_id = ORG.split("/")[1]
    gcloud("pubsub", "topics", "create", "org-audit")
    gcloud("pubsub", "subscriptions", "create", "org-audit-reader", "--topic=org-audit")
    sink = json.loads(
        gcloud(
            "logging",
            "sinks",
            "create",
            "run-writes",
            f"pubsub.googleapis.com/projects/{HUB}/topics/org-audit",
            f"--organization={org_id}",
            "--include-children",
            f"--log-filter={ACTIVITY} AND operation.last=true",
            "--format=json",
        ).stdout
    )
    assert sink["writerIdentity"] == ORG_WRITER and sink["includeChildren"] is True
    described = gcloud("logging", "sinks", "describe", "run-writes", f"--organization={org_id}", "--format=json")
    assert json.loads(described.stdout) == sink
    policy = gcloud(
        "pubsub",
        "topics",
        "add-iam-policy-binding",
        "org-audit",
        f"--member={sink['writerIdentity']}",
        "--role=roles/pubsub.publisher",
        "--format=json",
    )
    assert json.loads(policy.stdout)["bindings"] == [{"members": [ORG_WRITER], "role": "roles/pubsub.publisher"}]

    create_service(emulator, WEB_PROD)
    pulled = json.loads(
        gcloud("pubsub", "subscriptions", "pull", "org-audit-reader", "--auto-ack", "--format=json").stdout
    )
    (message,) = [item["message"] for item in pulled]
    entry = json.loads(base64.b64decode(message["data"]))
    assert (
        entry["logName"].startswith(f"projects/{WEB_PROD}/logs/") and entry["protoPayload"]["methodName"] == V2_CREATE
    )
    assert message["attributes"] == {"logging.googleapis.com/timestamp": entry["timestamp"]}
