"""Validation rules of the serverless NEG, backend service, security policy and backend bucket.

Each `check_*` takes the client-owned part of a request body (output-only fields already dropped) and
returns the body to store plus the relative paths it references, or raises the ApiError production
answers with. Messages follow the `Invalid value for field '<path>': '<value>'. <why>` form of Compute.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..errors import ApiError, invalid
from .references import NAME_PATTERN, Ref, parse_full, parse_partial
from .store import NEGS, SECURITY_POLICIES, Resource, Store

Checked = tuple[Resource, frozenset[str]]

LOAD_BALANCING_SCHEMES = (
    "EXTERNAL",
    "EXTERNAL_MANAGED",
    "EXTERNAL_PASSTHROUGH",
    "INTERNAL",
    "INTERNAL_MANAGED",
    "INTERNAL_SELF_MANAGED",
)
PROTOCOLS = ("GRPC", "H2C", "HTTP", "HTTP2", "HTTPS", "SSL", "TCP", "UDP", "UNSPECIFIED")
SERVERLESS_SOURCES = ("cloudRun", "appEngine", "cloudFunction")
_RFC1035 = re.compile(NAME_PATTERN)

# What production fills in on a backend service the client left them out of. Echoing them matters: a
# reconciler that compares whole objects instead of the fields it owns would never converge.
BACKEND_SERVICE_DEFAULTS: dict[str, Any] = {
    "loadBalancingScheme": "EXTERNAL",
    "protocol": "HTTP",
    "timeoutSec": 30,
    "port": 80,
    "portName": "http",
    "sessionAffinity": "NONE",
    "affinityCookieTtlSec": 0,
    "connectionDraining": {"drainingTimeoutSec": 0},
    "enableCDN": False,
}

# Backend capacity knobs the discovery text calls "not available" for regional serverless NEGs.
_CAPACITY_FIELDS = (
    "balancingMode",
    "capacityScaler",
    "maxUtilization",
    "maxRate",
    "maxRatePerInstance",
    "maxRatePerEndpoint",
    "maxConnections",
    "maxConnectionsPerInstance",
    "maxConnectionsPerEndpoint",
    "maxInFlightRequests",
    "maxInFlightRequestsPerInstance",
    "maxInFlightRequestsPerEndpoint",
)

# Production adds this rule to every new Cloud Armor policy that does not bring its own.
DEFAULT_SECURITY_RULE: dict[str, Any] = {
    "kind": "compute#securityPolicyRule",
    "description": "default rule",
    "priority": 2147483647,
    "match": {"versionedExpr": "SRC_IPS_V1", "config": {"srcIpRanges": ["*"]}},
    "action": "allow",
    "preview": False,
}


def bad_value(field: str, value: Any, why: str) -> ApiError:
    shown = value if isinstance(value, str) else json.dumps(value)
    return invalid(f"Invalid value for field '{field}': '{shown}'. {why}")


def required(field: str) -> ApiError:
    return ApiError(400, f"Required field '{field}' not specified", reason="required")


def check_enum(body: Resource, key: str, allowed: tuple[str, ...]) -> None:
    value = body.get(key)
    if value is not None and value not in allowed:
        raise bad_value(f"resource.{key}", value, f"Must be one of [{', '.join(allowed)}].")


# -- serverless NEG ----------------------------------------------------------------------------------


def check_neg(body: Resource) -> Checked:
    kind = body.get("networkEndpointType", "GCE_VM_IP_PORT")
    if kind != "SERVERLESS":
        # Other regional NEG types exist in production; the emulator says so rather than store a half-model.
        why = "The emulator supports only SERVERLESS regional network endpoint groups."
        raise bad_value("resource.networkEndpointType", kind, why)
    sources = [s for s in SERVERLESS_SOURCES if body.get(s) is not None]
    if len(sources) != 1:
        raise invalid(
            "A SERVERLESS network endpoint group must specify exactly one of cloudRun, appEngine or cloudFunction; "
            f"got {len(sources)}."
        )
    for key, why in (
        ("defaultPort", "Default port must not be specified for SERVERLESS network endpoint groups."),
        ("network", "Network cannot be set for SERVERLESS network endpoint groups."),
        ("subnetwork", "Subnetwork cannot be set for SERVERLESS network endpoint groups."),
    ):
        if body.get(key) not in (None, "", 0):
            raise bad_value(f"resource.{key}", body[key], why)
    if sources == ["cloudRun"]:
        _check_cloud_run(body["cloudRun"])
    return {**body, "size": 0}, frozenset()


def _check_cloud_run(cloud_run: Any) -> None:
    if not isinstance(cloud_run, dict):
        raise bad_value("resource.cloudRun", cloud_run, "Must be an object.")
    if not cloud_run.get("service") and not cloud_run.get("urlMask"):
        raise invalid("The service must be provided explicitly or in the URL mask.")
    for key in ("service", "tag"):
        value = cloud_run.get(key)
        if value is not None and (not isinstance(value, str) or not _RFC1035.fullmatch(value)):
            raise bad_value(f"resource.cloudRun.{key}", value, "Must be 1-63 characters long and comply with RFC1035.")


# -- backend service ---------------------------------------------------------------------------------


def check_backend_service(store: Store, project: str, body: Resource) -> Checked:
    check_enum(body, "loadBalancingScheme", LOAD_BALANCING_SCHEMES)
    check_enum(body, "protocol", PROTOCOLS)
    backends = body.get("backends") or []
    if not isinstance(backends, list):
        raise bad_value("resource.backends", backends, "Must be a list.")
    refs: set[str] = set()
    serverless = False
    normalized = []
    for i, backend in enumerate(backends):
        field = f"resource.backends[{i}]"
        if not isinstance(backend, dict):
            raise bad_value(field, backend, "Must be an object.")
        if not backend.get("group"):
            raise required(f"{field}.group")
        ref = parse_full(backend["group"], f"{field}.group")
        if ref.path in refs:
            raise bad_value(f"{field}.group", backend["group"], "Duplicate backend group in the backend service.")
        if ref.collection not in ("networkEndpointGroups", "instanceGroups"):
            raise bad_value(f"{field}.group", backend["group"], "Must be an instance group or network endpoint group.")
        _check_same_project(ref, project, body, f"{field}.group", backend["group"])
        group = store.resolve(ref)  # 404 for any group the emulator does not hold (it holds no instance groups)
        if ref.collection == NEGS.name and group.get("networkEndpointType") == "SERVERLESS":
            serverless = True
            for knob in _CAPACITY_FIELDS:
                if backend.get(knob) is not None:
                    what = "Balancing mode" if knob == "balancingMode" else f"'{knob}'"
                    why = f"{what} is not supported for Serverless network endpoint groups."
                    raise bad_value(f"{field}.{knob}", backend[knob], why)
        refs.add(ref.path)
        normalized.append({**backend, "group": ref.url})
    if serverless and body.get("healthChecks"):
        raise bad_value(
            "resource.healthChecks",
            body["healthChecks"],
            "Backend services with internet or serverless NEG backends must not have a health check.",
        )
    stored = {**BACKEND_SERVICE_DEFAULTS, **body}
    if normalized:
        stored["backends"] = normalized
    return stored, frozenset(refs)


# The one load-balancing scheme whose backend services may use NEGs of other projects (Cloud Service Mesh).
_CROSS_PROJECT_NEG_SCHEME = "INTERNAL_SELF_MANAGED"


def _check_same_project(ref: Ref, project: str, body: Resource, field: str, value: Any) -> None:
    """A load balancer's backend service uses NEGs of its own project: attaching a NEG of another project exists
    only for Cloud Service Mesh (docs/google-apis.md §9.4). A URL map, by contrast, may name backend services of
    other projects (cross-project service referencing)."""
    if ref.project == project or body.get("loadBalancingScheme") == _CROSS_PROJECT_NEG_SCHEME:
        return
    why = (
        f"The network endpoint group is in project '{ref.project}', not in the backend service's project "
        f"'{project}': a backend service can only use network endpoint groups of its own project (cross-project "
        f"network endpoint groups need loadBalancingScheme {_CROSS_PROJECT_NEG_SCHEME}, Cloud Service Mesh)."
    )
    raise bad_value(field, value, why)


def security_policy_ref(store: Store, value: Any, project: str) -> Ref | None:
    """The policy a setSecurityPolicy body names; None detaches. It must exist and be a backend policy."""
    if value in (None, ""):
        return None
    ref = parse_partial(value, "securityPolicy", project)
    if ref.collection != SECURITY_POLICIES.name or ref.scope != "global":
        raise bad_value("securityPolicy", value, "Must be the URL of a global security policy.")
    policy = store.resolve(ref)
    if policy.get("type", "CLOUD_ARMOR") != "CLOUD_ARMOR":
        why = f"A policy of type {policy['type']} cannot be a backend security policy."
        raise bad_value("securityPolicy", value, why)
    return ref


# -- security policy and backend bucket --------------------------------------------------------------


def check_security_policy(body: Resource) -> Checked:
    check_enum(body, "type", ("CLOUD_ARMOR", "CLOUD_ARMOR_EDGE", "CLOUD_ARMOR_NETWORK"))
    rules = body.get("rules") or []
    if not isinstance(rules, list):
        raise bad_value("resource.rules", rules, "Must be a list.")
    priorities: set[Any] = set()
    out_rules = []
    for i, rule in enumerate(rules):
        if not isinstance(rule, dict) or "priority" not in rule:
            raise required(f"resource.rules[{i}].priority")
        if rule["priority"] in priorities:
            raise bad_value(f"resource.rules[{i}].priority", rule["priority"], "Rule priorities must be unique.")
        priorities.add(rule["priority"])
        out_rules.append({"kind": "compute#securityPolicyRule", "preview": False, **rule})
    if DEFAULT_SECURITY_RULE["priority"] not in priorities:
        out_rules.append(dict(DEFAULT_SECURITY_RULE))
    return {"type": "CLOUD_ARMOR", **body, "rules": out_rules}, frozenset()


def check_backend_bucket(body: Resource) -> Checked:
    if not body.get("bucketName"):
        raise required("resource.bucketName")
    return {"enableCdn": False, **body}, frozenset()
