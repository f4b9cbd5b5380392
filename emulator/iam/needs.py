"""What a permission check is made of: the request's context, the permissions it needs, and the 403s of each API.

A `Check` belongs to one route (HTTP method and Flask rule) and turns the request (`Ctx`) into `Need`s: a
permission, the hierarchy node whose policies decide it (`scope`: the project the resource lives in, or a folder
or organization), an optional resource whose own policy also grants it, and the error production answers when it
is missing. The per-API tables are in `permissions_*.py`; `enforce.py` evaluates them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ApiError
from ..run.rules import project_number

ACT_AS = "iam.serviceAccounts.actAs"


@dataclass(frozen=True)
class RunService:
    """What the checks need to know of a Cloud Run service that exists."""

    uid: str
    region: str
    service_account: str | None


RunLookup = Callable[[str, str | None, str], RunService | None]  # (project, region or None = any, name)


@dataclass
class Ctx:
    args: Mapping[str, Any]  # the path's variables
    query: Mapping[str, str]  # the query parameters
    body: dict[str, Any]  # the JSON body ({} when there is none, or when it is malformed: the handler says so)
    host_region: str | None  # gcloud's regional host, for Cloud Run v1
    run_service: RunLookup = field(repr=False, default=lambda project, region, name: None)


@dataclass(frozen=True)
class Need:
    permission: str
    scope: str  # "projects/P" (id or number), "folders/N", "organizations/N" (or any other parent: never enforced)
    error: ApiError
    resource: str | None = None  # a resource whose own policy grants too: a service, a service account, a backend


@dataclass(frozen=True)
class Check:
    method: str  # the discovery method id, e.g. "compute.urlMaps.patch"
    permissions: tuple[str, ...]  # the permissions always needed (the README's table)
    needs: Callable[[Ctx], list[Need]]
    also: str = ""  # the needs that depend on the request, in words
    source: str = "inferred"


# -- the 403 of each API (docs/google-apis.md §9.2 for Compute, Cloud Run and actAs; the others inferred) ------


def compute_denied(permission: str, resource: str) -> ApiError:
    return ApiError(403, f"Required '{permission}' permission for '{resource}'", reason="forbidden")


def run_denied(permission: str, resource: str) -> ApiError:
    return ApiError(403, f"Permission '{permission}' denied on resource '{resource}' (or resource may not exist).")


def act_as_denied(account: str) -> ApiError:
    return ApiError(
        403, f"Permission 'iam.serviceaccounts.actAs' denied on service account {account} (or it may not exist)."
    )


def rpc_denied(permission: str, resource: str) -> ApiError:
    return ApiError(403, f"Permission '{permission}' denied on resource '{resource}' (or it may not exist).")


def logging_denied(permission: str) -> ApiError:
    return ApiError(403, f"Permission '{permission}' denied on resource (or it may not exist).")


def rm_denied(permission: str, name: str) -> ApiError:
    return rpc_denied(permission, f"//cloudresourcemanager.googleapis.com/{name}")


# -- helpers the tables share -----------------------------------------------------------------------------------


def project_scope(project: str) -> str:
    return f"projects/{project}"


def default_service_account(project: str) -> str:
    """The runtime identity of a Cloud Run service that names none: the project's default compute account."""
    return f"{project_number(project)}-compute@developer.gserviceaccount.com"


_SA_IN_PROJECT = re.compile(r"[^@]+@(?P<project>[a-z][a-z0-9-]+)\.iam\.gserviceaccount\.com")
_SA_DEFAULT_COMPUTE = re.compile(r"(?P<number>[0-9]+)-compute@developer\.gserviceaccount\.com")
_SA_APPSPOT = re.compile(r"(?P<project>[a-z][a-z0-9-]+)@appspot\.gserviceaccount\.com")


def service_account_project(account: str, fallback: str) -> str:
    """The project a service account lives in (its id, or its number for a default compute account)."""
    for pattern, group in ((_SA_IN_PROJECT, "project"), (_SA_DEFAULT_COMPUTE, "number"), (_SA_APPSPOT, "project")):
        match = pattern.fullmatch(account)
        if match:
            return match.group(group)
    return fallback


def act_as(account: str, fallback_project: str) -> Need:
    """`iam.serviceAccounts.actAs` on a service account, in the project it belongs to."""
    project = service_account_project(account, fallback_project)
    return Need(
        ACT_AS,
        project_scope(project),
        act_as_denied(account),
        resource=f"projects/{project}/serviceAccounts/{account}",
    )


def dig(body: Any, *keys: str) -> Any:
    """`body[k1][k2]...`, or None where any level is missing or not an object."""
    for key in keys:
        if not isinstance(body, dict):
            return None
        body = body.get(key)
    return body
