"""Reading the emulator's call log without counting ourselves: what each benchmark's figures are made of."""

from __future__ import annotations

from typing import Any

import requests

BENCH_PRINCIPAL = "runway-bench@example.com"
PRINCIPAL_HEADER = "X-Emulator-Principal"


def get(url: str, path: str, **params: Any) -> Any:
    reply = requests.get(f"{url}{path}", params=params, headers={PRINCIPAL_HEADER: BENCH_PRINCIPAL}, timeout=60)
    reply.raise_for_status()
    return reply.json()


def api_calls(url: str, since: int = 0) -> list[dict[str, Any]]:
    """Every API request the emulator answered after sequence number `since`."""
    return list(get(url, "/_emulator/requests", since=since)["requests"])


def mark(url: str) -> int:
    """The sequence number of the last call so far: pass it to `api_calls` to see only what follows."""
    calls = api_calls(url)
    return int(calls[-1]["seq"]) if calls else 0
