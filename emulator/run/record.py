"""A stored Cloud Run service, its rollouts and its operations: what a service asks for and what it observes.

Production's v2 Service shows the **requested** configuration in its spec fields except `ingress`, which is the
**observed** one: the ingress of the revision serving now, the old value while a rollout runs, and
`INGRESS_TRAFFIC_UNSPECIFIED` while no revision is active (docs/google-apis.md §9.3). Every write that changes a
service starts a rollout (its long-running operation); when the rollout completes, the service observes what it
asked for: its ingress, its generation (`observedGeneration`) and its latest revision become current and Ready
turns true. The emulator computes that from the clock: a rollout is complete once `monotonic()` reaches its
`done_at`, so a read never sees a completion late.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..clock import monotonic

DEFAULT_INGRESS = "INGRESS_TRAFFIC_ALL"  # "The default ... ingress setting allow any resource on the internet"
UNSPECIFIED_INGRESS = "INGRESS_TRAFFIC_UNSPECIFIED"  # observed while no revision is active


@dataclass(frozen=True)
class Rollout:
    """What one write asked Cloud Run to serve; once done, what the service observes."""

    generation: int
    ingress: str
    revision: str  # the revision that serves once the rollout is done
    done_at: float  # monotonic
    done_time: datetime


@dataclass(frozen=True)
class Revision:
    """A revision as created (read through v1 only): its template, v1-only template extras, when and by whom."""

    name: str
    template: dict[str, Any]
    extra: dict[str, Any]
    created: datetime
    creator: str


@dataclass
class ServiceRecord:
    project: str
    region: str
    service_id: str
    spec: dict[str, Any]  # requested: the v2 fields a client sets (`ingress` included)
    v1_extra: dict[str, Any]
    uid: str
    generation: int
    version: int  # microseconds; the etag/resourceVersion encodes it
    create_time: datetime
    update_time: datetime
    creator: str
    last_modifier: str
    revision_count: int
    latest_created_revision: str
    # Rollouts not yet superseded: the newest completed one (what is observed) and any still running.
    rollouts: list[Rollout] = field(default_factory=list)
    operation: str = ""
    delete_time: datetime | None = None
    revisions: list[Revision] = field(default_factory=list)  # oldest first

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.project, self.region, self.service_id)

    @property
    def name(self) -> str:
        return f"projects/{self.project}/locations/{self.region}/services/{self.service_id}"

    @property
    def requested_ingress(self) -> str:
        return str(self.spec.get("ingress", DEFAULT_INGRESS))

    @property
    def current_rollout(self) -> Rollout:
        """The rollout of the current generation (every write starts one)."""
        return max(self.rollouts, key=lambda r: r.generation)

    def start_rollout(self, delay: float, at: datetime, done_time: datetime) -> Rollout:
        """A rollout of the current generation, done `delay` seconds from now; drops the ones it supersedes."""
        now = monotonic()
        observed = self.observed(now)
        kept = [r for r in self.rollouts if r is observed or r.done_at > now]
        rollout = Rollout(self.generation, self.requested_ingress, self.latest_created_revision, now + delay, done_time)
        self.rollouts = [*kept, rollout]
        return rollout

    def observed(self, at: float | None = None) -> Rollout | None:
        """The newest completed rollout at `at` (now if None): what the service serves and shows; None before the
        first one completes."""
        at = monotonic() if at is None else at
        done = [r for r in self.rollouts if r.done_at <= at]
        return max(done, key=lambda r: r.generation) if done else None

    def ready(self, at: float | None = None) -> bool:
        observed = self.observed(at)
        return observed is not None and observed.generation == self.generation

    def observed_generation(self, at: float | None = None) -> int:
        """0 until the first rollout completes (proto3 JSON then omits the field)."""
        observed = self.observed(at)
        return observed.generation if observed else 0

    def serving_revisions(self, at: float | None = None) -> set[str]:
        """The revisions traffic goes to: the latest ready one for `LATEST` targets, named ones with a share."""
        serving = set()
        for target in self.spec.get("traffic") or []:
            if target.get("revision") and target.get("percent"):
                serving.add(target["revision"])
            elif not target.get("revision") and target.get("percent"):
                serving.add(self.latest_ready_revision(at) or "")
        return serving - {""}

    def latest_ready_revision(self, at: float | None = None) -> str | None:
        observed = self.observed(at)
        return observed.revision if observed else None

    def serving_ingress(self, at: float | None = None) -> str:
        """The observed ingress: `INGRESS_TRAFFIC_UNSPECIFIED` while no revision is active."""
        observed = self.observed(at)
        return observed.ingress if observed else UNSPECIFIED_INGRESS

    def since(self, at: float | None = None) -> datetime:
        """When the Ready condition last changed: the completion of the current rollout, or the write that started
        the one still running."""
        return self.current_rollout.done_time if self.ready(at) else self.update_time


@dataclass
class Operation:
    name: str
    project: str
    region: str
    kind: str  # create | update | delete
    snapshot: ServiceRecord  # the service as this write left it
    done_at: float  # monotonic
    create_time: datetime
    done_time: datetime

    def done(self, at: float | None = None) -> bool:
        return (monotonic() if at is None else at) >= self.done_at
