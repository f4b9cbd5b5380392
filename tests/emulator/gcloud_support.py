"""What the gcloud tests share (no tests here): the environment, the marks, and the runner the `gcloud` fixture
(conftest.py) hands out."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from devstack.gcloud import gcloud_process_env

PROJECT = "runway-demo"  # the emulator's default project, as `python -m emulator` serves it
REGION = "us-central1"
IMAGE = "us-docker.pkg.dev/cloudrun/container/hello"
COMPUTE = "https://www.googleapis.com/compute/v1/"
V2_PARENT = f"projects/{PROJECT}/locations/{REGION}"
PRINCIPAL = "dana@example.com"

MARKS = [
    pytest.mark.gcloud,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("gcloud") is None, reason="the Google Cloud SDK (gcloud) is not installed"),
]


class Gcloud:
    """Runs `gcloud ARGS...` against one emulator, as a platform engineer would type it."""

    def __init__(self, url: str, config_dir: Path) -> None:
        self.env = gcloud_process_env(url, config_dir, project=PROJECT, region=REGION, principal=PRINCIPAL)

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["gcloud", *args], env=self.env, capture_output=True, text=True, timeout=120, check=False
        )
        if check:
            assert result.returncode == 0, f"gcloud {' '.join(args)} failed:\n{result.stderr}"
        return result

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run(*args)

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--format=json").stdout)
