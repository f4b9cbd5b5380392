"""Eventarc triggers: what a valid trigger is, and the resource Eventarc returns for it."""

from __future__ import annotations

import copy
import hashlib
import json
import random
import re
import urllib.parse
import uuid
from typing import Any

from ..errors import ApiError, invalid
from .matching import PATH_PATTERN_OPERATOR, compile_path_pattern

AUDIT_LOG_EVENT_TYPE = "google.cloud.audit.log.v1.written"
TRIGGER_TYPE = "type.googleapis.com/google.cloud.eventarc.v1.Trigger"

_TRIGGER_ID = re.compile(r"[a-z]([a-z0-9-]{0,62}[a-z0-9])?")
_LOCATION = re.compile(r"global|[a-z]+-[a-z]+[0-9]+")
# The filter attributes of the Cloud Audit Logs provider (`gcloud eventarc providers describe
# cloudaudit.googleapis.com`): only resourceName supports a path pattern.
_AUDIT_ATTRIBUTES = ("type", "serviceName", "methodName", "resourceName")
_AUDIT_REQUIRED = ("serviceName", "methodName")
_DESTINATIONS = ("cloudRun", "cloudFunction", "gke", "workflow", "httpEndpoint")
# Writable Trigger fields (eventarc.v1 discovery document); output-only ones sent back by clients are ignored.
_INPUT_FIELDS = (
    "eventFilters",
    "destination",
    "serviceAccount",
    "labels",
    "channel",
    "eventDataContentType",
    "retryPolicy",
    "transport",
)


def check_location(location: str) -> None:
    if not _LOCATION.fullmatch(location):
        raise invalid(f"Location '{location}' is not a valid location: use 'global' or a region such as 'us-central1'")


def check_trigger_id(trigger_id: str | None) -> str:
    if not trigger_id:
        raise invalid("The request is missing the required triggerId query parameter")
    if not _TRIGGER_ID.fullmatch(trigger_id):
        raise invalid(
            f"Invalid triggerId '{trigger_id}': it must start with a lowercase letter, contain only "
            "lowercase letters, digits and hyphens, not end with a hyphen, and be at most 64 characters"
        )
    return trigger_id


def _check_filters(raw: Any) -> list[dict[str, str]]:
    if not isinstance(raw, list) or not raw:
        raise invalid("The request was invalid: eventFilters: at least one event filter, on 'type', is required")
    filters: list[dict[str, str]] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        where = f"eventFilters[{index}]"
        if not isinstance(item, dict):
            raise invalid(f"{where} must be an object with attribute and value")
        attribute, value, operator = item.get("attribute"), item.get("value"), item.get("operator")
        if not attribute or not isinstance(attribute, str):
            raise invalid(f"{where}.attribute is required")
        if not value or not isinstance(value, str):
            raise invalid(f"{where}.value is required for attribute '{attribute}'")
        if attribute in seen:
            raise invalid(f"The event filter attribute '{attribute}' appears more than once")
        seen.add(attribute)
        clean = {"attribute": attribute, "value": value}
        if operator:
            clean["operator"] = operator
        filters.append(clean)
    by_attribute = {f["attribute"]: f for f in filters}
    if "type" not in by_attribute:
        raise invalid("The request was invalid: event filters must include the 'type' attribute")
    type_filter = by_attribute["type"]
    if "operator" in type_filter:
        raise invalid("The 'type' event filter must be an exact match: it takes no operator")
    if type_filter["value"] == AUDIT_LOG_EVENT_TYPE:
        for name in _AUDIT_REQUIRED:
            if name not in by_attribute:
                raise invalid(
                    f"The request was invalid: a Cloud Audit Logs trigger (type={AUDIT_LOG_EVENT_TYPE}) "
                    f"must filter on '{name}'"
                )
        for attribute in by_attribute:
            if attribute not in _AUDIT_ATTRIBUTES:
                raise invalid(
                    f"The event filter attribute '{attribute}' is not supported for event type "
                    f"{AUDIT_LOG_EVENT_TYPE}; supported: {', '.join(_AUDIT_ATTRIBUTES)}"
                )
    for item in filters:
        operator = item.get("operator")
        if operator is None:
            continue
        if operator != PATH_PATTERN_OPERATOR:
            raise invalid(
                f"Invalid operator '{operator}' on attribute '{item['attribute']}': the only supported "
                f"operator is '{PATH_PATTERN_OPERATOR}'"
            )
        if item["attribute"] != "resourceName":
            raise invalid(
                f"The operator '{PATH_PATTERN_OPERATOR}' is not supported on attribute "
                f"'{item['attribute']}': only resourceName takes a path pattern"
            )
        try:
            compile_path_pattern(item["value"])
        except ValueError as exc:
            raise invalid(f"Invalid path pattern '{item['value']}': {exc}") from exc
    return filters


