# The functions' source: an allowlist of the repository (main.py, requirements.txt, functions/, shared/), the same
# one .gcloudignore keeps for `gcloud functions deploy`. An allowlist rather than excludes, so that a new top-level
# folder (tests, tooling, the emulator) never ships by accident; tests/unit/test_infra.py checks the two lists agree.
locals {
  repo_root    = abspath("${path.module}/..")
  source_globs = ["main.py", "requirements.txt", "functions/**", "shared/**"]
  source_files = sort(flatten([
    for glob in local.source_globs : [
      for f in fileset(local.repo_root, glob) : f
      if !strcontains(f, "__pycache__/") && !endswith(f, ".pyc")
    ]
  ]))
}

data "archive_file" "source" {
  type        = "zip"
  output_path = "${path.module}/.build/runway-source.zip"

  dynamic "source" {
    for_each = local.source_files
    content {
      filename = source.value
      content  = file("${local.repo_root}/${source.value}")
    }
  }
}

resource "google_storage_bucket" "source" {
  #checkov:skip=CKV_GCP_62:Holds only build inputs that Terraform writes; reads and writes are already in Cloud Audit Logs, usage logs would need a log bucket of their own.
  name                        = "${var.project_id}-${var.name_prefix}-source"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true

  versioning {
    enabled = true
  }

  # Objects are named by content hash, so old archives are only needed for a rollback; keep them a month.
  lifecycle_rule {
    condition {
      age = 30
    }
    action {
      type = "Delete"
    }
  }

  lifecycle_rule {
    condition {
      num_newer_versions = 3
      with_state         = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.api]
}

resource "google_storage_bucket_object" "source" {
  # The name carries the content hash: a source change is a new object, which makes the functions rebuild.
  name   = "runway-${data.archive_file.source.output_md5}.zip"
  bucket = google_storage_bucket.source.name
  source = data.archive_file.source.output_path
}
