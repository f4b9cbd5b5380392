"""The permissions of Logging, Eventarc, Resource Manager and IAM methods, and of the IAM methods of Cloud Run
services and service accounts.

Sources: Resource Manager's from its discovery documents where their method descriptions name the permission
(v3 `projects.list`, `folders.list`, `folders.create`, the searches); `run.services.getIamPolicy`/`setIamPolicy`
from docs/google-apis.md §9.2; everything else inferred from the permission naming pattern.
`testIamPermissions` needs no permission (§9.2).
"""

from __future__ import annotations

from collections.abc import Callable

from .needs import (
    Check,
    Ctx,
    Need,
    act_as,
    logging_denied,
    project_scope,
    rm_denied,
    rpc_denied,
    run_denied,
    service_account_project,
)
from .permissions_run import V1_LOCATION, V2, service_name

DISCOVERY = "discovery document"
SECTION = "docs/google-apis.md §9.2"

Needs = Callable[[Ctx], list[Need]]


def _nothing(ctx: Ctx) -> list[Need]:
    return []


# -- Logging ---------------------------------------------------------------------------------------------------


def _log_parent(log_name: object) -> str | None:
    parts = log_name.split("/") if isinstance(log_name, str) else []
    if len(parts) >= 2 and parts[0] in ("projects", "folders", "organizations", "billingAccounts"):
        return f"{parts[0]}/{parts[1]}"
    return None


def _logging(permission: str, parents: Callable[[Ctx], list[str]]) -> Needs:
    def needs(ctx: Ctx) -> list[Need]:
        return [Need(permission, parent, logging_denied(permission)) for parent in dict.fromkeys(parents(ctx))]

    return needs


def _written_to(ctx: Ctx) -> list[str]:
    entries = ctx.body.get("entries")
    names = [ctx.body.get("logName")] + [e.get("logName") for e in entries or [] if isinstance(e, dict)]
    return [p for p in map(_log_parent, names) if p]


def _read_from(ctx: Ctx) -> list[str]:
    names = ctx.body.get("resourceNames") or []
    ids = ctx.body.get("projectIds") or []
    found = [_log_parent(n) for n in (names if isinstance(names, list) else [])]
    found += [project_scope(p) for p in (ids if isinstance(ids, list) else []) if isinstance(p, str)]
    return [p for p in found if p]


LOGGING: dict[tuple[str, str], Check] = {
    ("POST", "/v2/entries:write"): Check(
        "logging.entries.write", ("logging.logEntries.create",),
        _logging("logging.logEntries.create", _written_to), "on every project (or parent) an entry is written to",
    ),
    ("POST", "/v2/entries:list"): Check(
        "logging.entries.list", ("logging.logEntries.list",),
        _logging("logging.logEntries.list", _read_from), "on every resource name and project id read",
    ),
    ("GET", "/v2/projects/<project>/logs"): Check(
        "logging.projects.logs.list", ("logging.logs.list",),
        _logging("logging.logs.list", lambda ctx: [project_scope(ctx.args["project"])]),
    ),
    ("DELETE", "/v2/projects/<project>/logs/<path:log_id>"): Check(
        "logging.projects.logs.delete", ("logging.logs.delete",),
        _logging("logging.logs.delete", lambda ctx: [project_scope(ctx.args["project"])]),
    ),
}  # fmt: skip

# -- Eventarc --------------------------------------------------------------------------------------------------

EVENTARC_BASE = "/v1/projects/<project>/locations/<location>"


def _eventarc(permission: str, suffix: Callable[[Ctx], str], *, trigger_account: bool = False) -> Needs:
    def needs(ctx: Ctx) -> list[Need]:
        project = ctx.args["project"]
        shown = f"projects/{project}/locations/{ctx.args['location']}{suffix(ctx)}"
        found = [Need(permission, project_scope(project), rpc_denied(permission, shown))]
        account = ctx.body.get("serviceAccount")
        if trigger_account and isinstance(account, str) and account:
            found.append(act_as(account, project))
        return found

    return needs


