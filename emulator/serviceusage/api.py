"""Service Usage v1: `services` get, batchGet, enable, disable, batchEnable and `operations` get.

Every API is enabled on every project until a `disable` says otherwise (the emulator serves the APIs whatever
this says: it is what a client reads, not a gate). Enabling and disabling finish at once; like production for an
API already in the wanted state, the answer is the done operation `operations/noop.DONE_OPERATION`.
"""

from __future__ import annotations

import threading
from typing import Any

from ..errors import ApiError, invalid
from ..run.rules import project_number
from ..runtime import Runtime

# Titles of the APIs runway and gcloud ask about; any other name is an API too, titled by its name.
TITLES = {
    "run.googleapis.com": "Cloud Run Admin API",
    "compute.googleapis.com": "Compute Engine API",
    "logging.googleapis.com": "Cloud Logging API",
    "eventarc.googleapis.com": "Eventarc API",
    "iam.googleapis.com": "Identity and Access Management (IAM) API",
    "cloudresourcemanager.googleapis.com": "Cloud Resource Manager API",
    "serviceusage.googleapis.com": "Service Usage API",
    "artifactregistry.googleapis.com": "Artifact Registry API",
    "cloudbuild.googleapis.com": "Cloud Build API",
}
DONE_OPERATION = "operations/noop.DONE_OPERATION"
_PKG = "type.googleapis.com/google.api.serviceusage.v1."
MAX_BATCH = 20  # batchGet and batchEnable take at most 20 services (serviceusage.v1 discovery document)


class ServiceUsageApi:
    name = "serviceusage"

    def __init__(self, emu: Runtime) -> None:
        self.emu = emu
        self._lock = threading.Lock()
        self._disabled: set[tuple[str, str]] = set()  # (project number, service name)

    def reset(self) -> None:
        with self._lock:
            self._disabled.clear()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"disabled": [f"projects/{p}/services/{s}" for p, s in sorted(self._disabled)]}

    def get(self, project: str, service: str) -> dict[str, Any]:
        number = _number(project)
        with self._lock:
            enabled = (number, _check_service(service)) not in self._disabled
        return _service(number, service, enabled)

    def batch_get(self, project: str, names: list[str]) -> dict[str, Any]:
        return {"services": [self.get(project, _service_of(name, project)) for name in _batch(names, "names")]}

    def set_state(self, project: str, service: str, *, enabled: bool) -> dict[str, Any]:
        number, service = _number(project), _check_service(service)
        with self._lock:
            if enabled:
                self._disabled.discard((number, service))
            else:
                self._disabled.add((number, service))
        kind = "EnableServiceResponse" if enabled else "DisableServiceResponse"
        return _done({"@type": _PKG + kind, "service": _service(number, service, enabled)})

    def batch_enable(self, project: str, service_ids: list[str]) -> dict[str, Any]:
        services = [
            self.set_state(project, s, enabled=True)["response"]["service"] for s in _batch(service_ids, "serviceIds")
        ]
        return _done({"@type": _PKG + "BatchEnableServicesResponse", "services": services})

    def get_operation(self, name: str) -> dict[str, Any]:
        if f"operations/{name}" != DONE_OPERATION:
            raise ApiError(404, f"Operation 'operations/{name}' not found.", status="NOT_FOUND")
        return {"name": DONE_OPERATION, "done": True}


def _number(project: str) -> str:
    return project_number(project)


def _check_service(service: str) -> str:
    if not service or "/" in service or "." not in service:
        raise invalid(f"Invalid service name: '{service}'. Expected a service such as run.googleapis.com.")
    return service


def _service_of(name: str, project: str) -> str:
    """The service of a `projects/P/services/S` name, which must be of the request's project."""
    parts = name.split("/") if isinstance(name, str) else []
    if len(parts) != 4 or parts[0] != "projects" or parts[2] != "services" or _number(parts[1]) != _number(project):
        raise invalid(f"Invalid name: '{name}'. Expected projects/{project}/services/SERVICE.")
    return parts[3]


def _batch(values: Any, field: str) -> list[str]:
    if not isinstance(values, list) or not values or len(values) > MAX_BATCH:
        raise invalid(f"{field}: expected 1 to {MAX_BATCH} values.")
    return values


def _service(number: str, service: str, enabled: bool) -> dict[str, Any]:
    return {
        "name": f"projects/{number}/services/{service}",
        "config": {"name": service, "title": TITLES.get(service, service)},
        "state": "ENABLED" if enabled else "DISABLED",
        "parent": f"projects/{number}",
    }


def _done(response: dict[str, Any]) -> dict[str, Any]:
    return {"name": DONE_OPERATION, "done": True, "response": response}
