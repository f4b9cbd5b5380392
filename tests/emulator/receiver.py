"""A real HTTP endpoint for Eventarc triggers to push to: records every request, answers from a script."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    path: str


class Receiver:
    """An HTTP endpoint in a thread that records every request and answers from a script (default 204)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.script: list[int] = []  # statuses for the next requests, then 204
        self.delay = 0.0
        self.first_delay = 0.0
        self.in_flight = 0
        self.max_in_flight = 0
        self._cond = threading.Condition()
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1", 0, self._app, threaded=True, request_handler=_QuietHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return self.uri

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/events"

    @Request.application  # type: ignore[misc]
    def _app(self, request: Request) -> Response:
        with self._cond:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            status = self.script.pop(0) if self.script else 204
            delay = self.first_delay if not self.received else self.delay
            self.received.append(Received(dict(request.headers), request.get_data(), request.path))
        time.sleep(delay)
        with self._cond:
            self.in_flight -= 1
            self._cond.notify_all()
        return Response("", status=status)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.received) >= count, timeout), self.received
            return list(self.received)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
