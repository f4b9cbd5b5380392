"""How a Compute resource is named and referred to: name rules, paths and URLs, as Compute prints and accepts them.

Compute stores references as full `https://www.googleapis.com/compute/v1/projects/...` URLs whatever the
caller sent, so every comparison in the emulator is done on the relative path (`projects/P/...`) and every
answer carries the full URL (docs/google-apis.md §3.3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ApiError, invalid

BASE_URL = "https://www.googleapis.com/compute/v1/"

NAME_PATTERN = "[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?"
_NAME = re.compile(NAME_PATTERN)
_REGION = re.compile(r"[a-z]+(?:-[a-z]+)+[0-9]+")

# A fully-qualified URL: any scheme and host, then the API path. Production takes www.googleapis.com and
# compute.googleapis.com; gcloud with an endpoint override builds URLs on the override's host
# (`http://compute.emulator.invalid/compute/v1/projects/...`), so the emulator takes any host and answers with
# www.googleapis.com whichever was sent.
_FULL_PREFIX = re.compile(r"^https?://[^/]+/compute/(?:v1|beta|alpha)/")
_PARTIAL_PREFIX = re.compile(r"^(?:compute/(?:v1|beta|alpha)/)?")
_RELATIVE = re.compile(
    r"^projects/(?P<project>[^/]+)/(?P<scope>global|regions/[^/]+|zones/[^/]+)/(?P<collection>[A-Za-z]+)/(?P<name>[^/]+)$"
)


@dataclass(frozen=True)
class Ref:
    """A parsed reference to one Compute resource."""

    project: str
    scope: str  # "global" or "regions/R" or "zones/Z"
    collection: str  # e.g. "backendServices"
    name: str

    @property
    def path(self) -> str:
        return f"projects/{self.project}/{self.scope}/{self.collection}/{self.name}"

    @property
    def url(self) -> str:
        return BASE_URL + self.path


def check_name(name: object, field: str = "resource.name") -> str:
    if name is None or name == "":
        raise ApiError(400, f"Required field '{field}' not specified", reason="required")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise invalid(f"Invalid value for field '{field}': '{name}'. Must be a match of regex '(?:{NAME_PATTERN})'")
    return name


def check_region(project: str, region: str) -> str:
    """Unknown regions are 404 in production; the emulator knows no list, so it checks the shape only."""
    if not _REGION.fullmatch(region):
        raise ApiError(404, f"The resource 'projects/{project}/regions/{region}' was not found")
    return region


def scope_of(region: str | None) -> str:
    return f"regions/{region}" if region else "global"


def region_url(project: str, region: str) -> str:
    return f"{BASE_URL}projects/{project}/regions/{region}"


def collection_url(project: str, scope: str, collection: str) -> str:
    return f"{BASE_URL}projects/{project}/{scope}/{collection}"


def relative(path_or_url: str) -> str:
    """`projects/...` for a full URL or a relative path (used to print resource names in messages)."""
    return _FULL_PREFIX.sub("", path_or_url)


def parse_full(value: object, field: str) -> Ref:
    """A reference that must be a fully-qualified URL (`backends[].group`: partial URLs are not supported)."""
    if not isinstance(value, str) or not _FULL_PREFIX.match(value):
        raise _malformed(field, value)
    return _parse_relative(_FULL_PREFIX.sub("", value), field, value)


def parse_partial(value: object, field: str, project: str) -> Ref:
    """A reference that may be full or partial: `https://...`, `compute/v1/projects/...`, `projects/...`,
    `global/backendServices/x` (the request's project). A bare name is not a URL and is refused."""
    if not isinstance(value, str) or not value:
        raise _malformed(field, value)
    rest = _FULL_PREFIX.sub("", value) if _FULL_PREFIX.match(value) else _PARTIAL_PREFIX.sub("", value)
    if rest.startswith(("global/", "regions/", "zones/")):
        rest = f"projects/{project}/{rest}"
    return _parse_relative(rest, field, value)


def _parse_relative(rest: str, field: str, original: object) -> Ref:
    match = _RELATIVE.match(rest)
    if not match:
        raise _malformed(field, original)
    return Ref(match["project"], match["scope"], match["collection"], match["name"])


def _malformed(field: str, value: object) -> ApiError:
    return invalid(f"Invalid value for field '{field}': '{value}'. The URL is malformed.")
