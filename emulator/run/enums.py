"""Enum fields of the v2 Service that clients set, accepted as names or numbers, stored as names.

The google-cloud-run REST transport sends enums as numbers (`$alt=json;enum-encoding=int`), googleapiclient as
names (docs/google-apis.md §1.4). Numbers are the proto values, which are not always the discovery order: LaunchStage
numbers EARLY_ACCESS 1 ... DEPRECATED 5, UNIMPLEMENTED 6, PRELAUNCH 7 (google/api/launch_stage.proto).
"""

from __future__ import annotations

from typing import Any

from ..errors import invalid

_PKG = "type.googleapis.com/google.cloud.run.v2."

# enum type -> (its type URL, names by proto number)
ENUMS: dict[str, tuple[str, dict[int, str]]] = {
    "IngressTraffic": (
        _PKG + "IngressTraffic",
        {
            0: "INGRESS_TRAFFIC_UNSPECIFIED",
            1: "INGRESS_TRAFFIC_ALL",
            2: "INGRESS_TRAFFIC_INTERNAL_ONLY",
            3: "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER",
            4: "INGRESS_TRAFFIC_NONE",
        },
    ),
    "LaunchStage": (
        "type.googleapis.com/google.api.LaunchStage",
        {
            0: "LAUNCH_STAGE_UNSPECIFIED",
            1: "EARLY_ACCESS",
            2: "ALPHA",
            3: "BETA",
            4: "GA",
            5: "DEPRECATED",
            6: "UNIMPLEMENTED",
            7: "PRELAUNCH",
        },
    ),
    "TrafficTargetAllocationType": (
        _PKG + "TrafficTargetAllocationType",
        {
            0: "TRAFFIC_TARGET_ALLOCATION_TYPE_UNSPECIFIED",
            1: "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST",
            2: "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION",
        },
    ),
    "ScalingMode": (_PKG + "ServiceScaling.ScalingMode", {0: "SCALING_MODE_UNSPECIFIED", 1: "AUTOMATIC", 2: "MANUAL"}),
    "ExecutionEnvironment": (
        _PKG + "ExecutionEnvironment",
        {
            0: "EXECUTION_ENVIRONMENT_UNSPECIFIED",
            1: "EXECUTION_ENVIRONMENT_GEN1",
            2: "EXECUTION_ENVIRONMENT_GEN2",
        },
    ),
    "EncryptionKeyRevocationAction": (
        _PKG + "EncryptionKeyRevocationAction",
        {
            0: "ENCRYPTION_KEY_REVOCATION_ACTION_UNSPECIFIED",
            1: "PREVENT_NEW",
            2: "SHUTDOWN",
        },
    ),
    "VpcEgress": (
        _PKG + "VpcAccess.VpcEgress",
        {
            0: "VPC_EGRESS_UNSPECIFIED",
            1: "ALL_TRAFFIC",
            2: "PRIVATE_RANGES_ONLY",
        },
    ),
    "Medium": (_PKG + "EmptyDirVolumeSource.Medium", {0: "MEDIUM_UNSPECIFIED", 1: "MEMORY", 2: "DISK"}),
    "FunctionalType": (
        _PKG + "Service.FunctionalType",
        {
            0: "FUNCTIONAL_TYPE_UNSPECIFIED",
            1: "FUNCTIONAL_TYPE_AGENT",
            2: "FUNCTIONAL_TYPE_MCP_SERVER",
        },
    ),
}

# Where the settable enums live in a v2 Service ("*" = every element of a list).
ENUM_PATHS: list[tuple[tuple[str, ...], str]] = [
    (("ingress",), "IngressTraffic"),
    (("launchStage",), "LaunchStage"),
    (("functionalType",), "FunctionalType"),
    (("scaling", "scalingMode"), "ScalingMode"),
    (("traffic", "*", "type"), "TrafficTargetAllocationType"),
    (("template", "executionEnvironment"), "ExecutionEnvironment"),
    (("template", "encryptionKeyRevocationAction"), "EncryptionKeyRevocationAction"),
    (("template", "vpcAccess", "egress"), "VpcEgress"),
    (("template", "volumes", "*", "emptyDir", "medium"), "Medium"),
]


def enum_name(enum: str, value: Any, where: str) -> str:
    """The name of an enum value given as name or number; 400 with the ESF wording otherwise."""
    type_url, names = ENUMS[enum]
    if isinstance(value, bool):
        pass  # a JSON true is not an enum number, although bool is an int in Python
    elif isinstance(value, int) and value in names:
        return names[value]
    elif isinstance(value, str) and value in names.values():
        return value
    elif isinstance(value, str) and value.lstrip("-").isdigit() and int(value) in names:
        return names[int(value)]
    raise invalid(f"Invalid value at '{where}' ({type_url}), {_show(value)}")


def normalize_enums(body: dict[str, Any], prefix: str = "service") -> None:
    """Rewrite, in place, every settable enum of a v2 Service body to its name."""
    for path, enum in ENUM_PATHS:
        _walk(body, path, enum, prefix)


def _walk(node: Any, path: tuple[str, ...], enum: str, where: str) -> None:
    if not isinstance(node, dict) or path[0] not in node:
        return
    key, rest = path[0], path[1:]
    here = f"{where}.{key}"
    if not rest:
        if node[key] is not None:
            node[key] = enum_name(enum, node[key], here)
        return
    if rest[0] == "*":
        items = node[key]
        if isinstance(items, list):
            for i, item in enumerate(items):
                if rest[1:]:
                    _walk(item, rest[1:], enum, f"{here}[{i}]")
        return
    _walk(node[key], rest, enum, here)


def _show(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
