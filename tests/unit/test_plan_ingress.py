"""Table tests for the ingress policy (docs/design.md §2)."""

from __future__ import annotations

import pytest

from shared.plan_ingress import ALL, INTERNAL_LOAD_BALANCER, INTERNAL_ONLY, NONE, TARGET, UNSPECIFIED, decide_ingress

CASES = [
    # id, ingress, exempt, published, action, after
    ("all-remediated", ALL, False, False, "ingress_remediated", TARGET),
    ("all-published-remediated", ALL, False, True, "ingress_remediated", TARGET),
    ("unspecified-is-the-default-all", UNSPECIFIED, False, False, "ingress_remediated", TARGET),
    ("all-exempt-logged-not-changed", ALL, True, False, "ingress_exempt", ALL),
    ("all-exempt-published-not-changed", ALL, True, True, "ingress_exempt", ALL),
    ("target-compliant", INTERNAL_LOAD_BALANCER, False, False, "ingress_compliant", INTERNAL_LOAD_BALANCER),
    ("target-published-compliant", INTERNAL_LOAD_BALANCER, False, True, "ingress_compliant", INTERNAL_LOAD_BALANCER),
    ("internal-left-alone", INTERNAL_ONLY, False, False, "ingress_compliant", INTERNAL_ONLY),
    ("internal-published-opened-to-lb", INTERNAL_ONLY, False, True, "ingress_remediated", TARGET),
    ("internal-published-exempt-left-alone", INTERNAL_ONLY, True, True, "ingress_compliant", INTERNAL_ONLY),
    ("none-never-changed", NONE, False, False, "ingress_compliant", NONE),
    ("none-published-never-changed", NONE, False, True, "ingress_compliant", NONE),
    ("exempt-target-compliant", INTERNAL_LOAD_BALANCER, True, False, "ingress_compliant", INTERNAL_LOAD_BALANCER),
]


@pytest.mark.parametrize(
    ("ingress", "exempt", "published", "action", "after"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_decide_ingress(ingress: str, exempt: bool, published: bool, action: str, after: str) -> None:
    decision = decide_ingress(ingress, exempt=exempt, published=published)
    assert (decision.action, decision.before, decision.after) == (action, ingress, after)
    assert decision.changes == (after != ingress)
    assert decision.why


def test_the_only_widening_is_a_published_internal_service_opened_to_the_load_balancer() -> None:
    """Over every combination: every change narrows, except one, which the policy states (docs/design.md §2)."""
    order = [NONE, INTERNAL_ONLY, INTERNAL_LOAD_BALANCER, ALL]
    widened = []
    for ingress in [*order, UNSPECIFIED]:
        for exempt in (False, True):
            for published in (False, True):
                decision = decide_ingress(ingress, exempt=exempt, published=published)
                if not decision.changes:
                    continue
                assert decision.after == TARGET
                before = ALL if ingress == UNSPECIFIED else ingress
                if order.index(TARGET) > order.index(before):
                    widened.append((ingress, exempt, published))
    assert widened == [(INTERNAL_ONLY, False, True)]
