"""Pointing the real gcloud CLI at the emulator (docs/google-apis.md §8)."""

from __future__ import annotations

import os
from pathlib import Path


def gcloud_env(
    url: str, config_dir: Path, *, project: str, region: str, principal: str = "gcloud-user@example.com"
) -> dict[str, str]:
    """The `CLOUDSDK_*` variables a user exports to use gcloud against the emulator at `url`.

    gcloud run prepends the region to the API host, so an endpoint override alone cannot reach 127.0.0.1: every
    API goes through the emulator as an HTTP proxy, which routes by path and ignores the host. The access token
    is the principal's email, which the emulator takes as the caller's identity for audit logs. `config_dir` is
    a throwaway gcloud configuration, so the user's own stays untouched.
    """
    config_dir.mkdir(parents=True, exist_ok=True)
    token = config_dir / "token"
    token.write_text(principal + "\n")
    address, port = url.split("//", 1)[1].rsplit(":", 1)
    return {
        "CLOUDSDK_CONFIG": str(config_dir),
        "CLOUDSDK_CORE_PROJECT": project,
        "CLOUDSDK_CORE_DISABLE_PROMPTS": "1",
        "CLOUDSDK_CORE_DISABLE_USAGE_REPORTING": "1",
        "CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK": "1",
        "CLOUDSDK_AUTH_ACCESS_TOKEN_FILE": str(token),
        "CLOUDSDK_PROXY_TYPE": "http",
        "CLOUDSDK_PROXY_ADDRESS": address,
        "CLOUDSDK_PROXY_PORT": port,
        "CLOUDSDK_API_ENDPOINT_OVERRIDES_RUN": "http://run.emulator.invalid/",
        "CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE": "http://compute.emulator.invalid/compute/v1/",
        "CLOUDSDK_API_ENDPOINT_OVERRIDES_LOGGING": "http://logging.emulator.invalid/",
        "CLOUDSDK_API_ENDPOINT_OVERRIDES_EVENTARC": "http://eventarc.emulator.invalid/",
        "CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDRESOURCEMANAGER": "http://cloudresourcemanager.emulator.invalid/",
        # `gcloud run deploy` asks Service Usage whether Cloud Run is enabled; over HTTPS through a proxy it would
        # tunnel (CONNECT), which the emulator does not serve, so it gets a plain-HTTP override like the others.
        "CLOUDSDK_API_ENDPOINT_OVERRIDES_SERVICEUSAGE": "http://serviceusage.emulator.invalid/",
        "CLOUDSDK_API_ENDPOINT_OVERRIDES_IAM": "http://iam.emulator.invalid/",
        "CLOUDSDK_RUN_REGION": region,
    }


def gcloud_process_env(url: str, config_dir: Path, **kwargs: str) -> dict[str, str]:
    """A whole environment for running gcloud as a subprocess: this process's, without the user's own gcloud
    settings (an account, a real project, another proxy), plus `gcloud_env`."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDSDK_")}
    return {**inherited, **gcloud_env(url, config_dir, **kwargs)}
