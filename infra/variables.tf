variable "project_id" {
  description = "Project that hosts runway, the shared load balancer and the Cloud Run services it governs (RUNWAY_PROJECT)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a project ID: 6-30 characters, lowercase letters, digits and hyphens."
  }
}

variable "region" {
  description = "Region of the three functions, their Cloud Scheduler job and the source bucket."
  type        = string
  default     = "europe-west1"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a Cloud region name such as europe-west1."
  }
}

variable "regions" {
  description = "Regions whose Cloud Run services reconcile_all sweeps (RUNWAY_REGIONS). Empty: only var.region."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for r in var.regions : can(regex("^[a-z]+-[a-z]+[0-9]+$", r))])
    error_message = "Every entry of regions must be a Cloud region name such as europe-west1."
  }
}

variable "name_prefix" {
  description = "Prefix of every resource name this configuration creates (functions, load balancer pieces, roles, metrics)."
  type        = string
  default     = "runway"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,14}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 2-16 characters: a lowercase letter, then lowercase letters, digits or hyphens."
  }
}

variable "domains" {
  description = "Domains of the Google-managed TLS certificate on the shared load balancer (their DNS must point at the LB address)."
  type        = list(string)

  validation {
    condition = length(var.domains) > 0 && length(var.domains) <= 100 && alltrue([
      for d in var.domains : can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$", d))
    ])
    error_message = "domains must hold 1-100 fully qualified lowercase domain names (managed certificates take no wildcards)."
  }
}

variable "hosts_json" {
  description = "Host aliases for the public-host label, as JSON: alias -> list of hosts (RUNWAY_HOSTS); must define \"default\", e.g. {\"default\":[\"*\"]}."
  type        = string
  default     = "{\"default\":[\"*\"]}"

  # The same rules runway applies at start-up (shared/config.py), so a bad value fails at plan time instead.
  validation {
    condition = (
      contains(try(keys(jsondecode(var.hosts_json)), []), "default") &&
      alltrue([
        for alias, hosts in try(jsondecode(var.hosts_json), {}) :
        can(regex("^[a-z0-9_-]{1,63}$", alias)) && length(try(tolist(hosts), [])) > 0 &&
        alltrue([for h in try(tolist(hosts), []) : can(regex("^(\\*|(\\*[.-])?[a-z0-9]([a-z0-9.-]*[a-z0-9])?)(:[1-9][0-9]{0,4})?$", h))])
      ]) &&
      length(flatten(values(try(jsondecode(var.hosts_json), {})))) == length(distinct(flatten(values(try(jsondecode(var.hosts_json), {})))))
    )
    error_message = "hosts_json must be a JSON object with a \"default\" alias, mapping aliases ([a-z0-9_-]) to non-empty lists of hosts, each host in one alias only."
  }
}

variable "exempt" {
  description = "Glob patterns over PROJECT/REGION/SERVICE exempt from ingress enforcement (RUNWAY_EXEMPT), owned by the platform team."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for g in var.exempt : can(regex("^[a-z0-9*?!\\[\\]-]+/[a-z0-9*?!\\[\\]-]+/[a-z0-9*?!\\[\\]-]+$", g))])
    error_message = "Every exempt pattern must have the form PROJECT/REGION/SERVICE, each part of [a-z0-9-] and glob characters *?[]!."
  }
}

variable "owner_id" {
  description = "Owner id written into runway's ownership marker (RUNWAY_OWNER_ID); distinct per installation sharing one LB."
  type        = string
  default     = "runway"

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,18}[a-z0-9])?$", var.owner_id))
    error_message = "owner_id must be 1-20 characters of [a-z0-9-], not starting or ending with '-'."
  }
}

variable "dry_run" {
  description = "Deploy runway in dry-run mode (RUNWAY_DRY_RUN): decide and log every plan, change nothing."
  type        = bool
  default     = false
}

