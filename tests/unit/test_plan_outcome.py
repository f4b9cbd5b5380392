"""What one route decision amounts to (`shared.plan_outcome.route_outcome`): each logged action and its facts."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from shared.model import (
    Action,
    Change,
    Decision,
    DesiredRoute,
    Kind,
    NotPublished,
    Op,
    RouteInvalid,
    RouteOutcome,
    RuleResult,
    RuleState,
    ServiceRef,
)
from shared.plan_outcome import route_outcome, unreachable

REF = ServiceRef("proj-a1", "hello")
BACKEND = "projects/proj-a1/global/backendServices/runway-hello-6e0f9e89"
HOLDER = "projects/proj-a1/global/backendServices/runway-holder-0000aaaa"
PATHS = ("/hello", "/hello/*")
ROUTE = DesiredRoute(
    "proj-a1",
    "hello",
    "default",
    ("*",),
    PATHS,
    frozenset({"us-central1", "europe-west1"}),
    datetime(2025, 1, 1, tzinfo=UTC),
)
GONE = NotPublished("proj-a1", "hello")
INVALID = RouteInvalid("proj-a1", "hello", "label public-route='X' is not valid")
FACTS: dict[str, Any] = {
    "host_alias": "default",
    "hosts": ("*",),
    "paths": PATHS,
    "regions": ("europe-west1", "us-central1"),  # sorted
    "backend": "runway-hello-6e0f9e89",
}


def change(kind: Kind, why: str, op: Op = Op.UPDATE) -> Change:
    return Change(op, kind, "x", "proj-a1", f"{REF}: {why}", (REF,))


MAP = change(Kind.URL_MAP, "add proj-a1/hello to /hello, /hello/* on 'default'")
NEG = change(Kind.NEG, "serverless NEG for europe-west1", Op.CREATE)
PATCH = change(Kind.BACKEND_SERVICE, "backend service to serve europe-west1, us-central1")
DROP = change(Kind.BACKEND_SERVICE, "not published any more", Op.DELETE)


def rule(
    state: RuleState, paths: tuple[str, ...] = PATHS, holder: str | None = None, reason: str | None = None
) -> RuleResult:
    return RuleResult(REF, state, paths, holder, reason)


@dataclass(frozen=True)
class Case:
    id: str
    decision: Decision
    rule: RuleResult | None
    expected: RouteOutcome
    changes: Sequence[Change] = ()
    squatters: Sequence[str] = ()
    removed_paths: Sequence[str] = ()


CONFLICT_REASON = f"/hello on 'default' already served by {HOLDER}"
LIMIT_REASON = "Google's limit on path rules per path matcher: 3 of 2 (pathMatchers[runway-default])"
CASES = [
    Case(
        "invalid",
        INVALID,
        None,
        RouteOutcome(
            REF,
            Action.ROUTE_INVALID,
            "proj-a1/hello: label public-route='X' is not valid; routes left as they are",
            reason=INVALID.reason,
        ),
    ),
    Case(
        "removed",
        GONE,
        rule(RuleState.REMOVED),
        RouteOutcome(
            REF,
            Action.ROUTE_REMOVED,
            "proj-a1/hello: routes and resources removed",
            paths=PATHS,
            backend="runway-hello-6e0f9e89",
            changes=(MAP, DROP),
        ),
        changes=(MAP, DROP),
        removed_paths=PATHS,
    ),
    Case(
        "removed_objects_only",
        GONE,
        rule(RuleState.ABSENT, ()),
        RouteOutcome(
            REF,
            Action.ROUTE_REMOVED,
            "proj-a1/hello: routes and resources removed",
            backend="runway-hello-6e0f9e89",
            changes=(DROP,),
        ),
        changes=(DROP,),
    ),
    Case(
        "not_published_nothing_to_remove",
        GONE,
        rule(RuleState.ABSENT, ()),
        RouteOutcome(REF, Action.ROUTE_UNCHANGED, "proj-a1/hello: not published, nothing to remove"),
    ),
    Case(
        "not_published_no_claim",
        GONE,
        None,
        RouteOutcome(REF, Action.ROUTE_UNCHANGED, "proj-a1/hello: not published, nothing to remove"),
    ),
    Case(
        "registered",
        ROUTE,
        rule(RuleState.ADDED),
        RouteOutcome(
            REF,
            Action.ROUTE_REGISTERED,
            "proj-a1/hello: published at /hello, /hello/*",
            changes=(NEG, MAP),
            **FACTS,
        ),
        changes=(NEG, MAP),
    ),
    Case(
        "updated_routes",
        ROUTE,
        rule(RuleState.CHANGED),
        RouteOutcome(
            REF,
            Action.ROUTE_UPDATED,
            "proj-a1/hello: routes changed: routes now /hello, /hello/* on 'default'",
            changes=(MAP,),
            **FACTS,
        ),
        changes=(MAP,),
    ),
    Case(
        "updated_routes_and_resources",
        ROUTE,
        rule(RuleState.CHANGED),
        RouteOutcome(
            REF,
            Action.ROUTE_UPDATED,
            "proj-a1/hello: routes changed: serverless NEG for europe-west1; backend service to serve "
            "europe-west1, us-central1; routes now /hello, /hello/* on 'default'",
            changes=(NEG, PATCH, MAP),
            **FACTS,
        ),
        changes=(NEG, PATCH, MAP),
    ),
    Case(
        "updated_resources",
        ROUTE,
        rule(RuleState.KEPT),
        RouteOutcome(
            REF,
            Action.ROUTE_UPDATED,
            "proj-a1/hello: resources changed: serverless NEG for europe-west1; backend service to serve "
            "europe-west1, us-central1",
            changes=(NEG, PATCH),
            **FACTS,
        ),
        changes=(NEG, PATCH),
    ),
    Case(
        "unchanged",
        ROUTE,
        rule(RuleState.KEPT),
        RouteOutcome(REF, Action.ROUTE_UNCHANGED, "proj-a1/hello: already published as asked", **FACTS),
    ),
    Case(
        "unchanged_without_claim",
        ROUTE,
        None,
        RouteOutcome(REF, Action.ROUTE_UNCHANGED, "proj-a1/hello: already published as asked", **FACTS),
    ),
    Case(
        "conflict",
        ROUTE,
        rule(RuleState.CONFLICT, ("/hello",), HOLDER, CONFLICT_REASON),
        RouteOutcome(
            REF,
            Action.ROUTE_CONFLICT,
            f"proj-a1/hello: {CONFLICT_REASON}",
            **{**FACTS, "paths": ("/hello",)},
            holder=HOLDER,
        ),
    ),
    Case(
        "conflict_squatters",
        ROUTE,
        rule(RuleState.ADDED),
        RouteOutcome(
            REF,
            Action.ROUTE_CONFLICT,
            "proj-a1/hello: names runway-hello-6e0f9e89, us-central1/runway-hello-78b5f03a are taken by objects "
            "runway does not own",
            **{**FACTS, "backend": None},
            holder="runway-hello-6e0f9e89, us-central1/runway-hello-78b5f03a",
        ),
        squatters=("runway-hello-6e0f9e89", "us-central1/runway-hello-78b5f03a"),
    ),
    Case(
        "refused_by_a_limit",
        ROUTE,
        rule(RuleState.REFUSED, reason=LIMIT_REASON),
        RouteOutcome(
            REF,
            Action.ROUTE_INVALID,
            f"proj-a1/hello: {LIMIT_REASON}; routes left as they are",
            **FACTS,
            reason=LIMIT_REASON,
        ),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_route_outcome_action_and_facts(case: Case) -> None:
    got = route_outcome(
        REF,
        case.decision,
        rule=case.rule,
        changes=case.changes,
        backend=BACKEND,
        squatters=case.squatters,
        removed_paths=case.removed_paths,
    )
    assert got == case.expected


def test_case_ids_unique() -> None:
    assert len({case.id for case in CASES}) == len(CASES)


PUBLISHED = [
    case
    for case in CASES
    if case.expected.action in (Action.ROUTE_REGISTERED, Action.ROUTE_UPDATED, Action.ROUTE_UNCHANGED)
]
UNREACHABLE = "allUsers may not invoke proj-a1/us-central1/hello: every request is answered 403"


@pytest.mark.parametrize("case", PUBLISHED, ids=[case.id for case in PUBLISHED])
def test_unreachable_keeps_the_facts_and_says_what_was_published(case: Case) -> None:
    published = case.expected
    got = unreachable(published, UNREACHABLE)
    assert got == dataclasses.replace(
        published,
        action=Action.ROUTE_UNREACHABLE,
        why=f"{published.why}; but unreachable: {UNREACHABLE}",
        reason=UNREACHABLE,
        published=published.action.value.removeprefix("route_"),
    )
    assert got.published in ("registered", "updated", "unchanged")


def test_every_route_action_is_covered() -> None:
    actions = {case.expected.action for case in CASES} | {Action.ROUTE_UNREACHABLE}
    assert actions == {a for a in Action if a.value.startswith("route_")}
