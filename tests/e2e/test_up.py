"""`python main.py up`: the local stack for interactive use, stopped cleanly by a signal."""

from __future__ import annotations

import re
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
        assert f"export RUNWAY_API_ENDPOINT={url} " in out
        assert f"export CLOUDSDK_PROXY_PORT={port}" in out and "export CLOUDSDK_AUTH_ACCESS_TOKEN_FILE=" in out
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
    finally:
        process.send_signal(stop_with)
        rest, _ = process.communicate(timeout=30)
    assert process.returncode == 0, rest
    assert "Stopping." in rest
    assert not Path(config_dir).exists()  # the throwaway gcloud configuration is gone with the stack
    time.sleep(0.2)
    for endpoint in [url, *function_urls]:
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{endpoint}/robots.txt", timeout=2)