EVENTARC: dict[tuple[str, str], Check] = {
    ("POST", f"{EVENTARC_BASE}/triggers"): Check(
        "eventarc.projects.locations.triggers.create", ("eventarc.triggers.create",),
        _eventarc("eventarc.triggers.create", lambda c: f"/triggers/{c.query.get('triggerId', '')}",
                  trigger_account=True),
        "`iam.serviceAccounts.actAs` on the trigger's `serviceAccount`, when it names one",
    ),
    ("GET", f"{EVENTARC_BASE}/triggers"): Check(
        "eventarc.projects.locations.triggers.list", ("eventarc.triggers.list",),
        _eventarc("eventarc.triggers.list", lambda c: ""),
    ),
    ("GET", f"{EVENTARC_BASE}/triggers/<trigger_id>"): Check(
        "eventarc.projects.locations.triggers.get", ("eventarc.triggers.get",),
        _eventarc("eventarc.triggers.get", lambda c: f"/triggers/{c.args['trigger_id']}"),
    ),
    ("DELETE", f"{EVENTARC_BASE}/triggers/<trigger_id>"): Check(
        "eventarc.projects.locations.triggers.delete", ("eventarc.triggers.delete",),
        _eventarc("eventarc.triggers.delete", lambda c: f"/triggers/{c.args['trigger_id']}"),
    ),
    ("GET", f"{EVENTARC_BASE}/operations/<eventarc_operation:operation_id>"): Check(
        "eventarc.projects.locations.operations.get", ("eventarc.operations.get",),
        _eventarc("eventarc.operations.get", lambda c: f"/operations/{c.args['operation_id']}"),
    ),
}  # fmt: skip

# -- Resource Manager ------------------------------------------------------------------------------------------


def _rm(permission: str, name: Callable[[Ctx], str | None]) -> Needs:
    """`permission` on the organization, folder or project `name` reads from the request (none: nothing)."""

    def needs(ctx: Ctx) -> list[Need]:
        target = name(ctx)
        return [Need(permission, target, rm_denied(permission, target))] if target else []

    return needs


def _project(key: str) -> Callable[[Ctx], str]:
    return lambda ctx: project_scope(ctx.args[key])


def _folder(ctx: Ctx) -> str:
    return f"folders/{ctx.args['folder_id']}"


def _organization(ctx: Ctx) -> str:
    return f"organizations/{ctx.args['org_id']}"


def _body_parent(ctx: Ctx) -> str | None:
    parent = ctx.body.get("parent")
    return parent if isinstance(parent, str) and parent else None


def _query_parent(ctx: Ctx) -> str | None:
    return ctx.query.get("parent") or None


def _iam_methods(kind: str, rule: str, target: Callable[[Ctx], str], method: str) -> dict[tuple[str, str], Check]:
    """getIamPolicy, setIamPolicy and testIamPermissions of one Resource Manager resource."""
    return {
        ("POST", f"{rule}:getIamPolicy"): Check(
            f"{method}.getIamPolicy", (f"resourcemanager.{kind}.getIamPolicy",),
            _rm(f"resourcemanager.{kind}.getIamPolicy", target),
        ),
        ("POST", f"{rule}:setIamPolicy"): Check(
            f"{method}.setIamPolicy", (f"resourcemanager.{kind}.setIamPolicy",),
            _rm(f"resourcemanager.{kind}.setIamPolicy", target),
        ),
        ("POST", f"{rule}:testIamPermissions"): Check(f"{method}.testIamPermissions", (), _nothing, source=SECTION),
    }  # fmt: skip


_FILTERED = "none: answers only what the caller has `{}` on"

