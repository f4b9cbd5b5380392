"""runway's common library: configuration, event decoding, policy and planning, applying, naming, logging.

Modules here import no heavy Google client at import time; the ones that talk to Compute import
`google.cloud.compute_v1` inside the functions that need it (cold start: docs/decisions.md, "Cold start").
"""
