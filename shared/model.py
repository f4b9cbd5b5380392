"""Small value types shared by decoding, planning and applying."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

# Cloud Run service ids: lowercase letters, digits and hyphens, starting with a letter, not ending with
# a hyphen, fewer than 50 characters (run.v2 discovery, `serviceId`). Projects: 6-30 chars; regions: `a-b1`.
SERVICE_ID = r"[a-z](?:[-a-z0-9]{0,47}[a-z0-9])?"
PROJECT_ID = r"[a-z][-a-z0-9]{4,28}[a-z0-9]"
# Project numbers are decimal, no leading zero; 20 digits is beyond any real one but bounds the input.
PROJECT_NUMBER = r"[1-9][0-9]{0,19}"
REGION = r"[a-z]+-[a-z]+[0-9]+"
# Audit entries may name a project by number (`namespaces/123456789012/...`); a key accepts either form.
_V2_NAME = re.compile(
    rf"projects/(?P<project>{PROJECT_ID}|{PROJECT_NUMBER})/locations/(?P<region>{REGION})/services/(?P<service>{SERVICE_ID})"
)


@dataclass(frozen=True, order=True)
class ServiceKey:
    """Which Cloud Run service: the only thing runway takes from an event."""

    project: str
    region: str
    service: str

    @property
    def name(self) -> str:
        return f"projects/{self.project}/locations/{self.region}/services/{self.service}"

    @property
    def path(self) -> str:
        """`PROJECT/REGION/SERVICE`, the string `RUNWAY_EXEMPT` globs match."""
        return f"{self.project}/{self.region}/{self.service}"

    @classmethod
    def parse(cls, name: str) -> ServiceKey:
        match = _V2_NAME.fullmatch(name)
        if not match:
            raise ValueError(f"not a Cloud Run v2 service name: {name!r}")
        return cls(match["project"], match["region"], match["service"])


@dataclass(frozen=True)
class ServiceFacts:
    """What runway reads of a live service: everything the planners decide on."""

    key: ServiceKey
    ingress: str  # enum name, e.g. INGRESS_TRAFFIC_ALL
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    etag: str = ""
    create_time: datetime | None = None
