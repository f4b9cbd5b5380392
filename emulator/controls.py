"""The test controls under `/_emulator/`: not Google APIs, so no faults and no call log (see app.py)."""

from __future__ import annotations

from typing import Any

from flask import request

from .http import request_json
from .routing import Route, RouteTable
from .state import Emulator

CONTROL_PREFIX = "/_emulator"


def health(emu: Emulator) -> dict[str, Any]:
    return {"status": "ok", "apis": [api.name for api in emu.apis]}


def reset(emu: Emulator) -> dict[str, Any]:
    emu.reset()
    return {}


def state(emu: Emulator) -> dict[str, Any]:
    return emu.snapshot()


def calls(emu: Emulator) -> dict[str, Any]:
    since = int(request.args.get("since", "0") or 0)
    return {"requests": emu.calls.since(since)}


def add_faults(emu: Emulator) -> dict[str, Any]:
    emu.faults.configure(request_json())
    return emu.faults.snapshot()


def get_faults(emu: Emulator) -> dict[str, Any]:
    return emu.faults.snapshot()


def clear_faults(emu: Emulator) -> dict[str, Any]:
    emu.faults.clear()
    return emu.faults.snapshot()


def drain(emu: Emulator) -> dict[str, Any]:
    timeout = float(request.args.get("timeout", "30"))
    return {"drained": emu.eventarc.drain(timeout=timeout)}


TABLE = RouteTable(
    "emulator_controls",
    tuple(
        Route(method, CONTROL_PREFIX + path, handler)
        for method, path, handler in (
            ("GET", "/health", health),
            ("POST", "/reset", reset),
            ("GET", "/state", state),
            ("GET", "/requests", calls),
            ("POST", "/faults", add_faults),
            ("GET", "/faults", get_faults),
            ("DELETE", "/faults", clear_faults),
            ("POST", "/deliveries:drain", drain),
        )
    ),
)
