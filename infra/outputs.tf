output "lb_ip_address" {
  description = "IP address of the shared load balancer; the DNS A records of var.domains must point here."
  value       = google_compute_global_address.lb.address
}

output "url_map" {
  description = "Name of the shared URL map (RUNWAY_URL_MAP)."
  value       = google_compute_url_map.https.name
}

output "security_policy" {
  description = "Name of the Cloud Armor policy runway attaches to its backend services (RUNWAY_SECURITY_POLICY)."
  value       = google_compute_security_policy.edge.name
}

output "service_project_security_policies" {
  description = "The copies of the Cloud Armor policy in var.service_projects, by project (organization mode)."
  value       = { for p, policy in google_compute_security_policy.service_project : p => policy.id }
}

output "run_audit_topic" {
  description = "Organization mode: the topic the aggregated sink feeds and the Pub/Sub triggers read (null otherwise)."
  value       = one(google_pubsub_topic.run_audit[*].id)
}

output "sink_writer_identity" {
  description = "Organization mode: the aggregated sink's writer identity, publisher on the topic (null otherwise)."
  value       = local.sink_writer_identity
}

output "function_names" {
  description = "The three functions, by entry point."
  value       = { for k, f in google_cloudfunctions2_function.fn : k => f.name }
}

output "function_uris" {
  description = "The functions' run.app URLs (internal ingress only), by entry point."
  value       = { for k, f in google_cloudfunctions2_function.fn : k => f.service_config[0].uri }
}

output "service_accounts" {
  description = "Emails of the identities this configuration creates."
  value = {
    enforce_ingress = google_service_account.enforce_ingress.email
    sync_routes     = google_service_account.sync_routes.email
    reconcile_all   = google_service_account.reconcile_all.email
    build           = google_service_account.build.email
    trigger         = google_service_account.trigger.email
    scheduler       = google_service_account.scheduler.email
  }
}

output "log_metrics" {
  description = "Log-based metrics on the decision log (counters and URL-map budget distributions), by short name (metric type logging.googleapis.com/user/NAME)."
  value = merge(
    { for k, m in google_logging_metric.decision : k => m.name },
    { for k, m in google_logging_metric.url_map_budget : "url_map_${k}" => m.name },
    { budget_fraction = google_logging_metric.budget_fraction.name },
  )
}

output "alert_policy" {
  description = "The alert policy on runway's own failures (ERROR decisions: api_error, event_invalid)."
  value       = google_monitoring_alert_policy.errors.name
}
