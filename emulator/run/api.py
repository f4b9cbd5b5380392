"""Cloud Run Admin API v2 and v1 (namespaces.services) over one store.

Modules: `model` (store and write rules), `rules` (names, labels, annotations, versions), `enums`, `views` (v2
rendering), `knative` (the v1 view), `v2`/`v1`/`operations` (routes), `activity` (audit entries).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint

from ..audit import AdminActivity
from ..clock import rfc3339
from . import operations, v1, v2
from .model import RunStore
from .views import render_operation, render_service

if TYPE_CHECKING:
    from ..state import Emulator


class RunApi:
    name = "run"

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.store = RunStore()

    def blueprint(self) -> Blueprint:
        bp = Blueprint("run", __name__)
        v2.register(bp, self)
        operations.register(bp, self)
        v1.register(bp, self)
        return bp

    def record(self, activity: AdminActivity) -> None:
        """Hand a successful write's audit entry to the pipeline; called after the write, outside the lock,
        because delivery may call back into the emulator."""
        self.emu.record_admin_activity(activity)

    def reset(self) -> None:
        with self.emu.lock:
            self.store.clear()

    def snapshot(self) -> dict[str, Any]:
        with self.emu.lock:
            return {
                "services": [render_service(r) for r in self.store.list_all()],
                "operations": [
                    {**render_operation(op), "createTime": rfc3339(op.create_time)}
                    for op in self.store.operations.values()
                ],
            }
