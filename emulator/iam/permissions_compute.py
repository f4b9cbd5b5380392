"""The permissions of Compute Engine methods (docs/google-apis.md §9.2, §9.4).

Each method needs `compute.COLLECTION.VERB` on its resource in the path's project (NEGs and operations have
their own regional/global permission names). Writes also need `use` on every resource they reference, in the
project that resource lives in, possibly another one (§9.4): a URL map `compute.backendServices.use` or
`compute.backendBuckets.use` per backend according to its type, a backend service
`compute.regionNetworkEndpointGroups.use` per serverless NEG backend and `compute.securityPolicies.use` for the
policy it attaches. For `patch`, the references the patch body names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import partial
from typing import Any

from ..compute.references import Ref, parse_full, parse_partial
from ..errors import ApiError
from .needs import Check, Ctx, Need, compute_denied, project_scope

PREFIX = "/compute/v1/projects/<project>"
GLOBAL = f"{PREFIX}/global"
REGIONAL = f"{PREFIX}/regions/<region>"

_USE = {
    "backendServices": "compute.backendServices.use",
    "backendBuckets": "compute.backendBuckets.use",
    "securityPolicies": "compute.securityPolicies.use",
}
_REFERENCE_KEYS = ("defaultService", "service", "backendService")


def _need(permission: str, path: str, project: str, resource: str | None = None) -> Need:
    return Need(permission, project_scope(project), compute_denied(permission, path), resource=resource or path)


def _use(ref: Ref) -> Need | None:
    if ref.collection == "networkEndpointGroups" and ref.scope.startswith("regions/"):
        permission = "compute.regionNetworkEndpointGroups.use"
    else:
        permission = _USE.get(ref.collection, "")
    return _need(permission, ref.path, ref.project) if permission else None


def _parsed(parse: Callable[[], Ref]) -> Ref | None:
    try:
        return parse()
    except ApiError:
        return None  # a malformed reference: the method itself answers 400 for it


def _url_map_references(body: Any, project: str, where: str = "resource") -> Iterator[Ref]:
    """Every backend a URL map routes to (tests only check the routing, they do not route)."""
    if isinstance(body, dict):
        for key, value in body.items():
            if key == "tests":
                continue
            if key in _REFERENCE_KEYS and isinstance(value, str):
                ref = _parsed(partial(parse_partial, value, f"{where}.{key}", project))
                if ref is not None:
                    yield ref
            else:
                yield from _url_map_references(value, project, f"{where}.{key}")
    elif isinstance(body, list):
        for index, item in enumerate(body):
            yield from _url_map_references(item, project, f"{where}[{index}]")


def url_map_uses(ctx: Ctx) -> list[Need]:
    seen: dict[str, Need] = {}
    for ref in _url_map_references(ctx.body, ctx.args["project"]):
        need = _use(ref)
        if need is not None and ref.collection in ("backendServices", "backendBuckets"):
            seen.setdefault(ref.path, need)
    return list(seen.values())


def backend_service_uses(ctx: Ctx, *, policy: bool) -> list[Need]:
    found: list[Need] = []
    backends = ctx.body.get("backends")
    for index, backend in enumerate(backends if isinstance(backends, list) else []):
        group = backend.get("group") if isinstance(backend, dict) else None
        ref = _parsed(partial(parse_full, group, f"resource.backends[{index}].group"))
        need = _use(ref) if ref is not None and ref.collection == "networkEndpointGroups" else None
        if need is not None:
            found.append(need)
    if policy:
        found += security_policy_use(ctx)
    return found


def security_policy_use(ctx: Ctx) -> list[Need]:
    value = ctx.body.get("securityPolicy")
    ref = _parsed(partial(parse_partial, value, "securityPolicy", ctx.args["project"])) if value else None
    need = _use(ref) if ref is not None and ref.collection == "securityPolicies" else None
    return [need] if need is not None else []


# -- the table ---------------------------------------------------------------------------------------------


def _item(collection: str, permission: str, extra: Callable[[Ctx], list[Need]] | None = None) -> Callable:
    def needs(ctx: Ctx) -> list[Need]:
        project, region = ctx.args["project"], ctx.args.get("region")
        scope = f"regions/{region}" if region else "global"
        path = f"projects/{project}/{scope}/{collection}/{ctx.args['name']}"
        return [_need(permission, path, project), *(extra(ctx) if extra else [])]

    return needs


def _insert(collection: str, permission: str, extra: Callable[[Ctx], list[Need]] | None = None) -> Callable:
    def needs(ctx: Ctx) -> list[Need]:
        project, region = ctx.args["project"], ctx.args.get("region")
        scope = f"regions/{region}" if region else "global"
        name = ctx.body.get("name") if isinstance(ctx.body.get("name"), str) else ""
        path = f"projects/{project}/{scope}/{collection}/{name}"
        return [_need(permission, path, project), *(extra(ctx) if extra else [])]

    return needs


def _list(permission: str) -> Callable:
    def needs(ctx: Ctx) -> list[Need]:
        project, region = ctx.args["project"], ctx.args.get("region")
        path = f"projects/{project}/regions/{region}" if region else f"projects/{project}"
        return [_need(permission, path, project)]

    return needs


_SOURCE = "docs/google-apis.md §9.2"
_USES_URL_MAP = "`compute.backendServices.use` / `compute.backendBuckets.use` on each backend named (§9.2, §9.4)"
_USES_NEG = "`compute.regionNetworkEndpointGroups.use` on each NEG backend (§9.2, INFERRED there)"
_USES_POLICY = "`compute.securityPolicies.use` on the policy (§9.2, INFERRED there)"


def _collection(
    base: str,
    collection: str,
    prefix: str,
    methods: Mapping[str, tuple[str, Callable[[Ctx], list[Need]] | None, str]],
    documented: tuple[str, ...] = (),
) -> dict[tuple[str, str], Check]:
    """The standard methods of one collection: `methods[name] = (permission verb, extra needs, also)`; `prefix` is
    the discovery resource (`compute.regionNetworkEndpointGroups`), which names the permissions too."""
    url = f"{base}/{collection}"
    where = {
        "list": ("GET", url, _list),
        "insert": ("POST", url, None),
        "get": ("GET", f"{url}/<name>", None),
        "delete": ("DELETE", f"{url}/<name>", None),
        "patch": ("PATCH", f"{url}/<name>", None),
        "update": ("PUT", f"{url}/<name>", None),
    }
    table: dict[tuple[str, str], Check] = {}
    for method, (verb, extra, also) in methods.items():
        permission = f"{prefix}.{verb}"
        http, rule, _ = where.get(method, ("POST", f"{url}/<name>/{method}", None))
        if method == "list":
            needs = _list(permission)
        elif method == "insert":
            needs = _insert(collection, permission, extra)
        else:
            needs = _item(collection, permission, extra)
        source = _SOURCE if method in documented else "inferred (the pattern of §9.2)"
        table[(http, rule)] = Check(f"{prefix}.{method}", (permission,), needs, also, source)
    return table


def _url_map_patch(ctx: Ctx) -> list[Need]:
    path = f"projects/{ctx.args['project']}/global/urlMaps/{ctx.args['name']}"
    return [_need("compute.urlMaps.get", path, ctx.args["project"]), *url_map_uses(ctx)]


def _operations(base: str, prefix: str) -> dict[tuple[str, str], Check]:
    def item(permission: str) -> Callable[[Ctx], list[Need]]:
        def needs(ctx: Ctx) -> list[Need]:
            project, region = ctx.args["project"], ctx.args.get("region")
            scope = f"regions/{region}" if region else "global"
            return [_need(permission, f"projects/{project}/{scope}/operations/{ctx.args['name']}", project)]

        return needs

    kind = prefix.split(".")[1]
    inferred = "inferred (docs/google-apis.md §9.2 marks get INFERRED)"
    return {
        ("GET", f"{base}/operations"): Check(
            f"compute.{kind}.list", (f"{prefix}.list",), _list(f"{prefix}.list"), source=inferred
        ),
        ("GET", f"{base}/operations/<name>"): Check(
            f"compute.{kind}.get", (f"{prefix}.get",), item(f"{prefix}.get"), source=inferred
        ),
        ("DELETE", f"{base}/operations/<name>"): Check(
            f"compute.{kind}.delete", (f"{prefix}.delete",), item(f"{prefix}.delete"), source=inferred
        ),
        ("POST", f"{base}/operations/<name>/wait"): Check(
            f"compute.{kind}.wait", (f"{prefix}.get",), item(f"{prefix}.get"), source=inferred
        ),
    }


def _plain(*verbs: str) -> dict[str, tuple[str, None, str]]:
    names = {"insert": "create"}
    return {verb: (names.get(verb, verb), None, "") for verb in verbs}


CHECKS: dict[tuple[str, str], Check] = {
    **_collection(REGIONAL, "networkEndpointGroups", "compute.regionNetworkEndpointGroups",
                  _plain("list", "insert", "get", "delete"), ("list", "insert", "get", "delete")),
    **_collection(GLOBAL, "backendServices", "compute.backendServices", {
        **_plain("list", "get", "delete"),
        "insert": ("create", lambda ctx: backend_service_uses(ctx, policy=True), f"{_USES_NEG}; {_USES_POLICY}"),
        "patch": ("update", lambda ctx: backend_service_uses(ctx, policy=False), _USES_NEG),
        "update": ("update", lambda ctx: backend_service_uses(ctx, policy=False), _USES_NEG),
        "setSecurityPolicy": ("setSecurityPolicy", security_policy_use, _USES_POLICY),
    }, ("list", "get", "delete", "insert", "setSecurityPolicy")),
    **_collection(GLOBAL, "urlMaps", "compute.urlMaps", {
        **_plain("list", "get", "delete", "validate"),
        "insert": ("create", url_map_uses, _USES_URL_MAP),
        "patch": ("update", _url_map_patch, f"`compute.urlMaps.get`; {_USES_URL_MAP}"),
        "update": ("update", url_map_uses, _USES_URL_MAP),
    }, ("patch", "update", "validate")),
    **_collection(GLOBAL, "securityPolicies", "compute.securityPolicies", _plain("list", "insert", "get", "delete")),
    **_collection(GLOBAL, "backendBuckets", "compute.backendBuckets", _plain("list", "insert", "get", "delete")),
    ("GET", PREFIX): Check("compute.projects.get", ("compute.projects.get",), _list("compute.projects.get"),
                           source="inferred (the pattern of §9.2)"),
    ("GET", REGIONAL): Check("compute.regions.get", ("compute.regions.get",), _list("compute.regions.get"),
                             source="inferred (the pattern of §9.2)"),
    **_operations(GLOBAL, "compute.globalOperations"),
    **_operations(REGIONAL, "compute.regionOperations"),
    **{
        ("GET", f"{PREFIX}/aggregated/{collection}"): Check(
            f"compute.{collection}.aggregatedList", (permission,), _list(permission),
            source="inferred (an aggregated list needs the collection's list permission)",
        )
        for collection, permission in (
            ("backendBuckets", "compute.backendBuckets.list"),
            ("backendServices", "compute.backendServices.list"),
            ("networkEndpointGroups", "compute.networkEndpointGroups.list"),
            ("operations", "compute.globalOperations.list"),
            ("securityPolicies", "compute.securityPolicies.list"),
            ("urlMaps", "compute.urlMaps.list"),
        )
    },
}  # fmt: skip
