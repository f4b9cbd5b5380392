"""Every route's permission check, by HTTP method and Flask rule, and the catalogue of permissions the emulator knows.

`tests/emulator/test_iam_coverage.py` checks that every served route of every API has a check here, and the README's
permission table is this table.
"""

from __future__ import annotations

from .needs import ACT_AS, Check
from .permissions_compute import CHECKS as COMPUTE
from .permissions_others import EVENTARC, IAM, LOGGING, RESOURCE_MANAGER, SERVICE_USAGE
from .permissions_pubsub import PUBSUB, SINKS
from .permissions_run import CHECKS as RUN
from .roles import PREDEFINED

CHECKS: dict[tuple[str, str], Check] = {
    **RUN,
    **COMPUTE,
    **LOGGING,
    **EVENTARC,
    **RESOURCE_MANAGER,
    **IAM,
    **SERVICE_USAGE,
    **PUBSUB,
    **SINKS,
}

_USES = (
    "compute.backendServices.use",
    "compute.backendBuckets.use",
    "compute.regionNetworkEndpointGroups.use",
    "compute.securityPolicies.use",
    ACT_AS,
)


def catalogue() -> set[str]:
    """Every permission the emulator checks or a predefined role lists: what Owner's `includedPermissions` shows."""
    found = {permission for check in CHECKS.values() for permission in check.permissions}
    found |= set(_USES) | {"compute.urlMaps.get", "run.services.create"}
    for role in PREDEFINED.values():
        found |= set(role.permissions)
    return found


def lookup(method: str, rule: str) -> Check | None:
    return CHECKS.get((method, rule))
