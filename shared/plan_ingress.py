"""The ingress policy of docs/design.md §2, as a pure decision over what was read of a service."""

from __future__ import annotations

from dataclasses import dataclass

from shared.model import Action

ALL = "INGRESS_TRAFFIC_ALL"
INTERNAL_ONLY = "INGRESS_TRAFFIC_INTERNAL_ONLY"
INTERNAL_LOAD_BALANCER = "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
NONE = "INGRESS_TRAFFIC_NONE"
UNSPECIFIED = "INGRESS_TRAFFIC_UNSPECIFIED"

TARGET = INTERNAL_LOAD_BALANCER

# The v1 annotation `run.googleapis.com/ingress` and gcloud's `--ingress` spell the same settings so.
V1_NAMES = {
    ALL: "all",
    INTERNAL_ONLY: "internal",
    INTERNAL_LOAD_BALANCER: "internal-and-cloud-load-balancing",
    NONE: "none",
}


@dataclass(frozen=True)
class IngressDecision:
    action: Action  # ingress_remediated | ingress_compliant | ingress_exempt
    before: str
    after: str  # equal to `before` unless the decision changes the service
    why: str

    @property
    def changes(self) -> bool:
        return self.after != self.before


def decide_ingress(ingress: str, *, exempt: bool, published: bool) -> IngressDecision:
    """What the service's ingress should be.

    `ingress` is the v2 enum name as read; `exempt` comes from RUNWAY_EXEMPT (platform-owned configuration,
    never a label); `published` says the service's labels publish it on the load balancer.
    """
    if ingress in (ALL, UNSPECIFIED):
        # UNSPECIFIED is what v2 reports while no revision is active; the setting that then takes effect
        # is the API default, ALL, so it is treated as open.
        if exempt:
            why = "open to all traffic, but exempt by RUNWAY_EXEMPT"
            return IngressDecision(Action.INGRESS_EXEMPT, ingress, ingress, why)
        return IngressDecision(Action.INGRESS_REMEDIATED, ingress, TARGET, "open to all traffic")
    if ingress == INTERNAL_ONLY and published and not exempt:
        return IngressDecision(
            Action.INGRESS_REMEDIATED,
            ingress,
            TARGET,
            "published with public-route, so the load balancer must reach it",
        )
    if ingress == NONE:
        return IngressDecision(Action.INGRESS_COMPLIANT, ingress, ingress, "switched off deliberately; never changed")
    return IngressDecision(Action.INGRESS_COMPLIANT, ingress, ingress, "not open to all traffic")
