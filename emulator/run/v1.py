"""Cloud Run Admin API v1 (Knative): `namespaces.services` create/get/list/replaceService/delete, read-only
`namespaces.revisions`, and `projects.locations.services` get/list.

What gcloud and googleapiclient's run v1 call (docs/google-apis.md §2.1, §8). The namespace is the project id or number;
the region comes from the `cloud.googleapis.com/location` label, else the regional host gcloud prepends
(`us-central1-run.googleapis.com`), else the emulator's default region.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import invalid, not_found
from ..http import principal, region_from_host
from ..paging import page
from . import activity, rules
from .api import RunApi
from .knative import API_VERSION, from_v1, location_label, to_v1
from .model import validate_spec
from .record import ServiceRecord
from .revisions import revision_to_v1
from .views import V1_SERVICE_TYPE

V1_STATUS_TYPE = "type.googleapis.com/google.cloud.run.v1.Status"


def _locate(api: RunApi, project: str, name: str) -> ServiceRecord:
    """A service named in a v1 path: in the host's region if it names one, else wherever it is."""
    region = region_from_host()
    if region:
        return api.store.get(project, region, name)
    default_region = api.emu.settings.default_region
    record = api.store.find(project, name, default_region)
    # Not found anywhere: Google's NOT_FOUND, naming the region the call defaulted to.
    return record if record is not None else api.store.get(project, default_region, name)


def create(api: RunApi, namespace: str, body: dict[str, Any], *, dry_run: bool) -> dict[str, Any]:
    name = (body.get("metadata") or {}).get("name")
    if not name:
        raise invalid("Invalid value at 'metadata.name': a service name is required.")
    rules.check_service_id(name)
    region = location_label(body) or region_from_host() or api.emu.settings.default_region
    spec, extra = from_v1(body, None)
    validate_spec(spec, "spec")
    store, who = api.store, principal()
    with api.emu.lock:
        project = store.project_id(namespace)
        if dry_run:
            return to_v1(store.preview_create(project, region, name, spec, extra, who)[0])
        record, _ = store.create(project, region, name, spec, extra, who, api.emu.faults.operation_delay)
        reply = to_v1(record)
        logged = to_v1(record, with_status=False)
    request_body = {"parent": f"namespaces/{project}", "region": region, "service": body}
    api.record(activity.v1(record, "CreateService", "create", request_body, {"@type": V1_SERVICE_TYPE, **logged}))
    return reply


def list_services(
    api: RunApi, project: str, region: str | None, self_link: str, selector: str, limit: Any, token: Any
) -> dict[str, Any]:
    """namespaces.services.list and projects.locations.services.list: the Knative list, `limit`/`continue` paging."""
    requirements = parse_selector(selector)
    with api.emu.lock:
        # "Results are sorted by creation time, descending." (run.v1.json namespaces.services.list)
        records = api.store.list(api.store.project_id(project), region)
        items = [to_v1(r) for r in sorted(records, key=lambda r: r.create_time, reverse=True)]
    items = [i for i in items if matches(requirements, i["metadata"]["labels"])]
    chunk, next_token = page(items, limit, token, default=500, maximum=500)
    metadata: dict[str, Any] = {"selfLink": self_link}
    if next_token:
        metadata["continue"] = next_token
    return {"apiVersion": API_VERSION, "kind": "ServiceList", "metadata": metadata, "items": chunk}


def get(api: RunApi, namespace: str, name: str) -> dict[str, Any]:
    with api.emu.lock:
        return to_v1(_locate(api, api.store.project_id(namespace), name))


def get_in_location(api: RunApi, project: str, location: str, name: str) -> dict[str, Any]:
    with api.emu.lock:
        return to_v1(api.store.get(api.store.project_id(project), location, name))


def _revisions(api: RunApi, namespace: str) -> list[dict[str, Any]]:
    with api.emu.lock:
        records = api.store.list(api.store.project_id(namespace), region_from_host())
        return [revision_to_v1(r, i) for r in records for i in range(len(r.revisions))]


def list_revisions(api: RunApi, namespace: str, selector: str, limit: Any, token: Any) -> dict[str, Any]:
    """Revisions are read-only: gcloud looks up an update's base revision (by name, or by its nonce label) and
    lists them (`gcloud run revisions list`, with `limit`/`continue` paging), newest first."""
    requirements = parse_selector(selector)
    items = [i for i in _revisions(api, namespace) if matches(requirements, i["metadata"]["labels"])]
    items.sort(key=lambda i: i["metadata"]["creationTimestamp"], reverse=True)
    chunk, next_token = page(items, limit, token, default=500, maximum=500)
    metadata = {"continue": next_token} if next_token else {}
    return {"apiVersion": API_VERSION, "kind": "RevisionList", "metadata": metadata, "items": chunk}


