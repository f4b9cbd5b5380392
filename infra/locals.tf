locals {
  # The audit-log methodNames the CloudEvent functions are triggered by: one Eventarc trigger per (function, method),
  # since a trigger's filters are ANDed and cannot OR two methodNames (docs/google-apis.md §2.3). Must equal
  # shared.methods.HANDLED_METHODS (tests/test_infra.py checks): gcloud and the console call the v1 API, Terraform and
  # the client libraries call v2.
  audit_methods = [
    "google.cloud.run.v1.Services.CreateService",
    "google.cloud.run.v1.Services.ReplaceService",
    "google.cloud.run.v1.Services.DeleteService",
    "google.cloud.run.v2.Services.CreateService",
    "google.cloud.run.v2.Services.UpdateService",
    "google.cloud.run.v2.Services.DeleteService",
  ]
  audit_service_name = "run.googleapis.com"                # shared.methods.SERVICE_NAME
  audit_event_type   = "google.cloud.audit.log.v1.written" # shared.methods.EVENT_TYPE

  # The three functions, keyed by their entry point in main.py (which is also the Python function's name).
  functions = {
    enforce_ingress = {
      short       = "enforce"
      description = "runway: keeps Cloud Run services' ingress at internal-and-cloud-load-balancing (audit-log events)."
      sa_email    = google_service_account.enforce_ingress.email
      memory      = "256M"
      timeout     = 60
      max         = 10
    }
    sync_routes = {
      short       = "sync"
      description = "runway: keeps the shared load balancer's routes in step with public-route labels (audit-log events)."
      sa_email    = google_service_account.sync_routes.email
      memory      = "512M"
      timeout     = 300
      # Few instances: concurrent URL-map writers only collide on the fingerprint (412) and retry.
      max = 3
    }
    reconcile_all = {
      short       = "reconcile"
      description = "runway: scheduled sweep of every service in RUNWAY_REGIONS; repairs drift and collects orphans."
      sa_email    = google_service_account.reconcile_all.email
      memory      = "512M"
      timeout     = 540
      max         = 1
    }
  }
  event_functions = ["enforce_ingress", "sync_routes"]

  # (function, method) -> trigger. Names stay short: <prefix>-<function>-<v1|v2>-<verb>.
  triggers = {
    for pair in setproduct(local.event_functions, local.audit_methods) :
    "${pair[0]}/${pair[1]}" => {
      function = pair[0]
      method   = pair[1]
      name     = "${var.name_prefix}-${local.functions[pair[0]].short}-${split(".", pair[1])[3]}-${lower(split(".", pair[1])[5])}"
    }
  }

  regions = length(var.regions) > 0 ? var.regions : [var.region]

  # runway's configuration (docs/design.md §5), the same for the three functions. RUNWAY_API_ENDPOINT is for the emulator
  # only and is never set here.
  runway_env = {
    RUNWAY_URL_MAP         = google_compute_url_map.https.name
    RUNWAY_PROJECT         = var.project_id
    RUNWAY_HOSTS           = var.hosts_json
    RUNWAY_SECURITY_POLICY = google_compute_security_policy.edge.name
    RUNWAY_EXEMPT          = join(",", var.exempt)
    RUNWAY_OWNER_ID        = var.owner_id
    RUNWAY_REGIONS         = join(",", local.regions)
    RUNWAY_DRY_RUN         = tostring(var.dry_run)
    # The functions' own project, for trace ids in the decision log (gen2 functions do not set it themselves).
    GOOGLE_CLOUD_PROJECT = var.project_id
  }
}
