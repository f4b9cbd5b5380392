"""Predefined roles (`roles/*`): the ones runway's infra and docs name, plus the basic roles.

Sources, per role (`source`): `docs/google-apis.md §9.4` where that file states the permissions; the rest are
**inferred**: written from Google's predefined-roles reference as remembered, not checked against it here. Each lists
the permissions of the APIs the emulator serves (and a few well-known ones of APIs it does not); production's
roles hold more. The basic roles are predicates over every permission: Owner everything, Editor everything but
changing IAM policies, Viewer the reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

INFERRED = "inferred"

_RUN_READ = (
    "run.configurations.get",
    "run.configurations.list",
    "run.executions.get",
    "run.executions.list",
    "run.jobs.get",
    "run.jobs.list",
    "run.locations.list",
    "run.operations.get",
    "run.operations.list",
    "run.revisions.get",
    "run.revisions.list",
    "run.routes.get",
    "run.routes.list",
    "run.services.get",
    "run.services.getIamPolicy",
    "run.services.list",
    "run.tasks.get",
    "run.tasks.list",
)
_RUN_WRITE = (
    "run.executions.cancel",
    "run.executions.delete",
    "run.jobs.create",
    "run.jobs.delete",
    "run.jobs.run",
    "run.jobs.runWithOverrides",
    "run.jobs.update",
    "run.operations.delete",
    "run.revisions.delete",
    "run.services.create",
    "run.services.delete",
    "run.services.update",
)
_LB_READ = (
    "compute.backendBuckets.get",
    "compute.backendBuckets.list",
    "compute.backendServices.get",
    "compute.backendServices.list",
)


def _crud(prefix: str, *verbs: str) -> tuple[str, ...]:
    return tuple(f"{prefix}.{verb}" for verb in verbs)


def _all(*groups: str | tuple[str, ...]) -> tuple[str, ...]:
    """Permission names and groups of them, as one tuple."""
    return tuple(p for group in groups for p in ((group,) if isinstance(group, str) else group))


_LB_ADMIN = (
    *_crud("compute.backendBuckets", "create", "delete", "get", "list", "update", "use"),
    *_crud("compute.backendServices", "create", "delete", "get", "list", "update", "use", "setSecurityPolicy"),
    *_crud("compute.urlMaps", "create", "delete", "get", "list", "update", "use", "validate", "invalidateCache"),
    *_crud("compute.regionNetworkEndpointGroups", "create", "delete", "get", "list", "use"),
    *_crud("compute.globalOperations", "get", "list"),
    *_crud("compute.regionOperations", "get", "list"),
    *_crud("compute.securityPolicies", "get", "list", "use"),
    "resourcemanager.projects.get",
)


@dataclass(frozen=True)
class Role:
    name: str
    title: str
    description: str
    permissions: tuple[str, ...] = ()
    # Basic roles: a predicate over any permission instead of a list.
    grants_all: Callable[[str], bool] | None = None
    source: str = INFERRED

    def grants(self, permission: str) -> bool:
        if self.grants_all is not None:
            return self.grants_all(permission)
        return permission in self.permissions

    def included(self, catalogue: Iterable[str]) -> list[str]:
        """`includedPermissions`: the list, or for a basic role every catalogued permission it grants."""
        if self.grants_all is None:
            return sorted(self.permissions)
        return sorted(p for p in set(catalogue) if self.grants_all(p))


def _is_read(permission: str) -> bool:
    verb = permission.rsplit(".", 1)[-1]
    return verb in ("get", "list", "getIamPolicy", "search") or verb.startswith(("get", "list"))


_DEFINITIONS: tuple[Role, ...] = (
    Role("roles/owner", "Owner", "Full access to all resources.", grants_all=lambda p: True),
    Role(
        "roles/editor",
        "Editor",
        "View, create, update, and delete most Google Cloud resources (not IAM policies).",
        grants_all=lambda p: not p.endswith(".setIamPolicy"),
    ),
    Role("roles/viewer", "Viewer", "View most Google Cloud resources.", grants_all=_is_read),
    Role("roles/browser", "Browser", "Read access to browse the hierarchy for a project.",
         ("resourcemanager.folders.get", "resourcemanager.folders.list", "resourcemanager.organizations.get",
          "resourcemanager.projects.get", "resourcemanager.projects.getIamPolicy", "resourcemanager.projects.list")),
    # Cloud Run
    Role("roles/run.invoker", "Cloud Run Invoker", "Invoke Cloud Run services and run jobs.",
         ("run.jobs.run", "run.jobs.runWithOverrides", "run.routes.invoke")),
    Role("roles/run.viewer", "Cloud Run Viewer", "View the state of all Cloud Run resources, including IAM policies.",
         _RUN_READ),
    Role("roles/run.developer", "Cloud Run Developer", "Read and write access to all Cloud Run resources.",
         _RUN_READ + _RUN_WRITE),
    Role("roles/run.admin", "Cloud Run Admin", "Full control over all Cloud Run resources.",
         (*_RUN_READ, *_RUN_WRITE, "run.jobs.setIamPolicy", "run.services.setIamPolicy")),
    # Compute (load balancing)
    Role("roles/compute.loadBalancerServiceUser", "Compute Load Balancer Services User",
         "Use backend services and backend buckets of this project in URL maps of other projects.",
         (*_LB_READ, "compute.backendBuckets.use", "compute.backendServices.use"),
         source="docs/google-apis.md §9.4 (the two use permissions); get and list inferred"),
    Role("roles/compute.loadBalancerAdmin", "Compute Load Balancer Admin",
         "Create, modify and delete load balancers and associated resources.", _LB_ADMIN),
    Role("roles/compute.securityAdmin", "Compute Security Admin", "Create, modify and delete security policies.",
         (*_crud("compute.securityPolicies", "create", "delete", "get", "list", "update", "use", "addRule",
                 "removeRule", "patchRule", "getRule"), *_crud("compute.globalOperations", "get", "list"))),
    Role("roles/compute.viewer", "Compute Viewer", "Read-only access to get and list Compute Engine resources.",
         (*_LB_READ, "compute.urlMaps.get", "compute.urlMaps.list", "compute.regionNetworkEndpointGroups.get",
          "compute.regionNetworkEndpointGroups.list", "compute.securityPolicies.get", "compute.securityPolicies.list",
          "compute.globalOperations.get", "compute.globalOperations.list", "compute.regionOperations.get",
          "compute.regionOperations.list")),
    # Logging
    Role("roles/logging.logWriter", "Logs Writer", "Provides the permissions to write log entries.",
         ("logging.logEntries.create", "logging.logEntries.route")),
    Role("roles/logging.viewer", "Logs Viewer", "Access to view logs (not private logs).",
         ("logging.buckets.get", "logging.buckets.list", "logging.exclusions.get", "logging.exclusions.list",
          "logging.logEntries.list", "logging.logMetrics.get", "logging.logMetrics.list", "logging.logs.list",
          "logging.sinks.get", "logging.sinks.list", "logging.views.get", "logging.views.list")),
    Role("roles/logging.configWriter", "Logs Configuration Writer", "Create, update and delete logs configurations.",
         (*_crud("logging.sinks", "create", "delete", "get", "list", "update"),
          *_crud("logging.logMetrics", "create", "delete", "get", "list", "update"),
          *_crud("logging.exclusions", "create", "delete", "get", "list", "update"), "logging.logs.list")),
    Role("roles/logging.admin", "Logging Admin", "Access to all logging permissions.",
         grants_all=lambda p: p.startswith("logging.")),
    # Eventarc and Pub/Sub
    Role("roles/eventarc.eventReceiver", "Eventarc Event Receiver", "Can receive events from all event providers.",
         ("eventarc.events.receiveAuditLogWritten", "eventarc.events.receiveEvent")),
    Role("roles/eventarc.viewer", "Eventarc Viewer", "Can view the state of all Eventarc resources.",
         _crud("eventarc.triggers", "get", "list") + _crud("eventarc.operations", "get", "list")
         + ("eventarc.locations.get", "eventarc.locations.list")),
    Role("roles/eventarc.admin", "Eventarc Admin", "Full control over all Eventarc resources.",
         _crud("eventarc.triggers", "create", "delete", "get", "list", "update", "getIamPolicy", "setIamPolicy")
         + _crud("eventarc.operations", "cancel", "delete", "get", "list")
         + ("eventarc.locations.get", "eventarc.locations.list")),
    Role("roles/pubsub.publisher", "Pub/Sub Publisher", "Publish messages to a topic.", ("pubsub.topics.publish",)),
    # IAM and Resource Manager
    Role("roles/iam.serviceAccountUser", "Service Account User", "Run operations as the service account.",
         ("iam.serviceAccounts.actAs", "iam.serviceAccounts.get", "iam.serviceAccounts.list",
          "resourcemanager.projects.get", "resourcemanager.projects.list"),
         source="the brief and infra/iam.tf (iam.serviceAccounts.actAs); the rest inferred"),
    Role("roles/iam.serviceAccountTokenCreator", "Service Account Token Creator", "Impersonate service accounts.",
         _crud("iam.serviceAccounts", "getAccessToken", "getOpenIdToken", "implicitDelegation", "signBlob", "signJwt",
               "get", "list")),
    Role("roles/iam.serviceAccountAdmin", "Service Account Admin", "Create and manage service accounts.",
         _all(_crud("iam.serviceAccounts", "create", "delete", "disable", "enable", "get", "getIamPolicy", "list",
                    "setIamPolicy", "undelete", "update"), "resourcemanager.projects.get")),
    Role("roles/iam.roleAdmin", "Role Administrator", "Access to all custom roles in the project.",
         _all(_crud("iam.roles", "create", "delete", "get", "list", "undelete", "update"),
              "resourcemanager.projects.get", "resourcemanager.projects.getIamPolicy")),
    Role("roles/iam.roleViewer", "Role Viewer", "Read access to all custom roles in the project.",
         _crud("iam.roles", "get", "list")),
    Role("roles/resourcemanager.projectIamAdmin", "Project IAM Admin", "Administer IAM policies on projects.",
         _crud("resourcemanager.projects", "get", "getIamPolicy", "setIamPolicy")),
    Role("roles/resourcemanager.folderViewer", "Folder Viewer", "View a folder and list its contents.",
         ("resourcemanager.folders.get", "resourcemanager.folders.list", "resourcemanager.projects.get",
          "resourcemanager.projects.list")),
    Role("roles/resourcemanager.folderAdmin", "Folder Admin", "All available permissions for working with folders.",
         _crud("resourcemanager.folders", "create", "delete", "get", "getIamPolicy", "list", "move", "setIamPolicy",
               "undelete", "update")
         + _crud("resourcemanager.projects", "get", "getIamPolicy", "list", "setIamPolicy")),
    Role("roles/resourcemanager.folderIamAdmin", "Folder IAM Admin", "Administer IAM policies on folders.",
         _crud("resourcemanager.folders", "get", "getIamPolicy", "setIamPolicy")),
    Role("roles/resourcemanager.projectCreator", "Project Creator", "Create new projects.",
         ("resourcemanager.organizations.get", "resourcemanager.projects.create")),
    Role("roles/resourcemanager.organizationViewer", "Organization Viewer", "View an organization.",
         ("resourcemanager.organizations.get",)),
    Role("roles/resourcemanager.organizationAdmin", "Organization Administrator",
         "Administer the organization's hierarchy and IAM policies.",
         _crud("resourcemanager.organizations", "get", "getIamPolicy", "setIamPolicy")
         + _crud("resourcemanager.folders", "get", "getIamPolicy", "list", "setIamPolicy")
         + _crud("resourcemanager.projects", "get", "getIamPolicy", "list", "setIamPolicy")),
    # APIs the emulator does not serve, named by infra/README.md: their best-known permissions only.
    Role("roles/cloudfunctions.admin", "Cloud Functions Admin", "Full access to functions and operations.",
         _crud("cloudfunctions.functions", "create", "delete", "get", "getIamPolicy", "list", "setIamPolicy", "update")
         + _crud("cloudfunctions.operations", "get", "list")),
    Role("roles/artifactregistry.writer", "Artifact Registry Writer", "Read and write repository items.",
         _crud("artifactregistry.repositories", "downloadArtifacts", "get", "list", "uploadArtifacts")),
    Role("roles/storage.objectViewer", "Storage Object Viewer", "Read objects and their metadata.",
         _crud("storage.objects", "get", "list")),
    Role("roles/storage.legacyObjectReader", "Storage Legacy Object Reader", "Read objects.", ("storage.objects.get",)),
    Role("roles/storage.admin", "Storage Admin", "Full control of buckets and objects.",
         grants_all=lambda p: p.startswith("storage.")),
    Role("roles/cloudscheduler.admin", "Cloud Scheduler Admin", "Full access to Cloud Scheduler jobs.",
         grants_all=lambda p: p.startswith("cloudscheduler.")),
    Role("roles/monitoring.alertPolicyEditor", "Monitoring AlertPolicy Editor", "Read and write alerting policies.",
         _crud("monitoring.alertPolicies", "create", "delete", "get", "list", "update")),
    Role("roles/serviceusage.serviceUsageAdmin", "Service Usage Admin", "Enable, disable and inspect services.",
         _all(_crud("serviceusage.services", "disable", "enable", "get", "list", "use"),
              "serviceusage.operations.get", "serviceusage.operations.list")),
    Role("roles/orgpolicy.policyAdmin", "Organization Policy Administrator", "Define organization policies.",
         _all(_crud("orgpolicy.policies", "create", "delete", "list", "update"), "orgpolicy.constraints.list")),
)  # fmt: skip

PREDEFINED: dict[str, Role] = {role.name: role for role in _DEFINITIONS}


def predefined(name: str) -> Role | None:
    return PREDEFINED.get(name)
