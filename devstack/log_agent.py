"""What Cloud Run's logging agent does with a container's stdout and stderr, against the emulator.

Each line becomes one LogEntry: a line holding a JSON object becomes `jsonPayload`, with the special fields
Cloud Logging lifts out of it (docs/google-apis.md §5.4); any other line becomes `textPayload`. The entries carry
the `cloud_run_revision` resource of the function, so runway's report reads them exactly as it would in
production.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterable
from typing import IO, Any

import requests

_SPECIAL = "logging.googleapis.com/"


def entry_from_line(line: str, *, stream: str) -> dict[str, Any]:
    """The LogEntry fields (no logName/resource) that one output line becomes."""
    try:
        payload = json.loads(line)
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        return {"textPayload": line, "severity": "ERROR" if stream == "stderr" else "DEFAULT"}
    payload = dict(payload)
    entry: dict[str, Any] = {}
    if "severity" in payload:
        entry["severity"] = str(payload.pop("severity")).upper()
    for key in ("time", "timestamp"):
        if key in payload:
            entry["timestamp"] = payload.pop(key)
    for key, field in (
        ("labels", "labels"),
        ("trace", "trace"),
        ("spanId", "spanId"),
        ("trace_sampled", "traceSampled"),
        ("insertId", "insertId"),
        ("operation", "operation"),
        ("sourceLocation", "sourceLocation"),
    ):
        if _SPECIAL + key in payload:
            entry[field] = payload.pop(_SPECIAL + key)
    if "httpRequest" in payload:
        entry["httpRequest"] = payload.pop("httpRequest")
    entry["jsonPayload"] = payload
    return entry


class LogAgent:
    """Ships lines of one function's output to the emulator's Logging API, in order, in the background."""

    def __init__(self, endpoint: str, project: str, region: str, service: str) -> None:
        self._url = endpoint.rstrip("/") + "/v2/entries:write"
        self._project = project
        self._resource = {
            "type": "cloud_run_revision",
            "labels": {
                "project_id": project,
                "location": region,
                "service_name": service,
                "revision_name": f"{service}-00001-abc",
                "configuration_name": service,
            },
        }
        self.echo: IO[str] | None = None
        self._last_activity = time.monotonic()
        self._shipping = 0  # lines being posted right now, across the stdout and stderr pumps
        self._lock = threading.Lock()

    def quiet_for(self) -> float:
        """Seconds since this agent last shipped a line (0 while one is on its way): a function that answered
        every event and has been quiet for a moment has had all its output shipped (its stdout is unbuffered)."""
        return 0.0 if self._shipping else time.monotonic() - self._last_activity

    def follow(self, lines: Iterable[str], stream: str) -> threading.Thread:
        thread = threading.Thread(
            target=self._pump,
            args=(lines, stream),
            daemon=True,
            name=f"log-agent-{self._resource['labels']['service_name']}-{stream}",
        )
        thread.start()
        return thread

    def _pump(self, lines: Iterable[str], stream: str) -> None:
        log_name = f"projects/{self._project}/logs/run.googleapis.com%2F{stream}"
        session = requests.Session()  # one per pump: sessions are not made to be shared between threads
        session.trust_env = False
        for raw in lines:
            line = raw.rstrip("\n")
            if not line:
                continue
            with self._lock:
                self._shipping += 1
            if self.echo is not None:
                self.echo.write(line + "\n")
            body = {"logName": log_name, "resource": self._resource, "entries": [entry_from_line(line, stream=stream)]}
            # A line lost while the emulator shuts down at the end of a run is no loss.
            with contextlib.suppress(requests.RequestException):
                session.post(self._url, json=body, timeout=10)
            with self._lock:
                self._last_activity = time.monotonic()
                self._shipping -= 1
