"""Carrying out one service's object changes in order, and undoing the creations of an attempt that lost.

Each change waits for its operation before the next starts: a backend service can only name a NEG whose insert
is done, and the URL map only a backend service whose policy is attached.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from . import errors
from .api_compute import StaleObservation, apply
from .clients import ComputeClients
from .model import Change, Op


def apply_in_order(compute: ComputeClients, changes: Sequence[Change], owner: str, done: list[Change]) -> None:
    """Apply `changes` one after the other; `done` collects those applied, also when one fails."""
    for change in changes:
        apply(compute, change, owner)
        done.append(change)


def undo_creations(compute: ComputeClients, done: Sequence[Change], owner: str) -> None:
    """Delete what `done` created, newest first: a route refused after its objects were made leaves nothing
    behind. Best effort: what cannot be deleted now is an orphan the sweep collects."""
    for change in reversed(done):
        if change.op != Op.CREATE:
            continue
        undo = Change(
            Op.DELETE,
            change.kind,
            change.name,
            change.project,
            f"undo: {change.why}",
            change.services,
            region=change.region,
        )
        with contextlib.suppress(errors.RunwayApiError, StaleObservation):
            apply(compute, undo, owner)
