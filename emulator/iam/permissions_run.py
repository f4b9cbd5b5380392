"""The permissions of Cloud Run Admin v2 and v1 methods (docs/google-apis.md §9.2).

`run.services.*` on the service (its own IAM policy counts too), in the path's project. Writes that deploy a
revision's identity, v2 create and patch and v1 create and replaceService, also need `iam.serviceAccounts.actAs`
on the runtime service account the service will have: the template's, else (v2 patch) the one it has, else the
project's default compute account. v2 patch with `allowMissing` on a service that does not exist is a create.
"""

from __future__ import annotations

from collections.abc import Callable

from ..run.knative import API_VERSION
from .needs import Check, Ctx, Need, act_as, default_service_account, dig, project_scope, run_denied

V2 = "/v2/projects/<project>/locations/<location>"
V1_NAMESPACE = f"/apis/{API_VERSION}/namespaces/<namespace>"
V1_LOCATION = "/v1/projects/<project>/locations/<location>"
SOURCE = "docs/google-apis.md §9.2"


def service_name(project: str, location: str, service: str) -> str:
    """The resource a service's own IAM policy is kept under."""
    return f"projects/{project}/locations/{location}/services/{service}"


def _service_need(permission: str, project: str, shown: str, region: str | None, service: str | None) -> Need:
    resource = service_name(project, region, service) if region and service else None
    return Need(permission, project_scope(project), run_denied(permission, shown), resource=resource)


def _v2(permission: str, *, item: bool = True) -> Callable[[Ctx], list[Need]]:
    def needs(ctx: Ctx) -> list[Need]:
        project, location = ctx.args["project"], ctx.args["location"]
        if not item:
            return [_service_need(permission, project, f"projects/{project}/locations/{location}", None, None)]
        service = ctx.args["service"]
        return [_service_need(permission, project, service_name(project, location, service), location, service)]

    return needs


def _v2_create(ctx: Ctx) -> list[Need]:
    project, location = ctx.args["project"], ctx.args["location"]
    service = ctx.query.get("serviceId") or ""
    account = dig(ctx.body, "template", "serviceAccount") or default_service_account(project)
    create = _service_need("run.services.create", project, service_name(project, location, service), None, None)
    return [create, act_as(account, project)]


def _v2_patch(ctx: Ctx) -> list[Need]:
    project, location, service = ctx.args["project"], ctx.args["location"], ctx.args["service"]
    existing = ctx.run_service(project, location, service)
    allow_missing = ctx.query.get("allowMissing", "").lower() in ("true", "1")
    permission = "run.services.create" if existing is None and allow_missing else "run.services.update"
    account = (
        dig(ctx.body, "template", "serviceAccount")
        or (existing.service_account if existing else None)
        or default_service_account(project)
    )
    shown = service_name(project, location, service)
    return [_service_need(permission, project, shown, location, service), act_as(account, project)]


def _operation(permission: str) -> Callable[[Ctx], list[Need]]:
    def needs(ctx: Ctx) -> list[Need]:
        project, location = ctx.args["project"], ctx.args["location"]
        op_id = ctx.args.get("op_id", "").partition(":")[0]
        shown = f"projects/{project}/locations/{location}" + (f"/operations/{op_id}" if op_id else "")
        return [Need(permission, project_scope(project), run_denied(permission, shown))]

    return needs


def _v1(permission: str, collection: str = "services", *, item: bool = True) -> Callable[[Ctx], list[Need]]:
    def needs(ctx: Ctx) -> list[Need]:
        project = ctx.args["namespace"]
        if not item:
            return [Need(permission, project_scope(project), run_denied(permission, f"namespaces/{project}"))]
        name = ctx.args["name"]
        found = ctx.run_service(project, ctx.host_region, name) if collection == "services" else None
        shown = f"namespaces/{project}/{collection}/{name}"
        return [_service_need(permission, project, shown, found.region if found else None, name)]

    return needs


def _v1_write(permission: str) -> Callable[[Ctx], list[Need]]:
    def needs(ctx: Ctx) -> list[Need]:
        project = ctx.args["namespace"]
        name = ctx.args.get("name") or dig(ctx.body, "metadata", "name") or ""
        found = ctx.run_service(project, ctx.host_region, name) if "name" in ctx.args else None
        account = dig(ctx.body, "spec", "template", "spec", "serviceAccountName") or default_service_account(project)
        shown = f"namespaces/{project}/services/{name}"
        need = _service_need(permission, project, shown, found.region if found else None, name)
        return [need, act_as(account, project)]

    return needs


