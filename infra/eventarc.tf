# Audit-log triggers (a single-project installation): one per (CloudEvent function, methodName), in the `global`
# location so that services in every region are seen (docs/google-apis.md §2.3): enforce_ingress gets
# local.ingress_methods (4), sync_routes local.route_methods (8). They see project_id only; organization mode (org.tf)
# replaces them with a sink, a topic and one Pub/Sub trigger per function.
#
# Retries. A function created through the Cloud Functions v2 API with an event_trigger block gets a trigger whose
# retry policy defaults to "do not retry", and event_trigger takes a single set of filters, so eight methodNames would
# mean eight functions per job. Instead each function is deployed without event_trigger and these separate
# google_eventarc_trigger resources point at its Cloud Run service: such triggers keep Eventarc's default delivery,
# retried with exponential backoff for up to 24 hours. That is what docs/design.md §6 relies on: `api_error` returns non-2xx
# so the event is redelivered, while `event_invalid` is acknowledged.
resource "google_eventarc_trigger" "audit" {
  # Organization mode reads the organization's or folder's entries from a Pub/Sub topic instead (org.tf).
  for_each = local.org_mode ? {} : local.triggers

  name            = each.value.name
  location        = "global"
  service_account = google_service_account.trigger.email

  matching_criteria {
    attribute = "type"
    value     = local.audit_event_type
  }
  matching_criteria {
    attribute = "serviceName"
    value     = local.audit_service_name
  }
  matching_criteria {
    attribute = "methodName"
    value     = each.value.method
  }

  destination {
    cloud_run_service {
      # A gen2 function's Cloud Run service has the function's name.
      service = google_cloudfunctions2_function.fn[each.value.function].name
      region  = var.region
    }
  }

  depends_on = [
    google_project_iam_member.trigger_event_receiver,
    google_cloud_run_v2_service_iam_member.trigger_invoker,
  ]
}
