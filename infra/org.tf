# Organization mode (README "Organization mode"): var.scope is one organizations/N or folders/N (RUNWAY_SCOPE).
#
# Audit-log triggers see their own project only (docs/google-apis.md §9.5), so instead of them (eventarc.tf makes
# none in this mode): an aggregated log sink on the organization or folder routes the Cloud Run Admin Activity
# entries of every project below it to a Pub/Sub topic in project_id; the sink's writer identity may publish there;
# one Eventarc Pub/Sub trigger per event function reads the topic (the functions open that envelope as well as the
# audit-log one: shared/event_envelope.py). The functions' permissions are granted at the organization or folder,
# through organization-level custom roles: each project role's permissions (shared.permissions.FUNCTIONS) plus the
# Resource Manager reads of shared.permissions.SCOPE. The project-level roles and bindings (iam.tf) stay: the load
# balancer's project may lie outside a folder in scope. Nothing here exists in a single-project installation.

locals {
  org_scope    = length(var.scope) == 1 && can(regex("^organizations/", var.scope[0]))
  folder_scope = length(var.scope) == 1 && can(regex("^folders/", var.scope[0]))
  org_mode     = local.org_scope || local.folder_scope
  # Custom roles live in an organization (or a project): the scope's own, or var.organization_id above a folder.
  organization_id = local.org_scope ? trimprefix(var.scope[0], "organizations/") : var.organization_id

  pubsub_event_type = "google.cloud.pubsub.topic.v1.messagePublished" # shared.methods.PUBSUB_EVENT_TYPE
  # Every method some function is triggered by (shared.methods.HANDLED_METHODS); each function ignores the others.
  sink_methods = sort(distinct(concat(local.ingress_methods, local.route_methods)))
  sink_filter = join(" AND ", [
    "log_id(\"cloudaudit.googleapis.com/activity\")",
    "protoPayload.serviceName=\"${local.audit_service_name}\"",
    "protoPayload.methodName=(${join(" OR ", formatlist("\"%s\"", local.sink_methods))})",
  ])
  # The one sink there is, organization's or folder's.
  sink_writer_identity = one(concat(
    google_logging_organization_sink.run_audit[*].writer_identity,
    google_logging_folder_sink.run_audit[*].writer_identity,
  ))

  # Resource Manager at the scope (shared.permissions.SCOPE): an event's project and the folders above it, to check
  # it is in scope (shared/flow_scope.py); the sweep lists the projects and folders below the scope.
  scope_permissions = {
    enforce_ingress = ["resourcemanager.folders.get", "resourcemanager.projects.get"]
    sync_routes     = ["resourcemanager.folders.get", "resourcemanager.projects.get"]
    reconcile_all   = ["resourcemanager.folders.list", "resourcemanager.projects.list"]
  }
  # Organization-level custom roles: the project role's permissions plus the scope's. Among them
  # compute.backendServices.use, which lets the URL map in project_id route to backend services in the service
  # projects (cross-project service referencing; roles/compute.loadBalancerServiceUser is the predefined role that
  # holds it, docs/google-apis.md §9.4).
  org_roles = {
    enforce_ingress = sort(distinct(concat(google_project_iam_custom_role.enforce_ingress.permissions, local.scope_permissions.enforce_ingress)))
    sync_routes     = sort(distinct(concat(google_project_iam_custom_role.sync_routes.permissions, local.scope_permissions.sync_routes)))
    reconcile_all   = sort(distinct(concat(google_project_iam_custom_role.reconcile_all.permissions, local.scope_permissions.reconcile_all)))
    act_as          = google_project_iam_custom_role.act_as.permissions
  }
  function_accounts = { for name, fn in local.functions : name => fn.sa_email }
}

resource "google_pubsub_topic" "run_audit" {
  #checkov:skip=CKV_GCP_83:Carries Cloud Run audit entries (who changed which service), as the Google-encrypted log buckets they come from; no customer data to key separately.
  count = local.org_mode ? 1 : 0

  project = var.project_id
  name    = "${var.name_prefix}-run-audit"
  labels  = { managed-by = "runway" }

  depends_on = [google_project_service.api]
}