def _check_destination(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict) or not raw:
        raise invalid("The request was invalid: destination is required")
    kinds = [k for k in _DESTINATIONS if raw.get(k)]
    if len(kinds) != 1:
        raise invalid(f"The request was invalid: destination must set exactly one of {', '.join(_DESTINATIONS)}")
    kind = kinds[0]
    if kind == "httpEndpoint":
        uri = raw["httpEndpoint"].get("uri") if isinstance(raw["httpEndpoint"], dict) else None
        parsed = urllib.parse.urlsplit(uri or "")
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise invalid(f"The request was invalid: destination.httpEndpoint.uri '{uri}' is not an http(s) URI")
    elif kind == "cloudRun":
        run = raw["cloudRun"]
        if not isinstance(run, dict) or not run.get("service") or not run.get("region"):
            raise invalid("The request was invalid: destination.cloudRun needs service and region")
    elif kind == "cloudFunction" and not re.fullmatch(
        r"projects/[^/]+/locations/[^/]+/functions/[^/]+", str(raw["cloudFunction"])
    ):
        raise invalid(
            "The request was invalid: destination.cloudFunction must be "
            "projects/{project}/locations/{location}/functions/{function}"
        )
    return copy.deepcopy(raw)


def etag_of(trigger: dict[str, Any]) -> str:
    content = {k: v for k, v in trigger.items() if k != "etag"}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:40]


def build_trigger(project: str, location: str, trigger_id: str, body: dict[str, Any], created: str) -> dict[str, Any]:
    """The stored and returned Trigger: only fields of the eventarc.v1 Trigger schema."""
    ignored = (
        set(body)
        - set(_INPUT_FIELDS)
        - {"name", "uid", "createTime", "updateTime", "etag", "conditions", "satisfiesPzs"}
    )
    if ignored:
        raise invalid(f'Invalid JSON payload received. Unknown name "{sorted(ignored)[0]}": Cannot find field.')
    filters = _check_filters(body.get("eventFilters"))
    destination = _check_destination(body.get("destination"))
    labels = body.get("labels") or {}
    if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
        raise invalid("The request was invalid: labels must be a map of strings")
    service_account = body.get("serviceAccount")
    if service_account is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+", str(service_account)):
        raise invalid(f"The request was invalid: serviceAccount '{service_account}' is not an email address")
    # Eventarc Standard delivers through a Pub/Sub topic and push subscription it creates per trigger.
    suffix = f"{random.randint(0, 999):03d}"
    topic = f"projects/{project}/topics/eventarc-{location}-{trigger_id}-{suffix}"
    subscription = f"projects/{project}/subscriptions/eventarc-{location}-{trigger_id}-sub-{suffix}"
    trigger: dict[str, Any] = {
        "name": f"projects/{project}/locations/{location}/triggers/{trigger_id}",
        "uid": str(uuid.uuid4()),
        "createTime": created,
        "updateTime": created,
        "eventFilters": filters,
    }
    if service_account:
        trigger["serviceAccount"] = service_account
    trigger["destination"] = destination
    trigger["transport"] = {"pubsub": {"topic": topic, "subscription": subscription}}
    if labels:
        trigger["labels"] = dict(labels)
    trigger["eventDataContentType"] = body.get("eventDataContentType") or "application/json"
    retry = body.get("retryPolicy")
    if retry:
        if not isinstance(retry, dict) or retry.get("maxAttempts") not in (None, 1, "1"):
            raise invalid("The request was invalid: retryPolicy.maxAttempts: the only valid value is 1")
        trigger["retryPolicy"] = {"maxAttempts": 1} if retry.get("maxAttempts") else {}
    trigger["etag"] = etag_of(trigger)
    return trigger


def not_found(name: str) -> ApiError:
    return ApiError(404, f"Resource '{name}' was not found")
