"""Aggregated lists: `GET projects/P/aggregated/<collection>`, what gcloud's `compute ... list` calls without
`--global` or `--regions`.

The answer has the discovery document's shape: `items` maps each scope (`global`, `regions/R`) to a scoped list,
`{"<collection>": [...]}`, or, for a scope with nothing in it, `{"warning": {"code": "NO_RESULTS_ON_PAGE", ...}}`.
Production lists every region there is; the emulator knows no list of regions, so its scopes are `global`, the
emulator's default region and every region the project holds a Compute resource or operation in.
`filter` and `orderBy` apply within each scope; `maxResults`/`pageToken` page over the items of every scope.
`includeAllScopes`, `returnPartialSuccess` and `serviceProjectNumber` are accepted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..paging import page
from .listing import MAX_RESULTS, max_results_of, select
from .references import collection_url

# REST collection -> the aggregated list's kind (compute.v1 discovery document).
KINDS = {
    "backendServices": "compute#backendServiceAggregatedList",
    "urlMaps": "compute#urlMapsAggregatedList",
    "networkEndpointGroups": "compute#networkEndpointGroupAggregatedList",
    "securityPolicies": "compute#securityPoliciesAggregatedList",
    "backendBuckets": "compute#backendBucketAggregatedList",
    "operations": "compute#operationAggregatedList",
}


def scope_order(scope: str) -> tuple[int, str]:
    return (0 if scope == "global" else 1, scope)


def aggregated_body(
    project: str, collection: str, scoped: Mapping[str, list[dict[str, Any]]], args: Any
) -> dict[str, Any]:
    """The aggregated list of `collection` from its items per scope (every scope to show, empty ones included)."""
    scopes = sorted(scoped, key=scope_order)
    flat = [(scope, item) for scope in scopes for item in select(scoped[scope], args)]
    chunk, token = page(flat, max_results_of(args), args.get("pageToken"), default=MAX_RESULTS, maximum=MAX_RESULTS)
    items: dict[str, Any] = {}
    for scope in scopes:
        found = [item for where, item in chunk if where == scope]
        items[scope] = {collection: found} if found else {"warning": _no_results(scope)}
    body: dict[str, Any] = {
        "kind": KINDS[collection],
        "id": f"projects/{project}/aggregated/{collection}",
        "items": items,
    }
    if token:
        body["nextPageToken"] = token
    body["selfLink"] = collection_url(project, "aggregated", collection)
    return body


def _no_results(scope: str) -> dict[str, Any]:
    return {
        "code": "NO_RESULTS_ON_PAGE",
        "message": f"There are no results for scope '{scope}' on this page.",
        "data": [{"key": "scope", "value": scope}],
    }
