# Identities and least privilege. One service account per function, plus one each for the builds, the Eventarc
# triggers and the Cloud Scheduler job. Every account is bound only to its custom role(s) and to what it needs to run;
# tests/unit/test_infra.py enumerates every *_iam_member and checks that. The call -> permission table is in README.md.

resource "google_service_account" "enforce_ingress" {
  account_id   = "${var.name_prefix}-enforce"
  display_name = "runway enforce_ingress"
  description  = "Runtime identity of the enforce_ingress function: reads services and narrows their ingress."
}

resource "google_service_account" "sync_routes" {
  account_id   = "${var.name_prefix}-sync"
  display_name = "runway sync_routes"
  description  = "Runtime identity of the sync_routes function: manages runway's NEGs, backend services and URL-map rules; writes route status."
}

resource "google_service_account" "reconcile_all" {
  account_id   = "${var.name_prefix}-reconcile"
  display_name = "runway reconcile_all"
  description  = "Runtime identity of the reconcile_all function: both jobs for every service, plus garbage collection."
}

resource "google_service_account" "build" {
  account_id   = "${var.name_prefix}-build"
  display_name = "runway function builds"
  description  = "Cloud Build identity that builds the three functions' images from the source archive."
}

resource "google_service_account" "trigger" {
  account_id   = "${var.name_prefix}-trigger"
  display_name = "runway Eventarc triggers"
  description  = "Identity Eventarc uses to receive the audit-log events and to invoke enforce_ingress and sync_routes."
}

resource "google_service_account" "scheduler" {
  account_id   = "${var.name_prefix}-scheduler"
  display_name = "runway reconcile schedule"
  description  = "Identity of the Cloud Scheduler job; its only right is invoking reconcile_all."
}

# --- Custom roles: exactly shared.permissions.FUNCTIONS[function] minus iam.serviceAccounts.actAs, which is the act_as
# role below (README "Permissions, call by call"; tests/unit/test_infra.py compares each role with that table). ---

resource "google_project_iam_custom_role" "enforce_ingress" {
  role_id     = "${replace(var.name_prefix, "-", "_")}_enforce_ingress"
  title       = "runway enforce_ingress"
  description = "Read a Cloud Run service and update its ingress."
  permissions = [
    "resourcemanager.projects.get", # an event naming its project by number: the id, for RUNWAY_SCOPE
    "run.services.get",             # re-read the service named by the event
    "run.services.update",          # v2 UpdateService (update mask: ingress) with the etag just read
  ]
}

resource "google_project_iam_custom_role" "sync_routes" {
  role_id     = "${replace(var.name_prefix, "-", "_")}_sync_routes"
  title       = "runway sync_routes"
  description = "Read a Cloud Run service and write its route status; manage runway's serverless NEGs, backend services and URL-map rules."
  permissions = [
    "compute.backendBuckets.use",                 # urlMaps.patch/update: the map's default (Terraform's backend bucket), copied into every runway path matcher
    "compute.backendServices.create",             # backendServices.insert
    "compute.backendServices.delete",             # backendServices.delete
    "compute.backendServices.get",                # backendServices.get: its own backend by name; a create met one, is it ours?
    "compute.backendServices.setSecurityPolicy",  # backendServices.setSecurityPolicy (RUNWAY_SECURITY_POLICY)
    "compute.backendServices.update",             # backendServices.patch (regions' NEGs added/removed)
    "compute.backendServices.use",                # urlMaps.patch/update: path rules that point at runway's backend services
    "compute.globalOperations.get",               # wait for backend-service and URL-map operations
    "compute.regionNetworkEndpointGroups.create", # regionNetworkEndpointGroups.insert
    "compute.regionNetworkEndpointGroups.delete", # regionNetworkEndpointGroups.delete
    "compute.regionNetworkEndpointGroups.get",    # regionNetworkEndpointGroups.get
    "compute.regionNetworkEndpointGroups.use",    # backendServices.insert/patch: a backend that is a NEG
    "compute.regionOperations.get",               # wait for NEG operations
    "compute.securityPolicies.get",               # securityPolicies.get: only to name a missing RUNWAY_SECURITY_POLICY
    "compute.securityPolicies.use",               # backendServices.setSecurityPolicy: attach the Cloud Armor policy
    "compute.urlMaps.get",                        # urlMaps.get (rules and fingerprint)
    "compute.urlMaps.update",                     # urlMaps.patch (PUT only to empty a list), fingerprint just read
    "compute.urlMaps.validate",                   # urlMaps.validate: Google checks each candidate map before the write
    "resourcemanager.projects.get",               # an event naming its project by number: the id, for RUNWAY_SCOPE
    "run.services.get",                           # re-read the service named by the event (labels, annotation)
    "run.services.getIamPolicy",                  # is the published service reachable (allUsers may invoke it)?
    "run.services.update",                        # v2 UpdateService (update mask: labels, annotations): the route status
  ]
}

