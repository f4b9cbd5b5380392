# Optional guardrail (var.enable_org_policy, default off): the run.allowedIngress list constraint on this project,
# so Cloud Run refuses any service whose ingress is `all`. runway then only has INTERNAL_ONLY services to widen to
# the load-balancer setting, and ingress=all cannot come back between two sweeps.
#
# What it breaks: every create or update that asks for ingress=all fails (gcloud run deploy without --ingress on a
# new service, console defaults, other teams' Terraform), including updates to a service that is still `all`, until
# its ingress is changed in the same request. Applying it needs orgpolicy.policies.* rights (roles/orgpolicy.policyAdmin
# on the organization). Roll back by setting enable_org_policy = false and applying.
resource "google_org_policy_policy" "run_allowed_ingress" {
  count = var.enable_org_policy ? 1 : 0

  name   = "projects/${var.project_id}/policies/run.allowedIngress"
  parent = "projects/${var.project_id}"

  spec {
    rules {
      values {
        allowed_values = ["internal", "internal-and-cloud-load-balancing"]
      }
    }
  }

  depends_on = [google_project_service.api]
}
