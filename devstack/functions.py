"""runway's entry points served by functions-framework, each in its own process, as Cloud Run runs them."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path

import requests

from .log_agent import LogAgent

ROOT = Path(__file__).resolve().parent.parent
MAIN = ROOT / "main.py"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FunctionProcess:
    """`functions-framework --target T --source main.py` with an environment, its output shipped to Logging."""

    def __init__(
        self, target: str, env: Mapping[str, str], agent: LogAgent | None = None, port: int | None = None
    ) -> None:
        self.target = target
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._env = dict(env)
        self._agent = agent
        self._process: subprocess.Popen[str] | None = None
        self._pumps: list[threading.Thread] = []

    def start(self, timeout: float = 30.0) -> FunctionProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RUNWAY_")}
        env.update(self._env)
        env.update({"PYTHONUNBUFFERED": "1", "THREADS": env.get("THREADS", "16"), "K_SERVICE": self.target})
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "functions_framework",
                "--target",
                self.target,
                "--source",
                str(MAIN),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            # Its own process group: gunicorn forks a worker, and stopping must reach both (an orphaned worker would
            # keep the output pipes, and so the log agent, open).
            cwd=ROOT,
            env=env,
            text=True,
            bufsize=1,
            start_new_session=True,
            stdout=subprocess.PIPE if self._agent else None,
            stderr=subprocess.PIPE if self._agent else None,
        )
        if self._agent is not None:
            assert self._process.stdout is not None and self._process.stderr is not None
            self._pumps = [
                self._agent.follow(self._process.stdout, "stdout"),
                self._agent.follow(self._process.stderr, "stderr"),
            ]
        self._wait_ready(timeout)
        return self

    def _signal(self, sig: signal.Signals) -> None:
        if self._process is None:
            return
        with contextlib.suppress(ProcessLookupError):  # the group is already gone
            os.killpg(self._process.pid, sig)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"function {self.target} exited with {self._process.returncode} on start")
            try:
                # /robots.txt is answered by functions-framework itself, never by the function: probing
                # must not run a sweep.
                requests.get(f"{self.url}/robots.txt", timeout=2)
                return
            except (requests.ConnectionError, requests.Timeout):  # not listening, or the worker still loading
                time.sleep(0.05)
        raise TimeoutError(f"function {self.target} did not listen on {self.url} within {timeout} s")

    def terminate(self) -> None:
        """Ask the server to stop (SIGTERM to its process group), without waiting: stopping several at once
        takes as long as one."""
        self._signal(signal.SIGTERM)

    def stop(self, grace: float = 10.0) -> None:
        """Stop the server: SIGTERM, then SIGKILL to the whole group after `grace` seconds, then ship the last
        output and close the pipes."""
        if self._process is None:
            return
        self.terminate()
        try:
            self._process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self._process.wait()
        for pump in self._pumps:  # they end at EOF, after shipping the last lines
            pump.join(timeout=10)
        for pipe in (self._process.stdout, self._process.stderr):
            if pipe is not None:
                pipe.close()
        self._process = None
        self._pumps = []