def _v1_location(permission: str, *, item: bool = True) -> Callable[[Ctx], list[Need]]:
    def needs(ctx: Ctx) -> list[Need]:
        project, location = ctx.args["project"], ctx.args["location"]
        if not item:
            return [_service_need(permission, project, f"projects/{project}/locations/{location}", None, None)]
        name = ctx.args["name"]
        return [_service_need(permission, project, service_name(project, location, name), location, name)]

    return needs


_ACT_AS = "`iam.serviceAccounts.actAs` on the runtime service account"


def _operations(prefix: str, version: str) -> dict[tuple[str, str], Check]:
    return {
        ("GET", f"{prefix}/operations"): Check(
            f"run.{version}.operations.list", ("run.operations.list",), _operation("run.operations.list")
        ),
        ("GET", f"{prefix}/operations/<op_id>"): Check(
            f"run.{version}.operations.get", ("run.operations.get",), _operation("run.operations.get")
        ),
        ("DELETE", f"{prefix}/operations/<op_id>"): Check(
            f"run.{version}.operations.delete", ("run.operations.delete",), _operation("run.operations.delete")
        ),
        ("POST", f"{prefix}/operations/<op_id>"): Check(
            f"run.{version}.operations.wait", ("run.operations.get",), _operation("run.operations.get")
        ),
    }


CHECKS: dict[tuple[str, str], Check] = {
    ("POST", f"{V2}/services"): Check(
        "run.v2.services.create", ("run.services.create",), _v2_create, _ACT_AS, SOURCE
    ),
    ("GET", f"{V2}/services"): Check(
        "run.v2.services.list", ("run.services.list",), _v2("run.services.list", item=False), source=SOURCE
    ),
    ("GET", f"{V2}/services/<service>"): Check(
        "run.v2.services.get", ("run.services.get",), _v2("run.services.get"), source=SOURCE
    ),
    ("PATCH", f"{V2}/services/<service>"): Check(
        "run.v2.services.patch", ("run.services.update",), _v2_patch,
        f"`run.services.create` instead with `allowMissing` on a service that does not exist; {_ACT_AS}", SOURCE,
    ),
    ("DELETE", f"{V2}/services/<service>"): Check(
        "run.v2.services.delete", ("run.services.delete",), _v2("run.services.delete")
    ),
    **_operations(V2, "v2"),
    **_operations(V1_LOCATION, "v1"),
    ("POST", f"{V1_NAMESPACE}/services"): Check(
        "run.v1.namespaces.services.create", ("run.services.create",), _v1_write("run.services.create"), _ACT_AS
    ),
    ("GET", f"{V1_NAMESPACE}/services"): Check(
        "run.v1.namespaces.services.list", ("run.services.list",), _v1("run.services.list", item=False), source=SOURCE
    ),
    ("GET", f"{V1_NAMESPACE}/services/<name>"): Check(
        "run.v1.namespaces.services.get", ("run.services.get",), _v1("run.services.get"), source=SOURCE
    ),
    ("PUT", f"{V1_NAMESPACE}/services/<name>"): Check(
        "run.v1.namespaces.services.replaceService", ("run.services.update",), _v1_write("run.services.update"),
        _ACT_AS, SOURCE,
    ),
    ("DELETE", f"{V1_NAMESPACE}/services/<name>"): Check(
        "run.v1.namespaces.services.delete", ("run.services.delete",), _v1("run.services.delete")
    ),
    ("GET", f"{V1_LOCATION}/services"): Check(
        "run.v1.projects.locations.services.list", ("run.services.list",),
        _v1_location("run.services.list", item=False), source=SOURCE,
    ),
    ("GET", f"{V1_LOCATION}/services/<name>"): Check(
        "run.v1.projects.locations.services.get", ("run.services.get",), _v1_location("run.services.get"),
        source=SOURCE,
    ),
    ("GET", f"{V1_NAMESPACE}/revisions"): Check(
        "run.v1.namespaces.revisions.list", ("run.revisions.list",), _v1("run.revisions.list", "revisions", item=False)
    ),
    ("GET", f"{V1_NAMESPACE}/revisions/<name>"): Check(
        "run.v1.namespaces.revisions.get", ("run.revisions.get",), _v1("run.revisions.get", "revisions")
    ),
}  # fmt: skip
