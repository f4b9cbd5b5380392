"""`doctor`'s reads: the URL map and the Cloud Armor policy, each function's permissions as `testIamPermissions`
answers for its identity, Compute's quotas, and the Eventarc triggers. The checks over them are pure
(`cli.doctor_checks`).

Testing permissions *as* an identity: in production with google-auth's impersonated credentials (so whoever runs
doctor needs roles/iam.serviceAccountTokenCreator on each function's service account); against the emulator
(RUNWAY_API_ENDPOINT) with `shared.clients.client_kwargs(endpoint, principal=EMAIL)`, a bearer token the emulator
takes as the caller.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cli.doctor_checks import DoctorObservation, Quota, required
from shared import clients, errors
from shared.api_compute import get_security_policy, get_url_map
from shared.config import Config, ConfigError
from shared.flow_scope import projects_in_scope
from shared.permissions import FUNCTIONS

CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
LOCATION = "global"  # where infra makes the triggers (audit-log triggers are global)
_FAILURES: tuple[type[BaseException], ...] = (errors.RunwayApiError, *errors.API_ERRORS)


def observe(
    config: Config, lb_project: str, identities: Mapping[str, str], destinations: Mapping[str, str]
) -> DoctorObservation:
    compute = clients.compute(config.api_endpoint, config.api_principal)
    try:
        projects = tuple(dict.fromkeys([lb_project, *projects_in_scope(config)]))
    except errors.RunwayApiError:
        projects = (lb_project,)  # the scope's projects could not be listed: the permission check says why
    resources = [f"projects/{p}" for p in projects]
    if config.scope is not None and config.scope.parent:
        resources.append(config.scope.parent)
    quotas, quota_errors = _quotas(config, projects)
    return DoctorObservation(
        config=config,
        lb_project=lb_project,
        projects=projects,
        identities=identities,
        destinations=destinations,
        url_map=_url_map(compute, lb_project, config.require_url_map()),
        policies=_policies(compute, projects, config.security_policy),
        granted={(fn, r): _granted(config, identities[fn], fn, r) for fn in FUNCTIONS for r in resources},
        quotas=quotas,
        quota_errors=quota_errors,
        triggers=_triggers(config, lb_project),
    )


def _url_map(compute: Any, project: str, name: str) -> dict[str, Any] | str | None:
    try:
        return get_url_map(compute, project, name)
    except ConfigError:
        return None
    except errors.RunwayApiError as exc:
        return str(exc)


def _policies(compute: Any, projects: Sequence[str], policy: str | None) -> dict[str, bool | str]:
    if not policy:
        return {}
    found: dict[str, bool | str] = {}
    for project in projects:
        try:
            found[project] = get_security_policy(compute, project, policy) is not None
        except errors.RunwayApiError as exc:
            found[project] = str(exc)
    return found


def as_identity(config: Config, email: str) -> dict[str, Any]:
    """Client keyword arguments whose calls carry `email`'s identity."""
    if config.api_endpoint:
        return clients.client_kwargs(config.api_endpoint, principal=email)
    import google.auth
    from google.auth import impersonated_credentials

    source, _ = google.auth.default(scopes=[CLOUD_PLATFORM])  # type: ignore[no-untyped-call]
    credentials = impersonated_credentials.Credentials(  # type: ignore[no-untyped-call]
        source_credentials=source, target_principal=email, target_scopes=[CLOUD_PLATFORM], lifetime=300
    )
    return {"transport": "rest", "credentials": credentials}


def _granted(config: Config, email: str, function: str, resource: str) -> frozenset[str] | str:
    """The permissions `email` holds on `resource` among those `function` needs there (str: why not known)."""
    from google.cloud import resourcemanager_v3

    kind = resource.split("/", 1)[0]
    client_class: Any = {
        "projects": resourcemanager_v3.ProjectsClient,
        "folders": resourcemanager_v3.FoldersClient,
        "organizations": resourcemanager_v3.OrganizationsClient,
    }[kind]
    wanted = sorted(required(function, resource))
    try:
        client = client_class(**as_identity(config, email))
        reply = errors.call(
            f"resourcemanager.{kind}.testIamPermissions",
            resource,
            client.test_iam_permissions,
            request={"resource": resource, "permissions": wanted},
        )
    except _FAILURES as exc:
        return str(exc)
    return frozenset(reply.permissions)


def _quotas(config: Config, projects: Sequence[str]) -> tuple[list[Quota], list[str]]:
    """BACKEND_SERVICES of each project (`projects.get`), NETWORK_ENDPOINT_GROUPS of each project and region
    of RUNWAY_REGIONS (`regions.get`)."""
    from google.cloud import compute_v1

    kwargs = clients.client_kwargs(config.api_endpoint, config.api_principal)
    found: list[Quota] = []
    problems: list[str] = []
    for project in projects:
        try:
            reply = errors.call(
                "compute.projects.get", project, compute_v1.ProjectsClient(**kwargs).get, project=project
            )
            found += [
                Quota(project, q.metric, q.usage, q.limit) for q in reply.quotas if q.metric == "BACKEND_SERVICES"
            ]
            for region in config.regions:
                where = f"{project}/{region}"
                reply = errors.call(
                    "compute.regions.get", where, compute_v1.RegionsClient(**kwargs).get, project=project, region=region
                )
                metric = "NETWORK_ENDPOINT_GROUPS"
                found += [Quota(where, q.metric, q.usage, q.limit) for q in reply.quotas if q.metric == metric]
        except errors.RunwayApiError as exc:
            problems.append(f"{project}: could not read its quotas: {exc}")
    return found, problems


def _triggers(config: Config, project: str) -> list[dict[str, Any]] | str:
    """Every Eventarc trigger of the project in location `global` (REST JSON), or why they could not be listed."""
    from googleapiclient.discovery import build  # type: ignore[import-untyped]

    options: dict[str, Any] = {"static_discovery": True, "cache_discovery": False}
    if config.api_endpoint:
        from google.auth.credentials import AnonymousCredentials

        options |= {"credentials": AnonymousCredentials(), "client_options": {"api_endpoint": config.api_endpoint}}
    parent = f"projects/{project}/locations/{LOCATION}"
    found: list[dict[str, Any]] = []
    try:
        triggers = build("eventarc", "v1", **options).projects().locations().triggers()
        token = None
        while True:
            page = triggers.list(parent=parent, pageToken=token).execute()
            found += page.get("triggers", [])
            token = page.get("nextPageToken")
            if not token:
                return found
    except Exception as exc:  # googleapiclient's HttpError and transport errors alike: reported, not raised
        return f"eventarc.triggers.list {parent}: {exc}"
