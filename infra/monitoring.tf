# Log-based metrics on runway's decision log (docs/design.md §6): one JSON line per decision, with jsonPayload.component
# "runway", jsonPayload.action and the severity of shared.decision_log.ACTIONS. Severities say whose problem it is:
# ERROR is runway's own failure only (api_error, event_invalid) and is what the alert pages on; findings a developer
# fixes (route_conflict, route_invalid, route_unreachable) and budget_warning are WARNING.
locals {
  decision_filter = "resource.type=\"cloud_run_revision\" AND jsonPayload.component=\"runway\""

  # The labels a counter may carry. `service` only on per-service counters (its cardinality is the fleet's size).
  metric_labels = {
    action   = { extractor = "EXTRACT(jsonPayload.action)", description = "The decision's action (docs/design.md §6)." }
    function = { extractor = "EXTRACT(jsonPayload.function)", description = "The function that decided: enforce_ingress, sync_routes or reconcile_all." }
    service  = { extractor = "EXTRACT(jsonPayload.service)", description = "The Cloud Run service decided on: projects/P/locations/R/services/S." }
    budget   = { extractor = "EXTRACT(jsonPayload.budget)", description = "The URL-map budget (shared/plan_limits.py), e.g. bytes or predicates_per_path_matcher." }
  }

  # Counters. `decisions` counts every action (so a new one is counted the day it is logged); the others single out
  # what the platform team watches per service.
  decision_metrics = {
    decisions = {
      description = "Every runway decision, by action and function (every action of docs/design.md §6)."
      filter      = "${local.decision_filter} AND jsonPayload.action:*"
      labels      = ["action", "function"]
    }
    ingress_remediations = {
      description = "Cloud Run services whose ingress runway narrowed (action ingress_remediated)."
      filter      = "${local.decision_filter} AND jsonPayload.action=\"ingress_remediated\""
      labels      = ["action", "service"]
    }
    routes_registered = {
      description = "Services runway published on the shared load balancer (action route_registered)."
      filter      = "${local.decision_filter} AND jsonPayload.action=\"route_registered\""
      labels      = ["action", "service"]
    }
    routes_removed = {
      description = "Services whose routes and resources runway removed (action route_removed)."
      filter      = "${local.decision_filter} AND jsonPayload.action=\"route_removed\""
      labels      = ["action", "service"]
    }
    route_conflicts = {
      description = "Routes runway refused because another holder serves the path (action route_conflict, a WARNING finding)."
      filter      = "${local.decision_filter} AND jsonPayload.action=\"route_conflict\""
      labels      = ["action", "service"]
    }
    routes_invalid = {
      description = "Routes refused for an invalid label, alias or annotation, or a URL-map limit (action route_invalid, a WARNING finding)."
      filter      = "${local.decision_filter} AND jsonPayload.action=\"route_invalid\""
      labels      = ["action", "service"]
    }
    routes_unreachable = {
      description = "Published services nobody outside may invoke: the route exists but answers 403 (action route_unreachable, a WARNING finding)."
      filter      = "${local.decision_filter} AND jsonPayload.action=\"route_unreachable\""
      labels      = ["action", "service"]
    }
    budget_warnings = {
      description = "URL-map budgets above 80 % of Google's limit, logged once per sweep each (action budget_warning)."
      filter      = "${local.decision_filter} AND jsonPayload.action=\"budget_warning\""
      labels      = ["action", "budget"]
    }
    sweeps = {
      description = "Completed reconcile_all sweeps (action sweep_summary, one per sweep)."
      filter      = "${local.decision_filter} AND jsonPayload.action=\"sweep_summary\""
      labels      = ["action"]
    }
    errors = {
      description = "runway's own failures: decisions at severity ERROR or above (api_error, event_invalid). Findings are WARNING and not counted."
      filter      = "${local.decision_filter} AND severity>=ERROR"
      labels      = ["action", "service"]
    }
  }

  # The URL-map budgets of shared/plan_limits.py, each logged by every sweep_summary under
  # jsonPayload.budgets.<budget> as {used, limit, fraction, where}.
  url_map_budgets = [
    "backends_per_url_map",
    "bytes",
    "host_rules_and_path_matchers",
    "hosts_per_host_rule",
    "path_rules_per_path_matcher",
    "predicates_per_path_matcher",
    "tests_per_url_map",
  ]
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

    dynamic "labels" {
      for_each = each.value.labels
      content {
        key         = labels.value
        value_type  = "STRING"
        description = local.metric_labels[labels.value].description
      }
    }
  }

  label_extractors = { for label in each.value.labels : label => local.metric_labels[label].extractor }

  depends_on = [google_project_service.api]
}

