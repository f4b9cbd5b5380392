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
  description = "Runtime service accounts of the governed Cloud Run services. Empty: enforce_ingress and reconcile_all get iam.serviceAccounts.actAs project-wide; set it to narrow actAs to these accounts."
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
