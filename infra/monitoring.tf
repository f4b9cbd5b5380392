# Log-based metrics on runway's decision log (docs/design.md §6): one JSON line per decision, with jsonPayload.component
# "runway" and jsonPayload.action. Each metric counts entries, labeled by action and service.
locals {
  decision_filter = "resource.type=\"cloud_run_revision\" AND jsonPayload.component=\"runway\""

  decision_metrics = {
    ingress_remediations = {
      description = "Cloud Run services whose ingress runway narrowed (action ingress_remediated)."
      filter      = "${local.decision_filter} AND jsonPayload.action=\"ingress_remediated\""
    }
    routes_registered = {
      description = "Services runway published on the shared load balancer (action route_registered)."
      filter      = "${local.decision_filter} AND jsonPayload.action=\"route_registered\""
    }
    routes_removed = {
      description = "Services whose routes and resources runway removed (action route_removed)."
      filter      = "${local.decision_filter} AND jsonPayload.action=\"route_removed\""
    }
    route_conflicts = {
      description = "Routes runway refused because another holder serves the path (action route_conflict)."
      filter      = "${local.decision_filter} AND jsonPayload.action=\"route_conflict\""
    }
    errors = {
      description = "runway decisions at severity ERROR or above (route_conflict, route_invalid, event_invalid, api_error)."
      filter      = "${local.decision_filter} AND severity>=ERROR"
    }
  }
}

resource "google_logging_metric" "decision" {
  for_each = local.decision_metrics

  name        = "${var.name_prefix}/${each.key}"
  description = each.value.description
  filter      = each.value.filter

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "runway ${replace(each.key, "_", " ")}"

    labels {
      key         = "action"
      value_type  = "STRING"
      description = "The decision's action (docs/design.md §6)."
    }
    labels {
      key         = "service"
      value_type  = "STRING"
      description = "The Cloud Run service decided on: projects/P/locations/R/services/S."
    }
  }

  label_extractors = {
    action  = "EXTRACT(jsonPayload.action)"
    service = "EXTRACT(jsonPayload.service)"
  }

  depends_on = [google_project_service.api]
}

resource "google_monitoring_alert_policy" "errors" {
  display_name          = "runway: error decisions"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = var.notification_channels

  documentation {
    mime_type = "text/markdown"
    content   = <<-EOT
      runway logged error decisions. `api_error` means a cloud call failed and the event is being retried;
      `route_conflict` / `route_invalid` name a service whose labels need fixing; `event_invalid` is an event runway
      could not parse. Query: `jsonPayload.component="runway" AND severity>=ERROR` in Logs Explorer.
    EOT
  }

  conditions {
    display_name = "More than ${var.error_alert_threshold} error decisions in 5 minutes"

    condition_threshold {
      filter          = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.decision["errors"].name}\" AND resource.type=\"cloud_run_revision\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.error_alert_threshold
      duration        = "0s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.action"]
      }

      trigger {
        count = 1
      }
    }
  }

  alert_strategy {
    auto_close = "3600s"
  }
}