variable "route_status" {
  description = "Whether runway writes each labeled service's route status onto it, as a label and an annotation (RUNWAY_STATUS): on or off. Off: runway changes nothing on a service but its ingress."
  type        = string
  default     = "on"

  validation {
    condition     = contains(["on", "off"], var.route_status)
    error_message = "route_status must be \"on\" or \"off\"."
  }
}

variable "scope" {
  description = "What this installation covers (RUNWAY_SCOPE): empty (project_id alone), project ids, or one organizations/N or folders/N, which is organization mode: an aggregated log sink, a Pub/Sub topic and Pub/Sub triggers instead of the audit-log triggers, and organization-level roles bound there (README, \"Scope\" and \"Organization mode\")."
  type        = list(string)
  default     = []

  validation {
    condition = (
      length(var.scope) == 0 ||
      (length(var.scope) == 1 && can(regex("^(organizations|folders)/[1-9][0-9]{0,19}$", var.scope[0]))) ||
      alltrue([for p in var.scope : can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", p))])
    )
    error_message = "scope must be empty, a single organizations/N or folders/N, or a list of project IDs."
  }
}

variable "organization_id" {
  description = "Organization mode: the organization holding the organization-level custom roles (custom roles live in an organization or a project). Required when scope is a folder; with scope organizations/N, empty or N."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^([1-9][0-9]{0,19})?$", var.organization_id))
    error_message = "organization_id must be empty or an organization's numeric id."
  }
}

variable "service_projects" {
  description = "Projects other than project_id whose Cloud Run services runway governs (organization mode). Each gets the Cloud Armor policy under the same name (RUNWAY_SECURITY_POLICY), since a backend service attaches a policy of its own project. Empty: platform teams create it themselves."
  type        = list(string)
  default     = []

  validation {
    condition = (
      alltrue([for p in var.service_projects : can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", p))]) &&
      length(distinct(var.service_projects)) == length(var.service_projects)
    )
    error_message = "service_projects must be distinct project IDs."
  }
}

variable "url_map_max_bytes" {
  description = "Size limit runway plans the shared URL map against, in bytes (RUNWAY_URL_MAP_MAX_BYTES). Google's quotas page says 64 KB; its URL-map size page says 1 MB (Public Preview). Raise it only where the larger limit applies."
  type        = number
  default     = 65536

  validation {
    condition     = floor(var.url_map_max_bytes) == var.url_map_max_bytes && var.url_map_max_bytes >= 1024 && var.url_map_max_bytes <= 1048576
    error_message = "url_map_max_bytes must be a whole number of bytes from 1024 to 1048576."
  }
}

variable "repeat_findings" {
  description = "How often the sweep logs a finding again while it is still there (RUNWAY_REPEAT_FINDINGS): a number with d, h, m or s (no unit: hours); 0 logs it on every sweep."
  type        = string
  default     = "24h"

  validation {
    condition     = can(regex("^(0|[1-9][0-9]{0,5})[dhms]?$", var.repeat_findings))
    error_message = "repeat_findings must be a duration like 24h, 90m, 2d or 0."
  }
}

variable "reconcile_schedule" {
  description = "Cron schedule (UTC) of the Cloud Scheduler job that invokes reconcile_all."
  type        = string
  default     = "*/30 * * * *"

  validation {
    condition     = length(split(" ", trimspace(var.reconcile_schedule))) == 5
    error_message = "reconcile_schedule must be a five-field cron expression, e.g. \"*/30 * * * *\"."
  }
}

variable "act_as_service_accounts" {
  description = "Runtime service accounts of the governed Cloud Run services. Empty: the three functions get iam.serviceAccounts.actAs project-wide; set it to narrow actAs to these accounts."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for sa in var.act_as_service_accounts : can(regex("^[a-z0-9-]+@[a-z0-9.-]+\\.gserviceaccount\\.com$", sa))])
    error_message = "Every act_as_service_accounts entry must be a service account email (…@….gserviceaccount.com)."
  }
}

