"""Service Usage v1: `services` get, batchGet, enable, disable, batchEnable and `operations` get.

Every API is enabled on every project until a `disable` says otherwise. Enabling and disabling finish at once; like
production for an API already in the wanted state, the answer is the done operation
`operations/noop.DONE_OPERATION`. A disabled Cloud Run Admin or Compute Engine API refuses every call on that
project as production does (`refusal`, asked before each request: 403 `SERVICE_DISABLED`/`accessNotConfigured`,
`ServiceDisabled`); the other APIs are served whatever this says.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
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
# The APIs whose calls a `disable` refuses, by the route table that serves them.
GATED = {"run": "run.googleapis.com", "compute": "compute.googleapis.com"}
_PROJECT_VARIABLES = ("project", "namespace")
CONSOLE = "https://console.developers.google.com"


class ServiceDisabled(ApiError):
    """Production's answer to a call of an API disabled on (or never enabled for) the project: 403 with reason
    `SERVICE_DISABLED` in an ErrorInfo, and in Compute's envelope also the legacy `errors` item `accessNotConfigured`
    (domain `usageLimits`) beside `status` and `details` (emulator/README.md, "Known differences")."""

    def __init__(self, number: str, named: str, service: str) -> None:
        title = TITLES.get(service, service)
        url = f"{CONSOLE}/apis/api/{service}/overview?project={number}"
        message = (
            f"{title} has not been used in project {number} before or it is disabled. Enable it by visiting {url} "
            "then retry. If you enabled this API recently, wait a few minutes for the action to propagate to our "
            "systems and retry."
        )
        info = {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "SERVICE_DISABLED",
            "domain": "googleapis.com",
            "metadata": {
                "activationUrl": url,
                "service": service,
                "containerInfo": named,
                "serviceTitle": title,
                "consumer": f"projects/{number}",
            },
        }
        details = [
            info,
            {"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US", "message": message},
            {
                "@type": "type.googleapis.com/google.rpc.Help",
                "links": [{"description": "Google developers console API activation", "url": url}],
            },
        ]
        super().__init__(403, message, status="PERMISSION_DENIED", reason="accessNotConfigured", details=details)

    def compute_body(self) -> dict[str, Any]:
        item = {"message": self.message, "domain": "usageLimits", "reason": self.reason, "extendedHelp": CONSOLE}
        error = {"code": self.code, "message": self.message, "errors": [item], "status": self.status}
        return {"error": {**error, "details": self.details}}


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

    def refusal(self, table: str | None, rule: str, args: Mapping[str, Any]) -> ServiceDisabled | None:
        """The 403 for a call of a disabled API (Cloud Run Admin or Compute Engine) on its project, else None.
        Cloud Run's service IAM methods are served by the IAM table but are Cloud Run's own."""
        service = GATED.get(table or "")
        if service is None and table == "iam" and "/services/<service>:" in rule and "/locations/" in rule:
            service = GATED["run"]
        project = next((args[k] for k in _PROJECT_VARIABLES if isinstance(args.get(k), str) and args[k]), None)
        if service is None or project is None or project == "-":
            return None
        number = _number(project)
        with self._lock:
            if (number, service) not in self._disabled:
                return None
        return ServiceDisabled(number, project, service)

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
