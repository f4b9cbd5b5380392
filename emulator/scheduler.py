"""Work the emulator does later, on its own clock: the last audit entry of a Cloud Run operation is written when
the operation completes, not when it is asked for.

One daemon thread, started on demand, runs each callback at its (monotonic) time, in time order. `wait_idle`
lets the drain control wait for what is still to come; `reset` drops it all.
"""

from __future__ import annotations

import heapq
import itertools
import sys
import threading
import traceback
from collections.abc import Callable

from .clock import monotonic

# How long `reset` waits for a callback already running (callbacks are short: they write and queue an entry).
_RESET_WAIT_S = 5.0


class Scheduler:
    """Thread-safe. Callbacks must not take the emulator lock for long: `wait_idle` may be called under it."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._queue: list[tuple[float, int, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._generation = 0
        self._running = 0
        self._thread: threading.Thread | None = None
        self._closed = False

    def at(self, when: float, callback: Callable[[], None]) -> None:
        """Run `callback` once `monotonic()` reaches `when` (at once, on the scheduler's thread, if it has)."""
        with self._cond:
            if self._closed:
                return
            heapq.heappush(self._queue, (when, next(self._seq), self._generation, callback))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="emulator-scheduler", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def pending(self) -> int:
        with self._cond:
            return len(self._queue) + self._running

    def wait_idle(self, timeout: float | None) -> bool:
        """Wait until nothing is scheduled or running; False if `timeout` passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and not self._running, timeout=timeout)

    def reset(self) -> None:
        """Drop everything scheduled, and wait (briefly) for a callback already running."""
        with self._cond:
            self._generation += 1
            self._queue.clear()
            self._cond.notify_all()
            self._cond.wait_for(lambda: not self._running, timeout=_RESET_WAIT_S)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._queue.clear()
            self._cond.notify_all()

    def _next(self) -> Callable[[], None] | None:
        with self._cond:
            while not self._closed:
                if self._queue and self._queue[0][0] <= monotonic():
                    _, _, generation, callback = heapq.heappop(self._queue)
                    if generation != self._generation:
                        continue
                    self._running += 1
                    return callback
                self._cond.wait(self._queue[0][0] - monotonic() if self._queue else None)
            return None

    def _loop(self) -> None:
        while (callback := self._next()) is not None:
            try:
                callback()
            except Exception:  # one failed callback must not stop the others
                traceback.print_exc(file=sys.stderr)
            finally:
                with self._cond:
                    self._running -= 1
                    self._cond.notify_all()
