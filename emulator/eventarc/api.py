"""Eventarc v1. (Stub: being written.)"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint

if TYPE_CHECKING:
    from ..state import Emulator


class EventarcApi:
    name = "eventarc"

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu

    def blueprint(self) -> Blueprint:
        return Blueprint("eventarc", __name__)

    def reset(self) -> None:
        pass

    def snapshot(self) -> dict[str, Any]:
        return {}

    def deliver_audit_entry(self, entry: dict[str, Any]) -> None:
        pass

    def drain(self, timeout: float) -> bool:
        return True

    def close(self) -> None:
        pass
