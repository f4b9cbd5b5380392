"""Names and markers are a compatibility contract (docs/naming.md): these goldens must never change."""

from __future__ import annotations

import json

import pytest

from shared import naming
from shared.naming import (
    NAME_RE,
    Marker,
    backend_service_name,
    marker_json,
    neg_name,
    neg_url,
    parse_marker,
    path_matcher_name,
    relative_name,
    security_policy_path,
    security_policy_url,
)

LONGEST = "s" + "x" * 47 + "z"  # Cloud Run's longest service id: 49 characters

# The compatibility contract. If one of these changes, every object an older runway made becomes an orphan.
GOLDEN_BACKENDS = [
    pytest.param(("runway", "proj-a1", "hello"), "runway-hello-6e0f9e89", id="default-owner"),
    pytest.param(("team-b", "proj-a1", "hello"), "runway-hello-120cbd65", id="other-owner"),
    pytest.param(("runway", "proj-b2", "hello"), "runway-hello-34a324cd", id="other-project"),
    pytest.param(("runway", "proj-a1", LONGEST), "runway-s" + "x" * 46 + "-f8a9012e", id="longest-service"),
]
GOLDEN_NEGS = [
    pytest.param(("runway", "proj-a1", "us-central1", "hello"), "runway-hello-78b5f03a", id="us-central1"),
    pytest.param(("runway", "proj-a1", "europe-west1", "hello"), "runway-hello-28156ab2", id="europe-west1"),
]
GOLDEN_MATCHERS = [
    pytest.param("default", "runway-default", id="plain"),
    pytest.param("shop", "runway-shop", id="plain-short"),
    pytest.param("api_v2", "runway-api-v2-8d77fba3", id="underscore"),
    pytest.param("a" * 56, "runway-" + "a" * 56, id="longest-plain"),
    pytest.param("a" * 57, "runway-" + "a" * 47 + "-257523c3", id="too-long"),
    pytest.param("_x_", "runway-x-45b87db2", id="edge-underscores"),
]


@pytest.mark.parametrize(("identity", "expected"), GOLDEN_BACKENDS)
def test_backend_service_name_golden(identity: tuple[str, str, str], expected: str) -> None:
    assert backend_service_name(*identity) == expected


@pytest.mark.parametrize(("identity", "expected"), GOLDEN_NEGS)
def test_neg_name_golden(identity: tuple[str, str, str, str], expected: str) -> None:
    assert neg_name(*identity) == expected


@pytest.mark.parametrize(("alias", "expected"), GOLDEN_MATCHERS)
def test_path_matcher_name_golden(alias: str, expected: str) -> None:
    assert path_matcher_name(alias) == expected


def test_identity_hash_is_sha256_of_compact_json() -> None:
    # The documented recipe, spelled out independently of the implementation.
    import hashlib

    recipe = hashlib.sha256(b'["backendService","runway","proj-a1","hello"]').hexdigest()[:8]
    assert backend_service_name("runway", "proj-a1", "hello") == f"runway-hello-{recipe}"


@pytest.mark.parametrize(
    "name",
    [
        backend_service_name("runway", "proj-a1", LONGEST),
        neg_name("runway", "proj-a1", "northamerica-northeast1", LONGEST),
        backend_service_name("a-very-long-owner-id-" * 5, "p" * 30, LONGEST),
        path_matcher_name("a" * 63),
        path_matcher_name("_" * 63),
        path_matcher_name("x" * 57),
        backend_service_name("runway", "proj-a1", "a"),
        backend_service_name("runway", "proj-a1", "trailing-" + "y" * 38 + "-z"),
    ],
    ids=[
        "backend-49",
        "neg-49",
        "long-owner",
        "alias-63",
        "alias-underscores",
        "alias-57",
        "one-char",
        "cut-at-hyphen",
    ],
)
def test_names_fit_compute_rules(name: str) -> None:
    assert len(name) <= naming.MAX_NAME_LEN
    assert NAME_RE.fullmatch(name), name


def test_longest_service_names_are_exactly_63() -> None:
    assert len(backend_service_name("runway", "proj-a1", LONGEST)) == 63
    assert len(neg_name("runway", "proj-a1", "us-central1", LONGEST)) == 63


def test_trimmed_names_that_collide_differ_by_hash() -> None:
    a, b = LONGEST, LONGEST[:-1] + "q"  # same first 47 characters
    name_a, name_b = backend_service_name("runway", "p-1", a), backend_service_name("runway", "p-1", b)
    assert name_a[:-8] == name_b[:-8]
    assert name_a != name_b


