"""Names, ownership markers and resource URLs of what runway makes on the shared load balancer.

This module is a compatibility contract (docs/naming.md): garbage collection finds runway's objects by these
names and markers, so changing any function here orphans every object an older version made. Pure; no I/O.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from shared.model import ServiceRef

PREFIX = "runway"
MAX_NAME_LEN = 63
HASH_LEN = 8
NAME_RE = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
COMPUTE_BASE = "https://www.googleapis.com/compute/v1/"
MANAGED_BY = "runway"

# Room left for the readable part of `runway-<part>-<hash8>`: 63 - len("runway-") - len("-") - 8 = 47.
_PART_LEN = MAX_NAME_LEN - len(PREFIX) - 2 - HASH_LEN
_PLAIN_ALIAS = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_NOT_NAME_CHAR = re.compile(r"[^-a-z0-9]")


@dataclass(frozen=True)
class Marker:
    """The ownership marker runway writes into the `description` of every NEG and backend service it makes."""

    owner: str
    project: str
    service: str

    @property
    def ref(self) -> ServiceRef:
        return ServiceRef(self.project, self.service)

    def to_json(self) -> str:
        return marker_json(self.owner, self.project, self.service)


def identity_hash(*parts: str) -> str:
    """First 8 hex digits of SHA-256 over the compact ASCII JSON array of `parts` (unambiguous, any language)."""
    canonical = json.dumps(list(parts), separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()[:HASH_LEN]


def _part(text: str) -> str:
    """The readable middle of a name: lowercased, foreign characters as `-`, cut to fit, no edge hyphens."""
    cleaned = _NOT_NAME_CHAR.sub("-", text.lower())[:_PART_LEN]
    return cleaned.strip("-")


def _hashed_name(readable: str, digest: str) -> str:
    middle = _part(readable)
    # The hash is hex and may start with a digit, but the prefix keeps the name starting with a letter.
    return f"{PREFIX}-{middle}-{digest}" if middle else f"{PREFIX}-{digest}"


def backend_service_name(owner_id: str, project: str, service: str) -> str:
    """Global backend service of one service of one project, for one runway installation."""
    return _hashed_name(service, identity_hash("backendService", owner_id, project, service))


def neg_name(owner_id: str, project: str, region: str, service: str) -> str:
    """Serverless NEG of one service in one region; the region is hashed so a NEG name is unique per project."""
    return _hashed_name(service, identity_hash("networkEndpointGroup", owner_id, project, region, service))


def path_matcher_name(alias: str) -> str:
    """`runway-<alias>` when the alias is already a valid name fragment, else a trimmed form plus a hash.

    Not per owner: a host may sit in only one host rule of a URL map, so installations sharing a load balancer
    share the matcher of an alias and tell their path rules apart by the backend services' markers.
    """
    if _PLAIN_ALIAS.fullmatch(alias) and len(PREFIX) + 1 + len(alias) <= MAX_NAME_LEN:
        return f"{PREFIX}-{alias}"
    return _hashed_name(alias, identity_hash("pathMatcher", alias))


def is_runway_path_matcher(name: str) -> bool:
    return name.startswith(f"{PREFIX}-")


def marker_json(owner_id: str, project: str, service: str) -> str:
    """Canonical marker: compact JSON, keys in this order. Written verbatim; compared by meaning (parse_marker)."""
    return json.dumps(
        {"managedBy": MANAGED_BY, "owner": owner_id, "service": f"{project}/{service}"},
        separators=(",", ":"),
        ensure_ascii=True,
    )


def parse_marker(description: object) -> Marker | None:
    """The marker in a `description`, or None for anything else (foreign text, other JSON, a broken marker)."""
    if not isinstance(description, str) or not description.startswith("{"):
        return None
    try:
        data = json.loads(description)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("managedBy") != MANAGED_BY:
        return None
    owner, service = data.get("owner"), data.get("service")
    if not isinstance(owner, str) or not owner or not isinstance(service, str):
        return None
    project, sep, name = service.partition("/")
    if not sep or not project or not name or "/" in name:
        return None
    return Marker(owner, project, name)


def backend_service_path(project: str, name: str) -> str:
    return f"projects/{project}/global/backendServices/{name}"


def service_backend_path(owner_id: str, ref: ServiceRef) -> str:
    """The relative path of a service's backend service: it lives in the service's own project, beside its NEGs
    (an external Application Load Balancer's backend service uses NEGs of its own project, docs/google-apis.md
    §9.4); the shared URL map references it across projects."""
    return backend_service_path(ref.project, backend_service_name(owner_id, ref.project, ref.service))


def neg_path(project: str, region: str, name: str) -> str:
    return f"projects/{project}/regions/{region}/networkEndpointGroups/{name}"


def security_policy_path(project: str, policy: str) -> str:
    """A policy given as a bare name lives in `project`; a path or URL is taken as is."""
    if "/" in policy:
        return relative_name(policy, project)
    return f"projects/{project}/global/securityPolicies/{policy}"


def full_url(path: str) -> str:
    """Full URL of a relative name: what Compute stores, and what `backends[].group` requires."""
    return COMPUTE_BASE + relative_name(path)


def neg_url(project: str, region: str, name: str) -> str:
    return full_url(neg_path(project, region, name))


def security_policy_url(project: str, policy: str) -> str:
    return full_url(security_policy_path(project, policy))


def relative_name(url: str, project: str | None = None) -> str:
    """`projects/P/...` for any full or partial form, so references compare by meaning.

    Handles any host and API version (`https://www.googleapis.com/compute/v1/projects/...`,
    `https://compute.googleapis.com/compute/beta/projects/...`, `compute/v1/projects/...`), and the project-less
    `global/...` and `regions/...` forms when `project` says whose they are. Anything else comes back unchanged.
    """
    text = url.strip()
    if text.startswith("projects/"):
        return text
    at = text.find("/projects/")
    if at >= 0:
        return text[at + 1 :]
    if project and (text.startswith("global/") or text.startswith("regions/")):
        return f"projects/{project}/{text}"
    return text


def last_segment(url: str) -> str:
    """The resource name at the end of a URL or path (a NEG's `region` URL gives the region)."""
    return url.rstrip("/").rsplit("/", 1)[-1]
