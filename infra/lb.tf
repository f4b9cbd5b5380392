# The shared global external Application Load Balancer (EXTERNAL_MANAGED). Terraform owns the frontends, the URL map
# and its default service; runway owns its path matchers, host rules and the backend services and serverless NEGs
# it marks as its own (docs/design.md §4).

resource "google_compute_global_address" "lb" {
  name         = "${var.name_prefix}-lb"
  description  = "Address of runway's shared load balancer: point the DNS of var.domains here."
  address_type = "EXTERNAL"
  ip_version   = "IPV4"

  depends_on = [google_project_service.api]
}

resource "google_compute_managed_ssl_certificate" "lb" {
  # The name follows the domains: a change creates the new certificate before the old one is dropped.
  name = "${var.name_prefix}-cert-${substr(sha1(join(",", sort(var.domains))), 0, 8)}"

  managed {
    domains = var.domains
  }

  lifecycle {
    create_before_destroy = true
  }

  depends_on = [google_project_service.api]
}

resource "google_compute_ssl_policy" "lb" {
  name            = "${var.name_prefix}-tls"
  description     = "TLS 1.2+ with the MODERN cipher profile."
  profile         = "MODERN"
  min_tls_version = "TLS_1_2"

  depends_on = [google_project_service.api]
}

# --- Default service: a bucket that answers 404 for every path no rule matches. ---

resource "google_storage_bucket" "default" {
  #checkov:skip=CKV_GCP_114:A backend bucket is read anonymously by the load balancer, so public access prevention must stay off; the bucket holds one static 404 page.
  #checkov:skip=CKV_GCP_62:Requests reach this bucket only through the load balancer, whose request logs cover them.
  #checkov:skip=CKV_GCP_78:One static page written by Terraform; its history is the Terraform configuration.
  name                        = "${var.project_id}-${var.name_prefix}-default"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "inherited"
  force_destroy               = true

  # No index page: every path, `/` included, gets the not-found page with status 404.
  website {
    main_page_suffix = "index.html"
    not_found_page   = "404.html"
  }

  depends_on = [google_project_service.api]
}

resource "google_storage_bucket_object" "not_found" {
  name          = "404.html"
  bucket        = google_storage_bucket.default.name
  content_type  = "text/html; charset=utf-8"
  cache_control = "public, max-age=60"
  content       = <<-EOT
    <!doctype html>
    <html lang="en"><head><meta charset="utf-8"><title>Not found</title></head>
    <body><h1>404</h1><p>Nothing is published at this address.</p></body></html>
  EOT
}

resource "google_storage_bucket_iam_member" "default_public" {
  #checkov:skip=CKV_GCP_28:The load balancer's default service serves this bucket to anyone; legacyObjectReader grants object reads only (no listing) of a single static 404 page.
  bucket = google_storage_bucket.default.name
  role   = "roles/storage.legacyObjectReader"
  member = "allUsers"
}

resource "google_compute_backend_bucket" "default" {
  name        = "${var.name_prefix}-default"
  description = "Default service of runway's URL map: 404 for every unmatched path."
  bucket_name = google_storage_bucket.default.name
  enable_cdn  = false
}

# --- HTTPS: URL map, proxy, forwarding rule ---

resource "google_compute_url_map" "https" {
  name            = "${var.name_prefix}-lb"
  description     = "runway's shared URL map. Host rules and path matchers belong to runway (docs/design.md §4)."
  default_service = google_compute_backend_bucket.default.id

  lifecycle {
    # runway writes host rules and path matchers at run time; Terraform must neither revert nor delete them.
    ignore_changes = [host_rule, path_matcher]
  }
}

resource "google_compute_target_https_proxy" "lb" {
  name             = "${var.name_prefix}-https"
  url_map          = google_compute_url_map.https.id
  ssl_certificates = [google_compute_managed_ssl_certificate.lb.id]
  ssl_policy       = google_compute_ssl_policy.lb.id
}

resource "google_compute_global_forwarding_rule" "https" {
  name                  = "${var.name_prefix}-https"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  ip_protocol           = "TCP"
  ip_address            = google_compute_global_address.lb.id
  port_range            = "443"
  target                = google_compute_target_https_proxy.lb.id
}

# --- HTTP: redirect everything to HTTPS ---

resource "google_compute_url_map" "http_redirect" {
  name        = "${var.name_prefix}-http-redirect"
  description = "Redirects every HTTP request to HTTPS."

  default_url_redirect {
    https_redirect         = true
    redirect_response_code = "MOVED_PERMANENTLY_DEFAULT"
    strip_query            = false
  }
}

resource "google_compute_target_http_proxy" "redirect" {
  name    = "${var.name_prefix}-http"
  url_map = google_compute_url_map.http_redirect.id
}

resource "google_compute_global_forwarding_rule" "http" {
  name                  = "${var.name_prefix}-http"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  ip_protocol           = "TCP"
  ip_address            = google_compute_global_address.lb.id
  port_range            = "80"
  target                = google_compute_target_http_proxy.redirect.id
}