@pytest.mark.parametrize(
    ("left", "right"),
    [
        pytest.param(("runway", "proj-a1", "hello"), ("other", "proj-a1", "hello"), id="owner"),
        pytest.param(("runway", "proj-a1", "hello"), ("runway", "proj-a2", "hello"), id="project"),
        pytest.param(("run", "way-proj-a1", "hello"), ("runway", "-proj-a1", "hello"), id="no-join-ambiguity"),
    ],
)
def test_identity_parts_all_count(left: tuple[str, str, str], right: tuple[str, str, str]) -> None:
    assert backend_service_name(*left) != backend_service_name(*right)


def test_neg_names_differ_by_region_and_from_the_backend() -> None:
    names = {neg_name("runway", "p-1", region, "hello") for region in ("us-central1", "europe-west1", "asia-east1")}
    assert len(names) == 3
    assert backend_service_name("runway", "p-1", "hello") not in names


def test_aliases_mapped_to_names_do_not_collide() -> None:
    aliases = ["api_v2", "api-v2", "API-V2", "api__v2"]
    assert len({path_matcher_name(alias) for alias in aliases}) == len(aliases)


def test_marker_is_canonical_compact_json_in_key_order() -> None:
    assert marker_json("runway", "proj-a1", "hello") == (
        '{"managedBy":"runway","owner":"runway","service":"proj-a1/hello"}'
    )
    marker = Marker("team-b", "proj-a1", "hello")
    assert parse_marker(marker.to_json()) == marker
    assert marker.ref == naming.ServiceRef("proj-a1", "hello")


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        pytest.param('{"managedBy":"runway","owner":"o","service":"p/s"}', Marker("o", "p", "s"), id="canonical"),
        pytest.param('{ "service": "p/s", "owner": "o", "managedBy": "runway" }', Marker("o", "p", "s"), id="spaced"),
        pytest.param('{"managedBy":"runway","owner":"o","service":"p/s","v":2}', Marker("o", "p", "s"), id="extra-key"),
        pytest.param(None, None, id="none"),
        pytest.param("", None, id="empty"),
        pytest.param("Managed by Terraform", None, id="prose"),
        pytest.param("{not json", None, id="broken-json"),
        pytest.param("[1, 2]", None, id="array"),
        pytest.param('{"managedBy":"terraform","owner":"o","service":"p/s"}', None, id="other-manager"),
        pytest.param('{"managedBy":"runway","owner":"","service":"p/s"}', None, id="empty-owner"),
        pytest.param('{"managedBy":"runway","owner":7,"service":"p/s"}', None, id="owner-not-str"),
        pytest.param('{"managedBy":"runway","owner":"o","service":"p"}', None, id="service-no-project"),
        pytest.param('{"managedBy":"runway","owner":"o","service":"p/s/x"}', None, id="service-too-deep"),
        pytest.param('{"managedBy":"runway","owner":"o"}', None, id="service-missing"),
        pytest.param(42, None, id="not-a-string"),
    ],
)
def test_parse_marker_tolerates_foreign_descriptions(description: object, expected: Marker | None) -> None:
    assert parse_marker(description) == expected


def test_marker_round_trips_unusual_owner_ids() -> None:
    owner = 'team "b"/ünï'
    assert parse_marker(marker_json(owner, "p-1", "s")) == Marker(owner, "p-1", "s")
    assert json.loads(marker_json(owner, "p-1", "s"))["owner"] == owner


def test_full_urls() -> None:
    assert neg_url("proj-a1", "us-central1", "neg") == (
        "https://www.googleapis.com/compute/v1/projects/proj-a1/regions/us-central1/networkEndpointGroups/neg"
    )
    assert security_policy_url("lb-proj", "armor") == (
        "https://www.googleapis.com/compute/v1/projects/lb-proj/global/securityPolicies/armor"
    )
    assert security_policy_path("lb-proj", "projects/sec/global/securityPolicies/armor") == (
        "projects/sec/global/securityPolicies/armor"
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://www.googleapis.com/compute/v1/projects/p-1/global/backendServices/bs",
        "https://compute.googleapis.com/compute/v1/projects/p-1/global/backendServices/bs",
        "https://www.googleapis.com/compute/beta/projects/p-1/global/backendServices/bs",
        "http://127.0.0.1:8900/compute/v1/projects/p-1/global/backendServices/bs",
        "compute/v1/projects/p-1/global/backendServices/bs",
        "projects/p-1/global/backendServices/bs",
        "global/backendServices/bs",
        " projects/p-1/global/backendServices/bs ",
    ],
)
def test_relative_name_normalises_every_form(url: str) -> None:
    assert relative_name(url, "p-1") == "projects/p-1/global/backendServices/bs"


def test_relative_name_leaves_unknown_forms_alone() -> None:
    assert relative_name("global/backendServices/bs") == "global/backendServices/bs"
    assert relative_name("bs") == "bs"
    assert relative_name("regions/us-central1/networkEndpointGroups/n", "p-1") == (
        "projects/p-1/regions/us-central1/networkEndpointGroups/n"
    )
