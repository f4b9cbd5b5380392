"""Shared fixtures: one emulator per test session, reset before every test that uses it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulator import EmulatorServer


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[EmulatorServer]:
    with EmulatorServer() as server:
        yield server


@pytest.fixture
def emulator(emulator_server: EmulatorServer) -> Iterator[EmulatorServer]:
    """The running emulator, empty: state, call log and faults cleared."""
    emulator_server.emulator.reset()
    yield emulator_server
    emulator_server.emulator.reset()


@pytest.fixture(autouse=True)
def _no_metadata_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """google-cloud-logging builds a Logger per log name when it lists entries, and each probes the GCE
    metadata server for a default resource. Off Google Cloud that is a lookup of a host outside this machine
    that can stall for seconds; tests must only talk to loopback. Only that probe is stubbed: every API call
    still goes to the emulator over HTTP."""
    from google.cloud.logging_v2.handlers import _monitored_resources

    monkeypatch.setattr(_monitored_resources, "retrieve_metadata_server", lambda *args, **kwargs: None)
