"""The test controls under `/_emulator/`: not Google APIs, so no faults and no call log (see app.py).

Every input is checked (`params`): a bad value answers 400 naming the parameter, never 500.
"""

from __future__ import annotations

from typing import Any

from flask import request

from . import params
from .http import request_json
from .routing import Route, RouteTable
from .state import Emulator

CONTROL_PREFIX = "/_emulator"
MAX_DRAIN_TIMEOUT_S = 600


def health(emu: Emulator) -> dict[str, Any]:
    params.only_params(request.args, ())
    return {"status": "ok", "apis": [api.name for api in emu.apis]}


def reset(emu: Emulator) -> dict[str, Any]:
    params.only_params(request.args, ())
    emu.reset()
    return {}


def state(emu: Emulator) -> dict[str, Any]:
    params.only_params(request.args, ())
    return emu.snapshot()


def calls(emu: Emulator) -> dict[str, Any]:
    params.only_params(request.args, ("since",))
    since = params.integer(request.args.get("since", "0"), "since", minimum=0, maximum=2**63 - 1)
    return {"requests": emu.calls.since(since)}


def add_faults(emu: Emulator) -> dict[str, Any]:
    params.only_params(request.args, ())
    emu.faults.configure(request_json())
    return emu.faults.snapshot()


def get_faults(emu: Emulator) -> dict[str, Any]:
    params.only_params(request.args, ())
    return emu.faults.snapshot()


def clear_faults(emu: Emulator) -> dict[str, Any]:
    params.only_params(request.args, ())
    emu.faults.clear()
    return emu.faults.snapshot()


def drain(emu: Emulator) -> dict[str, Any]:
    params.only_params(request.args, ("timeout",))
    timeout = params.number(request.args.get("timeout", "30"), "timeout", minimum=0, maximum=MAX_DRAIN_TIMEOUT_S)
    return {"drained": emu.eventarc.drain(timeout=timeout)}


def set_settings(emu: Emulator) -> dict[str, Any]:
    params.only_params(request.args, ())
    emu.configure_settings(request_json())
    return emu.settings_snapshot()


def get_settings(emu: Emulator) -> dict[str, Any]:
    params.only_params(request.args, ())
    return emu.settings_snapshot()


def restore_settings(emu: Emulator) -> dict[str, Any]:
    params.only_params(request.args, ())
    emu.restore_settings()
    return emu.settings_snapshot()


def set_hierarchy(emu: Emulator) -> dict[str, Any]:
    params.only_params(request.args, ())
    return emu.resource_manager.configure(request_json())


def get_hierarchy(emu: Emulator) -> dict[str, Any]:
    params.only_params(request.args, ())
    return emu.resource_manager.snapshot()


def set_iam(emu: Emulator) -> dict[str, Any]:
    params.only_params(request.args, ())
    return emu.iam.configure(request_json())


def get_iam(emu: Emulator) -> dict[str, Any]:
    params.only_params(request.args, ())
    return emu.iam.snapshot()


def clear_iam(emu: Emulator) -> dict[str, Any]:
    params.only_params(request.args, ())
    emu.iam.reset()
    return emu.iam.snapshot()


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
            ("POST", "/settings", set_settings),
            ("GET", "/settings", get_settings),
            ("DELETE", "/settings", restore_settings),
            ("POST", "/hierarchy", set_hierarchy),
            ("GET", "/hierarchy", get_hierarchy),
            ("POST", "/iam", set_iam),
            ("GET", "/iam", get_iam),
            ("DELETE", "/iam", clear_iam),
        )
    ),
)