RESOURCE_MANAGER: dict[tuple[str, str], Check] = {
    ("GET", "/v1/projects/<project_id>"): Check(
        "cloudresourcemanager.v1.projects.get", ("resourcemanager.projects.get",),
        _rm("resourcemanager.projects.get", _project("project_id")),
    ),
    ("POST", "/v1/projects/<project_id>:getAncestry"): Check(
        "cloudresourcemanager.v1.projects.getAncestry", ("resourcemanager.projects.get",),
        _rm("resourcemanager.projects.get", _project("project_id")),
    ),
    ("GET", "/v1/projects"): Check(
        "cloudresourcemanager.v1.projects.list", (), _nothing, _FILTERED.format("resourcemanager.projects.get"),
        DISCOVERY,
    ),
    ("GET", "/v1/organizations/<org_id>"): Check(
        "cloudresourcemanager.v1.organizations.get", ("resourcemanager.organizations.get",),
        _rm("resourcemanager.organizations.get", _organization),
    ),
    ("POST", "/v1/organizations:search"): Check(
        "cloudresourcemanager.v1.organizations.search", (), _nothing,
        _FILTERED.format("resourcemanager.organizations.get"), DISCOVERY,
    ),
    ("GET", "/v2/folders/<folder_id>"): Check(
        "cloudresourcemanager.v2.folders.get", ("resourcemanager.folders.get",),
        _rm("resourcemanager.folders.get", _folder),
    ),
    ("GET", "/v2/folders"): Check(
        "cloudresourcemanager.v2.folders.list", ("resourcemanager.folders.list",),
        _rm("resourcemanager.folders.list", _query_parent), "on the parent", DISCOVERY,
    ),
    ("POST", "/v2/folders:search"): Check(
        "cloudresourcemanager.v2.folders.search", (), _nothing, _FILTERED.format("resourcemanager.folders.get"),
        DISCOVERY,
    ),
    ("GET", "/v3/projects/<project>"): Check(
        "cloudresourcemanager.v3.projects.get", ("resourcemanager.projects.get",),
        _rm("resourcemanager.projects.get", _project("project")),
    ),
    ("POST", "/v3/projects"): Check(
        "cloudresourcemanager.v3.projects.create", ("resourcemanager.projects.create",),
        _rm("resourcemanager.projects.create", _body_parent), "on the parent", DISCOVERY,
    ),
    ("GET", "/v3/projects"): Check(
        "cloudresourcemanager.v3.projects.list", ("resourcemanager.projects.list",),
        _rm("resourcemanager.projects.list", _query_parent), "on the parent", DISCOVERY,
    ),
    ("GET", "/v3/projects:search"): Check(
        "cloudresourcemanager.v3.projects.search", (), _nothing, _FILTERED.format("resourcemanager.projects.get"),
        DISCOVERY,
    ),
    ("POST", "/v3/folders"): Check(
        "cloudresourcemanager.v3.folders.create", ("resourcemanager.folders.create",),
        _rm("resourcemanager.folders.create", _body_parent), "on the parent", DISCOVERY,
    ),
    ("GET", "/v3/folders/<folder_id>"): Check(
        "cloudresourcemanager.v3.folders.get", ("resourcemanager.folders.get",),
        _rm("resourcemanager.folders.get", _folder),
    ),
    ("GET", "/v3/folders"): Check(
        "cloudresourcemanager.v3.folders.list", ("resourcemanager.folders.list",),
        _rm("resourcemanager.folders.list", _query_parent), "on the parent", DISCOVERY,
    ),
    ("GET", "/v3/folders:search"): Check(
        "cloudresourcemanager.v3.folders.search", (), _nothing, _FILTERED.format("resourcemanager.folders.get"),
        DISCOVERY,
    ),
    ("GET", "/v3/organizations/<org_id>"): Check(
        "cloudresourcemanager.v3.organizations.get", ("resourcemanager.organizations.get",),
        _rm("resourcemanager.organizations.get", _organization),
    ),
    ("GET", "/v3/organizations:search"): Check(
        "cloudresourcemanager.v3.organizations.search", (), _nothing,
        _FILTERED.format("resourcemanager.organizations.get"), DISCOVERY,
    ),
    ("GET", "/v3/operations/<op_id>"): Check("cloudresourcemanager.v3.operations.get", (), _nothing),
    **_iam_methods("projects", "/v1/projects/<project>", _project("project"), "cloudresourcemanager.v1.projects"),
    **_iam_methods("organizations", "/v1/organizations/<org_id>", _organization,
                   "cloudresourcemanager.v1.organizations"),
    **_iam_methods("folders", "/v2/folders/<folder_id>", _folder, "cloudresourcemanager.v2.folders"),
    **_iam_methods("projects", "/v3/projects/<project>", _project("project"), "cloudresourcemanager.v3.projects"),
    **_iam_methods("folders", "/v3/folders/<folder_id>", _folder, "cloudresourcemanager.v3.folders"),
    **_iam_methods("organizations", "/v3/organizations/<org_id>", _organization,
                   "cloudresourcemanager.v3.organizations"),
}  # fmt: skip

# -- IAM: custom roles, predefined roles, and the IAM methods of Cloud Run services and service accounts ---------


def _roles(permission: str, parent_rule: str, scope: Callable[[Ctx], str], *, item: bool) -> Needs:
    def needs(ctx: Ctx) -> list[Need]:
        parent = scope(ctx)
        if item:
            shown = f"//iam.googleapis.com/{parent}/roles/{ctx.args['role_id']}"
        else:
            shown = f"//cloudresourcemanager.googleapis.com/{parent}"
        return [Need(permission, parent, rpc_denied(permission, shown))]

    return needs


def _role_methods(prefix: str, scope: Callable[[Ctx], str], kind: str) -> dict[tuple[str, str], Check]:
    table: dict[tuple[str, str], Check] = {}
    for http, suffix, verb, permission in (
        ("POST", "", "create", "iam.roles.create"),
        ("GET", "", "list", "iam.roles.list"),
        ("GET", "/<role_id>", "get", "iam.roles.get"),
        ("PATCH", "/<role_id>", "patch", "iam.roles.update"),
        ("DELETE", "/<role_id>", "delete", "iam.roles.delete"),
        ("POST", "/<role_id>:undelete", "undelete", "iam.roles.undelete"),
    ):
        needs = _roles(permission, prefix, scope, item=bool(suffix))
        table[(http, f"{prefix}/roles{suffix}")] = Check(f"iam.{kind}.roles.{verb}", (permission,), needs)
    return table


