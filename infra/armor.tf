# Cloud Armor policy that runway attaches to every backend service it creates (RUNWAY_SECURITY_POLICY).
# Lower priority numbers are evaluated first.
resource "google_compute_security_policy" "edge" {
  name        = "${var.name_prefix}-edge"
  description = "runway: preconfigured WAF (SQLi, XSS, Log4Shell) and per-IP rate-based ban for published services."
  type        = "CLOUD_ARMOR"

  advanced_options_config {
    json_parsing = "STANDARD" # let the WAF rules inspect JSON bodies field by field
    log_level    = "NORMAL"
  }

  rule {
    action      = "deny(403)"
    priority    = 1000
    description = "SQL injection (OWASP CRS 3.3)"
    match {
      expr {
        expression = "evaluatePreconfiguredWaf('sqli-v33-stable', {'sensitivity': ${var.waf_sensitivity}})"
      }
    }
  }

  rule {
    action      = "deny(403)"
    priority    = 1001
    description = "Cross-site scripting (OWASP CRS 3.3)"
    match {
      expr {
        expression = "evaluatePreconfiguredWaf('xss-v33-stable', {'sensitivity': ${var.waf_sensitivity}})"
      }
    }
  }

  rule {
    action      = "deny(403)"
    priority    = 1002
    description = "Log4j JNDI lookups (CVE-2021-44228, CVE-2021-45046)"
    match {
      expr {
        expression = "evaluatePreconfiguredWaf('cve-canary')"
      }
    }
  }

  rule {
    action      = "rate_based_ban"
    priority    = 2000
    description = "Per-client-IP rate limit: over the threshold, deny with 429 and ban for a while."
    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
    rate_limit_options {
      conform_action   = "allow"
      exceed_action    = "deny(429)"
      enforce_on_key   = "IP"
      ban_duration_sec = var.rate_limit_ban_seconds
      rate_limit_threshold {
        count        = var.rate_limit_per_minute
        interval_sec = 60
      }
    }
  }

  rule {
    action      = "allow"
    priority    = 2147483647
    description = "Default: allow"
    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
  }

  depends_on = [google_project_service.api]
}

# The same policy, under the same name, in each service project (var.service_projects): runway attaches
# RUNWAY_SECURITY_POLICY of the backend service's own project, and its backend services live in the services'
# projects (organization mode). tests/unit/test_infra.py holds its rules equal to edge's.
resource "google_compute_security_policy" "service_project" {
  for_each = toset(var.service_projects)

  project     = each.key
  name        = "${var.name_prefix}-edge"
  description = "runway: preconfigured WAF (SQLi, XSS, Log4Shell) and per-IP rate-based ban for published services."
  type        = "CLOUD_ARMOR"

  advanced_options_config {
    json_parsing = "STANDARD" # let the WAF rules inspect JSON bodies field by field
    log_level    = "NORMAL"
  }

  rule {
    action      = "deny(403)"
    priority    = 1000
    description = "SQL injection (OWASP CRS 3.3)"
    match {
      expr {
        expression = "evaluatePreconfiguredWaf('sqli-v33-stable', {'sensitivity': ${var.waf_sensitivity}})"
      }
    }
  }

  rule {
    action      = "deny(403)"
    priority    = 1001
    description = "Cross-site scripting (OWASP CRS 3.3)"
    match {
      expr {
        expression = "evaluatePreconfiguredWaf('xss-v33-stable', {'sensitivity': ${var.waf_sensitivity}})"
      }
    }
  }

  rule {
    action      = "deny(403)"
    priority    = 1002
    description = "Log4j JNDI lookups (CVE-2021-44228, CVE-2021-45046)"
    match {
      expr {
        expression = "evaluatePreconfiguredWaf('cve-canary')"
      }
    }
  }

  rule {
    action      = "rate_based_ban"
    priority    = 2000
    description = "Per-client-IP rate limit: over the threshold, deny with 429 and ban for a while."
    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
    rate_limit_options {
      conform_action   = "allow"
      exceed_action    = "deny(429)"
      enforce_on_key   = "IP"
      ban_duration_sec = var.rate_limit_ban_seconds
      rate_limit_threshold {
        count        = var.rate_limit_per_minute
        interval_sec = 60
      }
    }
  }

  rule {
    action      = "allow"
    priority    = 2147483647
    description = "Default: allow"
    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
  }

  lifecycle {
    precondition {
      condition     = each.key != var.project_id
      error_message = "service_projects lists other projects than project_id, which has its policy already (edge)."
    }
  }
}
