"""Logging v2. (Stub: being written.)"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint

if TYPE_CHECKING:
    from ..state import Emulator


class LoggingApi:
    name = "logging"

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu

    def blueprint(self) -> Blueprint:
        return Blueprint("logging", __name__)

    def reset(self) -> None:
        pass

    def snapshot(self) -> dict[str, Any]:
        return {}

    def append_audit_entry(self, activity: Any) -> dict[str, Any]:
        return {}