variable "waf_sensitivity" {
  description = "Sensitivity level of the preconfigured Cloud Armor WAF rules (sqli, xss): 1 (fewest false positives) to 4."
  type        = number
  default     = 1

  validation {
    condition     = contains([1, 2, 3, 4], var.waf_sensitivity)
    error_message = "waf_sensitivity must be 1, 2, 3 or 4."
  }
}

variable "rate_limit_per_minute" {
  description = "Requests per minute one client IP may send through the load balancer before Cloud Armor bans it."
  type        = number
  default     = 1200

  validation {
    condition     = var.rate_limit_per_minute >= 1 && floor(var.rate_limit_per_minute) == var.rate_limit_per_minute
    error_message = "rate_limit_per_minute must be a positive whole number."
  }
}

variable "rate_limit_ban_seconds" {
  description = "How long Cloud Armor bans a client IP that exceeded rate_limit_per_minute, in seconds."
  type        = number
  default     = 600

  validation {
    condition     = var.rate_limit_ban_seconds >= 60 && var.rate_limit_ban_seconds <= 86400
    error_message = "rate_limit_ban_seconds must be between 60 and 86400."
  }
}

variable "notification_channels" {
  description = "Cloud Monitoring notification channels (full resource names) of the alert on runway's error decisions."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.notification_channels : can(regex("^projects/[^/]+/notificationChannels/[0-9]+$", c))])
    error_message = "Every notification channel must look like projects/PROJECT/notificationChannels/ID."
  }
}

variable "error_alert_threshold" {
  description = "The alert fires when more than this many error decisions are logged in 5 minutes."
  type        = number
  default     = 0

  validation {
    condition     = var.error_alert_threshold >= 0
    error_message = "error_alert_threshold must be zero or more."
  }
}

variable "enable_org_policy" {
  description = "Also enforce the run.allowedIngress organization policy on the project (internal and internal-and-cloud-load-balancing only). See README: it makes every ingress=all deploy fail."
  type        = bool
  default     = false
}

# --- Sizing (README.md, "Sizing"). Each function instance runs one gunicorn process with `concurrency` threads, hence
# one URL-map writer (shared/apply_url_map.py) that commits the pending claims of all its concurrent requests in one
# write; across instances the URL map's fingerprint decides (a 412 re-plans at once). More than one concurrent request
# per instance needs at least 1 vCPU. Past max_instances x concurrency requests in flight, Cloud Run answers 429 and
# Eventarc redelivers with Pub/Sub's backoff (10 s to 600 s) for up to 24 hours.

variable "enforce_ingress_sizing" {
  description = "enforce_ingress: max instances, concurrent requests per instance, vCPUs, memory, timeout in seconds (an event-driven function: at most 540)."
  type = object({
    max_instances   = optional(number, 10)
    concurrency     = optional(number, 20)
    cpu             = optional(string, "1")
    memory          = optional(string, "512Mi")
    timeout_seconds = optional(number, 300)
  })
  default = {}

  validation {
    condition = (
      var.enforce_ingress_sizing.max_instances >= 1 && var.enforce_ingress_sizing.max_instances <= 1000 &&
      floor(var.enforce_ingress_sizing.max_instances) == var.enforce_ingress_sizing.max_instances &&
      var.enforce_ingress_sizing.concurrency >= 1 && var.enforce_ingress_sizing.concurrency <= 1000 &&
      floor(var.enforce_ingress_sizing.concurrency) == var.enforce_ingress_sizing.concurrency &&
      can(regex("^[0-9]+(\\.[0-9]{1,3})?$", var.enforce_ingress_sizing.cpu)) &&
      (var.enforce_ingress_sizing.concurrency == 1 || try(tonumber(var.enforce_ingress_sizing.cpu) >= 1, false)) &&
      can(regex("^[1-9][0-9]*(Mi|Gi)$", var.enforce_ingress_sizing.memory)) &&
      var.enforce_ingress_sizing.timeout_seconds >= 60 && var.enforce_ingress_sizing.timeout_seconds <= 540
    )
    error_message = "enforce_ingress_sizing: max_instances 1-1000, concurrency 1-1000 (above 1 needs cpu >= 1), cpu a vCPU count like \"1\", memory like \"512Mi\" or \"1Gi\", timeout_seconds 60-540."
  }
}