# Gauge-like distributions of the fraction of a URL-map budget used (0 to 1, above 1 when exceeded), to chart with the
# max or a high-percentile aligner. Bucket bounds every 0.025 up to 1.2: the 80 % warning line and 100 % fall on them.
#
# One per budget, one sample per sweep: sweep_summary logs every budget as jsonPayload.budgets.<budget>.fraction.
resource "google_logging_metric" "url_map_budget" {
  for_each = toset(local.url_map_budgets)

  name            = "${var.name_prefix}/url_map_${each.key}"
  description     = "Fraction used of the URL-map budget ${each.key}, once per sweep (sweep_summary's jsonPayload.budgets.${each.key}.fraction)."
  filter          = "${local.decision_filter} AND jsonPayload.action=\"sweep_summary\""
  value_extractor = "EXTRACT(jsonPayload.budgets.${each.key}.fraction)"

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "DISTRIBUTION"
    unit         = "1"
    display_name = "runway URL map ${replace(each.key, "_", " ")}"
  }

  bucket_options {
    linear_buckets {
      num_finite_buckets = 48
      width              = 0.025
      offset             = 0
    }
  }

  depends_on = [google_project_service.api]
}

# One sample per budget_warning (a budget above 80 %), labeled with the budget: jsonPayload.fraction.
resource "google_logging_metric" "budget_fraction" {
  name            = "${var.name_prefix}/budget_fraction"
  description     = "Fraction used of a URL-map budget above the 80 % warning line (budget_warning's jsonPayload.fraction), by budget."
  filter          = "${local.decision_filter} AND jsonPayload.action=\"budget_warning\""
  value_extractor = "EXTRACT(jsonPayload.fraction)"

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "DISTRIBUTION"
    unit         = "1"
    display_name = "runway URL-map budget fraction (warnings)"

    labels {
      key         = "budget"
      value_type  = "STRING"
      description = local.metric_labels.budget.description
    }
  }

  label_extractors = {
    budget = local.metric_labels.budget.extractor
  }

  bucket_options {
    linear_buckets {
      num_finite_buckets = 48
      width              = 0.025
      offset             = 0
    }
  }

  depends_on = [google_project_service.api]
}

# Pages on runway's own failures only: the errors metric counts severity ERROR and above, which shared.decision_log
# gives to api_error and event_invalid alone (tests/unit/test_infra.py checks it). Findings (WARNING) never page.
resource "google_monitoring_alert_policy" "errors" {
  display_name          = "runway: its own failures (api_error, event_invalid)"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = var.notification_channels

  documentation {
    mime_type = "text/markdown"
    content   = <<-EOT
      runway logged decisions at severity ERROR: its own failures, not developers' findings. `api_error` means a cloud
      call failed (or the configuration is bad: see `variables`); a temporary one is retried, by Eventarc for an event
      (up to 24 hours) and by the next sweep for reconcile_all. `event_invalid` is an event runway could not parse
      (acknowledged, not retried). Findings (`route_conflict`, `route_invalid`, `route_unreachable`, `budget_warning`)
      are WARNING and do not page. Query: `jsonPayload.component="runway" AND severity>=ERROR` in Logs Explorer.
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
