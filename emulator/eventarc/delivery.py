"""Pushing CloudEvents to trigger destinations: asynchronous, concurrent, at least once.

Eventarc Standard delivers through a Pub/Sub push subscription: a non-2xx answer or a timeout is retried with
exponential backoff, and an event that keeps failing is eventually dropped (docs/google-apis.md §2.3). The
emulator keeps that shape on a compressed clock (`Settings.delivery_*`). Workers are daemon threads started on
demand, so a burst of events is pushed in parallel, and nothing here ever runs inside the API request that
caused the event.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from ..clock import now, rfc3339
from ..settings import Settings

MAX_WORKERS = 64
MAX_RECORDS = 10_000


@dataclass(order=True)
class _Task:
    due: float
    seq: int
    generation: int = field(compare=False)
    trigger: str = field(compare=False)
    uri: str = field(compare=False)
    headers: dict[str, str] = field(compare=False)
    body: bytes = field(compare=False)
    event_id: str = field(compare=False)
    copy: int = field(compare=False)
    attempt: int = field(compare=False)
    max_attempts: int = field(compare=False)


# Pub/Sub push, Eventarc's transport, acknowledges on exactly these; any other status (203, 205 and 206
# included) is a failure and the push is retried.
_ACK_STATUSES = frozenset({102, 200, 201, 202, 204})


def _success(status: int) -> bool:
    return status in _ACK_STATUSES


class Dispatcher:
    """A delay queue of push attempts served by a pool of worker threads. Thread-safe."""

    def __init__(self, settings: Callable[[], Settings], max_workers: int = MAX_WORKERS) -> None:
        self._settings = settings
        self._max_workers = max_workers
        self._cond = threading.Condition()
        self._queue: list[_Task] = []
        self._seq = itertools.count()
        self._pending = 0  # events of this generation not yet delivered or dropped (queued or in flight)
        # reset() starts a new generation: attempts of an older one still in flight finish quietly.
        self._generation = 0
        self._records: deque[dict[str, Any]] = deque(maxlen=MAX_RECORDS)
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._starting = 0
        self._closed = False
        self._local = threading.local()
        self._sessions: list[requests.Session] = []

    # ------------------------------------------------------------------------------------------ public

    def submit(
        self,
        *,
        trigger: str,
        uri: str,
        headers: dict[str, str],
        body: bytes,
        event_id: str,
        copies: int,
        max_attempts: int,
        delay: float = 0.0,
    ) -> None:
        """Queue `copies` independent deliveries of one event, the first attempt `delay` seconds from now; returns
        at once."""
        with self._cond:
            if self._closed:
                return
            for copy in range(copies):
                self._push(
                    _Task(
                        time.monotonic() + delay,
                        next(self._seq),
                        self._generation,
                        trigger,
                        uri,
                        headers,
                        body,
                        event_id,
                        copy,
                        1,
                        max_attempts,
                    )
                )
                self._pending += 1
            self._cond.notify_all()

    def record(self, **fields: Any) -> None:
        """Note something about an event that was not pushed (e.g. a destination the emulator cannot reach)."""
        with self._cond:
            self._records.append({"time": rfc3339(now()), **fields})

    def drain(self, timeout: float | None) -> bool:
        """Wait until every queued event is delivered or dropped; False if `timeout` passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: self._pending == 0, timeout=timeout)

    def reset(self) -> None:
        with self._cond:
            self._generation += 1
            self._queue.clear()
            self._pending = 0
            self._records.clear()
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._queue.clear()
            self._pending = 0
            self._cond.notify_all()
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()

    def snapshot(self) -> dict[str, Any]:
        with self._cond:
            return {"pending": self._pending, "attempts": list(self._records)}

    def attempts(self) -> list[dict[str, Any]]:
        with self._cond:
            return [r for r in self._records if "attempt" in r]

    # ------------------------------------------------------------------------------------------ workers

    def _push(self, task: _Task) -> None:
        """Queue a task and make sure a worker will see it. Caller holds the condition."""
        heapq.heappush(self._queue, task)
        alive = [t for t in self._threads if t.is_alive()]
        self._threads = alive
        if self._idle + self._starting < len(self._queue) and len(alive) < self._max_workers:
            self._starting += 1
            thread = threading.Thread(target=self._work, name=f"eventarc-push-{len(alive)}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _next_task(self, *, first: bool) -> _Task | None:
        with self._cond:
            if first:
                self._starting -= 1  # this worker now counts as idle instead
            self._idle += 1
            try:
                while not self._closed:
                    if self._queue and self._queue[0].due <= time.monotonic():
                        return heapq.heappop(self._queue)
                    timeout = self._queue[0].due - time.monotonic() if self._queue else None
                    self._cond.wait(timeout)
                return None
            finally:
                self._idle -= 1

    def _work(self) -> None:
        first = True
        while (task := self._next_task(first=first)) is not None:
            first = False
            self._attempt(task)

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False  # never through HTTP(S)_PROXY: destinations are local test servers
            self._local.session = session
            with self._cond:
                self._sessions.append(session)
        return session

    def _attempt(self, task: _Task) -> None:
        settings = self._settings()
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        try:
            response = self._session().post(
                task.uri, data=task.body, headers=task.headers, timeout=settings.delivery_timeout, allow_redirects=False
            )
            status = response.status_code
            response.close()
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"
        ok = status is not None and _success(status)
        with self._cond:
            if task.generation != self._generation or self._closed:
                return
            if ok:
                outcome = "delivered"
            elif task.attempt < task.max_attempts:
                outcome = "retrying"
            else:
                outcome = "dropped"
            record: dict[str, Any] = {
                "trigger": task.trigger,
                "eventId": task.event_id,
                "copy": task.copy,
                "attempt": task.attempt,
                "uri": task.uri,
                "outcome": outcome,
                "time": rfc3339(now()),
                "durationMs": round((time.monotonic() - started) * 1000, 1),
            }
            if status is not None:
                record["status"] = status
            if error is not None:
                record["error"] = error
            self._records.append(record)
            if outcome == "retrying":
                backoff = min(
                    settings.delivery_initial_backoff * 2 ** (task.attempt - 1), settings.delivery_max_backoff
                )
                task.attempt += 1
                task.due = time.monotonic() + backoff
                task.seq = next(self._seq)
                self._push(task)
            else:
                self._pending -= 1
            self._cond.notify_all()
