"""The values of `python main.py explain`: what was read (`Observation`), each link checked (`Check`), and the
whole answer (`Explanation`). Pure values; what each check means is in `cli.explain_checks`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.config import Config
from shared.model import ServiceFacts, ServiceKey, ServiceRef

PASS, FAIL, SKIP, INFO = "pass", "fail", "skip", "info"


@dataclass(frozen=True)
class Check:
    name: str  # label, host, ingress, invoker, neg:<region>, backend, rule:<host>, routing, status, decisions
    status: str  # pass | fail | skip | info
    summary: str
    evidence: tuple[str, ...] = ()
    fix: str | None = None

    @property
    def kind(self) -> str:
        return self.name.split(":", 1)[0]


@dataclass(frozen=True)
class Observation:
    """What `cli.explain_read` read, as plain values."""

    config: Config
    ref: ServiceRef
    copies: tuple[ServiceFacts, ...]  # every copy found, in region order
    invoker: Mapping[str, bool | str]  # region -> allUsers may invoke (str: why it could not be read)
    backend: Mapping[str, Any] | None  # runway's backend service for it (by name), as read
    negs: Mapping[str, Mapping[str, Any] | None]  # region -> runway's NEG there (by name), as read
    url_map: Mapping[str, Any]
    lb_project: str
    holder_names: Mapping[str, str] = field(default_factory=dict)  # backend path -> project/service
    decisions: tuple[Mapping[str, Any], ...] | str = ()  # newest first, or why they could not be read


@dataclass(frozen=True)
class Explanation:
    ref: ServiceRef
    regions: tuple[str, ...]
    checks: tuple[Check, ...]
    decisions: tuple[Mapping[str, Any], ...] | str

    def _passed(self, *kinds: str) -> bool:
        return all(c.status == PASS for c in self.checks if c.kind in kinds) and any(
            c.kind in kinds for c in self.checks
        )

    @property
    def published(self) -> bool:
        return self._passed("label", "host") and self._passed("neg", "backend", "rule")

    @property
    def reachable(self) -> bool:
        return self._passed("ingress", "invoker")

    @property
    def first_failure(self) -> Check | None:
        return next((c for c in self.checks if c.status == FAIL), None)

    @property
    def exit_code(self) -> int:
        return 0 if self.published and self.reachable and self.first_failure is None else 1


def gcloud_update(key: ServiceKey, flags: str) -> str:
    return f"gcloud run services update {key.service} --region={key.region} --project={key.project} {flags}"
