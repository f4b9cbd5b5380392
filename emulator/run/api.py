"""Cloud Run Admin API v2 and v1 (namespaces.services) over one store. (Stub: being written.)"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint

if TYPE_CHECKING:
    from ..state import Emulator


class RunApi:
    name = "run"

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu

    def blueprint(self) -> Blueprint:
        return Blueprint("run", __name__)

    def reset(self) -> None:
        pass

    def snapshot(self) -> dict[str, Any]:
        return {}
