"""`python main.py up`: the local stack for interactive use, stopped cleanly by a signal."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from devstack.functions import free_port
from shared import clients
from shared.api_compute import get_url_map

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("stop_with", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_up_prints_the_environment_serves_and_stops_everything(stop_with: signal.Signals) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "main.py", "up", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if "Ctrl-C to stop." in line:
                break
        out = "".join(lines)
        url = f"http://127.0.0.1:{port}"
        exports = dict(shlex.split(line.strip())[1].split("=", 1) for line in lines if line.startswith("  export "))
        assert exports["RUNWAY_API_ENDPOINT"] == url and exports["RUNWAY_REGIONS"]
        assert exports["CLOUDSDK_PROXY_PORT"] == str(port) and "CLOUDSDK_AUTH_ACCESS_TOKEN_FILE" in exports
        assert "CLOUDSDK_API_ENDPOINT_OVERRIDES_SERVICEUSAGE" in exports  # what `gcloud run deploy` asks first
        function_urls = re.findall(r"function \w+: (http://127\.0\.0\.1:\d+)", out)
        assert len(function_urls) == 3
        assert requests.get(f"{url}/_emulator/health", timeout=5).ok
        # The shared load balancer is there, as infra would have made it.
        assert get_url_map(clients.compute(url), "runway-demo", "runway-lb")["defaultService"].endswith(
            "/backendBuckets/runway-default-404"
        )
        # And the sample service the printed gcloud command relabels, already made private by enforce_ingress.
        hello = "projects/runway-demo/locations/us-central1/services/hello"
        deadline = time.monotonic() + 20
        run = clients.run_services(url)
        while run.get_service(name=hello).ingress.name != "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER":
            assert time.monotonic() < deadline, "hello was not remediated"
            time.sleep(0.1)
        config_dir = re.search(r"export CLOUDSDK_CONFIG=(\S+)", out).group(1)
        # What the printed exports configure is enough for runway's own CLI (RUNWAY_REGIONS included).
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNWAY_", "CLOUDSDK_"))}
        dry_run = subprocess.run(
            [sys.executable, "main.py", "reconcile", "--dry-run"],
            cwd=ROOT,
            env={**env, **exports},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert dry_run.returncode in (0, 1), dry_run.stdout + dry_run.stderr  # 2 is a configuration error
    finally:
        process.send_signal(stop_with)
        rest, _ = process.communicate(timeout=30)
    assert process.returncode == 0, rest
    assert "Stopping." in rest
    assert not Path(config_dir).exists()  # the throwaway gcloud configuration is gone with the stack
    for endpoint in [url, *function_urls]:
        assert _refused_soon(f"{endpoint}/robots.txt"), f"{endpoint} still answers after the stack stopped"


def _refused_soon(url: str, timeout: float = 30.0) -> bool:
    """Whether connections to `url` are refused within `timeout` (a stopped process's port closes as it exits)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=2)
        except requests.ConnectionError:
            return True
        time.sleep(0.05)
    return False