def get_revision(api: RunApi, namespace: str, name: str) -> dict[str, Any]:
    for item in _revisions(api, namespace):
        if item["metadata"]["name"] == name:
            return item
    region = region_from_host() or api.emu.settings.default_region
    raise not_found(
        f"Resource '{name}' of kind 'REVISION' in region '{region}' in project '{namespace}' does not exist."
    )


def test_iam_permissions(api: RunApi, project: str, location: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
    """`projects.locations.services.testIamPermissions`: gcloud asks it before deploying a new service, to know
    whether it may offer `--allow-unauthenticated`. Answered for a service that does not exist yet, too."""
    permissions = body.get("permissions") or []
    if not isinstance(permissions, list) or not all(isinstance(p, str) for p in permissions):
        raise invalid("Invalid value at 'permissions': expected a list of permission names.")
    resource = f"projects/{project}/locations/{location}/services/{name}"
    granted = api.granted(principal(), resource, permissions)
    return {"permissions": granted} if granted else {}


def replace(api: RunApi, namespace: str, name: str, body: dict[str, Any], *, dry_run: bool) -> dict[str, Any]:
    meta = body.get("metadata") or {}
    if meta.get("name") not in (None, name):
        raise invalid(
            f"Invalid value at 'metadata.name': '{meta['name']}' does not match the service '{name}' named in the URL."
        )
    region = location_label(body) or region_from_host()
    store, who = api.store, principal()
    with api.emu.lock:
        project = store.project_id(namespace)
        record = store.get(project, region, name) if region else _locate(api, project, name)
        rules.check_version(name, meta.get("resourceVersion"), record.version)
        spec, extra = from_v1(body, record.spec)
        validate_spec(spec, "spec")
        if dry_run:
            return to_v1(store.preview_update(record, spec, extra, who))
        store.update(record, spec, extra, who, api.emu.faults.operation_delay)
        reply = to_v1(record)
        logged = to_v1(record, with_status=False)
    request_body = {"name": activity.v1_resource_name(record), "region": record.region, "service": body}
    api.record(activity.v1(record, "ReplaceService", "update", request_body, {"@type": V1_SERVICE_TYPE, **logged}))
    return reply


def delete(api: RunApi, namespace: str, name: str, *, dry_run: bool) -> dict[str, Any]:
    with api.emu.lock:
        project = api.store.project_id(namespace)
        record = _locate(api, project, name)
        # The Knative Status a delete answers with (run.v1.json: namespaces.services.delete returns Status).
        reply = {"status": "Success", "details": {"name": name, "kind": "services", "uid": record.uid}, "metadata": {}}
        if dry_run:
            return reply
        api.store.delete(record, api.emu.faults.operation_delay)
    request_body = {"name": activity.v1_resource_name(record), "region": record.region}
    api.record(activity.v1(record, "DeleteService", "delete", request_body, {"@type": V1_STATUS_TYPE, **reply}))
    return reply


# Kubernetes label selectors: `k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a,b)`, comma-joined
# (Cloud Run spells the last `notIn`).
_REQUIREMENT = re.compile(
    r"\s*(?:(?P<not>!)\s*(?P<absent>[^\s,!=()]+)"
    r"|(?P<key>[^\s,!=()]+)\s*(?:(?P<op>==|=|!=)\s*(?P<value>[^\s,()]*)"
    r"|\s+(?P<setop>in|notin|notIn)\s*\((?P<values>[^)]*)\))?)\s*(?:,|$)"
)


def parse_selector(text: str) -> list[tuple[str, str, set[str]]]:
    """(key, operator, values) requirements; 400 on anything else."""
    requirements: list[tuple[str, str, set[str]]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _REQUIREMENT.match(text, pos)
        if not match or match.end() == pos:
            raise invalid(f"Invalid labelSelector: '{text}'.")
        if match.group("absent"):
            requirements.append((match.group("absent"), "!exists", set()))
        elif match.group("op"):
            op = "!=" if match.group("op") == "!=" else "="
            requirements.append((match.group("key"), op, {match.group("value")}))
        elif match.group("setop"):
            values = {v.strip() for v in match.group("values").split(",") if v.strip()}
            requirements.append((match.group("key"), match.group("setop").lower(), values))
        else:
            requirements.append((match.group("key"), "exists", set()))
        pos = match.end()
    return requirements


def matches(selector: list[tuple[str, str, set[str]]], labels: dict[str, str]) -> bool:
    for key, op, values in selector:
        present = key in labels
        ok = {
            "exists": present,
            "!exists": not present,
            "=": present and labels[key] in values,
            "in": present and labels[key] in values,
            "!=": not present or labels[key] not in values,
            "notin": not present or labels[key] not in values,
        }[op]
        if not ok:
            return False
    return True
