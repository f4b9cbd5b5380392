"""Compute Engine v1. (Stub: being written.)"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint

if TYPE_CHECKING:
    from ..state import Emulator


class ComputeApi:
    name = "compute"

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu

    def blueprint(self) -> Blueprint:
        return Blueprint("compute", __name__)

    def reset(self) -> None:
        pass

    def snapshot(self) -> dict[str, Any]:
        return {}