resource "google_project_iam_custom_role" "reconcile_all" {
  role_id     = "${replace(var.name_prefix, "-", "_")}_reconcile_all"
  title       = "runway reconcile_all"
  description = "Both functions' permissions, plus listing services, backend services and NEGs for the sweep and GC."
  permissions = [
    "compute.backendBuckets.use",
    "compute.backendServices.create",
    "compute.backendServices.delete",
    "compute.backendServices.get",
    "compute.backendServices.list", # markers of every backend service: who holds a path; garbage collection
    "compute.backendServices.setSecurityPolicy",
    "compute.backendServices.update",
    "compute.backendServices.use",
    "compute.globalOperations.get",
    "compute.regionNetworkEndpointGroups.create",
    "compute.regionNetworkEndpointGroups.delete",
    "compute.regionNetworkEndpointGroups.get",
    "compute.regionNetworkEndpointGroups.list", # garbage collection: find runway's NEGs in each region
    "compute.regionNetworkEndpointGroups.use",
    "compute.regionOperations.get",
    "compute.securityPolicies.get",
    "compute.securityPolicies.use",
    "compute.urlMaps.get",
    "compute.urlMaps.update",
    "compute.urlMaps.validate",
    "run.services.get",
    "run.services.getIamPolicy",
    "run.services.list", # the sweep: every service in every swept region
    "run.services.update",
  ]
}

# Updating a Cloud Run service is authorized against its runtime service account too: the caller must be able to act
# as it (iam.serviceAccounts.actAs), as for any deploy. All three functions update services (enforce_ingress the
# ingress, sync_routes the route status, reconcile_all both), on services not known in advance, so by default this
# role is bound project-wide; set var.act_as_service_accounts to bind it on those accounts only.
resource "google_project_iam_custom_role" "act_as" {
  role_id     = "${replace(var.name_prefix, "-", "_")}_act_as"
  title       = "runway act as service runtime identities"
  description = "Act as the runtime service accounts of the Cloud Run services runway updates."
  permissions = ["iam.serviceAccounts.actAs"]
}

# --- Bindings ---

resource "google_project_iam_member" "enforce_ingress" {
  project = var.project_id
  role    = google_project_iam_custom_role.enforce_ingress.id
  member  = "serviceAccount:${google_service_account.enforce_ingress.email}"
}

resource "google_project_iam_member" "sync_routes" {
  project = var.project_id
  role    = google_project_iam_custom_role.sync_routes.id
  member  = "serviceAccount:${google_service_account.sync_routes.email}"
}

resource "google_project_iam_member" "reconcile_all" {
  project = var.project_id
  role    = google_project_iam_custom_role.reconcile_all.id
  member  = "serviceAccount:${google_service_account.reconcile_all.email}"
}

locals {
  # The functions that update services, hence act as their runtime identities: all three.
  act_as_principals = {
    enforce_ingress = google_service_account.enforce_ingress.email
    sync_routes     = google_service_account.sync_routes.email
    reconcile_all   = google_service_account.reconcile_all.email
  }
}

resource "google_project_iam_member" "act_as" {
  for_each = length(var.act_as_service_accounts) == 0 ? local.act_as_principals : {}

  project = var.project_id
  role    = google_project_iam_custom_role.act_as.id
  member  = "serviceAccount:${each.value}"
}

resource "google_service_account_iam_member" "act_as" {
  for_each = {
    for pair in setproduct(keys(local.act_as_principals), var.act_as_service_accounts) :
    "${pair[0]}/${pair[1]}" => { principal = local.act_as_principals[pair[0]], target = pair[1] }
  }

  # `-`: the account's own project, whichever it is (organization mode governs services of other projects).
  service_account_id = "projects/-/serviceAccounts/${each.value.target}"
  role               = google_project_iam_custom_role.act_as.id
  member             = "serviceAccount:${each.value.principal}"
}

# What every function needs to run: write its logs (the decision log).
resource "google_project_iam_member" "log_writer" {
  for_each = {
    enforce_ingress = google_service_account.enforce_ingress.email
    sync_routes     = google_service_account.sync_routes.email
    reconcile_all   = google_service_account.reconcile_all.email
    build           = google_service_account.build.email
  }

  project = var.project_id
  role    = "roles/logging.logWriter"
  member  = "serviceAccount:${each.value}"
}

# Builds: push the image to the gcf-artifacts repository (which Cloud Functions creates, hence project level) and read
# the source archive (bucket level).
resource "google_project_iam_member" "build_artifacts" {
  project = var.project_id
  role    = "roles/artifactregistry.writer"
  member  = "serviceAccount:${google_service_account.build.email}"
}

resource "google_storage_bucket_iam_member" "build_source" {
  bucket = google_storage_bucket.source.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.build.email}"
}

# Eventarc: the trigger identity receives events (project level, the only scope the role has) and may invoke the two
# CloudEvent functions' Cloud Run services, nothing else.
resource "google_project_iam_member" "trigger_event_receiver" {
  project = var.project_id
  role    = "roles/eventarc.eventReceiver"
  member  = "serviceAccount:${google_service_account.trigger.email}"
}

resource "google_cloud_run_v2_service_iam_member" "trigger_invoker" {
  for_each = toset(local.event_functions)

  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.fn[each.key].name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.trigger.email}"
}

# Cloud Scheduler: only the scheduler identity may invoke reconcile_all.
resource "google_cloud_run_v2_service_iam_member" "scheduler_invoker" {
  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.fn["reconcile_all"].name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.scheduler.email}"
}
