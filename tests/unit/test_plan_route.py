"""The route contract (docs/design.md §3): labels and annotation -> DesiredRoute | NotPublished | RouteInvalid."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import pytest

from shared.model import DesiredRoute, NotPublished, RouteInvalid, ServiceFacts, ServiceKey, ServiceRef
from shared.plan_paths import path_problem
from shared.plan_route import decide_route, decide_routes, parse_paths, wants_publishing

HOSTS = {"default": ("*",), "shop": ("shop.example.com", "www.shop.example.com"), "api_v2": ("api.example.com",)}
REF = ServiceRef("proj-a1", "hello")
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def facts(
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    region: str = "us-central1",
    created: datetime | None = T0,
    service: str = "hello",
) -> ServiceFacts:
    return ServiceFacts(
        ServiceKey("proj-a1", region, service),
        "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER",
        labels=dict(labels or {}),
        annotations=dict(annotations or {}),
        create_time=created,
    )


def route(paths: tuple[str, ...], alias: str = "default", regions: tuple[str, ...] = ("us-central1",)) -> DesiredRoute:
    return DesiredRoute("proj-a1", "hello", alias, HOSTS[alias], paths, frozenset(regions), T0)


SLUG = ("/hello", "/hello/*")

SINGLE_REGION = [
    pytest.param({"public-route": "true"}, {}, route(SLUG), id="true"),
    pytest.param({"public-route": ""}, {}, route(SLUG), id="empty-is-true"),
    pytest.param({"public-route": "True"}, {}, route(SLUG), id="true-any-case"),
    pytest.param({"public-route": "shop-api"}, {}, route(("/shop-api", "/shop-api/*")), id="slug"),
    pytest.param({"public-route": "my_app-2"}, {}, route(("/my_app-2", "/my_app-2/*")), id="slug-underscore"),
    pytest.param({"public-route": "a" * 63}, {}, route((f"/{'a' * 63}", f"/{'a' * 63}/*")), id="slug-63"),
    pytest.param({}, {}, NotPublished("proj-a1", "hello"), id="no-label"),
    pytest.param({"other": "x"}, {"runway.dev/paths": "/x"}, NotPublished("proj-a1", "hello"), id="annotation-only"),
    pytest.param({"public-route": "false"}, {}, NotPublished("proj-a1", "hello"), id="false"),
    pytest.param({"public-route": "off"}, {}, NotPublished("proj-a1", "hello"), id="off"),
    pytest.param({"public-route": "no"}, {}, NotPublished("proj-a1", "hello"), id="no"),
    pytest.param({"public-route": "disabled"}, {}, NotPublished("proj-a1", "hello"), id="disabled"),
    pytest.param({"public-route": "OFF"}, {}, NotPublished("proj-a1", "hello"), id="off-any-case"),
    pytest.param({"public-route": "true", "public-host": "shop"}, {}, route(SLUG, "shop"), id="host-alias"),
    pytest.param({"public-route": "true", "public-host": "api_v2"}, {}, route(SLUG, "api_v2"), id="alias-underscore"),
    pytest.param({"public-route": "true", "public-host": ""}, {}, route(SLUG), id="empty-host-is-default"),
    pytest.param(
        {"public-route": "true"},
        {"runway.dev/paths": "/api/v1,/api/v1/*"},
        route(("/api/v1", "/api/v1/*")),
        id="annotation",
    ),
    pytest.param(
        {"public-route": "ignored-slug"},
        {"runway.dev/paths": " /b/* , /a "},
        route(("/a", "/b/*")),
        id="annotation-replaces-slug-sorted-trimmed",
    ),
]


@pytest.mark.parametrize(("labels", "annotations", "expected"), SINGLE_REGION)
def test_single_region(labels: dict[str, str], annotations: dict[str, str], expected: object) -> None:
    assert decide_route(REF, [facts(labels, annotations)], HOSTS) == expected


INVALID = [
    pytest.param({"public-route": "Shop"}, {}, HOSTS, "label public-route='Shop' is not", id="slug-uppercase"),
    pytest.param({"public-route": "a" * 64}, {}, HOSTS, "is not true, an off word or a slug", id="slug-64"),
    pytest.param({"public-route": "héllo"}, {}, HOSTS, "not true, an off word", id="slug-international"),
    pytest.param({"public-route": "a.b"}, {}, HOSTS, "not true, an off word", id="slug-dot"),
    pytest.param(
        {"public-route": "true", "public-host": "blog"},
        {},
        HOSTS,
        "label public-host='blog' names no host alias in RUNWAY_HOSTS (known: api_v2, default, shop)",
        id="unknown-alias",
    ),
    pytest.param(
        {"public-route": "true"},
        {},
        {"shop": ("shop.example.com",)},
        "no public-host label and RUNWAY_HOSTS defines no 'default' alias (known: shop)",
        id="no-default-alias",
    ),
    pytest.param({"public-route": "true"}, {"runway.dev/paths": ""}, HOSTS, "is empty", id="annotation-empty"),
    pytest.param({"public-route": "true"}, {"runway.dev/paths": "/a,,/b"}, HOSTS, "empty item", id="empty-item"),
    pytest.param({"public-route": "true"}, {"runway.dev/paths": "/a,"}, HOSTS, "empty item", id="trailing-comma"),
    pytest.param({"public-route": "true"}, {"runway.dev/paths": "/a,/a"}, HOSTS, "repeats /a", id="duplicate"),
    pytest.param({"public-route": "true"}, {"runway.dev/paths": "/"}, HOSTS, "reserved", id="reserved-root"),
    pytest.param({"public-route": "true"}, {"runway.dev/paths": "/x,/*"}, HOSTS, "'/*' is reserved", id="reserved-all"),
    pytest.param({"public-route": "true"}, {"runway.dev/paths": "api"}, HOSTS, "must start with '/'", id="no-slash"),
    pytest.param(
        {"public-route": "true"}, {"runway.dev/paths": "/a*"}, HOSTS, "'*' only as its last", id="star-not-after-slash"
    ),
    pytest.param(
        {"public-route": "true"}, {"runway.dev/paths": "/*/a"}, HOSTS, "'*' only as its last", id="star-in-middle"
    ),
    pytest.param(
        {"public-route": "true"}, {"runway.dev/paths": "/a/**"}, HOSTS, "'*' only as its last", id="two-stars"
    ),
    pytest.param({"public-route": "true"}, {"runway.dev/paths": "/a?b"}, HOSTS, "'?' or '#'", id="query"),
    pytest.param({"public-route": "true"}, {"runway.dev/paths": "/a#b"}, HOSTS, "'?' or '#'", id="fragment"),
    pytest.param({"public-route": "true"}, {"runway.dev/paths": "/a b"}, HOSTS, "without spaces", id="inner-space"),
    pytest.param({"public-route": "true"}, {"runway.dev/paths": "/café"}, HOSTS, "printable ASCII", id="non-ascii"),
    pytest.param(
        {"public-route": "true"}, {"runway.dev/paths": "/" + "a" * 1024}, HOSTS, "longer than 1024", id="too-long"
    ),
    pytest.param(
        {"public-route": "true"},
        {"runway.dev/paths": ",".join(f"/p{i}" for i in range(65))},
        HOSTS,
        "lists 65 paths, more than 64",
        id="too-many",
    ),
]


@pytest.mark.parametrize(("labels", "annotations", "hosts", "reason"), INVALID)
def test_invalid_never_raises_and_says_why(
    labels: dict[str, str], annotations: dict[str, str], hosts: dict[str, tuple[str, ...]], reason: str
) -> None:
    decision = decide_route(REF, [facts(labels, annotations)], hosts)
    assert isinstance(decision, RouteInvalid)
    assert decision.ref == REF
    assert decision.reason.startswith("us-central1: ")
    assert reason in decision.reason


def test_off_word_with_bad_alias_is_simply_not_published() -> None:
    assert decide_route(REF, [facts({"public-route": "false", "public-host": "nope"})], HOSTS) == NotPublished(
        "proj-a1", "hello"
    )


@pytest.mark.parametrize(
    ("path", "ok"),
    [
        ("/a", True),
        ("/a/*", True),
        ("/a/b/c/*", True),
        ("/a%20b", True),
        ("/" + "a" * 1023, True),
        ("/" + "a" * 1024, False),
        ("", False),
        ("/", False),
        ("/*", False),
        ("*", False),
        ("/a\t", False),
    ],
)
def test_path_problem(path: str, ok: bool) -> None:
    assert (path_problem(path) is None) is ok


def test_parse_paths_sorted() -> None:
    assert parse_paths("/z,/a/*,/a") == (("/a", "/a/*", "/z"), None)


# -- several regions -----------------------------------------------------------------------------------------------

T1 = datetime(2024, 6, 1, tzinfo=UTC)


def test_regions_that_agree_are_one_route_oldest_created() -> None:
    copies = [
        facts({"public-route": "true"}, region="us-central1", created=T0),
        facts({"public-route": "true"}, region="europe-west1", created=T1),
    ]
    decision = decide_route(REF, copies, HOSTS)
    assert decision == DesiredRoute(
        "proj-a1", "hello", "default", ("*",), SLUG, frozenset({"us-central1", "europe-west1"}), T1
    )


def test_only_publishing_regions_count() -> None:
    copies = [
        facts({"public-route": "true"}, region="us-central1", created=T0),
        facts({"public-route": "false"}, region="europe-west1", created=T1),
        facts({}, region="asia-east1", created=None),
    ]
    decision = decide_route(REF, copies, HOSTS)
    assert isinstance(decision, DesiredRoute)
    assert decision.regions == {"us-central1"}
    assert decision.created == T0  # a region that doesn't publish doesn't make the claim older


def test_regions_that_disagree_are_invalid_naming_them() -> None:
    copies = [
        facts({"public-route": "true"}, region="us-central1"),
        facts({"public-route": "hi"}, region="europe-west1"),
        facts({"public-route": "hi"}, region="asia-east1"),
    ]
    decision = decide_route(REF, copies, HOSTS)
    assert decision == RouteInvalid(
        "proj-a1",
        "hello",
        "regions disagree: asia-east1,europe-west1 want host 'default' paths /hi,/hi/*; "
        "us-central1 want host 'default' paths /hello,/hello/*",
    )


def test_regions_disagreeing_on_host_are_invalid() -> None:
    copies = [
        facts({"public-route": "true"}, region="us-central1"),
        facts({"public-route": "true", "public-host": "shop"}, region="europe-west1"),
    ]
    decision = decide_route(REF, copies, HOSTS)
    assert isinstance(decision, RouteInvalid)
    assert "europe-west1 want host 'shop'" in decision.reason


def test_one_invalid_region_makes_the_service_invalid() -> None:
    copies = [facts({"public-route": "true"}, region="us-central1"), facts({"public-route": "B!"}, region="asia-east1")]
    decision = decide_route(REF, copies, HOSTS)
    assert isinstance(decision, RouteInvalid)
    assert decision.reason.startswith("asia-east1: label public-route='B!'")


def test_no_copies_means_deleted_everywhere() -> None:
    assert decide_route(REF, [], HOSTS) == NotPublished("proj-a1", "hello")


def test_unknown_create_time() -> None:
    decision = decide_route(REF, [facts({"public-route": "true"}, created=None)], HOSTS)
    assert isinstance(decision, DesiredRoute)
    assert decision.created is None


def test_copies_of_another_service_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="is not a copy of proj-a1/hello"):
        decide_route(REF, [facts({"public-route": "true"}, service="other")], HOSTS)


def test_decide_routes_groups_regions_per_service() -> None:
    decisions = decide_routes(
        [
            facts({"public-route": "true"}, service="b", region="us-central1"),
            facts({"public-route": "true"}, service="a", region="us-central1"),
            facts({"public-route": "true"}, service="b", region="europe-west1"),
            facts({}, service="c"),
        ],
        HOSTS,
    )
    assert list(decisions) == [ServiceRef("proj-a1", "a"), ServiceRef("proj-a1", "b"), ServiceRef("proj-a1", "c")]
    b = decisions[ServiceRef("proj-a1", "b")]
    assert isinstance(b, DesiredRoute)
    assert b.regions == {"us-central1", "europe-west1"}
    assert b.paths == ("/b", "/b/*")
    assert isinstance(decisions[ServiceRef("proj-a1", "c")], NotPublished)


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({}, False),
        ({"public-route": "true"}, True),
        ({"public-route": ""}, True),
        ({"public-route": "shop"}, True),
        ({"public-route": "Not/A_Slug"}, True),  # invalid, but asked for: the load balancer must reach it
        ({"public-route": "false"}, False),
        ({"public-route": "OFF"}, False),
        ({"public-route": "disabled"}, False),
        ({"public-host": "shop"}, False),
    ],
    ids=["none", "true", "empty", "slug", "invalid-slug", "false", "off-any-case", "disabled", "host-only"],
)
def test_wants_publishing(labels: dict[str, str], expected: bool) -> None:
    assert wants_publishing(labels) is expected
