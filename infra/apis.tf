# The APIs runway and this configuration call. disable_on_destroy = false: other workloads in the project may use
# them, so `terraform destroy` leaves them on.
locals {
  apis = toset(concat([
    "artifactregistry.googleapis.com", # function images
    "cloudbuild.googleapis.com",       # function builds
    "cloudfunctions.googleapis.com",
    "cloudresourcemanager.googleapis.com", # RUNWAY_SCOPE: a project's id and ancestry, the projects below a scope
    "cloudscheduler.googleapis.com",
    "compute.googleapis.com", # load balancer, serverless NEGs, Cloud Armor
    "eventarc.googleapis.com",
    "iam.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "pubsub.googleapis.com", # Eventarc's transport; organization mode's topic
    "run.googleapis.com",
    "storage.googleapis.com",
  ], var.enable_org_policy ? ["orgpolicy.googleapis.com"] : []))
}

resource "google_project_service" "api" {
  for_each = local.apis

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}
