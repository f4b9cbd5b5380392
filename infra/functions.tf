# The three functions (Cloud Run functions, gen2, Python 3.11). None has an event_trigger: the CloudEvent ones are
# invoked by the separate Eventarc triggers in eventarc.tf (see there why), so main.py must register them with
# @functions_framework.cloud_event (the decorator sets the signature type; tests/unit/test_infra.py checks it).
resource "google_cloudfunctions2_function" "fn" {
  for_each = local.functions

  name        = "${var.name_prefix}-${replace(each.key, "_", "-")}"
  location    = var.region
  description = each.value.description

  build_config {
    runtime         = "python311"
    entry_point     = each.key
    service_account = google_service_account.build.id

    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    service_account_email = each.value.sa_email
    # Sizing (variables.tf, README "Sizing"): requests in flight per function = max_instance_count x
    # max_instance_request_concurrency; beyond that Cloud Run answers 429 and Eventarc redelivers with backoff.
    # More than one concurrent request per instance needs at least 1 vCPU (validated in variables.tf).
    available_cpu                    = each.value.sizing.cpu
    available_memory                 = each.value.sizing.memory
    max_instance_request_concurrency = each.value.sizing.concurrency
    max_instance_count               = each.value.sizing.max_instances
    min_instance_count               = 0
    timeout_seconds                  = each.value.sizing.timeout_seconds
    all_traffic_on_latest_revision   = true
    # Internal only: Eventarc and Cloud Scheduler (same project, run.app URL) count as internal callers.
    ingress_settings = "ALLOW_INTERNAL_ONLY"
    # runway's configuration plus WORKERS=1 and THREADS=concurrency for functions-framework's gunicorn (locals.tf).
    environment_variables = local.function_env[each.key]
  }

  depends_on = [
    google_project_service.api,
    google_project_iam_member.log_writer,
    google_project_iam_member.build_artifacts,
    google_storage_bucket_iam_member.build_source,
  ]
}

# reconcile_all: HTTP, invoked by Cloud Scheduler with an OIDC token of the scheduler identity, at the run.app URL
# (Cloud Scheduler requests to a run.app URL in the same project are internal, so ALLOW_INTERNAL_ONLY holds).
resource "google_cloud_scheduler_job" "reconcile_all" {
  name             = "${var.name_prefix}-reconcile-all"
  description      = "Invokes runway's reconcile_all sweep."
  region           = var.region
  schedule         = var.reconcile_schedule
  time_zone        = "Etc/UTC"
  # Cloud Scheduler waits at most 30 minutes for an HTTP target. A sweep that outlives the deadline goes on (it is
  # killed only at its own timeout, and loses nothing then); the retry below meets it still running and gets a 429,
  # since reconcile_all serves one request at a time.
  attempt_deadline = "${min(local.functions.reconcile_all.sizing.timeout_seconds + 60, 1800)}s"

  retry_config {
    retry_count          = 1
    min_backoff_duration = "60s"
  }

  http_target {
    http_method = "POST"
    uri         = google_cloudfunctions2_function.fn["reconcile_all"].service_config[0].uri

    oidc_token {
      service_account_email = google_service_account.scheduler.email
      audience              = google_cloudfunctions2_function.fn["reconcile_all"].service_config[0].uri
    }
  }

  depends_on = [google_cloud_run_v2_service_iam_member.scheduler_invoker]
}
