"""Cloud Run Admin API v2 and v1 (namespaces.services) over one store.

Modules: `model` (store and write rules), `record` (a service and its rollouts: requested vs observed), `rules`
(names, labels, annotations, versions), `enums`, `views` (v2 rendering), `knative` (the v1 view),
`v2`/`v1`/`operations` (what each method does), `routes` (the route table and its handlers), `activity` (audit
entries: a v2 write's first and last, a v1 write's only one).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..audit import AdminActivity
from ..clock import monotonic, rfc3339
from ..runtime import Runtime
from . import activity
from .model import RunStore
from .record import Operation
from .views import render_operation, render_service


class RunApi:
    name = "run"

    def __init__(self, emu: Runtime, on_admin_activity: Callable[[AdminActivity], None]) -> None:
        self.emu = emu
        self.store = RunStore()
        self._on_admin_activity = on_admin_activity

    def record(self, activity: AdminActivity) -> None:
        """Hand a successful write's audit entry to the pipeline; called after the write, outside the lock,
        because delivery may call back into the emulator."""
        self._on_admin_activity(activity)

    def record_operation(self, first: AdminActivity, op: Operation) -> None:
        """A v2 write's two entries (docs/google-apis.md §2.2): the first now; the last when the operation completes
        (at once when the operation delay is 0, else on the scheduler), describing the Service it finished with."""
        self.record(first)
        last = activity.v2_last(first, render_service(op.snapshot, op.done_at), op.done_time)
        if op.done_at <= monotonic():
            self.record(last)
        else:
            self.emu.scheduler.at(op.done_at, lambda: self.record(last))

    def granted(self, principal: str, resource: str, permissions: list[str]) -> list[str]:
        """Which of `permissions` the caller holds on `resource` (testIamPermissions). The emulator checks no
        permission, so all of them; the seam for an emulated IAM."""
        return list(dict.fromkeys(permissions))

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
