"""The route status runway writes on a Cloud Run service (docs/design.md §3), decided from a route outcome. Pure.

A developer sees, on the service itself, whether and where it is published and why not:
- label `runway-route` = `published` | `conflict` | `invalid` | `unreachable` (label-value charset, so
  `gcloud run services list --filter=metadata.labels.runway-route=conflict` finds them);
- annotation `runway.dev/route-status`: JSON with `state`, `urls` (`https://<host><path>` for each host of the
  alias), `reason`, `holder`, `regions`, `backend` and `time` (when this state was last reported).

Service-level only (never the revision template, so no new revision), and written only when it changes: two
statuses that differ only in `time` are the same. A service no longer labeled has both removed.

The status is also runway's memory of what it has reported: a finding (conflict, invalid, unreachable) already
recorded on the service is not logged again by later events, and a sweep repeats it only when it is older than
the configured interval.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from shared.model import ROUTED_ACTIONS, Action, RouteOutcome, ServiceKey

LABEL_STATUS = "runway-route"
ANNOTATION_STATUS = "runway.dev/route-status"


class RouteState(StrEnum):
    PUBLISHED = "published"
    CONFLICT = "conflict"
    INVALID = "invalid"
    UNREACHABLE = "unreachable"


FINDING_STATES = frozenset({RouteState.CONFLICT, RouteState.INVALID, RouteState.UNREACHABLE})


@dataclass(frozen=True)
class RouteStatus:
    state: RouteState
    urls: tuple[str, ...] = ()
    reason: str | None = None
    holder: str | None = None
    regions: tuple[str, ...] = ()
    backend: str | None = None
    time: str = ""

    def same_as(self, other: RouteStatus | None) -> bool:
        return other is not None and replace(self, time="") == replace(other, time="")

    def annotation(self) -> str:
        body: dict[str, Any] = {"state": self.state.value, "urls": list(self.urls)}
        for key in ("reason", "holder", "backend"):
            if getattr(self, key) is not None:
                body[key] = getattr(self, key)
        body["regions"] = list(self.regions)
        body["time"] = self.time
        return json.dumps(body, separators=(",", ":"), sort_keys=True)

    @property
    def finding(self) -> bool:
        return self.state in FINDING_STATES


def unreachable_reason(key: ServiceKey) -> str:
    """Why a published service without public invoker access gets 403s, and the command that allows it
    (runway never grants it: who may call a service is its owner's decision)."""
    return (
        "allUsers does not hold roles/run.invoker (and IAP is off), so the load balancer's requests get 403; "
        f"to allow them: gcloud run services add-iam-policy-binding {key.service} --region={key.region} "
        f"--project={key.project} --member=allUsers --role=roles/run.invoker"
    )


def status_for(outcome: RouteOutcome, key: ServiceKey, *, reachable: bool | None, now: datetime) -> RouteStatus | None:
    """The status `outcome` puts on the copy `key` of the service (None: no status, the service is not published
    and nothing is wrong). `reachable` says whether allUsers may invoke that copy (None: not known)."""
    stamp = now.isoformat(timespec="seconds").replace("+00:00", "Z")
    if outcome.action == Action.ROUTE_CONFLICT:
        return RouteStatus(RouteState.CONFLICT, (), outcome.why, outcome.holder, outcome.regions, None, stamp)
    if outcome.action == Action.ROUTE_INVALID:
        return RouteStatus(RouteState.INVALID, (), outcome.reason or outcome.why, None, outcome.regions, None, stamp)
    if outcome.action not in ROUTED_ACTIONS or not outcome.paths:
        return None
    urls = tuple(f"https://{host}{path}" for host in outcome.hosts for path in outcome.paths)
    if reachable is False:
        reason = unreachable_reason(key)
        return RouteStatus(RouteState.UNREACHABLE, urls, reason, None, outcome.regions, outcome.backend, stamp)
    return RouteStatus(RouteState.PUBLISHED, urls, None, None, outcome.regions, outcome.backend, stamp)


def status_of(labels: Mapping[str, str], annotations: Mapping[str, str]) -> RouteStatus | None:
    """The status a copy carries now (None: none, or one runway cannot read, which is then rewritten)."""
    raw = annotations.get(ANNOTATION_STATUS)
    if raw is None or LABEL_STATUS not in labels:
        return None
    try:
        data = json.loads(raw)
        state = RouteState(data["state"])
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(data, dict) or labels.get(LABEL_STATUS) != state.value:
        return None
    return RouteStatus(
        state,
        tuple(str(u) for u in data.get("urls") or []),
        data.get("reason"),
        data.get("holder"),
        tuple(str(r) for r in data.get("regions") or []),
        data.get("backend"),
        str(data.get("time") or ""),
    )


def metadata_with(
    labels: Mapping[str, str], annotations: Mapping[str, str], status: RouteStatus | None, *, refresh: bool = False
) -> tuple[dict[str, str], dict[str, str]] | None:
    """The labels and annotations to write so the copy carries `status`; None when it already does (`refresh`:
    unless only its time differs)."""
    current = status_of(labels, annotations)
    if status is None and current is None and LABEL_STATUS not in labels and ANNOTATION_STATUS not in annotations:
        return None
    unchanged = status is not None and current is not None and status.same_as(current)
    if unchanged and not (refresh and status is not None and current is not None and status.time != current.time):
        return None
    new_labels = {k: v for k, v in labels.items() if k != LABEL_STATUS}
    new_annotations = {k: v for k, v in annotations.items() if k != ANNOTATION_STATUS}
    if status is not None:
        new_labels[LABEL_STATUS] = status.state.value
        new_annotations[ANNOTATION_STATUS] = status.annotation()
    return new_labels, new_annotations


def already_reported(status: RouteStatus | None, current: RouteStatus | None, *, older_than: datetime | None) -> bool:
    """Whether the finding in `status` is the one `current` records (so it is not logged again). `older_than` (the
    sweep's repeat interval) makes a record older than it count as not reported."""
    if status is None or not status.finding or not status.same_as(current):
        return False
    assert current is not None
    if older_than is None:
        return True
    try:
        when = datetime.fromisoformat(current.time.replace("Z", "+00:00"))
    except ValueError:
        return False
    return when >= older_than
