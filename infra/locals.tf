locals {
  # The audit-log methodNames each CloudEvent function is triggered by: one Eventarc trigger per (function, method),
  # since a trigger's filters are ANDed and cannot OR two methodNames (docs/google-apis.md §2.3). gcloud and the console
  # call the v1 API, Terraform and the client libraries call v2. tests/unit/test_infra.py holds these lists to
  # shared.methods.INGRESS_METHODS and ROUTE_METHODS.
  #
  # enforce_ingress: the writes that can open a service (create, replace/update). A delete cannot, so it is not sent.
  ingress_methods = [
    "google.cloud.run.v1.Services.CreateService",
    "google.cloud.run.v1.Services.ReplaceService",
    "google.cloud.run.v2.Services.CreateService",
    "google.cloud.run.v2.Services.UpdateService",
  ]
  # sync_routes: those, both deletes (the route goes) and SetIamPolicy (who may invoke the service decides whether a
  # published service is reachable, which its route status reports).
  route_methods = [
    "google.cloud.run.v1.Services.CreateService",
    "google.cloud.run.v1.Services.ReplaceService",
    "google.cloud.run.v1.Services.DeleteService",
    "google.cloud.run.v1.Services.SetIamPolicy",
    "google.cloud.run.v2.Services.CreateService",
    "google.cloud.run.v2.Services.UpdateService",
    "google.cloud.run.v2.Services.DeleteService",
    "google.cloud.run.v2.Services.SetIamPolicy",
  ]
  trigger_methods = {
    enforce_ingress = local.ingress_methods
    sync_routes     = local.route_methods
  }
  audit_service_name = "run.googleapis.com"                # shared.methods.SERVICE_NAME
  audit_event_type   = "google.cloud.audit.log.v1.written" # shared.methods.EVENT_TYPE

  # The three functions, keyed by their entry point in main.py (which is also the Python function's name). Sizing
  # (instances, concurrent requests per instance, CPU, memory, timeout) comes from var.*_sizing: see variables.tf and
  # README.md, "Sizing", for the reasoning.
  functions = {
    enforce_ingress = {
      short       = "enforce"
      description = "runway: keeps Cloud Run services' ingress at internal-and-cloud-load-balancing (audit-log events)."
      sa_email    = google_service_account.enforce_ingress.email
      sizing      = var.enforce_ingress_sizing
    }
    sync_routes = {
      short       = "sync"
      description = "runway: keeps the shared load balancer's routes in step with public-route labels (audit-log events)."
      sa_email    = google_service_account.sync_routes.email
      sizing      = var.sync_routes_sizing
    }
    reconcile_all = {
      short       = "reconcile"
      description = "runway: scheduled sweep of every service in scope; repairs drift and collects orphans."
      sa_email    = google_service_account.reconcile_all.email
      sizing      = var.reconcile_all_sizing
    }
  }
  event_functions = ["enforce_ingress", "sync_routes"]

  # (function, method) -> trigger. Names stay short: <prefix>-<function>-<v1|v2>-<verb>.
  triggers = {
    for pair in flatten([
      for function, methods in local.trigger_methods : [for method in methods : { function = function, method = method }]
    ]) :
    "${pair.function}/${pair.method}" => {
      function = pair.function
      method   = pair.method
      name     = "${var.name_prefix}-${local.functions[pair.function].short}-${split(".", pair.method)[3]}-${lower(split(".", pair.method)[5])}"
    }
  }

  regions = length(var.regions) > 0 ? var.regions : [var.region]

  # runway's configuration (docs/design.md §5), the same for the three functions. The emulator-only variables (its
  # endpoint and the principal it impersonates) are never set here; tests/unit/test_infra.py checks it.
  runway_env = {
    RUNWAY_URL_MAP           = google_compute_url_map.https.name
    RUNWAY_PROJECT           = var.project_id
    RUNWAY_HOSTS             = var.hosts_json
    RUNWAY_SECURITY_POLICY   = google_compute_security_policy.edge.name
    RUNWAY_EXEMPT            = join(",", var.exempt)
    RUNWAY_OWNER_ID          = var.owner_id
    RUNWAY_REGIONS           = join(",", local.regions)
    RUNWAY_DRY_RUN           = tostring(var.dry_run)
    RUNWAY_STATUS            = var.route_status
    RUNWAY_SCOPE             = length(var.scope) > 0 ? join(",", var.scope) : var.project_id
    RUNWAY_URL_MAP_MAX_BYTES = tostring(var.url_map_max_bytes)
    RUNWAY_REPEAT_FINDINGS   = var.repeat_findings
    # The functions' own project, for trace ids in the decision log (gen2 functions do not set it themselves).
    GOOGLE_CLOUD_PROJECT = var.project_id
  }

  # Per function: runway's configuration, the function's own identity (RUNWAY_IDENTITY: events of its own writes need
  # no work), and the functions-framework server's settings. One gunicorn process (WORKERS), so one
  # URL-map writer per instance whatever the machine (shared/apply_url_map.py), and as many threads (THREADS) as the
  # concurrent requests Cloud Run sends it: functions-framework would otherwise run 4 threads per CPU it sees and
  # queue the rest inside the instance, where they cannot join a URL-map write.
  function_env = {
    for name, fn in local.functions : name => merge(local.runway_env, {
      RUNWAY_IDENTITY = fn.sa_email
      WORKERS         = "1"
      THREADS         = tostring(fn.sizing.concurrency)
    })
  }
}