def _roles_list(ctx: Ctx) -> list[Need]:
    parent = ctx.query.get("parent")
    if not parent:
        return []
    shown = f"//cloudresourcemanager.googleapis.com/{parent}"
    return [Need("iam.roles.list", parent, rpc_denied("iam.roles.list", shown))]


def _run_iam(permission: str, version: str) -> Needs:
    def needs(ctx: Ctx) -> list[Need]:
        project, location, service = ctx.args["project"], ctx.args["location"], ctx.args["service"]
        name = service_name(project, location, service)
        return [Need(permission, project_scope(project), run_denied(permission, name), resource=name)]

    return needs


def _service_account_iam(permission: str) -> Needs:
    def needs(ctx: Ctx) -> list[Need]:
        account = ctx.args["account"]
        project = service_account_project(account, ctx.args["project"])
        name = f"projects/{project}/serviceAccounts/{account}"
        return [Need(permission, project_scope(project), rpc_denied(permission, name), resource=name)]

    return needs


def _run_iam_methods(prefix: str, version: str) -> dict[tuple[str, str], Check]:
    rule = f"{prefix}/services/<service>"
    method = f"run.{version}.projects.locations.services"
    return {
        ("GET", f"{rule}:getIamPolicy"): Check(
            f"{method}.getIamPolicy", ("run.services.getIamPolicy",), _run_iam("run.services.getIamPolicy", version),
            source=SECTION,
        ),
        ("POST", f"{rule}:setIamPolicy"): Check(
            f"{method}.setIamPolicy", ("run.services.setIamPolicy",), _run_iam("run.services.setIamPolicy", version),
            source=SECTION,
        ),
        ("POST", f"{rule}:testIamPermissions"): Check(f"{method}.testIamPermissions", (), _nothing, source=SECTION),
    }  # fmt: skip


SERVICE_ACCOUNT = "/v1/projects/<project>/serviceAccounts/<account>"


def _service_usage(permission: str) -> Needs:
    def needs(ctx: Ctx) -> list[Need]:
        project = ctx.args.get("project")
        if not project:
            return []  # an operation named alone: gcloud polls what it just started
        return [Need(permission, project_scope(project), rpc_denied(permission, f"projects/{project}"))]

    return needs


SERVICE_USAGE: dict[tuple[str, str], Check] = {
    ("GET", "/v1/projects/<project>/services/<service>"): Check(
        "serviceusage.services.get", ("serviceusage.services.get",), _service_usage("serviceusage.services.get")
    ),
    ("GET", "/v1/projects/<project>/services:batchGet"): Check(
        "serviceusage.services.batchGet", ("serviceusage.services.get",), _service_usage("serviceusage.services.get")
    ),
    ("POST", "/v1/projects/<project>/services/<service>"): Check(
        "serviceusage.services.enable", ("serviceusage.services.enable",),
        _service_usage("serviceusage.services.enable"), "`enable` or `disable`, by the method's verb",
    ),
    ("POST", "/v1/projects/<project>/services:batchEnable"): Check(
        "serviceusage.services.batchEnable", ("serviceusage.services.enable",),
        _service_usage("serviceusage.services.enable"),
    ),
    ("GET", "/v1/operations/<name>"): Check("serviceusage.operations.get", (), _nothing),
}  # fmt: skip

IAM: dict[tuple[str, str], Check] = {
    ("GET", "/v1/roles/<role_id>"): Check("iam.roles.get", (), _nothing, "none for a predefined role"),
    ("GET", "/v1/roles"): Check("iam.roles.list", (), _roles_list, "`iam.roles.list` on `parent` when given"),
    ("POST", "/v1/permissions:queryTestablePermissions"): Check(
        "iam.permissions.queryTestablePermissions", (), _nothing
    ),
    **_role_methods("/v1/projects/<project>", _project("project"), "projects"),
    **_role_methods("/v1/organizations/<org_id>", _organization, "organizations"),
    **_run_iam_methods(V2, "v2"),
    **_run_iam_methods(V1_LOCATION, "v1"),
    ("POST", f"{SERVICE_ACCOUNT}:getIamPolicy"): Check(
        "iam.projects.serviceAccounts.getIamPolicy", ("iam.serviceAccounts.getIamPolicy",),
        _service_account_iam("iam.serviceAccounts.getIamPolicy"),
    ),
    ("POST", f"{SERVICE_ACCOUNT}:setIamPolicy"): Check(
        "iam.projects.serviceAccounts.setIamPolicy", ("iam.serviceAccounts.setIamPolicy",),
        _service_account_iam("iam.serviceAccounts.setIamPolicy"),
    ),
    ("POST", f"{SERVICE_ACCOUNT}:testIamPermissions"): Check(
        "iam.projects.serviceAccounts.testIamPermissions", (), _nothing, source=SECTION
    ),
}  # fmt: skip