variable "sync_routes_sizing" {
  description = "sync_routes: max instances, concurrent requests per instance, vCPUs, memory, timeout in seconds (an event-driven function: at most 540). Few instances with many requests each coalesce URL-map writes best."
  type = object({
    max_instances   = optional(number, 1)
    concurrency     = optional(number, 80)
    cpu             = optional(string, "1")
    memory          = optional(string, "1Gi")
    timeout_seconds = optional(number, 540)
  })
  default = {}

  validation {
    condition = (
      var.sync_routes_sizing.max_instances >= 1 && var.sync_routes_sizing.max_instances <= 1000 &&
      floor(var.sync_routes_sizing.max_instances) == var.sync_routes_sizing.max_instances &&
      var.sync_routes_sizing.concurrency >= 1 && var.sync_routes_sizing.concurrency <= 1000 &&
      floor(var.sync_routes_sizing.concurrency) == var.sync_routes_sizing.concurrency &&
      can(regex("^[0-9]+(\\.[0-9]{1,3})?$", var.sync_routes_sizing.cpu)) &&
      (var.sync_routes_sizing.concurrency == 1 || try(tonumber(var.sync_routes_sizing.cpu) >= 1, false)) &&
      can(regex("^[1-9][0-9]*(Mi|Gi)$", var.sync_routes_sizing.memory)) &&
      var.sync_routes_sizing.timeout_seconds >= 60 && var.sync_routes_sizing.timeout_seconds <= 540
    )
    error_message = "sync_routes_sizing: max_instances 1-1000, concurrency 1-1000 (above 1 needs cpu >= 1), cpu a vCPU count like \"1\", memory like \"512Mi\" or \"1Gi\", timeout_seconds 60-540."
  }
}

variable "reconcile_all_sizing" {
  description = "reconcile_all: max instances, concurrent requests per instance, vCPUs, memory, timeout in seconds (HTTP: at most 3600; Cloud Scheduler waits at most 1800). Keep one instance of one request: one sweep at a time."
  type = object({
    max_instances   = optional(number, 1)
    concurrency     = optional(number, 1)
    cpu             = optional(string, "1")
    memory          = optional(string, "1Gi")
    timeout_seconds = optional(number, 1800)
  })
  default = {}

  validation {
    condition = (
      var.reconcile_all_sizing.max_instances >= 1 && var.reconcile_all_sizing.max_instances <= 1000 &&
      floor(var.reconcile_all_sizing.max_instances) == var.reconcile_all_sizing.max_instances &&
      var.reconcile_all_sizing.concurrency >= 1 && var.reconcile_all_sizing.concurrency <= 1000 &&
      floor(var.reconcile_all_sizing.concurrency) == var.reconcile_all_sizing.concurrency &&
      can(regex("^[0-9]+(\\.[0-9]{1,3})?$", var.reconcile_all_sizing.cpu)) &&
      (var.reconcile_all_sizing.concurrency == 1 || try(tonumber(var.reconcile_all_sizing.cpu) >= 1, false)) &&
      can(regex("^[1-9][0-9]*(Mi|Gi)$", var.reconcile_all_sizing.memory)) &&
      var.reconcile_all_sizing.timeout_seconds >= 60 && var.reconcile_all_sizing.timeout_seconds <= 3600
    )
    error_message = "reconcile_all_sizing: max_instances 1-1000, concurrency 1-1000 (above 1 needs cpu >= 1), cpu a vCPU count like \"1\", memory like \"512Mi\" or \"1Gi\", timeout_seconds 60-3600."
  }
}
