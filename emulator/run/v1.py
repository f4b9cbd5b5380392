"""Cloud Run Admin API v1 (Knative): `namespaces.services` create/get/list/replaceService/delete.

What gcloud and googleapiclient's run v1 call (docs/google-apis.md §2.1, §8). The namespace is the project id or number;
the region comes from the `cloud.googleapis.com/location` label, else the regional host gcloud prepends
(`us-central1-run.googleapis.com`), else the emulator's default region.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, request

from ..app import json_response, request_json
from ..context import principal, region_from_host
from ..errors import invalid, not_found
from ..paging import page
from . import activity, rules
from .knative import API_VERSION, from_v1, location_label, revision_to_v1, to_v1
from .model import ServiceRecord, validate_spec
from .views import V1_SERVICE_TYPE

if TYPE_CHECKING:
    from .api import RunApi

PREFIX = f"/apis/{API_VERSION}/namespaces/<namespace>/services"
PROJECTS_PREFIX = "/v1/projects/<project>/locations/<location>/services"
V1_STATUS_TYPE = "type.googleapis.com/google.cloud.run.v1.Status"


def _dry_run() -> bool:
    # Kubernetes semantics: `dryRun=All` validates without persisting.
    return request.args.get("dryRun", "").lower() == "all"


def register(bp: Blueprint, api: RunApi) -> None:
    store, emu = api.store, api.emu

    def locate(project: str, name: str) -> ServiceRecord:
        """A service named in a v1 path: in the host's region if it names one, else wherever it is."""
        region = region_from_host()
        if region:
            return store.get(project, region, name)
        record = store.find(project, name, emu.settings.default_region)
        # Not found anywhere: Google's NOT_FOUND, naming the region the call defaulted to.
        return record if record is not None else store.get(project, emu.settings.default_region, name)

    @bp.post(PREFIX)
    def create(namespace: str) -> Response:
        body = request_json()
        name = (body.get("metadata") or {}).get("name")
        if not name:
            raise invalid("Invalid value at 'metadata.name': a service name is required.")
        rules.check_service_id(name)
        region = location_label(body) or region_from_host() or emu.settings.default_region
        spec, extra = from_v1(body, None)
        validate_spec(spec, "spec")
        who = principal()
        with emu.lock:
            project = store.project_id(namespace)
            if _dry_run():
                record, _ = store.preview_create(project, region, name, spec, extra, who)
                return json_response(to_v1(record))
            record, _ = store.create(project, region, name, spec, extra, who, emu.faults.operation_delay)
            reply = to_v1(record)
            logged = to_v1(record, with_status=False)
        request_body = {"parent": f"namespaces/{project}", "region": region, "service": body}
        api.record(activity.v1(record, "CreateService", "create", request_body, {"@type": V1_SERVICE_TYPE, **logged}))
        return json_response(reply)

    def list_reply(project: str, region: str | None, self_link: str) -> Response:
        selector = parse_selector(request.args.get("labelSelector", ""))
        with emu.lock:
            # "Results are sorted by creation time, descending." (run.v1.json namespaces.services.list)
            records = sorted(store.list(store.project_id(project), region), key=lambda r: r.create_time, reverse=True)
            items = [to_v1(r) for r in records]
        items = [i for i in items if matches(selector, i["metadata"]["labels"])]
        chunk, token = page(items, request.args.get("limit"), request.args.get("continue"), default=500, maximum=500)
        metadata: dict[str, Any] = {"selfLink": self_link}
        if token:
            metadata["continue"] = token
        return json_response({"apiVersion": API_VERSION, "kind": "ServiceList", "metadata": metadata, "items": chunk})

    @bp.get(PREFIX)
    def list_(namespace: str) -> Response:
        # The regional endpoint lists its region; the global one every region.
        return list_reply(namespace, region_from_host(), f"/apis/{API_VERSION}/namespaces/{namespace}/services")

    # gcloud's `run services list` reads `projects.locations.services` of v1, `-` meaning every region.
    @bp.get(PROJECTS_PREFIX)
    def list_by_location(project: str, location: str) -> Response:
        region = None if location == "-" else location
        return list_reply(project, region, f"/apis/{API_VERSION}/namespaces/{project}/services")

    @bp.get(f"{PROJECTS_PREFIX}/<name>")
    def get_by_location(project: str, location: str, name: str) -> Response:
        with emu.lock:
            return json_response(to_v1(store.get(store.project_id(project), location, name)))

    # Revisions, read-only: gcloud looks up an update's base revision (by name, or by its nonce label).
    def revisions(namespace: str) -> list[dict[str, Any]]:
        region = region_from_host()
        with emu.lock:
            records = store.list(store.project_id(namespace), region)
            return [revision_to_v1(r, i) for r in records for i in range(len(r.revisions))]

    @bp.get(f"/apis/{API_VERSION}/namespaces/<namespace>/revisions")
    def list_revisions(namespace: str) -> Response:
        selector = parse_selector(request.args.get("labelSelector", ""))
        items = [i for i in revisions(namespace) if matches(selector, i["metadata"]["labels"])]
        items.sort(key=lambda i: i["metadata"]["creationTimestamp"], reverse=True)
        return json_response({"apiVersion": API_VERSION, "kind": "RevisionList", "metadata": {}, "items": items})

    @bp.get(f"/apis/{API_VERSION}/namespaces/<namespace>/revisions/<name>")
    def get_revision(namespace: str, name: str) -> Response:
        for item in revisions(namespace):
            if item["metadata"]["name"] == name:
                return json_response(item)
        region = region_from_host() or emu.settings.default_region
        raise not_found(
            f"Resource '{name}' of kind 'REVISION' in region '{region}' in project '{namespace}' does not exist."
        )

    @bp.get(f"{PREFIX}/<name>")
    def get(namespace: str, name: str) -> Response:
        with emu.lock:
            return json_response(to_v1(locate(store.project_id(namespace), name)))

    @bp.put(f"{PREFIX}/<name>")
    def replace(namespace: str, name: str) -> Response:
        body = request_json()
        meta = body.get("metadata") or {}
        if meta.get("name") not in (None, name):
            raise invalid(
                f"Invalid value at 'metadata.name': '{meta['name']}' does not match the service '{name}' "
                "named in the URL."
            )
        region = location_label(body) or region_from_host()
        who = principal()
        with emu.lock:
            project = store.project_id(namespace)
            record = store.get(project, region, name) if region else locate(project, name)
            rules.check_version(name, meta.get("resourceVersion"), record.version)
            spec, extra = from_v1(body, record.spec)
            validate_spec(spec, "spec")
            if _dry_run():
                return json_response(to_v1(store.preview_update(record, spec, extra, who)))
            store.update(record, spec, extra, who, emu.faults.operation_delay)
            reply = to_v1(record)
            logged = to_v1(record, with_status=False)
        request_body = {"name": activity.v1_resource_name(record), "region": record.region, "service": body}
        api.record(activity.v1(record, "ReplaceService", "update", request_body, {"@type": V1_SERVICE_TYPE, **logged}))
        return json_response(reply)

    @bp.delete(f"{PREFIX}/<name>")
    def delete(namespace: str, name: str) -> Response:
        with emu.lock:
            project = store.project_id(namespace)
            record = locate(project, name)
            # The Knative Status a delete answers with (run.v1.json: namespaces.services.delete returns Status).
            reply = {
                "status": "Success",
                "details": {"name": name, "kind": "services", "uid": record.uid},
                "metadata": {},
            }
            if _dry_run():
                return json_response(reply)
            store.delete(record, emu.faults.operation_delay)
        request_body = {"name": activity.v1_resource_name(record), "region": record.region}
        api.record(activity.v1(record, "DeleteService", "delete", request_body, {"@type": V1_STATUS_TYPE, **reply}))
        return json_response(reply)


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