resource "google_logging_organization_sink" "run_audit" {
  count = local.org_scope ? 1 : 0

  name             = "${var.name_prefix}-run-audit"
  description      = "runway: Cloud Run Admin Activity entries of the organization's projects, to runway's Pub/Sub triggers."
  org_id           = local.organization_id
  include_children = true
  destination      = "pubsub.googleapis.com/${google_pubsub_topic.run_audit[0].id}"
  filter           = local.sink_filter
}

resource "google_logging_folder_sink" "run_audit" {
  count = local.folder_scope ? 1 : 0

  name             = "${var.name_prefix}-run-audit"
  description      = "runway: Cloud Run Admin Activity entries of the folder's projects, to runway's Pub/Sub triggers."
  folder           = var.scope[0]
  include_children = true
  destination      = "pubsub.googleapis.com/${google_pubsub_topic.run_audit[0].id}"
  filter           = local.sink_filter
}

# The sink publishes as its writer identity, a logging service agent of the organization or folder.
resource "google_pubsub_topic_iam_member" "sink_publisher" {
  count = local.org_mode ? 1 : 0

  project = var.project_id
  topic   = google_pubsub_topic.run_audit[0].name
  role    = "roles/pubsub.publisher"
  member  = local.sink_writer_identity
}

# One Pub/Sub trigger per event function, all on the one topic: each gets every handled method's entries. Pub/Sub
# triggers are regional (no `global`); their default delivery retries for 24 hours, as the audit-log triggers'.
resource "google_eventarc_trigger" "pubsub" {
  for_each = local.org_mode ? toset(local.event_functions) : toset([])

  name            = "${var.name_prefix}-${local.functions[each.key].short}-pubsub"
  location        = var.region
  service_account = google_service_account.trigger.email

  matching_criteria {
    attribute = "type"
    value     = local.pubsub_event_type
  }

  transport {
    pubsub {
      topic = google_pubsub_topic.run_audit[0].id
    }
  }

  destination {
    cloud_run_service {
      service = google_cloudfunctions2_function.fn[each.key].name
      region  = var.region
    }
  }

  depends_on = [google_cloud_run_v2_service_iam_member.trigger_invoker]
}

resource "google_organization_iam_custom_role" "fn" {
  for_each = local.org_mode ? local.org_roles : {}

  org_id      = local.organization_id
  role_id     = "${replace(var.name_prefix, "-", "_")}_${each.key}"
  title       = "runway ${each.key} (organization)"
  description = "runway's ${each.key} permissions in every project of RUNWAY_SCOPE, with Resource Manager reads at the scope."
  permissions = each.value

  lifecycle {
    precondition {
      condition     = local.organization_id != "" && (!local.org_scope || var.organization_id == "" || var.organization_id == local.organization_id)
      error_message = "Organization mode needs the organization of the custom roles: set organization_id for a folder scope (and, for an organization scope, leave it empty or equal to it)."
    }
  }
}

# --- Bindings at the scope: each function its own role, and act_as unless narrowed to accounts (iam.tf) ---

resource "google_organization_iam_member" "fn" {
  for_each = local.org_scope ? local.function_accounts : {}

  org_id = local.organization_id
  role   = google_organization_iam_custom_role.fn[each.key].id
  member = "serviceAccount:${each.value}"
}

resource "google_organization_iam_member" "act_as" {
  for_each = local.org_scope && length(var.act_as_service_accounts) == 0 ? local.act_as_principals : {}

  org_id = local.organization_id
  role   = google_organization_iam_custom_role.fn["act_as"].id
  member = "serviceAccount:${each.value}"
}

resource "google_folder_iam_member" "fn" {
  for_each = local.folder_scope ? local.function_accounts : {}

  folder = var.scope[0]
  role   = google_organization_iam_custom_role.fn[each.key].id
  member = "serviceAccount:${each.value}"
}

resource "google_folder_iam_member" "act_as" {
  for_each = local.folder_scope && length(var.act_as_service_accounts) == 0 ? local.act_as_principals : {}

  folder = var.scope[0]
  role   = google_organization_iam_custom_role.fn["act_as"].id
  member = "serviceAccount:${each.value}"
}
