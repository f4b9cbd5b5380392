"""Service Usage v1: whether an API is enabled on a project (what `gcloud run deploy` asks before deploying)."""
