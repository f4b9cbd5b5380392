"""Cloud Run naming and metadata rules, and the derived names production prints (URLs, numbers, versions)."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from ..errors import ApiError, invalid

# "Cloud Run API v2 does not support labels with `run.googleapis.com`, `cloud.googleapis.com`,
# `serving.knative.dev`, or `autoscaling.knative.dev` namespaces, and they will be rejected." (run.v2.json,
# GoogleCloudRunV2Service.labels; the same for annotations.)
RESERVED_NAMESPACES = ("run.googleapis.com", "cloud.googleapis.com", "serving.knative.dev", "autoscaling.knative.dev")
LOCATION_LABEL = "cloud.googleapis.com/location"

MAX_LABELS = 64
MAX_LABEL_CHARS = 63
MAX_DESCRIPTION_CHARS = 512
MAX_ANNOTATIONS_BYTES = 256 * 1024  # Kubernetes' total annotation size limit

# serviceId: "must begin with letter, and cannot end with hyphen; must contain fewer than 50 characters"
# (run.v2.json CreateService.serviceId); the character set is the DNS-label one Knative names use.
_SERVICE_ID = re.compile(r"^[a-z](?:[-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$")
_K8S_NAME = re.compile(r"^[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?$")


def check_service_id(service_id: str) -> None:
    if len(service_id) >= 50 or not _SERVICE_ID.match(service_id):
        raise invalid(
            f"Invalid service id '{service_id}': it must begin with a lowercase letter, contain only lowercase "
            "letters, digits and hyphens, not end with a hyphen, and be fewer than 50 characters."
        )


def reserved_namespace(key: str) -> str | None:
    """The reserved namespace a label or annotation key is in (a subdomain of one counts too), if any."""
    prefix = key.split("/", 1)[0] if "/" in key else ""
    for ns in RESERVED_NAMESPACES:
        if prefix == ns or prefix.endswith("." + ns):
            return ns
    return None


def _label_char_ok(ch: str) -> bool:
    # Resource Manager: lowercase letters, digits, underscores and dashes; international characters allowed.
    if ch.isascii():
        return ch.islower() or ch.isdigit() or ch in "_-"
    return ch.isalnum() and not ch.isupper()


def check_labels(labels: Any, where: str, *, reject_reserved: bool = True) -> dict[str, str]:
    """Resource Manager label rules (docs/google-apis.md §1.2): ≤ 64 labels; keys 1-63 characters starting with a
    lowercase letter; keys and values of lowercase letters, digits, `_` and `-`; values ≤ 63 characters."""
    if labels is None:
        return {}
    if not isinstance(labels, dict):
        raise invalid(f"Invalid value at '{where}': labels must be a map of strings to strings.")
    if len(labels) > MAX_LABELS:
        raise invalid(f"Invalid value at '{where}': at most {MAX_LABELS} labels are allowed, got {len(labels)}.")
    for key, value in labels.items():
        ns = reserved_namespace(key)
        if ns and reject_reserved:
            raise invalid(
                f"Invalid value at '{where}': label key '{key}' is in the reserved namespace '{ns}'. Cloud Run API v2 "
                f"does not support labels in the {', '.join(RESERVED_NAMESPACES)} namespaces."
            )
        if (
            not key
            or len(key) > MAX_LABEL_CHARS
            or not (key[0].isalpha() and not key[0].isupper())
            or not all(_label_char_ok(c) for c in key)
        ):
            raise invalid(
                f"Invalid value at '{where}': label key '{key}' is invalid. Keys must be 1-63 characters long, start "
                "with a lowercase letter, and contain only lowercase letters, digits, underscores and dashes."
            )
        if not isinstance(value, str):
            raise invalid(f"Invalid value at '{where}': the value of label '{key}' must be a string.")
        if len(value) > MAX_LABEL_CHARS or not all(_label_char_ok(c) for c in value):
            raise invalid(
                f"Invalid value at '{where}': label value '{value}' of key '{key}' is invalid. Values must be at "
                "most 63 characters long and contain only lowercase letters, digits, underscores and dashes."
            )
    return dict(labels)


def check_annotations(annotations: Any, where: str, *, reject_reserved: bool = True) -> dict[str, str]:
    """Kubernetes annotation keys (`[prefix/]name`, prefix a DNS subdomain ≤ 253, name ≤ 63) and total size."""
    if annotations is None:
        return {}
    if not isinstance(annotations, dict):
        raise invalid(f"Invalid value at '{where}': annotations must be a map of strings to strings.")
    size = 0
    for key, value in annotations.items():
        ns = reserved_namespace(key)
        if ns and reject_reserved:
            raise invalid(
                f"Invalid value at '{where}': annotation key '{key}' is in the reserved namespace '{ns}'. Cloud Run "
                f"API v2 does not support annotations in the {', '.join(RESERVED_NAMESPACES)} namespaces."
            )
        prefix, _, name = key.rpartition("/")
        if (prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix))) or not (
            0 < len(name) <= 63 and _K8S_NAME.match(name)
        ):
            raise invalid(
                f"Invalid value at '{where}': annotation key '{key}' is invalid. A key is an optional DNS subdomain "
                "prefix and '/', then a name of at most 63 alphanumeric characters, '-', '_' or '.', starting and "
                "ending with an alphanumeric character."
            )
        if not isinstance(value, str):
            raise invalid(f"Invalid value at '{where}': the value of annotation '{key}' must be a string.")
        size += len(key.encode()) + len(value.encode())
    if size > MAX_ANNOTATIONS_BYTES:
        raise invalid(f"Invalid value at '{where}': annotations are {size} bytes, more than the 256 KiB allowed.")
    return dict(annotations)


def project_number(project_id: str) -> str:
    """A stable fake project number (12 digits, never starting with 0) for a project id."""
    if project_id.isdigit():
        return project_id
    digest = int(hashlib.sha256(project_id.encode()).hexdigest(), 16)
    return str(100_000_000_000 + digest % 900_000_000_000)


# Production's short region codes in `*.a.run.app` hosts; unknown regions get a derived two-letter code.
_REGION_CODES = {
    "us-central1": "uc",
    "us-east1": "ue",
    "us-east4": "uk",
    "us-east5": "ul",
    "us-west1": "uw",
    "us-west2": "wl",
    "us-west3": "wm",
    "us-west4": "wn",
    "us-south1": "vp",
    "europe-west1": "ew",
    "europe-west2": "nw",
    "europe-west3": "ey",
    "europe-west4": "ez",
    "europe-north1": "lz",
    "asia-east1": "de",
    "asia-northeast1": "an",
    "asia-southeast1": "as",
    "australia-southeast1": "ts",
    "northamerica-northeast1": "nn",
    "southamerica-east1": "rj",
}


def service_uri(project: str, region: str, service_id: str) -> str:
    """`https://S-<hash>-<regioncode>.a.run.app`: the hash is per project, so it is derived from the project."""
    project_hash = base64.b32encode(hashlib.sha256(project.encode()).digest()).decode().lower()[:10]
    code = _REGION_CODES.get(region) or "".join(part[0] for part in region.split("-")[:2])
    return f"https://{service_id}-{project_hash}-{code}.a.run.app"


def service_urls(project: str, region: str, service_id: str) -> list[str]:
    """Both URLs production lists: the deterministic `S-NUMBER.REGION.run.app` one, then the hashed one."""
    deterministic = f"https://{service_id}-{project_number(project)}.{region}.run.app"
    return [deterministic, service_uri(project, region, service_id)]


def version_token(version: int) -> str:
    """v1 `resourceVersion` (and our v2 `etag`): production's is the update time in microseconds as 8 big-endian
    bytes in unpadded base64. The captured `AAX6XDO2Dn4` decodes to 1682648795057790, the object's
    creationTimestamp 2023-04-28T02:26:35.057790Z (3RD-PARTY capture of a v1 CreateService audit entry)."""
    return base64.urlsafe_b64encode(version.to_bytes(8, "big")).decode().rstrip("=")


def version_of(token: str) -> int | None:
    """The version a client's etag or resourceVersion names; None if it is not one of ours."""
    token = token.strip()
    if token.startswith("W/"):
        token = token[2:]
    token = token.strip('"')
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, TypeError):
        return None
    return int.from_bytes(raw, "big") if len(raw) == 8 else None


def check_version(service_id: str, given: str | None, current: int) -> None:
    """409 ABORTED on a stale etag/resourceVersion, in the wording Cloud Run uses (docs/google-apis.md §1.3)."""
    if not given:
        return
    version = version_of(given)
    if version == current:
        return
    shown = str(version) if version is not None else given
    raise ApiError(
        409,
        f"Conflict for resource '{service_id}': version '{shown}' was specified but current version is '{current}'.",
        status="ABORTED",
    )
