"""Log sinks: what a valid LogSink is, its writer identity, updates by field mask, and which entries it exports.

Facts (docs/google-apis.md §9.5, logging.v2 discovery document `LogSink`, `sinks.create`):
- a sink exports the entries of the resource that owns it that match its `filter` and none of its enabled
  `exclusions`; with `includeChildren`, an organization or folder sink (an *aggregated* sink) also exports the
  entries of every folder and project below it; a `disabled` sink exports nothing;
- `writerIdentity` is who writes to the destination: for an organization or folder sink, that parent's Logging
  service agent (`serviceAccount:service-org-N@gcp-sa-logging.iam.gserviceaccount.com`, `service-folder-N@…`);
  for a project sink, the project's service agent (`service-PROJECT_NUMBER@…`) when `uniqueWriterIdentity` is
  true, else the identity Logging used before writer identities
  (`serviceAccount:cloud-logs@system.gserviceaccount.com`); none for a log bucket of the sink's own project. It
  must be allowed to write to the destination.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import ApiError, invalid
from .query import FilterError, compile_filter

SINK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}")
LEGACY_WRITER = "serviceAccount:cloud-logs@system.gserviceaccount.com"
_AGENT = "serviceAccount:service-{}@gcp-sa-logging.iam.gserviceaccount.com"
_DESTINATIONS = (
    re.compile(r"storage\.googleapis\.com/[^/]+"),
    re.compile(r"bigquery\.googleapis\.com/projects/[^/]+/datasets/[^/]+"),
    re.compile(r"pubsub\.googleapis\.com/(?P<topic>projects/[^/]+/topics/[^/]+)"),
    re.compile(r"logging\.googleapis\.com/projects/[^/]+(/locations/[^/]+/buckets/[^/]+)?"),
)
# Writable LogSink fields; on input, the output-only ones are ignored.
WRITABLE = (
    "destination",
    "filter",
    "description",
    "disabled",
    "exclusions",
    "includeChildren",
    "interceptChildren",
    "bigqueryOptions",
    "outputVersionFormat",
)
_OUTPUT_ONLY = ("name", "writerIdentity", "createTime", "updateTime", "resourceName")
# "An empty updateMask is temporarily treated as using the following mask" (sinks.update).
DEFAULT_UPDATE_MASK = ("destination", "filter", "includeChildren")
MAX_DESCRIPTION = 8000

Predicate = Callable[[dict[str, Any]], bool]


def bad_request(field_name: str, message: str) -> ApiError:
    detail = {
        "@type": "type.googleapis.com/google.rpc.BadRequest",
        "fieldViolations": [{"field": field_name, "description": message}],
    }
    return invalid(message, details=[detail])


def _filter(text: Any, where: str) -> Predicate:
    if text is not None and not isinstance(text, str):
        raise bad_request(where, f"{where} must be a string")
    try:
        return compile_filter(text)
    except FilterError as exc:
        raise bad_request(where, str(exc)) from exc


@dataclass
class Sink:
    parent: str  # projects/P, folders/N or organizations/N
    sink_id: str
    fields: dict[str, Any]  # the writable fields, as given
    writer_identity: str | None
    unique: bool
    create_time: str
    update_time: str
    predicate: Predicate = field(repr=False, default=lambda entry: True)
    exclusions: list[Predicate] = field(repr=False, default_factory=list)  # the enabled ones

    @property
    def name(self) -> str:
        return f"{self.parent}/sinks/{self.sink_id}"

    @property
    def aggregated(self) -> bool:
        return bool(self.fields.get("includeChildren")) and not self.parent.startswith("projects/")

    @property
    def topic(self) -> str | None:
        """`projects/P/topics/T` for a Pub/Sub destination; None for the others."""
        match = _DESTINATIONS[2].fullmatch(self.fields["destination"])
        return match.group("topic") if match else None

    def exports(self, entry: dict[str, Any]) -> bool:
        return (
            not self.fields.get("disabled")
            and self.predicate(entry)
            and not any(excluded(entry) for excluded in self.exclusions)
        )

    def to_json(self) -> dict[str, Any]:
        """The LogSink (proto3 JSON: empty and false fields omitted)."""
        body: dict[str, Any] = {"name": self.sink_id}
        for key in ("destination", "filter", "description", "disabled", "exclusions"):
            if self.fields.get(key):
                body[key] = copy.deepcopy(self.fields[key])
        if self.writer_identity:
            body["writerIdentity"] = self.writer_identity
        for key in ("includeChildren", "bigqueryOptions", "outputVersionFormat"):
            if self.fields.get(key):
                body[key] = copy.deepcopy(self.fields[key])
        body["createTime"] = self.create_time
        body["updateTime"] = self.update_time
        return body


def check_sink_id(sink_id: Any) -> str:
    if not isinstance(sink_id, str) or not SINK_ID.fullmatch(sink_id):
        raise bad_request(
            "sink.name",
            f"Invalid sink name {sink_id!r}: up to 100 letters, digits, underscores, hyphens and periods, "
            "starting with a letter or digit",
        )
    return sink_id


def _check_exclusions(raw: Any) -> tuple[list[dict[str, Any]], list[Predicate]]:
    if raw is None:
        return [], []
    if not isinstance(raw, list):
        raise bad_request("sink.exclusions", "exclusions must be a list of LogExclusion")
    clean: list[dict[str, Any]] = []
    enabled: list[Predicate] = []
    for index, item in enumerate(raw):
        where = f"sink.exclusions[{index}]"
        if not isinstance(item, dict):
            raise bad_request(where, f"{where} must be a LogExclusion object")
        if not isinstance(item.get("name"), str) or not SINK_ID.fullmatch(item["name"]):
            raise bad_request(f"{where}.name", f"{where}.name is required: letters, digits, '_', '-', '.'")
        if item["name"] in {c["name"] for c in clean}:
            raise bad_request(f"{where}.name", f"Duplicate exclusion name {item['name']!r}")
        if not item.get("filter"):
            raise bad_request(f"{where}.filter", f"{where}.filter is required")
        predicate = _filter(item["filter"], f"{where}.filter")
        kept = {k: copy.deepcopy(item[k]) for k in ("name", "description", "filter", "disabled") if item.get(k)}
        clean.append(kept)
        if not item.get("disabled"):
            enabled.append(predicate)
    return clean, enabled


def check_fields(fields: dict[str, Any]) -> tuple[dict[str, Any], Predicate, list[Predicate]]:
    """The writable fields of a sink, checked: (fields, filter predicate, enabled exclusion predicates)."""
    destination = fields.get("destination")
    if not isinstance(destination, str) or not destination:
        raise bad_request("sink.destination", "sink.destination is required")
    if not any(pattern.fullmatch(destination) for pattern in _DESTINATIONS):
        raise bad_request(
            "sink.destination",
            f'Invalid destination "{destination}": expected storage.googleapis.com/BUCKET, '
            "bigquery.googleapis.com/projects/P/datasets/D, pubsub.googleapis.com/projects/P/topics/T or "
            "logging.googleapis.com/projects/P[/locations/L/buckets/B]",
        )
    if fields.get("interceptChildren"):
        raise ApiError(501, "The emulator does not implement interceptChildren")
    description = fields.get("description")
    if description is not None and (not isinstance(description, str) or len(description) > MAX_DESCRIPTION):
        raise bad_request("sink.description", f"description must be a string of at most {MAX_DESCRIPTION} characters")
    for key in ("disabled", "includeChildren"):
        if key in fields and not isinstance(fields[key], bool):
            raise bad_request(f"sink.{key}", f"{key} must be a boolean")
    predicate = _filter(fields.get("filter"), "sink.filter")
    exclusions, enabled = _check_exclusions(fields.get("exclusions"))
    clean = {k: copy.deepcopy(fields[k]) for k in WRITABLE if fields.get(k) not in (None, "", [], {}, False)}
    if exclusions:
        clean["exclusions"] = exclusions
    return clean, predicate, enabled


def writable_fields(body: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(body) - set(WRITABLE) - set(_OUTPUT_ONLY))
    if unknown:
        raise invalid(f"Invalid JSON payload received. Unknown name \"{unknown[0]}\" at 'sink': Cannot find field.")
    return {k: body[k] for k in WRITABLE if k in body}


def update_mask(mask: str | None) -> list[str]:
    """The writable fields an update names (camelCase or snake_case); the default mask when empty."""
    if not mask or not mask.strip():
        return list(DEFAULT_UPDATE_MASK)
    names = []
    for raw in mask.split(","):
        name = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), raw.strip())
        if name not in WRITABLE:
            raise bad_request(
                "update_mask", f'Invalid update mask path "{raw.strip()}": not an updatable LogSink field'
            )
        names.append(name)
    return names


def writer_identity(parent: str, destination: str, unique: bool, project_number: Callable[[str], str]) -> str | None:
    kind, _, ident = parent.partition("/")
    if kind == "organizations":
        return _AGENT.format(f"org-{ident}")
    if kind == "folders":
        return _AGENT.format(f"folder-{ident}")
    own_bucket = re.fullmatch(rf"logging\.googleapis\.com/projects/{re.escape(ident)}(/.*)?", destination)
    if own_bucket:
        return None  # "cannot have a writer_identity": a log bucket of the sink's own project
    return _AGENT.format(project_number(ident)) if unique else LEGACY_WRITER
