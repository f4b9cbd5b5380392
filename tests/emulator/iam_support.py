"""What the IAM tests share: real clients acting as a given caller, and reading an error's wire body."""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials, Credentials
from google.oauth2.credentials import Credentials as TokenCredentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from emulator import EmulatorServer

PROJECT = "iam-proj"
OTHER = "iam-other"
REGION = "us-central1"
IMAGE = "us-docker.pkg.dev/cloudrun/container/hello"
ADMIN = "admin@example.com"
ALICE = "alice@example.com"
BOB = "bob@example.com"


def credentials(who: str | None) -> Credentials:
    """The caller is the bearer token's email (emulator/http.py `principal`); None: the default developer."""
    return AnonymousCredentials() if who is None else TokenCredentials(token=who)  # type: ignore[no-untyped-call]


def api(emulator: EmulatorServer, name: str, version: str, who: str | None = None) -> Any:
    endpoint = emulator.url + ("/compute/v1/" if name == "compute" else "")
    return build(
        name,
        version,
        credentials=credentials(who),
        static_discovery=True,
        client_options={"api_endpoint": endpoint},
        cache_discovery=False,
    )


def client_kwargs(emulator: EmulatorServer, who: str | None) -> dict[str, Any]:
    return {
        "transport": "rest",
        "credentials": credentials(who),
        "client_options": ClientOptions(api_endpoint=emulator.url),
    }


def refused(call: Any) -> dict[str, Any]:
    """Run a googleapiclient request that must be refused with 403; its JSON body as received."""
    with pytest.raises(HttpError) as caught:
        call.execute()
    assert caught.value.status_code == 403, caught.value.content
    body: dict[str, Any] = json.loads(caught.value.content)
    return body


def rpc_403(message: str) -> dict[str, Any]:
    return {"error": {"code": 403, "message": message, "status": "PERMISSION_DENIED"}}


def compute_403(permission: str, resource: str) -> dict[str, Any]:
    message = f"Required '{permission}' permission for '{resource}'"
    return {
        "error": {
            "code": 403,
            "message": message,
            "errors": [{"message": message, "domain": "global", "reason": "forbidden"}],
        }
    }
