"""Fixtures of the emulator's own tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator import EmulatorServer

from .gcloud_support import Gcloud
from .receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A live HTTP endpoint for triggers to deliver to."""
    with Receiver() as server:
        yield server


@pytest.fixture
def gcloud(emulator: EmulatorServer, tmp_path: Path) -> Gcloud:
    """Runs `gcloud ARGS...` against the emulator (through it as a proxy) and insists it succeeded."""
    return Gcloud(emulator.url, tmp_path / "gcloud-config")
