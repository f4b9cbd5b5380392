"""Serving the emulator: in the foreground (`python -m emulator`) or in a thread (tests, the demo)."""

from __future__ import annotations

import threading

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .app import create_app
from .settings import Settings
from .state import Emulator


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # the call log at /_emulator/requests is the record; stderr noise helps nobody


class EmulatorServer:
    """A threaded HTTP server around one Emulator, with a known base URL.

    Threaded because Eventarc delivers to functions that call back into the emulator, and because the
    concurrency tests need real parallel requests.
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, settings: Settings | None = None, quiet: bool = True
    ) -> None:
        self.emulator = Emulator(settings)
        self._server: BaseWSGIServer = make_server(
            host,
            port,
            create_app(self.emulator),
            threaded=True,
            request_handler=_QuietHandler if quiet else WSGIRequestHandler,
        )
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> EmulatorServer:
        self._thread = threading.Thread(target=self._server.serve_forever, name="emulator", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self.emulator.close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
