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
