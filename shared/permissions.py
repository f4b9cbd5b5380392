"""The IAM permissions each function's calls need: the one table `infra/` grants (tests/unit/test_infra.py holds
the custom roles to it), `python main.py doctor` checks with testIamPermissions, and the least-privilege test
proves call by call (docs/google-apis.md §9.2 for where each comes from).

Per function, on the projects it works in (the load balancer's, and each service project in scope). An
installation whose `RUNWAY_SCOPE` is an organization or folder also needs `SCOPE` at that level.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

# Reading a service and writing it (ingress, route status): a Cloud Run update is also authorized against the
# service's runtime service account (`iam.serviceAccounts.actAs`), granted separately (infra's `act_as` role).
RUN_READ: Final = frozenset({"run.services.get"})
RUN_WRITE: Final = frozenset({"run.services.update"})
RUN_ACCESS: Final = frozenset({"run.services.getIamPolicy"})  # is the service reachable (allUsers invoker)?
RUN_LIST: Final = frozenset({"run.services.list"})
# An event naming its project by number: the project's id, to check RUNWAY_SCOPE (shared/flow_scope.py).
PROJECT_READ: Final = frozenset({"resourcemanager.projects.get"})
ACT_AS: Final = "iam.serviceAccounts.actAs"

# One service's objects: its NEGs, its backend service, the Cloud Armor policy on it, and the waits.
OBJECTS: Final = frozenset(
    {
        "compute.regionNetworkEndpointGroups.create",
        "compute.regionNetworkEndpointGroups.delete",
        "compute.regionNetworkEndpointGroups.get",
        "compute.regionNetworkEndpointGroups.use",  # a backend service naming the NEG
        "compute.regionOperations.get",  # operations.wait on NEG operations
        "compute.backendServices.create",
        "compute.backendServices.delete",
        "compute.backendServices.get",
        "compute.backendServices.update",  # patch: regions added or removed
        "compute.backendServices.setSecurityPolicy",
        "compute.securityPolicies.use",  # the policy attached
        "compute.securityPolicies.get",  # only to name a missing RUNWAY_SECURITY_POLICY
        "compute.globalOperations.get",  # operations.wait on backend-service and URL-map operations
    }
)
# The shared URL map: read, validate, patch with the fingerprint; every backend service or bucket the written map
# references must be usable by the writer (the map's default is Terraform's backend bucket).
URL_MAP: Final = frozenset(
    {
        "compute.urlMaps.get",
        "compute.urlMaps.update",
        "compute.urlMaps.validate",
        "compute.backendServices.use",
        "compute.backendBuckets.use",
    }
)
# The sweep's listings (and garbage collection).
SWEEP_LISTS: Final = frozenset({"compute.backendServices.list", "compute.regionNetworkEndpointGroups.list"})

FUNCTIONS: Final = MappingProxyType(
    {
        "enforce_ingress": RUN_READ | RUN_WRITE | PROJECT_READ | {ACT_AS},
        "sync_routes": RUN_READ | RUN_WRITE | RUN_ACCESS | PROJECT_READ | OBJECTS | URL_MAP | {ACT_AS},
        # No PROJECT_READ: the sweep names projects by the ids it lists or is given, never by number.
        "reconcile_all": RUN_READ | RUN_WRITE | RUN_ACCESS | RUN_LIST | OBJECTS | URL_MAP | SWEEP_LISTS | {ACT_AS},
    }
)

# At the organization or folder of RUNWAY_SCOPE: a project's ancestry (events), and every project below (the sweep).
SCOPE: Final = MappingProxyType(
    {
        "enforce_ingress": frozenset({"resourcemanager.projects.get", "resourcemanager.folders.get"}),
        "sync_routes": frozenset({"resourcemanager.projects.get", "resourcemanager.folders.get"}),
        # Lists only: the sweep walks the scope down and never reads a project's ancestry.
        "reconcile_all": frozenset({"resourcemanager.projects.list", "resourcemanager.folders.list"}),
    }
)
